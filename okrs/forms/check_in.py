from django import forms
from django.utils.translation import gettext_lazy as _

from okrs.models import KeyResult


class CheckInForm(forms.Form):
    """Shapes the input; ``check_in_record`` enforces every rule."""

    value = forms.FloatField(label=_("Current value"), localize=True)
    confidence = forms.IntegerField(
        label=_("Confidence (0–10)"),
        min_value=0,
        max_value=10,
        initial=5,
        help_text=_("How sure are you that this key result will be reached by the end of the cycle?"),
        widget=forms.NumberInput(attrs={"type": "range", "min": 0, "max": 10, "step": 1}),
    )
    what_moved = forms.CharField(
        label=_("Note: what moved since last time?"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    blockers = forms.CharField(label=_("Blockers"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    next_step = forms.CharField(
        label=_("Next step"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, key_result: KeyResult, **kwargs):
        super().__init__(*args, **kwargs)
        self.key_result = key_result
        if key_result.kind == KeyResult.Kind.MILESTONE:
            self.fields["value"] = forms.TypedChoiceField(
                label=_("Milestone"),
                choices=[("0", _("Not reached yet")), ("1", _("Reached"))],
                coerce=float,
            )
        elif not self.is_bound and key_result.current is not None:
            self.initial.setdefault("value", key_result.current)
        if key_result.confidence is not None:
            self.initial["confidence"] = key_result.confidence
        self.fields["confidence"].widget.attrs["data-output"] = "confidence-output"
        self.fields["value"].help_text = self._value_help(key_result)

    @staticmethod
    def _value_help(key_result: KeyResult) -> str:
        if key_result.kind in {KeyResult.Kind.INCREASE, KeyResult.Kind.DECREASE}:
            return _("From %(start)s to %(target)s.") % {
                "start": key_result.start,
                "target": key_result.target,
            }
        if key_result.kind == KeyResult.Kind.STAY_BETWEEN:
            return _("Keep between %(low)s and %(high)s.") % {"low": key_result.low, "high": key_result.high}
        if key_result.kind in {KeyResult.Kind.STAY_ABOVE, KeyResult.Kind.STAY_BELOW}:
            return _("Threshold: %(target)s.") % {"target": key_result.target}
        return ""
