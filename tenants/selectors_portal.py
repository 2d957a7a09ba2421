"""Reads for the consultant portal (public schema): my clients with their latest health
snapshot and trend, the platform benchmarks, the calendar across my clients, and the
clients that revoked my access. Each call is a fixed number of queries whatever the
number of clients (the portfolio: three; the calendar: two; the benchmarks: one).

Only assigned clients appear: an assignment the client revoked shows the client's name
and when, never its figures. Offboarded clients are gone from the portal (their schema
is dropped; the archive lives in the platform admin).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from okrs.models import Cycle
from reviews.models import ReviewCycle
from tenants.health import CALIBRATION, CYCLE_END, REVIEW_DUE, UPCOMING_DAYS, local_date
from tenants.models import CoachNote, ConsultantAssignment, HealthSnapshot, Organization
from tenants.permissions import can_view_client
from tenants.selectors_health import latest_snapshots, snapshot_trends

PORTFOLIO_STATUSES = (Organization.Status.PILOT, Organization.Status.ACTIVE, Organization.Status.SUSPENDED)
TREND_WEEKS = 8
# Benchmarks compare with the latest snapshot of each organisation, if it is this recent
# (an organisation that stopped refreshing, e.g. suspended, drops out of the medians).
BENCHMARK_FRESH_DAYS = 7
# The KR statuses in the order the stacked bar draws them.
BAR_STATUSES = ("done", "on_track", "at_risk", "off_track", "not_started")


def benchmark_minimum() -> int:
    return getattr(settings, "BENCHMARK_MIN_ORGANIZATIONS", 5)


# --- Clients ------------------------------------------------------------------------------


@dataclass
class BarSegment:
    status: str
    count: int
    x: float  # 0..100, for an SVG with viewBox width 100
    width: float


@dataclass
class ClientRow:
    """One assigned client: the organisation, the latest snapshot (None before the first
    refresh) and one snapshot per day over the last ``TREND_WEEKS`` weeks, oldest first."""

    organization: Organization
    assigned_at: datetime | None = None
    snapshot: HealthSnapshot | None = None
    trend: list[HealthSnapshot] = field(default_factory=list)

    @property
    def cycle_kind_label(self) -> str:
        kind = self.snapshot.cycle_kind if self.snapshot else ""
        return str(DETAIL_LABELS.get(kind, kind))

    @property
    def days_to_cycle_end(self) -> int | None:
        """Counted now, on the organisation's local date (the snapshot may be hours old)."""
        if self.snapshot is None or self.snapshot.cycle_end is None:
            return None
        return (self.snapshot.cycle_end - local_date(self.organization, timezone.now())).days

    @property
    def days_since_cycle_end(self) -> int | None:
        days = self.days_to_cycle_end
        return None if days is None else -days

    @property
    def on_track_share(self) -> float | None:
        return self.snapshot.kr_share("on_track") if self.snapshot else None

    @property
    def escalations_weighted(self) -> int:
        s = self.snapshot
        return 3 * s.escalations_open_level3 + 2 * s.escalations_open_level2 + s.escalations_open_level1

    @property
    def attention(self) -> float:
        """How much the client needs the consultant now, a rough score (the higher, the
        sooner): off-track and at-risk shares, late check-ins, open escalations (level 3
        weighs three times level 1) and overdue reviews. Without figures yet: 0."""
        s = self.snapshot
        if s is None:
            return 0.0
        off, risk = s.kr_share("off_track") or 0.0, s.kr_share("at_risk") or 0.0
        late = 1 - s.checkin_discipline if s.checkin_discipline is not None else 0.0
        return (
            3 * off
            + 1.5 * risk
            + 2 * late
            + 2.5 * min(self.escalations_weighted, 10) / 10
            + min(s.reviews_overdue, 10) / 10
        )

    @property
    def status_bar(self) -> list[BarSegment]:
        """The KR status counts as segments of a 100-wide bar (empty without KRs)."""
        s = self.snapshot
        if s is None or not s.key_results_in_cycle:
            return []
        segments, x = [], 0.0
        for status in BAR_STATUSES:
            count = getattr(s, f"kr_{status}")
            if count:
                width = round(100 * count / s.key_results_in_cycle, 2)
                segments.append(BarSegment(status=status, count=count, x=round(x, 2), width=width))
                x += width
        return segments

    def trend_of(self, name: str) -> list[float | None]:
        """A figure over the trend, oldest first: a snapshot field, ``on_track_share``
        or ``escalations_open``."""
        if name == "on_track_share":
            return [s.kr_share("on_track") for s in self.trend]
        return [getattr(s, name) for s in self.trend]


@dataclass
class RevokedClient:
    """A client that revoked my access: its name and when, nothing else."""

    name: str
    revoked_at: datetime


@dataclass
class Portfolio:
    clients: list[ClientRow]
    revoked: list[RevokedClient]


def _assignments(consultant) -> list[ConsultantAssignment]:
    """All my assignments to client organisations in the portal's statuses (one query)."""
    return list(
        ConsultantAssignment.objects.filter(
            consultant=consultant,
            organization__is_template=False,
            organization__status__in=PORTFOLIO_STATUSES,
        )
        .exclude(organization__schema_name="public")
        .select_related("organization")
        .order_by("organization__name", "organization_id")
    )


def assigned_clients(consultant) -> tuple[list[ConsultantAssignment], list[RevokedClient]]:
    """My active assignments, and the clients that revoked my access (one query)."""
    active, revoked = [], []
    for assignment in _assignments(consultant):
        if assignment.revoked_at is None:
            active.append(assignment)
        else:
            revoked.append(RevokedClient(name=assignment.organization.name, revoked_at=assignment.revoked_at))
    revoked.sort(key=lambda r: r.revoked_at, reverse=True)
    return active, revoked


def portfolio(consultant, *, now: datetime | None = None) -> Portfolio:
    """My clients with their latest snapshot and trend, by name (three queries)."""
    now = now or timezone.now()
    active, revoked = assigned_clients(consultant)
    ids = [a.organization_id for a in active]
    latest = latest_snapshots(ids)
    trends = snapshot_trends(ids, since=now - timedelta(weeks=TREND_WEEKS))
    clients = [
        ClientRow(
            organization=a.organization,
            assigned_at=a.assigned_at,
            snapshot=latest.get(a.organization_id),
            trend=trends.get(a.organization_id, []),
        )
        for a in active
    ]
    return Portfolio(clients=clients, revoked=revoked)


def visible_client(consultant, slug: str) -> Organization | None:
    """The client with ``slug`` if it is in my portal (assigned, access not revoked, not
    offboarded), else None: callers answer 404 whether it exists or not."""
    organization = (
        Organization.objects.clients().filter(slug=slug, status__in=PORTFOLIO_STATUSES).first()
        if slug
        else None
    )
    if organization is None or not can_view_client(consultant, organization):
        return None
    return organization


def client_row(organization: Organization, *, now: datetime | None = None) -> ClientRow:
    """One client's latest snapshot and trend (two queries)."""
    now = now or timezone.now()
    latest = latest_snapshots([organization.pk])
    trends = snapshot_trends([organization.pk], since=now - timedelta(weeks=TREND_WEEKS))
    return ClientRow(
        organization=organization,
        snapshot=latest.get(organization.pk),
        trend=trends.get(organization.pk, []),
    )


def coach_notes_of(organization: Organization) -> QuerySet[CoachNote]:
    """A client's coach notes, newest first, with their authors (one query). The caller
    has established that the consultant sees the client (``visible_client``)."""
    return CoachNote.objects.filter(organization=organization).select_related("author")


# --- Benchmarks ---------------------------------------------------------------------------

# (metric, label); the value of a snapshot for each is ``snapshot_metric``.
BENCHMARK_METRICS = (
    ("checkin_discipline", _("Check-in discipline")),
    ("on_track_share", _("Key results on track")),
    ("last_cycle_average_score", _("Average score of the last closed cycle")),
)


@dataclass
class Median:
    value: float | None
    organizations: int  # how many contributed a value


@dataclass
class Benchmark:
    metric: str
    label: str
    value: float | None  # the client's own
    median: Median
    minimum: int

    @property
    def shown(self) -> bool:
        return self.median.value is not None and self.median.organizations >= self.minimum


def platform_medians(*, now: datetime | None = None) -> dict[str, Median]:
    """The median of each benchmark metric over every client organisation's latest
    snapshot taken within ``BENCHMARK_FRESH_DAYS`` days, and how many organisations
    contributed a value to it (nulls don't count), in one query. Anonymous by
    construction: no organisation is named, and the page shows a median only when
    ``BENCHMARK_MIN_ORGANIZATIONS`` organisations contribute."""
    since = (now or timezone.now()) - timedelta(days=BENCHMARK_FRESH_DAYS)
    qn = connection.ops.quote_name
    snapshots, organizations = qn(HealthSnapshot._meta.db_table), qn(Organization._meta.db_table)
    query = f"""
        WITH latest AS (
            SELECT DISTINCT ON (s.organization_id)
                s.checkin_discipline,
                s.kr_on_track::double precision / NULLIF(s.key_results_in_cycle, 0) AS on_track_share,
                s.last_cycle_average_score
            FROM {snapshots} s JOIN {organizations} o ON o.id = s.organization_id
            WHERE s.taken_at >= %s AND NOT o.is_template AND o.schema_name <> 'public'
            ORDER BY s.organization_id, s.taken_at DESC, s.id DESC
        )
        SELECT
            percentile_cont(0.5) WITHIN GROUP (ORDER BY checkin_discipline), count(checkin_discipline),
            percentile_cont(0.5) WITHIN GROUP (ORDER BY on_track_share), count(on_track_share),
            percentile_cont(0.5) WITHIN GROUP (ORDER BY last_cycle_average_score),
            count(last_cycle_average_score)
        FROM latest
    """  # noqa: S608 - table names from the models' metadata, quoted; the value is a parameter
    with connection.cursor() as cursor:
        cursor.execute(query, [since])
        row = cursor.fetchone()
    return {
        metric: Median(value=row[2 * i], organizations=row[2 * i + 1])
        for i, (metric, _label) in enumerate(BENCHMARK_METRICS)
    }


def snapshot_metric(snapshot: HealthSnapshot | None, metric: str) -> float | None:
    if snapshot is None:
        return None
    if metric == "on_track_share":
        return snapshot.kr_share("on_track")
    return getattr(snapshot, metric)


def client_benchmarks(snapshot: HealthSnapshot | None, medians: dict[str, Median]) -> list[Benchmark]:
    minimum = benchmark_minimum()
    return [
        Benchmark(
            metric=metric,
            label=str(label),
            value=snapshot_metric(snapshot, metric),
            median=medians[metric],
            minimum=minimum,
        )
        for metric, label in BENCHMARK_METRICS
    ]


# --- Calendar -----------------------------------------------------------------------------

KIND_LABELS = {
    CYCLE_END: _("Cycle ends"),
    REVIEW_DUE: _("Reviews due"),
    CALIBRATION: _("Calibration meeting"),
}
DETAIL_LABELS = {**dict(Cycle.Kind.choices), **dict(ReviewCycle.Kind.choices)}


@dataclass(frozen=True)
class CalendarEntry:
    date: date
    organization: Organization
    kind: str  # cycle_end | review_due | calibration
    detail: str = ""  # the cycle's or review cycle's kind (a choice value)

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))

    @property
    def detail_label(self) -> str:
        return str(DETAIL_LABELS.get(self.detail, "")) if self.detail else ""

    @property
    def uid(self) -> str:
        """Stable across downloads (for calendar applications that import again)."""
        return f"{self.date:%Y%m%d}-{self.organization.slug}-{self.kind}-{self.detail or 'x'}"


def _entries_of(organization: Organization, snapshot: HealthSnapshot) -> set[tuple[date, str, str]]:
    entries = set()
    for item in snapshot.upcoming_dates or []:
        try:
            day = date.fromisoformat(item["date"])
        except (KeyError, TypeError, ValueError):
            continue  # never trust stored JSON to be well-formed
        kind = item.get("kind", "")
        if kind in KIND_LABELS:
            entries.add((day, kind, item.get("cycle_kind") or item.get("review_kind") or ""))
    if snapshot.cycle_end:
        entries.add((snapshot.cycle_end, CYCLE_END, snapshot.cycle_kind))
    return entries


def calendar_entries(
    clients: list[tuple[Organization, HealthSnapshot | None]], *, today: date, days: int = UPCOMING_DAYS
) -> list[CalendarEntry]:
    """The dates from ``today`` to ``days`` later across ``clients`` (organisation and its
    latest snapshot), by date, then client name, then kind. No query."""
    until = today + timedelta(days=days)
    entries = [
        CalendarEntry(date=day, organization=organization, kind=kind, detail=detail)
        for organization, snapshot in clients
        if snapshot is not None
        for day, kind, detail in _entries_of(organization, snapshot)
        if today <= day <= until
    ]
    return sorted(entries, key=lambda e: (e.date, e.organization.name, e.organization.pk, e.kind, e.detail))


def my_calendar(consultant, *, today: date) -> list[CalendarEntry]:
    """The calendar across my clients (two queries)."""
    active, _revoked = assigned_clients(consultant)
    latest = latest_snapshots([a.organization_id for a in active])
    return calendar_entries([(a.organization, latest.get(a.organization_id)) for a in active], today=today)
