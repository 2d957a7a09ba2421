"""Forms of the three lines of defence: the root cause, and how an escalation ended.
``okrs.escalations`` enforces every rule; these forms shape the input."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from okrs.models import Escalation

RESOLUTION_HELP = {
    Escalation.Resolution.RECOVERED: _("The key result is back on pace after the actions taken."),
    Escalation.Resolution.TARGET_CHANGED: _("The target was adjusted on purpose; say why in the note."),
    Escalation.Resolution.OBJECTIVE_DROPPED: _("The objective is abandoned; the note records the reason."),
}


class AcknowledgeForm(forms.Form):
    root_cause = forms.CharField(
        label=_("Root cause"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What is holding this key result back? Clarify the problem, then what you will do."),
    )


class ResolveForm(forms.Form):
    resolution = forms.ChoiceField(
        label=_("How was it resolved?"),
        choices=[
            (value, format_lazy("{} — {}", Escalation.Resolution(value).label, text))
            for value, text in RESOLUTION_HELP.items()
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was decided, so the history explains it."),
    )
