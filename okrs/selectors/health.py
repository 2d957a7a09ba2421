"""Reads for the OKR health dashboard (method §7): progress and risk per health
dimension, check-in discipline per team, a team × status heatmap and the at-risk list.

Every figure is an aggregate computed by PostgreSQL over the objectives the viewer may
see (``objectives_visible_to``), so a manager's counts never include a private objective
they could not open. Five queries (six for people who are not org admins), whatever the
number of objectives.

What counts: objectives of the cycle that are active or closed (drafts are not committed
yet, archived ones are gone). Check-in discipline and the at-risk list look only at
active objectives: that is where someone can still act.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Avg, Case, Count, F, Max, Min, Q, QuerySet, Value, When
from django.utils.translation import gettext as _

from accounts.models import Team, User
from okrs import scoring
from okrs.models import Cycle, KeyResult, Objective, Status
from okrs.selectors import objectives_visible_to

COUNTED_STATES = (Objective.State.ACTIVE, Objective.State.CLOSED)
RISKY = (Status.OFF_TRACK, Status.AT_RISK)
AT_RISK_LIMIT = 50
HEAT_LEVELS = 5
# Check-in discipline's colours: on track from 80% of a team's KRs on time, at risk from 50%.
DISCIPLINE_ON_TRACK, DISCIPLINE_AT_RISK = 0.8, 0.5
STATUS_LABELS = dict(Status.choices)


@dataclass
class StatusCount:
    status: str
    label: str
    count: int
    share: float  # of the row's total, 0..1

    @property
    def width(self) -> str:
        """CSS width (a dot decimal whatever the language) for a bar segment."""
        return f"{self.share * 100:.1f}"

    @property
    def level(self) -> int:
        """0 (none) .. HEAT_LEVELS (all): how dark the heatmap cell is."""
        return 0 if not self.count else max(1, math.ceil(self.share * HEAT_LEVELS))


def _status_counts(counts: dict[str, int], total: int) -> list[StatusCount]:
    return [
        StatusCount(status, label, counts.get(status, 0), counts.get(status, 0) / total if total else 0.0)
        for status, label in Status.choices
    ]


@dataclass
class DimensionRow:
    dimension: str
    label: str
    total: int
    average_progress: float | None
    statuses: list[StatusCount]

    @property
    def at_risk(self) -> int:
        return sum(s.count for s in self.statuses if s.status in RISKY)


@dataclass
class TeamRow:
    team_id: int | None
    name: str
    total: int
    statuses: list[StatusCount] = field(default_factory=list)


@dataclass
class DisciplineRow:
    team_id: int | None
    name: str
    total: int
    on_time: int

    @property
    def share(self) -> float:
        return self.on_time / self.total if self.total else 0.0

    @property
    def late(self) -> int:
        return self.total - self.on_time

    @property
    def status(self) -> str:
        """The colour of the team's bar (DISCIPLINE_ON_TRACK / DISCIPLINE_AT_RISK)."""
        if self.share >= DISCIPLINE_ON_TRACK:
            return Status.ON_TRACK
        return Status.AT_RISK if self.share >= DISCIPLINE_AT_RISK else Status.OFF_TRACK


@dataclass
class AtRiskItem:
    kind: str  # "objective" or "key_result"
    pk: int
    title: str
    objective_id: int
    objective_title: str
    owner: User
    team: Team | None
    status: str
    progress: float
    gap: float  # expected minus actual progress: how far behind
    confidence: int | None
    last_check_in_at: datetime | None

    @classmethod
    def of_objective(cls, objective: Objective) -> AtRiskItem:
        """From an objective annotated with gap, lowest_confidence and last_check_in."""
        return cls(
            kind="objective",
            pk=objective.pk,
            title=objective.title,
            objective_id=objective.pk,
            objective_title=objective.title,
            owner=objective.owner,
            team=objective.team,
            status=objective.status,
            progress=objective.progress,
            gap=objective.gap,
            confidence=objective.lowest_confidence,
            last_check_in_at=objective.last_check_in,
        )

    @classmethod
    def of_key_result(cls, key_result: KeyResult) -> AtRiskItem:
        """From a KR annotated with gap, its objective (and team) loaded."""
        return cls(
            kind="key_result",
            pk=key_result.pk,
            title=key_result.title,
            objective_id=key_result.objective_id,
            objective_title=key_result.objective.title,
            owner=key_result.owner,
            team=key_result.objective.team,
            status=key_result.status,
            progress=key_result.progress,
            gap=key_result.gap,
            confidence=key_result.confidence,
            last_check_in_at=key_result.last_check_in_at,
        )

    @property
    def sort_key(self) -> tuple:
        return (RISKY.index(self.status), -self.gap, self.kind != "objective", self.title, self.pk)


@dataclass
class HealthDashboard:
    cycle: Cycle
    dimensions: list[DimensionRow]
    discipline: list[DisciplineRow]
    heatmap: list[TeamRow]
    at_risk: list[AtRiskItem]
    at_risk_truncated: bool
    cadence_days: int

    @property
    def total(self) -> int:
        return sum(row.total for row in self.dimensions)

    @property
    def average_progress(self) -> float | None:
        if not self.total:
            return None
        return scoring.weighted_progress(
            (row.average_progress, row.total) for row in self.dimensions if row.total
        )

    @property
    def at_risk_total(self) -> int:
        return sum(row.at_risk for row in self.dimensions)

    @property
    def discipline_total(self) -> DisciplineRow:
        return DisciplineRow(
            None,
            _("All teams"),
            sum(row.total for row in self.discipline),
            sum(row.on_time for row in self.discipline),
        )

    @property
    def heatmap_totals(self) -> list[StatusCount]:
        counts: dict[str, int] = {}
        for row in self.heatmap:
            for cell in row.statuses:
                counts[cell.status] = counts.get(cell.status, 0) + cell.count
        return _status_counts(counts, self.total)


def counted_objectives(user: User, *, cycle: Cycle, team_ids: Collection[int] | None = None) -> QuerySet:
    """The objectives every figure is computed from (one query now for the reporting lines
    of people who are not org admins; the rest is used as a subquery)."""
    objectives = objectives_visible_to(user).filter(cycle=cycle, state__in=COUNTED_STATES)
    if team_ids is not None:
        objectives = objectives.filter(team_id__in=team_ids)
    return objectives.order_by()


def _status_aggregates() -> dict:
    return {f"n_{status}": Count("id", filter=Q(status=status)) for status in Status.values}


def by_dimension(objectives: QuerySet[Objective]) -> list[DimensionRow]:
    """One row per health dimension, in the method's order (customer value first). One query."""
    rows = {
        row["health_dimension"]: row
        for row in objectives.values("health_dimension").annotate(
            total=Count("id"), average=Avg("progress"), **_status_aggregates()
        )
    }
    result = []
    for dimension, label in Objective.HealthDimension.choices:
        row = rows.get(dimension, {})
        total = row.get("total", 0)
        counts = {status: row.get(f"n_{status}", 0) for status in Status.values}
        result.append(
            DimensionRow(dimension, label, total, row.get("average"), _status_counts(counts, total))
        )
    return result


def _team_name(team_id: int | None, names: dict[int, str]) -> str:
    return names.get(team_id, "") if team_id is not None else _("No team")


def _by_name(row) -> tuple:
    return (row.team_id is None, row.name.casefold(), row.team_id or 0)


def heatmap(objectives: QuerySet[Objective], team_names: dict[int, str]) -> list[TeamRow]:
    """Teams (rows) × statuses (cells): how many objectives, and the share of the team's. One query."""
    counts: dict[int | None, dict[str, int]] = {}
    for row in objectives.values("team_id", "status").annotate(n=Count("id")):
        counts.setdefault(row["team_id"], {})[row["status"]] = row["n"]
    rows = []
    for team_id, by_status in counts.items():
        total = sum(by_status.values())
        rows.append(
            TeamRow(team_id, _team_name(team_id, team_names), total, _status_counts(by_status, total))
        )
    return sorted(rows, key=_by_name)


def check_in_discipline(
    objectives: QuerySet[Objective], *, cadence_days: int, now: datetime, team_names: dict[int, str]
) -> list[DisciplineRow]:
    """Per team (of the objective), the share of KRs in active objectives checked in within
    the last ``cadence_days`` (the cycle's cadence; never checked in is late). Worst first.
    One query."""
    since = now - timedelta(days=cadence_days)
    rows = (
        KeyResult.objects.filter(objective__in=objectives.filter(state=Objective.State.ACTIVE))
        .order_by()
        .values("objective__team_id")
        .annotate(total=Count("id"), on_time=Count("id", filter=Q(last_check_in_at__gt=since)))
    )
    result = [
        DisciplineRow(
            row["objective__team_id"],
            _team_name(row["objective__team_id"], team_names),
            row["total"],
            row["on_time"],
        )
        for row in rows
    ]
    return sorted(result, key=lambda row: (row.share, *_by_name(row)))


def _severity() -> Case:
    return Case(When(status=Status.OFF_TRACK, then=Value(0)), default=Value(1))


def at_risk(objectives: QuerySet[Objective], *, limit: int = AT_RISK_LIMIT) -> tuple[list[AtRiskItem], bool]:
    """Objectives and KRs (of active objectives) at risk or off track, worst first: off
    track before at risk, then the furthest behind pace. At most ``limit``; the flag says
    whether more were left out. Two queries."""
    active = objectives.filter(state=Objective.State.ACTIVE)
    risky_objectives = (
        active.filter(status__in=RISKY)
        .annotate(
            severity=_severity(),
            gap=F("expected_progress") - F("progress"),
            lowest_confidence=Min("key_results__confidence"),
            last_check_in=Max("key_results__last_check_in_at"),
        )
        .select_related("owner", "team")
        .order_by("severity", "-gap", "title", "id")[: limit + 1]
    )
    risky_key_results = (
        KeyResult.objects.filter(objective__in=active, status__in=RISKY)
        .annotate(severity=_severity(), gap=F("objective__expected_progress") - F("progress"))
        .select_related("owner", "objective__team")
        .order_by("severity", "-gap", "title", "id")[: limit + 1]
    )
    items = [AtRiskItem.of_objective(o) for o in risky_objectives]
    items += [AtRiskItem.of_key_result(kr) for kr in risky_key_results]
    items.sort(key=lambda item: item.sort_key)
    return items[:limit], len(items) > limit


def health_dashboard(
    user: User,
    *,
    cycle: Cycle,
    now: datetime,
    teams: Sequence[Team],
    team_ids: Collection[int] | None = None,
) -> HealthDashboard:
    """Everything the dashboard shows for ``cycle`` (and the teams ``team_ids``, when given)."""
    objectives = counted_objectives(user, cycle=cycle, team_ids=team_ids)
    names = {team.pk: team.name for team in teams}
    cadence_days = Cycle.CADENCE_DAYS[cycle.cadence]
    items, truncated = at_risk(objectives)
    return HealthDashboard(
        cycle=cycle,
        dimensions=by_dimension(objectives),
        discipline=check_in_discipline(objectives, cadence_days=cadence_days, now=now, team_names=names),
        heatmap=heatmap(objectives, names),
        at_risk=items,
        at_risk_truncated=truncated,
        cadence_days=cadence_days,
    )
