"""Health snapshots: an organisation's figures, computed in its schema, stored in public.

``health_snapshot_take`` reads the organisation's schema with a fixed number of aggregate
queries (eight, nine when there is a closed cycle; whatever its size: no query per row)
and writes one ``HealthSnapshot`` to the public schema. Only counts, shares, dates and
kinds are copied: no title, name, e-mail address or id of a tenant row leaves the schema.

Definitions (the same as the organisation's own health dashboard, so that a consultant and
the client's org admin read the same figures):

- current cycle: ``okrs.selectors.cycles.default_cycle`` on the organisation's local date
  (the active cycle containing today, the shortest; else the latest active; else the latest);
- objectives and KRs "in the cycle": objectives active or closed (drafts are not committed,
  archived ones are gone), as ``okrs.selectors.health.COUNTED_STATES``;
- check-in discipline: ``okrs.selectors.health.check_in_discipline`` for all teams — the share
  of KRs in active objectives whose last check-in is within the cycle's cadence (14 days for
  the default two-weekly cadence: the issue's "last 14 days"; 7 weekly, 31 monthly); never
  checked in is late. Null when the cycle has no such KR;
- open escalations: unresolved ones (open or acknowledged), by level;
- overdue reviews: reviews not closed whose review cycle (not closed) was due before the
  organisation's local date;
- last cycle's average score: the mean score of the closed objectives of the latest closed cycle;
- last activity: when the latest check-in was recorded;
- active people: active accounts, not counting consultants (they serve, they are not staff);
- upcoming dates (the consultants' calendar), within ``UPCOMING_DAYS`` of the local date:
  ends of draft and active OKR cycles, due dates of check-in and end-of-cycle review cycles
  not closed, and calibration meetings (a calibration review cycle's due date). Dates and
  kinds only, never names.

``health_snapshots_prune`` thins the stored rows out (``health_snapshots_refresh`` and the
hourly dispatcher run it): every snapshot of the last ``KEEP_ALL_HOURS`` hours, then the
last one of each UTC day, none older than ``KEEP_DAYS`` days.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Avg, Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from accounts.models import User
from accounts.permissions import require
from config.tasks_enqueue import enqueue_on_commit
from okrs.models import CheckIn, Cycle, Escalation, KeyResult, Objective, Status
from okrs.selectors.cycles import default_cycle
from okrs.selectors.health import COUNTED_STATES
from reviews.models import Review, ReviewCycle
from tenants.models import HealthSnapshot, Organization
from tenants.permissions import can_view_client

logger = logging.getLogger(__name__)

Progress = Callable[[Iterable[Organization]], Iterable[Organization]]

UPCOMING_DAYS = 120
REFRESH_MIN_INTERVAL = timedelta(minutes=1)
KEEP_ALL_HOURS = 48
KEEP_DAYS = 400

# The kinds of calendar entries (``HealthSnapshot.upcoming_dates``).
CYCLE_END, REVIEW_DUE, CALIBRATION = "cycle_end", "review_due", "calibration"


def local_date(organization: Organization, now: datetime) -> date:
    """``now`` as a date in the organisation's time zone (UTC if the zone is unknown)."""
    try:
        zone = ZoneInfo(organization.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return now.astimezone(zone).date()


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _cycle_figures(cycle: Cycle | None, *, now: datetime, today: date) -> dict:
    """The current cycle's dates, objectives and KRs by status, and check-in discipline
    (two queries; none without a cycle)."""
    if cycle is None:
        return {}
    objectives = Objective.objects.filter(cycle=cycle, state__in=COUNTED_STATES).order_by()
    since = now - timedelta(days=Cycle.CADENCE_DAYS[cycle.cadence])
    active = Q(objective__state=Objective.State.ACTIVE)
    krs = (
        KeyResult.objects.filter(objective__in=objectives)
        .order_by()
        .aggregate(
            total=Count("id"),
            active=Count("id", filter=active),
            on_time=Count("id", filter=active & Q(last_check_in_at__gt=since)),
            **{f"kr_{status}": Count("id", filter=Q(status=status)) for status in Status.values},
        )
    )
    return {
        "cycle_kind": cycle.kind,
        "cycle_start": cycle.start_date,
        "cycle_end": cycle.end_date,
        "days_to_cycle_end": (cycle.end_date - today).days,
        "objectives_in_cycle": objectives.count(),
        "key_results_in_cycle": krs["total"],
        **{f"kr_{status}": krs[f"kr_{status}"] for status in Status.values},
        "checkin_discipline": _share(krs["on_time"], krs["active"]),
    }


def _last_closed_cycle_score(cycles: list[Cycle]) -> float | None:
    closed = [c for c in cycles if c.state == Cycle.State.CLOSED]
    if not closed:
        return None
    last = max(closed, key=lambda c: (c.end_date, c.pk))
    return Objective.objects.filter(cycle=last, state=Objective.State.CLOSED, score__isnull=False).aggregate(
        average=Avg("score")
    )["average"]


def _upcoming_dates(cycles: list[Cycle], *, today: date) -> list[dict]:
    """Calendar entries from ``today`` to ``UPCOMING_DAYS`` days later, by date then kind
    (one query: the review cycles). Identical entries (two review cycles due the same
    day) appear once: the calendar shows that something is due, not how many."""
    until = today + timedelta(days=UPCOMING_DAYS)
    entries = {
        (cycle.end_date.isoformat(), CYCLE_END, "cycle_kind", cycle.kind)
        for cycle in cycles
        if cycle.state in (Cycle.State.DRAFT, Cycle.State.ACTIVE) and today <= cycle.end_date <= until
    }
    review_cycles = (
        ReviewCycle.objects.exclude(state=ReviewCycle.State.CLOSED)
        .filter(due_on__gte=today, due_on__lte=until)
        .order_by()
        .values_list("due_on", "kind")
        .distinct()
    )
    for due_on, kind in review_cycles:
        if kind == ReviewCycle.Kind.CALIBRATION:
            entries.add((due_on.isoformat(), CALIBRATION, "", ""))
        else:
            entries.add((due_on.isoformat(), REVIEW_DUE, "review_kind", kind))
    return [
        {"date": day, "kind": kind, **({key: value} if key else {})}
        for day, kind, key, value in sorted(entries)
    ]


def health_figures(organization: Organization, *, now: datetime) -> dict:
    """The snapshot's figures, read in the schema that is active (the organisation's).
    Eight queries (nine with a closed cycle), whatever the organisation's size."""
    today = local_date(organization, now)
    cycles = list(Cycle.objects.order_by("-start_date", "name"))
    escalations = dict(
        Escalation.objects.exclude(state=Escalation.State.RESOLVED)
        .order_by()
        .values_list("level")
        .annotate(n=Count("id"))
    )
    return {
        **_cycle_figures(default_cycle(today, cycles), now=now, today=today),
        "people_active": User.objects.filter(is_active=True).exclude(role=User.Role.CONSULTANT).count(),
        "escalations_open_level1": escalations.get(1, 0),
        "escalations_open_level2": escalations.get(2, 0),
        "escalations_open_level3": escalations.get(3, 0),
        "reviews_overdue": Review.objects.exclude(state=Review.State.CLOSED)
        .exclude(review_cycle__state=ReviewCycle.State.CLOSED)
        .filter(review_cycle__due_on__lt=today)
        .count(),
        "last_cycle_average_score": _last_closed_cycle_score(cycles),
        "last_activity_at": CheckIn.objects.aggregate(last=Max("created_at"))["last"],
        "upcoming_dates": _upcoming_dates(cycles, today=today),
    }


def health_snapshot_take(organization: Organization, *, now: datetime | None = None) -> HealthSnapshot:
    """Compute ``organization``'s figures inside its schema and store them in public."""
    now = now or timezone.now()
    with tenant_context(organization):
        figures = health_figures(organization, now=now)
    snapshot = HealthSnapshot(organization=organization, taken_at=now, **figures)
    # Field checks only: the organisation is the caller's row, and the table's check
    # constraints are enforced by the INSERT itself (no query per constraint).
    snapshot.full_clean(exclude=["organization"], validate_constraints=False)
    with schema_context("public"):
        snapshot.save()
    return snapshot


def health_snapshot_take_current(*, now: datetime | None = None) -> HealthSnapshot | None:
    """For the per-tenant Celery task: the organisation whose schema is active."""
    schema = connection.schema_name
    with schema_context("public"):
        organization = Organization.objects.clients().filter(schema_name=schema).first()
    if organization is None:
        logger.warning("health snapshot: no organisation with schema %s", schema)
        return None
    return health_snapshot_take(organization, now=now)


def health_refresh_request(*, organization: Organization, actor, now: datetime | None = None) -> None:
    """A consultant's "Refresh now": enqueue the organisation's snapshot task, in its schema,
    once the caller's transaction commits. Refused (``ValidationError``) when the newest
    snapshot is younger than ``REFRESH_MIN_INTERVAL`` or a refresh was asked for within it
    (the worker may not have run yet): the figures cannot have moved much."""
    require(can_view_client(actor, organization), _("You don't serve this client."))
    now = now or timezone.now()
    newest = (
        HealthSnapshot.objects.filter(organization=organization)
        .order_by("-taken_at")
        .values_list("taken_at", flat=True)
        .first()
    )
    if newest is not None and now - newest < REFRESH_MIN_INTERVAL:
        raise ValidationError(_("The figures were refreshed less than a minute ago; try again in a minute."))
    # One request a minute per organisation, whoever asks (all its consultants share it).
    try:
        first = cache.add(
            f"health-refresh:{organization.pk}", 1, timeout=REFRESH_MIN_INTERVAL.total_seconds()
        )
    except Exception as error:  # the cache (Redis) is down: the broker is too, the refresh would be lost
        logger.warning("health refresh of %s not queued: cache unavailable (%s)", organization.slug, error)
        raise ValidationError(
            _("Refreshing is not possible right now; the figures update on their own within the hour.")
        ) from error
    if not first:
        raise ValidationError(
            _("A refresh was asked for less than a minute ago: the figures update shortly.")
        )
    # tenants.tasks imports this module: import the task when it is needed.
    from tenants.tasks import refresh_health_snapshot

    enqueue_on_commit(
        refresh_health_snapshot, schema=organization.schema_name, later="the hourly health refresh"
    )


def organizations_to_refresh(*, schema: str | None = None) -> list[Organization]:
    """Every serving organisation, or the one with ``schema`` (whatever its status); a
    ``ValidationError`` for an unknown schema."""
    with schema_context("public"):
        if schema is None:
            return list(Organization.objects.serving().order_by("schema_name"))
        organizations = list(Organization.objects.clients().filter(schema_name=schema))
    if not organizations:
        raise ValidationError({"schema": _("No organisation with schema “%(schema)s”.") % {"schema": schema}})
    return organizations


def health_snapshots_refresh(
    *, schema: str | None = None, progress: Progress | None = None, now: datetime | None = None
) -> list[HealthSnapshot]:
    """A snapshot of every serving organisation (or the one with ``schema``), all taken at
    the same instant, then the old ones pruned. ``progress`` wraps the organisations
    (e.g. ``tqdm``)."""
    now = now or timezone.now()
    organizations = organizations_to_refresh(schema=schema)
    iterable = progress(organizations) if progress else organizations
    snapshots = [health_snapshot_take(organization, now=now) for organization in iterable]
    health_snapshots_prune(now=now)
    return snapshots


def health_snapshots_prune(*, now: datetime | None = None) -> int:
    """Delete the snapshots nobody needs, in one statement; returns how many went.

    Kept: all of the last ``KEEP_ALL_HOURS`` hours (the portal's "updated … ago" and
    the refresh limit), then the last snapshot of each organisation and UTC day (the
    trends read one point a day, ``selectors_health.snapshot_trends``) up to ``KEEP_DAYS``
    days back; nothing older."""
    now = now or timezone.now()
    recent = now - timedelta(hours=KEEP_ALL_HOURS)
    oldest = now - timedelta(days=KEEP_DAYS)
    # Named with its schema: one statement, whatever schema the connection is in.
    table = ".".join(
        connection.ops.quote_name(n) for n in (get_public_schema_name(), HealthSnapshot._meta.db_table)
    )
    day = "(taken_at AT TIME ZONE 'UTC')::date"
    query = f"""
        DELETE FROM {table} WHERE taken_at < %(recent)s AND id NOT IN (
            SELECT DISTINCT ON (organization_id, {day}) id FROM {table}
            WHERE taken_at >= %(oldest)s AND taken_at < %(recent)s
            ORDER BY organization_id, {day}, taken_at DESC, id DESC
        )
    """  # noqa: S608 - the table name comes from the model's metadata, quoted; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(query, {"recent": recent, "oldest": oldest})
        deleted = cursor.rowcount
    return deleted
