"""Forms of the cycles and review settings pages. They shape the input; the services
(``reviews.services.cycles.okr_cycle_start``, ``reviews.services.settings``) enforce
every rule."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.forms_settings import ObjectChoiceField
from okrs.forms.settings import GuidanceLinesField
from okrs.models import Cycle
from okrs.services.settings import MAX_GUIDANCE_LENGTH, MAX_GUIDANCE_LINES
from reviews.models import ReviewSettings


class _DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class CycleForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=120, widget=forms.TextInput(attrs={"placeholder": "Q1 2027"})
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Cycle.Kind.choices, initial=Cycle.Kind.QUARTER)
    start_date = forms.DateField(label=_("Starts on"), widget=_DateInput())
    end_date = forms.DateField(label=_("Ends on"), widget=_DateInput())
    parent = ObjectChoiceField(
        label=_("Part of (annual cycle)"),
        required=False,
        help_text=_("A quarter usually belongs to the annual cycle it falls in."),
    )
    cadence = forms.ChoiceField(
        label=_("Check-in cadence"),
        choices=Cycle.Cadence.choices,
        initial=Cycle.Cadence.BIWEEKLY,
        help_text=_("How often people check in; check-in reviews are scheduled at this rhythm."),
    )

    def __init__(self, *args, cycles: Iterable[Cycle], **kwargs):
        """``cycles``: cycles already loaded; a new cycle may be part of those that are
        annual and not closed."""
        super().__init__(*args, **kwargs)
        parents = [c for c in cycles if c.kind == Cycle.Kind.ANNUAL and c.state != Cycle.State.CLOSED]
        self.fields["parent"].set_objects(parents, str, _("None"))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The cycle must end on or after its start date."))
        return cleaned


class ReviewSettingsForm(forms.Form):
    review_scores_feed_appraisal = forms.BooleanField(
        label=_("Review scores may feed people's appraisals"),
        required=False,
        help_text=_(
            "Off (recommended): reviews grade objectives so teams learn and plan the next cycle; reviewers "
            "may see the outcomes, but the scores are not used to rate people. Scoring people mechanically "
            "from OKR attainment encourages safe, unambitious goals (sandbagging). On: your organisation "
            "explicitly allows the final review scores to be one input to performance appraisals."
        ),
    )
    auto_schedule = forms.BooleanField(
        label=_("Schedule review cycles automatically"),
        required=False,
        help_text=_(
            "When an OKR cycle is created or activated, its check-in reviews, calibrations and end-of-cycle "
            "review are scheduled from its check-in cadence. Off: you schedule them from the Cycles page."
        ),
    )
    consultants_see_private_reviews = forms.BooleanField(
        label=_("Consultants may read reviews of private objectives"),
        required=False,
        help_text=_(
            "Off (the default): your consultants (OKR coaches) do not see the reviews of private objectives "
            "— neither the self-assessment and its reflection nor the calibration — unless they take part in "
            "the review. On: they read them like other reviews, for example to prepare a calibration."
        ),
    )

    def __init__(self, *args, settings: ReviewSettings, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "review_scores_feed_appraisal": settings.review_scores_feed_appraisal,
                "auto_schedule": settings.auto_schedule,
                "consultants_see_private_reviews": settings.consultants_see_private_reviews,
            },
        )
        super().__init__(*args, **kwargs)


class ReviewPromptsForm(forms.Form):
    """The self-review's guiding prompts (its own form: ``review_prompts_update``)."""

    review_prompts = GuidanceLinesField(
        label=_("Self-review prompts"),
        help_text=format_lazy(
            _(
                "One prompt per line (at most {count}, each up to {length} characters). The self-review form "
                "shows them as guidance above the reflection."
            ),
            count=MAX_GUIDANCE_LINES,
            length=MAX_GUIDANCE_LENGTH,
        ),
    )

    def __init__(self, *args, settings: ReviewSettings, **kwargs):
        kwargs.setdefault("initial", {"review_prompts": settings.review_prompts})
        super().__init__(*args, **kwargs)
