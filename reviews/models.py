"""Review cycles of one organisation (tenant schemas only), method §4 and §6.

A ``ReviewCycle`` belongs to an OKR cycle (check-in review, calibration or end-of-cycle
review). Opening it creates one ``Review`` per objective: the objective's owner reflects
and scores it, their manager calibrates, the owner may contest once, and the manager
resolves. Scores here are the *review's* grading of an objective; whether they may feed a
person's appraisal is the organisation's explicit choice (``ReviewSettings``, §6).
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

_SCORE_VALIDATORS = [MinValueValidator(0.0), MaxValueValidator(1.0)]


def _score_in_range(field: str) -> Q:
    return Q(**{f"{field}__isnull": True}) | (Q(**{f"{field}__gte": 0}) & Q(**{f"{field}__lte": 1}))


class ReviewSettings(models.Model):
    """The organisation's review settings: one row (pk 1), see selectors.review_settings()."""

    # Method §6: mechanically scoring people from OKR attainment is off by default.
    review_scores_feed_appraisal = models.BooleanField(_("review scores may feed appraisals"), default=False)
    auto_schedule = models.BooleanField(
        _("schedule review cycles when an OKR cycle is created or activated"), default=True
    )
    # Prompts the self-review form shows (from a method pack or the org admin).
    review_prompts = models.JSONField(_("review prompts"), default=list, blank=True)
    # Consultants read reviews of private objectives only when the organisation allows it.
    consultants_see_private_reviews = models.BooleanField(
        _("consultants may read reviews of private objectives"), default=False
    )

    class Meta:
        verbose_name = _("review settings")
        verbose_name_plural = _("review settings")

    def __str__(self) -> str:
        return "Review settings"


class ReviewCycle(models.Model):
    class Kind(models.TextChoices):
        CHECKIN_REVIEW = "checkin_review", _("Check-in review")
        CALIBRATION = "calibration", _("Calibration")
        END_OF_CYCLE = "end_of_cycle", _("End-of-cycle review")

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    cycle = models.ForeignKey(
        "okrs.Cycle", verbose_name=_("OKR cycle"), on_delete=models.PROTECT, related_name="review_cycles"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=120)
    opens_on = models.DateField(_("opens on"))
    due_on = models.DateField(_("due on"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.SCHEDULED)
    all_participants = models.BooleanField(_("everyone takes part"), default=True)
    teams = models.ManyToManyField(
        "accounts.Team", verbose_name=_("teams taking part"), blank=True, related_name="review_cycles"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["opens_on", "id"]
        indexes = [models.Index(fields=["state", "opens_on"]), models.Index(fields=["state", "due_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_on__gte=F("opens_on")), name="review_cycle_due_after_open"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Review(models.Model):
    """One participant's piece of a review cycle: the review of one objective they own."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for the self-review")
        SELF_SUBMITTED = "self_submitted", _("Self-review submitted")
        CALIBRATED = "calibrated", _("Calibrated")
        CLOSED = "closed", _("Closed")

    review_cycle = models.ForeignKey(ReviewCycle, on_delete=models.CASCADE, related_name="reviews")
    objective = models.ForeignKey("okrs.Objective", on_delete=models.CASCADE, related_name="reviews")
    # Who owned the objective, and who managed them, when the review cycle opened.
    participant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("participant"),
        on_delete=models.PROTECT,
        related_name="reviews",
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reviews_to_calibrate",
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    # Self-review: a grade 0.0–1.0 (pre-filled from the objective's progress) and the reflection.
    self_score = models.FloatField(_("self score"), null=True, blank=True, validators=_SCORE_VALIDATORS)
    went_well = models.TextField(_("what went well"), blank=True)
    didnt_go_well = models.TextField(_("what didn't go well"), blank=True)
    learnings = models.TextField(_("learnings"), blank=True)
    next_steps = models.TextField(_("next steps"), blank=True)
    # Retrospective structure (end-of-cycle reviews): problem → information → answer.
    problem = models.TextField(_("the problem"), blank=True)
    information = models.TextField(_("what we found out"), blank=True)
    answer = models.TextField(_("our answer"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    # Calibration by the manager.
    manager_score = models.FloatField(_("manager score"), null=True, blank=True, validators=_SCORE_VALIDATORS)
    manager_comment = models.TextField(_("manager's comment"), blank=True)
    calibrated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    calibrated_at = models.DateTimeField(null=True, blank=True)
    # One contest by the participant, and its resolution; the exchange is kept.
    contest_reason = models.TextField(_("why the calibration is contested"), blank=True)
    # The calibrated score when it was contested: the resolution may change
    # manager_score, and the whole exchange stays readable.
    contested_manager_score = models.FloatField(null=True, blank=True)
    contested_at = models.DateTimeField(null=True, blank=True)
    contest_resolution = models.TextField(_("resolution"), blank=True)
    contest_resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contest_resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["review_cycle", "id"]
        indexes = [
            models.Index(fields=["participant", "state"]),
            models.Index(fields=["manager", "state"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["review_cycle", "objective"], name="review_one_per_objective"),
            models.CheckConstraint(condition=_score_in_range("self_score"), name="review_self_score_0_1"),
            models.CheckConstraint(
                condition=_score_in_range("manager_score"), name="review_manager_score_0_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.review_cycle_id}: {self.objective_id} ({self.state})"

    @property
    def is_contested(self) -> bool:
        return self.contested_at is not None and self.contest_resolved_at is None


class ReviewKeyResultScore(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="key_result_scores")
    key_result = models.ForeignKey("okrs.KeyResult", on_delete=models.CASCADE, related_name="+")
    self_score = models.FloatField(_("self score"), null=True, blank=True, validators=_SCORE_VALIDATORS)
    manager_score = models.FloatField(_("manager score"), null=True, blank=True, validators=_SCORE_VALIDATORS)

    class Meta:
        ordering = ["review", "id"]  # created in the KRs' order
        constraints = [
            models.UniqueConstraint(fields=["review", "key_result"], name="review_kr_score_once"),
            models.CheckConstraint(condition=_score_in_range("self_score"), name="review_kr_self_score_0_1"),
            models.CheckConstraint(
                condition=_score_in_range("manager_score"), name="review_kr_manager_score_0_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.review_id}: KR {self.key_result_id}"


class PeerFeedbackRequest(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="peer_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        on_delete=models.PROTECT,
        related_name="peer_feedback_requests",
    )
    question = models.TextField(_("question"), blank=True)
    answer = models.TextField(_("answer"), blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["review", "requested_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "reviewer"], name="peer_feedback_once_per_reviewer"),
        ]

    def __str__(self) -> str:
        return f"{self.review_id}: {self.reviewer_id}"


class CalibrationDecision(models.Model):
    """What a calibration decided about an objective, with the reason (method §4)."""

    class Decision(models.TextChoices):
        KEEP = "keep", _("Keep")
        CHANGE = "change", _("Change a target")
        DROP = "drop", _("Drop the objective")

    review_cycle = models.ForeignKey(ReviewCycle, on_delete=models.CASCADE, related_name="decisions")
    objective = models.ForeignKey(
        "okrs.Objective", on_delete=models.CASCADE, related_name="calibration_decisions"
    )
    decision = models.CharField(_("decision"), max_length=16, choices=Decision.choices)
    reason = models.TextField(_("reason"), blank=True)
    key_result = models.ForeignKey(
        "okrs.KeyResult",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calibration_decisions",
    )
    new_target = models.FloatField(_("new target"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["review_cycle", "decided_at", "id"]

    def __str__(self) -> str:
        return f"{self.objective_id}: {self.decision}"
