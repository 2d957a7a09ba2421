"""The OKR settings forms. Thresholds are stored as fractions and shown as percentages;
``okrs.services.settings.okr_settings_update`` enforces the rules. The method's check-in
questions and default cadence have their own form (``okr_method_settings_update``)."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from okrs.models import Cycle, OkrSettings
from okrs.services.settings import MAX_ESCALATION_THRESHOLD, MAX_GUIDANCE_LENGTH, MAX_GUIDANCE_LINES


def _as_percent(fraction: float) -> float | int:
    value = round(fraction * 100, 1)
    return int(value) if value.is_integer() else value


class OkrSettingsForm(forms.Form):
    at_risk_gap = forms.FloatField(
        label=_("At risk when behind by more than (%)"),
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
        help_text=_(
            "A key result is at risk when its progress is more than this many percentage points behind "
            "where it should be by now (the share of the cycle that has passed)."
        ),
    )
    off_track_gap = forms.FloatField(
        label=_("Off track when behind by more than (%)"),
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
        help_text=_("Must be larger than the “at risk” threshold."),
    )
    escalation_threshold = forms.IntegerField(
        label=_("Escalate after this many check-ins behind pace in a row"),
        min_value=1,
        max_value=MAX_ESCALATION_THRESHOLD,
        help_text=_(
            "A key result at risk or off track at this many consecutive check-ins opens a first-level "
            "escalation: its owner and their manager are asked for a root cause within 24 hours."
        ),
    )
    rollup_aligned_children = forms.BooleanField(
        label=_("Count aligned child objectives in a parent objective's progress"),
        required=False,
        help_text=_(
            "Off: an objective's progress comes from its own key results only. On: objectives aligned "
            "to it count too, so progress rolls up the tree."
        ),
    )

    def __init__(self, *args, settings: OkrSettings, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "at_risk_gap": _as_percent(settings.at_risk_gap),
                "off_track_gap": _as_percent(settings.off_track_gap),
                "escalation_threshold": settings.escalation_threshold,
                "rollup_aligned_children": settings.rollup_aligned_children,
            },
        )
        super().__init__(*args, **kwargs)

    def clean_at_risk_gap(self) -> float:
        return round(self.cleaned_data["at_risk_gap"] / 100, 6)

    def clean_off_track_gap(self) -> float:
        return round(self.cleaned_data["off_track_gap"] / 100, 6)


class GuidanceLinesField(forms.CharField):
    """A list of short texts (check-in questions, review prompts) typed one per line;
    cleans to the list of non-blank lines. The service checks the count and lengths."""

    widget = forms.Textarea(attrs={"rows": 6})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        # A generous bound on the whole text, so nobody posts a megabyte; the rules per
        # line are the service's.
        kwargs.setdefault("max_length", MAX_GUIDANCE_LINES * (MAX_GUIDANCE_LENGTH + 2) * 2)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def clean(self, value) -> list[str]:
        text = super().clean(value)
        return [line.strip() for line in text.splitlines() if line.strip()]


class OkrMethodSettingsForm(forms.Form):
    checkin_questions = GuidanceLinesField(
        label=_("Check-in questions"),
        help_text=format_lazy(
            _(
                "One question per line (at most {count}, each up to {length} characters). The check-in form "
                "shows them as guidance above the note."
            ),
            count=MAX_GUIDANCE_LINES,
            length=MAX_GUIDANCE_LENGTH,
        ),
    )
    default_cadence = forms.ChoiceField(
        label=_("Check-in cadence of new cycles"),
        choices=Cycle.Cadence.choices,
        help_text=_("New cycles start with this cadence; each cycle can still be set on its own."),
    )

    def __init__(self, *args, settings: OkrSettings, **kwargs):
        kwargs.setdefault(
            "initial",
            {"checkin_questions": settings.checkin_questions, "default_cadence": settings.default_cadence},
        )
        super().__init__(*args, **kwargs)
