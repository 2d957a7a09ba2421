"""Keeping the cached progress, status, expected progress and forecast true (D6).

Two paths, one set of formulas (``okrs.scoring``):

- **incremental** — after a check-in (or any change to a KR, an objective or an
  alignment): that KR, its objective and, when the organisation counts aligned
  children, the chain of objectives above it. A fixed number of queries per level of
  the chain; nothing grows with the size of the organisation.
- **bulk** — ``recalculate_all()``: every cached value of the tenant with a handful of
  set-based SQL statements (nightly task, ``manage.py recalculate_scores``).

The SQL below mirrors ``okrs.scoring`` expression by expression (same operations in
the same order, so the floats agree); expected progress per cycle is computed by
``scoring.expected_progress`` itself and passed in. ``tests/okrs/test_recalculation.py``
proves on random data that both paths give the same values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from accounts.webhooks import webhook_emit, webhook_emit_many, webhook_subscribed
from okrs import scoring
from okrs.models import CheckIn, Cycle, KeyResult, Objective, OkrSettings
from okrs.selectors import okr_settings, organization_timezone
from tenants.data_version import bulk_write


@dataclass(frozen=True)
class Clock:
    """What a recalculation needs besides the data: the instant and the org's rules."""

    now: datetime
    tz: str
    thresholds: scoring.Thresholds
    rollup_children: bool
    escalation_threshold: int = 2

    @classmethod
    def current(cls, now: datetime | None = None, settings: OkrSettings | None = None) -> Clock:
        settings = settings or okr_settings()
        return cls(
            now=now or timezone.now(),
            tz=organization_timezone(),
            thresholds=settings.thresholds(),
            rollup_children=settings.rollup_aligned_children,
            escalation_threshold=settings.escalation_threshold,
        )

    def expected(self, start_date, end_date) -> float:
        return scoring.expected_progress(start_date, end_date, self.now, self.tz)

    def cycle_end_epoch(self, start_date, end_date) -> float:
        return scoring.cycle_bounds(start_date, end_date, self.tz)[1].timestamp()


STATUS_CHANGED = "key_result.status_changed"


def _status_payload(row: tuple) -> dict:
    """The event's data from (id, objective id, title, status, previous status, progress)."""
    pk, objective_id, title, status, previous_status, progress = row
    return {
        "key_result": {
            "id": pk, "title": title, "objective_id": objective_id, "status": status,
            "previous_status": previous_status, "progress": progress,
        }
    }  # fmt: skip


# --- incremental -------------------------------------------------------------------


def refresh_key_result(
    key_result: KeyResult,
    clock: Clock,
    *,
    objective_locked: bool = False,
    events: list[tuple[str, dict]] | None = None,
    points: list[tuple[datetime, float, int]] | None = None,
) -> list[tuple[datetime, float]]:
    """Recompute one KR from its effective check-ins, then its objective chain.
    ``key_result`` must have ``objective.cycle`` loaded; its cached fields are updated
    in place too. Returns the effective check-ins as (time, value), oldest first.

    ``objective_locked``: the caller holds the objective's row lock already (see
    ``refresh_objective_chain``). ``events``: webhook events are added to it for the caller
    to emit together with its own, instead of being emitted here. ``points``: the effective
    check-ins (time, value, confidence) if the caller has read them already, after locking."""
    if points is None:
        points = list(
            CheckIn.objects.filter(key_result_id=key_result.pk, correction__isnull=True)
            .order_by("effective_at", "id")
            .values_list("effective_at", "value", "confidence")
        )
    cycle = key_result.objective.cycle
    last_at, current, confidence = (
        (points[-1][0], points[-1][1], points[-1][2]) if points else (None, None, None)
    )
    progress = scoring.key_result_progress(
        key_result.kind,
        start=key_result.start,
        target=key_result.target,
        current=current,
        low=key_result.low,
        high=key_result.high,
    )
    status = scoring.key_result_status(
        key_result.kind,
        progress=progress,
        expected=clock.expected(cycle.start_date, cycle.end_date),
        has_check_in=bool(points),
        thresholds=clock.thresholds,
    )
    forecast = scoring.forecast(
        [(at.timestamp(), value) for at, value, _ in points],
        clock.cycle_end_epoch(cycle.start_date, cycle.end_date),
    )
    cached = {
        "current": current, "confidence": confidence, "last_check_in_at": last_at, "progress": progress,
        "status": status, "forecast": forecast,
    }  # fmt: skip
    assignments = ", ".join(f"{field} = %s" for field in cached)  # the ORM's update cost more
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {KeyResult._meta.db_table} SET {assignments} WHERE id = %s",  # noqa: S608 - our names
            [*cached.values(), key_result.pk],
        )
    previous_status = key_result.status
    for field, value in cached.items():
        setattr(key_result, field, value)
    if status != previous_status:
        row = (key_result.pk, key_result.objective_id, key_result.title, status, previous_status, progress)
        if events is None:
            webhook_emit(STATUS_CHANGED, _status_payload(row))
        else:
            events.append((STATUS_CHANGED, _status_payload(row)))
    locked = (key_result.objective_id, cycle.start_date, cycle.end_date) if objective_locked else None
    refresh_objective_chain(key_result.objective_id, clock, locked=locked)
    return [(at, value) for at, value, _ in points]


_CHAIN_SQL = """
    WITH RECURSIVE chain(id, depth) AS (
        SELECT %(objective)s::bigint, 0
        UNION ALL
        SELECT COALESCE(o.parent_objective_id, k.objective_id), chain.depth + 1
        FROM chain
        JOIN okrs_objective o ON o.id = chain.id
        LEFT JOIN okrs_keyresult k ON k.id = o.parent_key_result_id
        WHERE %(rollup)s AND chain.depth < 64
          AND COALESCE(o.parent_objective_id, k.objective_id) IS NOT NULL
    )
    SELECT o.id, c.start_date, c.end_date
    FROM chain JOIN okrs_objective o ON o.id = chain.id JOIN okrs_cycle c ON c.id = o.cycle_id
    ORDER BY chain.depth
    FOR UPDATE OF o
"""

# Items that make up an objective's progress, in the order the bulk SQL sums them:
# its KRs by (position, id), then (when enabled) its accepted aligned children by id.
_ITEMS_SQL = """
    SELECT progress, weight, current IS NOT NULL FROM (
        SELECT 0 AS grp, position AS pos, id, progress, weight, current
        FROM okrs_keyresult WHERE objective_id = %(objective)s
        UNION ALL
        SELECT 1, 0, o.id, o.progress, 1.0, CASE WHEN o.status <> 'not_started' THEN 1.0 END
        FROM okrs_objective o LEFT JOIN okrs_keyresult k ON k.id = o.parent_key_result_id
        WHERE %(rollup)s AND o.state <> 'archived'
          AND (o.parent_objective_id = %(objective)s OR k.objective_id = %(objective)s)
    ) items
    ORDER BY grp, pos, id
"""


def refresh_objective_chain(objective_id: int, clock: Clock, *, locked: tuple | None = None) -> None:
    """Recompute an objective and, if aligned children count, every objective above
    it. The chain's rows are locked child-first, so concurrent check-ins on sibling
    KRs serialise instead of overwriting each other's roll-up.

    ``locked``: (id, cycle start, cycle end) of the objective when the caller has locked its
    row already; with aligned children not counted, it is the whole chain (no query)."""
    with connection.cursor() as cursor:
        if locked is not None and not clock.rollup_children:
            chain = [locked]
        else:
            cursor.execute(_CHAIN_SQL, {"objective": objective_id, "rollup": clock.rollup_children})
            chain = cursor.fetchall()
        for oid, start_date, end_date in chain:
            cursor.execute(_ITEMS_SQL, {"objective": oid, "rollup": clock.rollup_children})
            items = cursor.fetchall()
            progress = scoring.weighted_progress((p, w) for p, w, _ in items)
            expected = clock.expected(start_date, end_date)
            status = scoring.objective_status(
                progress=progress,
                expected=expected,
                has_check_in=any(h for _, _, h in items),
                thresholds=clock.thresholds,
            )
            cursor.execute(
                "UPDATE okrs_objective SET progress = %s, expected_progress = %s, status = %s WHERE id = %s",
                [progress, expected, status, oid],
            )


# --- bulk ----------------------------------------------------------------------------

_CYCLES_SQL = """
    DROP TABLE IF EXISTS pg_temp._okr_cycle_clock;
    CREATE TEMP TABLE _okr_cycle_clock (cycle_id bigint PRIMARY KEY, expected float8, end_epoch float8)
"""

# One pass over the check-ins: the latest effective one (by effective_at, id) and the
# least-squares fit per KR. Rows whose values do not change are not rewritten.
_KEY_RESULTS_SQL = """
    WITH per_kr AS (
        SELECT key_result_id,
               (array_agg(value ORDER BY effective_at DESC, id DESC))[1] AS current,
               (array_agg(confidence ORDER BY effective_at DESC, id DESC))[1] AS confidence,
               max(effective_at) AS effective_at,
               count(*) AS n, avg(x) AS mx, avg(value) AS my, regr_slope(value, x) AS slope
        FROM (
            SELECT key_result_id, id, value, confidence, effective_at, date_part('epoch', effective_at) AS x
            FROM okrs_checkin
            WHERE id NOT IN (SELECT corrects_id FROM okrs_checkin WHERE corrects_id IS NOT NULL)
        ) effective
        GROUP BY key_result_id
    ),
    measured AS (
        SELECT k.id, k.kind, k.status AS previous_status, l.current, l.confidence, l.effective_at,
               clk.expected,
               CASE WHEN l.n >= 2 AND l.slope IS NOT NULL THEN l.my + l.slope * (clk.end_epoch - l.mx) END
                   AS forecast,
               CASE
                   WHEN l.current IS NULL THEN 0.0
                   WHEN k.kind = 'increase' THEN
                       LEAST(1.0, GREATEST(0.0, (l.current - k.start) / (k.target - k.start)))
                   WHEN k.kind = 'decrease' THEN
                       LEAST(1.0, GREATEST(0.0, (k.start - l.current) / (k.start - k.target)))
                   WHEN k.kind = 'stay_above' THEN CASE WHEN l.current >= k.target THEN 1.0 ELSE 0.0 END
                   WHEN k.kind = 'stay_below' THEN CASE WHEN l.current <= k.target THEN 1.0 ELSE 0.0 END
                   WHEN k.kind = 'stay_between' THEN
                       CASE WHEN l.current >= k.low AND l.current <= k.high THEN 1.0
                            ELSE GREATEST(0.0, 1.0 - (CASE WHEN l.current < k.low THEN k.low - l.current
                                                           ELSE l.current - k.high END) / (k.high - k.low))
                       END
                   WHEN k.kind = 'milestone' THEN CASE WHEN l.current >= 1 THEN 1.0 ELSE 0.0 END
               END AS progress
        FROM okrs_keyresult k
        JOIN okrs_objective o ON o.id = k.objective_id
        JOIN _okr_cycle_clock clk ON clk.cycle_id = o.cycle_id
        LEFT JOIN per_kr l ON l.key_result_id = k.id
    ),
    computed AS (
        SELECT m.*,
               CASE
                   WHEN m.current IS NULL THEN 'not_started'
                   WHEN m.kind IN ('stay_above', 'stay_below', 'stay_between') THEN
                       CASE WHEN m.progress >= 1 THEN 'on_track' ELSE 'off_track' END
                   WHEN m.progress >= 1 THEN 'done'
                   WHEN m.expected - m.progress <= %(at_risk)s THEN 'on_track'
                   WHEN m.expected - m.progress <= %(off_track)s THEN 'at_risk'
                   ELSE 'off_track'
               END AS status
        FROM measured m
    )
    UPDATE okrs_keyresult k SET
        current = c.current, confidence = c.confidence, last_check_in_at = c.effective_at,
        progress = c.progress, forecast = c.forecast, status = c.status
    FROM computed c
    WHERE c.id = k.id
      AND (k.current, k.confidence, k.last_check_in_at, k.progress, k.forecast, k.status)
          IS DISTINCT FROM (c.current, c.confidence, c.effective_at, c.progress, c.forecast, c.status)
"""
# Only when a webhook listens for status changes: the changed rows' old and new status.
_KEY_RESULTS_RETURNING = """
    RETURNING k.id, k.objective_id, k.title, c.status, c.previous_status, c.progress
"""

_OBJECTIVE_STATUS_SQL = """
    CASE
        WHEN NOT a.has_check_in THEN 'not_started'
        WHEN a.progress >= 1 THEN 'done'
        WHEN clk.expected - a.progress <= %(at_risk)s THEN 'on_track'
        WHEN clk.expected - a.progress <= %(off_track)s THEN 'at_risk'
        ELSE 'off_track'
    END
"""

# One level of objectives (all of them when children don't count). Items are summed in
# the same order as _ITEMS_SQL; sum(float8) accumulates in input order.
_OBJECTIVES_SQL = """
    WITH items AS (
        SELECT objective_id, 0 AS grp, position AS pos, id, progress, weight, current IS NOT NULL AS has
        FROM okrs_keyresult
        UNION ALL
        SELECT COALESCE(o.parent_objective_id, k.objective_id), 1, 0, o.id, o.progress, 1.0,
               o.status <> 'not_started'
        FROM okrs_objective o LEFT JOIN okrs_keyresult k ON k.id = o.parent_key_result_id
        WHERE %(rollup)s AND o.state <> 'archived'
          AND COALESCE(o.parent_objective_id, k.objective_id) IS NOT NULL
    ),
    totals AS (
        SELECT objective_id,
               sum(progress * weight ORDER BY grp, pos, id) AS numerator,
               sum(weight ORDER BY grp, pos, id) AS denominator,
               bool_or(has) AS has_check_in
        FROM items GROUP BY objective_id
    ),
    a AS (
        SELECT o.id, o.cycle_id,
               CASE WHEN t.denominator > 0 THEN t.numerator / t.denominator ELSE 0.0 END AS progress,
               COALESCE(t.has_check_in, false) AS has_check_in
        FROM okrs_objective o LEFT JOIN totals t ON t.objective_id = o.id
        WHERE o.id = ANY(%(ids)s) OR %(all)s
    )
    UPDATE okrs_objective o SET
        progress = a.progress, expected_progress = clk.expected, status = {status}
    FROM a JOIN _okr_cycle_clock clk ON clk.cycle_id = a.cycle_id
    WHERE o.id = a.id
""".replace("{status}", _OBJECTIVE_STATUS_SQL)

# Levels of the alignment tree, deepest first, so children are final before parents.
_LEVELS_SQL = """
    WITH RECURSIVE parents AS (
        SELECT o.id, COALESCE(o.parent_objective_id, k.objective_id) AS parent_id
        FROM okrs_objective o LEFT JOIN okrs_keyresult k ON k.id = o.parent_key_result_id
    ),
    tree(id, depth) AS (
        SELECT id, 0 FROM parents WHERE parent_id IS NULL
        UNION ALL
        SELECT p.id, tree.depth + 1 FROM parents p JOIN tree ON p.parent_id = tree.id WHERE tree.depth < 64
    )
    SELECT depth, array_agg(id) FROM tree GROUP BY depth ORDER BY depth DESC
"""


def recalculate_all(clock: Clock | None = None) -> dict[str, int]:
    """Recompute every cached value of the current tenant with set-based SQL.
    Idempotent; returns counts for logging."""
    clock = clock or Clock.current()
    params = {"at_risk": clock.thresholds.at_risk_gap, "off_track": clock.thresholds.off_track_gap}
    cycles = list(Cycle.objects.values_list("id", "start_date", "end_date"))
    with transaction.atomic(), bulk_write(), connection.cursor() as cursor:
        cursor.execute(_CYCLES_SQL)
        if cycles:
            cursor.executemany(
                "INSERT INTO _okr_cycle_clock VALUES (%s, %s, %s)",
                [(cid, clock.expected(s, e), clock.cycle_end_epoch(s, e)) for cid, s, e in cycles],
            )
        listening = webhook_subscribed(STATUS_CHANGED)
        cursor.execute(_KEY_RESULTS_SQL + (_KEY_RESULTS_RETURNING if listening else ""), params)
        changed = cursor.rowcount
        if listening:
            webhook_emit_many(STATUS_CHANGED, [
                _status_payload(row) for row in cursor.fetchall() if row[3] != row[4]
            ])  # fmt: skip
        if clock.rollup_children:
            cursor.execute(_LEVELS_SQL)
            levels = cursor.fetchall()
            for _depth, ids in levels:
                cursor.execute(_OBJECTIVES_SQL, {**params, "rollup": True, "ids": ids, "all": False})
        else:
            cursor.execute(_OBJECTIVES_SQL, {**params, "rollup": False, "ids": [], "all": True})
        cursor.execute("DROP TABLE pg_temp._okr_cycle_clock")
        objectives = Objective.objects.count()
        key_results = KeyResult.objects.count()
    return {
        "key_results": key_results,
        "key_results_changed": changed,
        "objectives": objectives,
        "cycles": len(cycles),
    }
