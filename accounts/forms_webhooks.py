"""The webhook settings form: it shapes the input; ``accounts.webhooks`` enforces every
rule (http(s) only, no internal addresses, known events)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.webhooks import EVENTS

EVENT_HELP = {
    "check_in.created": _("a check-in was recorded"),
    "key_result.status_changed": _("a key result became on track, at risk, off track or done"),
    "objective.closed": _("an objective was closed (by hand or with its cycle)"),
    "review.submitted": _("a participant submitted their self-review"),
    "escalation.opened": _("a key result behind pace opened an escalation"),
    "escalation.resolved": _("an escalation was resolved (or closed itself)"),
}
EVENT_CHOICES = [(event, EVENT_HELP[event]) for event in EVENTS]


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(
        label=_("Address (URL)"),
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/okr-webhook"}),
        help_text=_("We POST each event to it as JSON, signed with the endpoint's secret."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=200,
        required=False,
        help_text=_("What receives the events, e.g. “BI pipeline”."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=EVENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )
