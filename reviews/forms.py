"""Forms of the review pages. They shape the input; the services in ``reviews.services``
enforce every rule (and their errors are shown on these forms)."""

from __future__ import annotations

import math

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from okrs import scoring
from reviews.models import Review, ReviewCycle, ReviewKeyResultScore

SCORE_MESSAGE = _("A score runs from 0.0 to 1.0.")
TEXT_LIMIT = 5000  # characters per reflection field: a page of text, not a book


def _score_in_range(value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and 0 <= value <= 1):
        raise ValidationError(SCORE_MESSAGE, code="score_range")


class ScoreField(forms.FloatField):
    """A grade from 0.0 to 1.0, typed as a number with up to two decimals."""

    default_validators = [_score_in_range]

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget",
            forms.NumberInput(attrs={"min": "0", "max": "1", "step": "0.01", "inputmode": "decimal"}),
        )
        super().__init__(**kwargs)


def _text(label, *, rows: int = 3, required: bool = False, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=TEXT_LIMIT,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(scoring.clamp01(value), 2)


class KeyResultScoresMixin:
    """One score field per key result of the review, named ``kr_<key result id>``."""

    def add_key_result_fields(
        self, rows: list[ReviewKeyResultScore], initial: dict[int, float | None]
    ) -> None:
        self.key_result_rows = rows
        for row in rows:
            name = f"kr_{row.key_result_id}"
            self.fields[name] = ScoreField(label=row.key_result.title, required=True)
            if not self.is_bound and initial.get(row.key_result_id) is not None:
                self.initial[name] = initial[row.key_result_id]

    def key_result_fields(self) -> list[tuple[ReviewKeyResultScore, forms.BoundField]]:
        return [(row, self[f"kr_{row.key_result_id}"]) for row in self.key_result_rows]

    def key_result_scores(self) -> dict[int, float]:
        return {
            row.key_result_id: self.cleaned_data[f"kr_{row.key_result_id}"] for row in self.key_result_rows
        }


class SelfReviewForm(KeyResultScoresMixin, forms.Form):
    """The participant's self-assessment, pre-filled: while nothing is submitted, each
    score is the current progress (as when the review opened: ``review_cycle_open``);
    afterwards, what they submitted."""

    self_score = ScoreField(
        label=_("Your grade for the objective (0.0–1.0)"),
        help_text=_("0.7 is a good result for an ambitious objective; 1.0 means fully achieved."),
    )
    went_well = _text(_("What went well"))
    didnt_go_well = _text(_("What didn't go well"))
    learnings = _text(_("Learnings"))
    next_steps = _text(_("Next steps"))
    problem = _text(_("The problem"), help_text=_("Clarify the problem."))
    information = _text(_("What we found out"), help_text=_("The information you collected."))
    answer = _text(_("Our answer"), help_text=_("The answer you assembled."))

    TEXT_FIELDS = (
        "went_well",
        "didnt_go_well",
        "learnings",
        "next_steps",
        "problem",
        "information",
        "answer",
    )

    def __init__(self, *args, review: Review, rows: list[ReviewKeyResultScore], **kwargs):
        super().__init__(*args, **kwargs)
        fresh = review.state == Review.State.PENDING
        self.retrospective_required = review.review_cycle.kind == ReviewCycle.Kind.END_OF_CYCLE
        if not self.is_bound:
            progress = review.objective.progress
            self.initial["self_score"] = _rounded(
                progress if fresh and progress is not None else review.self_score
            )
            for field in self.TEXT_FIELDS:
                self.initial[field] = getattr(review, field)
        initial = {
            row.key_result_id: _rounded(
                row.key_result.progress if fresh and row.key_result.progress is not None else row.self_score
            )
            for row in rows
        }
        self.add_key_result_fields(rows, initial)

    def service_arguments(self) -> dict:
        data = {field: self.cleaned_data[field] for field in self.TEXT_FIELDS}
        return {
            "self_score": self.cleaned_data["self_score"],
            "key_result_scores": self.key_result_scores(),
            **data,
        }


class CalibrationForm(KeyResultScoresMixin, forms.Form):
    """The manager's calibration, pre-filled with the participant's proposed grades."""

    manager_score = ScoreField(label=_("Calibrated grade for the objective (0.0–1.0)"))
    comment = _text(
        _("Comment"),
        help_text=_("Required when your grade differs from the proposed one by more than 0.1: say why."),
    )

    def __init__(self, *args, review: Review, rows: list[ReviewKeyResultScore], **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["manager_score"] = _rounded(review.self_score)
        self.add_key_result_fields(rows, {row.key_result_id: _rounded(row.self_score) for row in rows})
        for _row, field in self.key_result_fields():
            field.field.label = _("Calibrated grade: %(kr)s") % {"kr": field.field.label}

    def service_arguments(self) -> dict:
        return {
            "manager_score": self.cleaned_data["manager_score"],
            "comment": self.cleaned_data["comment"],
            "key_result_scores": self.key_result_scores(),
        }


class ContestForm(forms.Form):
    reason = _text(
        _("Why do you contest the calibration?"),
        rows=4,
        help_text=_("You can contest a calibration once; your manager answers."),
    )


class ResolveContestForm(forms.Form):
    resolution = _text(_("Resolution"), rows=4, help_text=_("How the contest was resolved, and why."))
    manager_score = ScoreField(
        label=_("Calibrated grade (0.0–1.0)"),
        required=False,
        help_text=_("Change it if the contest is upheld; leave it as it is otherwise."),
    )

    def __init__(self, *args, review: Review, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["manager_score"] = _rounded(review.manager_score)


class PeerFeedbackRequestForm(forms.Form):
    reviewer = forms.ModelChoiceField(
        label=_("Colleague"),
        queryset=None,
        empty_label=_("Choose a colleague"),
        error_messages={"invalid_choice": _("Choose one of the colleagues in the list.")},
    )
    question = _text(_("Your question (optional)"), rows=2, help_text=_("What would you like their view on?"))

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = candidates


class PeerFeedbackAnswerForm(forms.Form):
    answer = _text(_("Your feedback"), rows=4, required=True)
