"""OKR data of one organisation (tenant schemas only).

Progress, status, expected progress and forecast are cached columns (D6): they are
written only by ``okrs.recalculation`` from the formulas in ``okrs.scoring``.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from okrs import scoring


class Status(models.TextChoices):
    NOT_STARTED = scoring.NOT_STARTED, _("Not started")
    ON_TRACK = scoring.ON_TRACK, _("On track")
    AT_RISK = scoring.AT_RISK, _("At risk")
    OFF_TRACK = scoring.OFF_TRACK, _("Off track")
    DONE = scoring.DONE, _("Done")


class OkrSettings(models.Model):
    """The organisation's OKR settings: one row (pk 1), see selectors.okr_settings()."""

    at_risk_gap = models.FloatField(_("at risk when behind by more than"), default=0.15)
    off_track_gap = models.FloatField(_("off track when behind by more than"), default=0.30)
    rollup_aligned_children = models.BooleanField(
        _("count aligned child objectives in a parent's progress"), default=False
    )
    escalation_threshold = models.PositiveSmallIntegerField(
        _("escalate after this many consecutive check-ins behind pace"), default=2
    )
    # From the method (a method pack, or the org admin): the cadence new cycles start
    # with, and the questions the check-in form asks (guidance, one per line).
    default_cadence = models.CharField(_("check-in cadence of new cycles"), max_length=16, default="biweekly")
    checkin_questions = models.JSONField(_("check-in questions"), default=list, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(at_risk_gap__gt=0)
                & Q(off_track_gap__gt=F("at_risk_gap"))
                & Q(off_track_gap__lte=1),
                name="okrsettings_thresholds_ordered",
            ),
        ]

    def __str__(self) -> str:
        return "OKR settings"

    def thresholds(self) -> scoring.Thresholds:
        return scoring.Thresholds(at_risk_gap=self.at_risk_gap, off_track_gap=self.off_track_gap)


class Cycle(models.Model):
    class Kind(models.TextChoices):
        ANNUAL = "annual", _("Annual (strategic)")
        QUARTER = "quarter", _("Quarter (tactical)")
        CUSTOM = "custom", _("Custom")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    class Cadence(models.TextChoices):
        WEEKLY = "weekly", _("Weekly")
        BIWEEKLY = "biweekly", _("Every two weeks")
        MONTHLY = "monthly", _("Monthly")

    CADENCE_DAYS = {Cadence.WEEKLY: 7, Cadence.BIWEEKLY: 14, Cadence.MONTHLY: 31}

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.QUARTER)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT)
    cadence = models.CharField(
        _("check-in cadence"), max_length=16, choices=Cadence.choices, default=Cadence.BIWEEKLY
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="cycle_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.name


class Objective(models.Model):
    class Level(models.TextChoices):
        COMPANY = "company", _("Company")
        TEAM = "team", _("Team")
        INDIVIDUAL = "individual", _("Individual")

    class Kind(models.TextChoices):
        COMMITTED = "committed", _("Committed")
        ASPIRATIONAL = "aspirational", _("Aspirational")

    class HealthDimension(models.TextChoices):
        CUSTOMER_VALUE = "customer_value", _("Customer value")
        TECHNOLOGY_MOAT = "technology_moat", _("Technology moat")
        FINANCIAL_RETURN = "financial_return", _("Financial return")
        OPERATIONAL_EXCELLENCE = "operational_excellence", _("Operational excellence")

    class Visibility(models.TextChoices):
        ORGANIZATION = "organization", _("Everyone in the organisation")
        PRIVATE = "private", _("Private")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")
        ARCHIVED = "archived", _("Archived")

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    cycle = models.ForeignKey(
        Cycle, verbose_name=_("cycle"), on_delete=models.PROTECT, related_name="objectives"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="objectives"
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="objectives",
    )
    level = models.CharField(_("level"), max_length=16, choices=Level.choices, default=Level.TEAM)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.COMMITTED)
    health_dimension = models.CharField(
        _("health dimension"),
        max_length=32,
        choices=HealthDimension.choices,
        default=HealthDimension.CUSTOMER_VALUE,
    )
    visibility = models.CharField(
        _("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.ORGANIZATION
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT)
    # The accepted alignment (see AlignmentProposal): a parent objective or a parent KR.
    parent_objective = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="aligned_children"
    )
    parent_key_result = models.ForeignKey(
        "KeyResult", null=True, blank=True, on_delete=models.SET_NULL, related_name="aligned_objectives"
    )
    carried_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="carried_into"
    )
    # Cached (D6): written by okrs.recalculation only.
    progress = models.FloatField(default=0.0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NOT_STARTED)
    expected_progress = models.FloatField(default=0.0)
    score = models.FloatField(null=True, blank=True)
    closing_note = models.TextField(_("closing note"), blank=True)
    # Set by a level-2 escalation (method §5), cleared when its escalations are resolved.
    needs_decision = models.BooleanField(_("needs decision"), default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["cycle", "title"]
        indexes = [models.Index(fields=["cycle", "owner"]), models.Index(fields=["cycle", "team"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(parent_objective__isnull=True) | Q(parent_key_result__isnull=True),
                name="objective_one_parent_at_most",
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | (Q(score__gte=0) & Q(score__lte=1)),
                name="objective_score_0_1",
            ),
            models.UniqueConstraint(
                fields=["carried_from", "cycle"],
                name="objective_carried_once_per_cycle",
                condition=Q(carried_from__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class KeyResult(models.Model):
    class Kind(models.TextChoices):
        INCREASE = scoring.INCREASE, _("Increase to a target")
        DECREASE = scoring.DECREASE, _("Decrease to a target")
        STAY_ABOVE = scoring.STAY_ABOVE, _("Stay above a floor")
        STAY_BELOW = scoring.STAY_BELOW, _("Stay below a ceiling")
        STAY_BETWEEN = scoring.STAY_BETWEEN, _("Stay within a band")
        MILESTONE = scoring.MILESTONE, _("Milestone (reached or not)")

    class Unit(models.TextChoices):
        NUMBER = "number", _("Number")
        PERCENT = "percent", _("Percent")
        CURRENCY = "currency", _("Currency")

    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="key_results")
    title = models.CharField(_("title"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="key_results",
    )
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, default=Kind.INCREASE)
    unit = models.CharField(_("unit"), max_length=16, choices=Unit.choices, default=Unit.NUMBER)
    currency_code = models.CharField(_("currency"), max_length=3, blank=True)
    unit_label = models.CharField(_("unit label"), max_length=40, blank=True)
    start = models.FloatField(_("start value"), null=True, blank=True)
    target = models.FloatField(_("target value"), null=True, blank=True)
    low = models.FloatField(_("lower bound"), null=True, blank=True)
    high = models.FloatField(_("upper bound"), null=True, blank=True)
    weight = models.FloatField(_("weight"), default=1.0)
    due_date = models.DateField(_("target date"), null=True, blank=True)
    position = models.PositiveIntegerField(default=0)
    # Cached (D6): the latest effective check-in and what follows from it.
    current = models.FloatField(null=True, blank=True)
    confidence = models.PositiveSmallIntegerField(null=True, blank=True)
    last_check_in_at = models.DateTimeField(null=True, blank=True)
    progress = models.FloatField(default=0.0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NOT_STARTED)
    forecast = models.FloatField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["objective", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(weight__gt=0), name="key_result_weight_positive"),
            models.CheckConstraint(
                condition=Q(confidence__isnull=True) | Q(confidence__lte=10),
                name="key_result_confidence_0_10",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_guard_rail(self) -> bool:
        return self.kind in scoring.GUARD_RAILS


class CheckIn(models.Model):
    """Append-only. A correction is a new check-in that points at the one it corrects
    and takes its place in the history (same ``effective_at``)."""

    key_result = models.ForeignKey(KeyResult, on_delete=models.CASCADE, related_name="check_ins")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="check_ins"
    )
    value = models.FloatField(_("value"))
    confidence = models.PositiveSmallIntegerField(_("confidence"))
    what_moved = models.TextField(_("what moved"), blank=True)
    blockers = models.TextField(_("blockers"), blank=True)
    next_step = models.TextField(_("next step"), blank=True)
    corrects = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="correction"
    )
    effective_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["key_result", "effective_at", "id"]
        indexes = [models.Index(fields=["key_result", "effective_at", "id"])]
        constraints = [
            models.CheckConstraint(condition=Q(confidence__lte=10), name="check_in_confidence_0_10"),
        ]

    def __str__(self) -> str:
        return f"{self.key_result_id}: {self.value}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Check-ins are append-only: record a correction instead of editing one.")
        super().save(*args, **kwargs)


class Initiative(models.Model):
    """An activity that serves a key result: tracked, never scored."""

    key_result = models.ForeignKey(KeyResult, on_delete=models.CASCADE, related_name="initiatives")
    title = models.CharField(_("title"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="initiatives",
    )
    done = models.BooleanField(_("done"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key_result", "done", "id"]

    def __str__(self) -> str:
        return self.title


class Kpi(models.Model):
    """A baseline health metric watched continuously; KRs link to the KPIs they should move."""

    class Direction(models.TextChoices):
        HIGHER_IS_BETTER = "higher_is_better", _("Higher is better")
        LOWER_IS_BETTER = "lower_is_better", _("Lower is better")

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    unit = models.CharField(_("unit"), max_length=40, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="kpis"
    )
    direction = models.CharField(
        _("direction"), max_length=20, choices=Direction.choices, default=Direction.HIGHER_IS_BETTER
    )
    green_threshold = models.FloatField(_("green from"))
    red_threshold = models.FloatField(_("red from"))
    key_results = models.ManyToManyField(KeyResult, blank=True, related_name="kpis")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "KPI"

    def __str__(self) -> str:
        return self.name


class KpiReading(models.Model):
    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="readings")
    value = models.FloatField(_("value"))
    at = models.DateTimeField(_("measured at"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kpi", "at", "id"]
        indexes = [models.Index(fields=["kpi", "at"])]

    def __str__(self) -> str:
        return f"{self.kpi_id}: {self.value} at {self.at:%Y-%m-%d %H:%M}"


class AlignmentProposal(models.Model):
    """The two-way commitment: a child objective's owner proposes a parent (objective
    or KR); the parent's owner accepts or declines with a comment. Kept forever."""

    class State(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        SUPERSEDED = "superseded", _("Superseded")

    child = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="alignment_proposals")
    parent_objective = models.ForeignKey(
        Objective, null=True, blank=True, on_delete=models.CASCADE, related_name="incoming_proposals"
    )
    parent_key_result = models.ForeignKey(
        KeyResult, null=True, blank=True, on_delete=models.CASCADE, related_name="incoming_proposals"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.PROPOSED)
    message = models.TextField(_("why this contributes"), blank=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    response = models.TextField(_("response"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(parent_objective__isnull=False, parent_key_result__isnull=True)
                | Q(parent_objective__isnull=True, parent_key_result__isnull=False),
                name="proposal_exactly_one_parent",
            ),
            models.UniqueConstraint(
                fields=["child"], condition=Q(state="proposed"), name="proposal_one_open_per_child"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.child_id} → {self.parent_objective_id or self.parent_key_result_id} ({self.state})"

    @property
    def parent(self):
        return self.parent_objective or self.parent_key_result


class Escalation(models.Model):
    """The three lines of defence (method §5) for a key result behind pace."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    class Resolution(models.TextChoices):
        RECOVERED = "recovered", _("Recovered")
        TARGET_CHANGED = "target_changed", _("Target changed")
        OBJECTIVE_DROPPED = "objective_dropped", _("Objective dropped")
        AUTO_RECOVERED = "auto_recovered", _("Back on track (closed automatically)")

    key_result = models.ForeignKey(KeyResult, on_delete=models.CASCADE, related_name="escalations")
    level = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    behind_check_ins = models.PositiveSmallIntegerField(default=0)
    opened_at = models.DateTimeField(default=timezone.now)
    root_cause_due_at = models.DateTimeField(null=True, blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)
    resolution_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["key_result", "level"],
                condition=~Q(state="resolved"),
                name="escalation_once_per_level",
            ),
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=3), name="escalation_level_1_3"),
        ]

    def __str__(self) -> str:
        return f"L{self.level} {self.key_result_id} ({self.state})"


# Register the models kept in their own files.
from okrs.models_comments import ObjectiveComment  # noqa: E402, F401
from okrs.models_method import AppliedMethodPack, ObjectiveTemplate  # noqa: E402, F401
