"""Recalculation at scale, in the ``bench`` organisation (built by ``manage.py seed_bench``).

- the set-based bulk recompute (``recalculate_all``): median of 3, peak RSS while it runs;
- a straightforward per-object ORM loop over the same data (the incremental path's
  queries applied to every KR and every objective), timed once (on a deterministic
  subset, extrapolated, if the whole would take longer than BENCH_ORM_BUDGET_S);
- one check-in (``check_in_record``): its queries and its median latency, rolled back.

Sizes come from BENCH_USERS, BENCH_OBJECTIVES, BENCH_KEY_RESULTS, BENCH_CHECK_INS and
BENCH_SEED (defaults: the full benchmark size). An existing bench organisation of other
sizes is rebuilt.
"""

from __future__ import annotations

import math
import os
import resource
import statistics
import threading
import time
from contextlib import contextmanager

from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.functions import Mod
from django.test.utils import CaptureQueriesContext, override_settings
from django_tenants.utils import tenant_context

from accounts.models import Team, User
from okrs import scoring
from okrs.models import CheckIn, Cycle, KeyResult, Objective
from okrs.recalculation import Clock, recalculate_all
from okrs.services.check_ins import check_in_record
from tenants.models import Organization

SLUG = "bench"
DEFAULT_SIZES = {"users": 2000, "objectives": 10000, "key_results": 40000, "check_ins": 400000}
TARGETS = {"bulk_seconds": 1.5, "orm_over_bulk": 20.0, "peak_rss_mb": 300.0, "check_in_queries": 15}
BULK_REPEATS = 3
CHECK_IN_REPEATS = 20
# Tables the recompute reads and writes; vacuumed before each timed run (see _steady_state).
OKR_TABLES = ("okrs_checkin", "okrs_keyresult", "okrs_objective")


def sizes_from_env() -> dict[str, int]:
    sizes = {
        name: int(os.environ.get(f"BENCH_{name.upper()}", default)) for name, default in DEFAULT_SIZES.items()
    }
    sizes["seed"] = int(os.environ.get("BENCH_SEED", "42"))
    return sizes


def row_counts() -> dict[str, int]:
    """Rows of the current tenant (call inside its tenant_context)."""
    objectives = Objective.objects.aggregate(
        total=Count("id"),
        aligned_to_objective=Count("id", filter=Q(parent_objective__isnull=False)),
        aligned_to_key_result=Count("id", filter=Q(parent_key_result__isnull=False)),
    )
    check_ins = CheckIn.objects.aggregate(total=Count("id"), corrections=Count("corrects"))
    return {
        "teams": Team.objects.count(),
        "people": User.objects.exclude(role=User.Role.ORG_ADMIN).count(),
        "cycles": Cycle.objects.count(),
        "objectives": objectives["total"],
        "aligned_to_objective": objectives["aligned_to_objective"],
        "aligned_to_key_result": objectives["aligned_to_key_result"],
        "key_results": KeyResult.objects.count(),
        "check_ins": check_ins["total"],
        "corrections": check_ins["corrections"],
    }


def ensure_tenant(sizes: dict[str, int], progress=print) -> Organization:
    """The bench organisation with the requested sizes, (re)built with seed_bench if needed."""
    organization = Organization.objects.filter(slug=SLUG).first()
    force = False
    if organization is not None:
        with tenant_context(organization):
            counts = row_counts()
        wanted = {k: sizes[k] for k in DEFAULT_SIZES}
        found = {
            "users": counts["people"],
            **{k: counts[k] for k in ("objectives", "key_results", "check_ins")},
        }
        if found == wanted:
            progress(f"  using the existing “{SLUG}” organisation ({_describe(found)})")
            return organization
        progress(f"  “{SLUG}” has {_describe(found)}; rebuilding it with {_describe(wanted)}")
        force = True
    else:
        progress(f"  building the “{SLUG}” organisation with seed_bench ({_describe(sizes)}) …")
    call_command(
        "seed_bench", schema=SLUG, users=sizes["users"], objectives=sizes["objectives"],
        key_results=sizes["key_results"], check_ins=sizes["check_ins"], seed=sizes["seed"], force=force,
    )  # fmt: skip
    connection.set_schema_to_public()
    return Organization.objects.get(slug=SLUG)


def _describe(sizes: dict[str, int]) -> str:
    labels = {"users": "people", "objectives": "objectives", "key_results": "KRs", "check_ins": "check-ins"}
    return ", ".join(f"{sizes[k]} {label}" for k, label in labels.items())


# --- measuring helpers ----------------------------------------------------------------


class QueryCounter:
    """Counts the statements run through Django's connection (connection.execute_wrapper)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@contextmanager
def counting_queries():
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        yield counter


class PeakRss:
    """Samples the RSS of this process (and of its PostgreSQL backend) every 10 ms."""

    def __init__(self, interval: float = 0.01):
        self.interval = interval
        self.peak = self.backend_peak = 0
        self._stop = threading.Event()
        try:
            import psutil
        except ImportError:  # pragma: no cover - psutil comes with pgserver
            psutil = None
        self._psutil = psutil

    def _sample(self, me, backend) -> None:
        while True:
            self.peak = max(self.peak, me.memory_info().rss)
            if backend is not None:
                try:
                    self.backend_peak = max(self.backend_peak, backend.memory_info().rss)
                except self._psutil.Error:  # another host (DATABASE_URL) or not permitted
                    backend = None
            if self._stop.wait(self.interval):
                return

    def __enter__(self):
        if self._psutil is None:
            self.peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            return self
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        try:
            backend = self._psutil.Process(pid)
            backend.memory_info()
        except self._psutil.Error:
            backend = None
        self._thread = threading.Thread(
            target=self._sample, args=(self._psutil.Process(), backend), daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc):
        if self._psutil is None:
            self.peak = max(self.peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
            return
        self._stop.set()
        self._thread.join()


def _steady_state(schema: str) -> None:
    """VACUUM (ANALYZE) the OKR tables: every run starts where a nightly run would, after
    autovacuum has cleaned up the previous run's row versions."""
    with connection.cursor() as cursor:
        for table in OKR_TABLES:
            cursor.execute(f'VACUUM (ANALYZE) "{schema}"."{table}"')


def _mb(n_bytes: float) -> float:
    return round(n_bytes / 2**20, 1)


# --- the three measurements --------------------------------------------------------------


def _invalidate(schema: str) -> None:
    """Make every KR's cached values wrong, so the recompute must rewrite every row (the
    worst case; a nightly run on unchanged data skips most KR rows)."""
    with connection.cursor() as cursor:
        cursor.execute(f'UPDATE "{schema}".okrs_keyresult SET progress = -1')  # noqa: S608 - our schema name


def measure_bulk(schema: str, progress=print, clock_factory=None, *, cold: bool = False) -> dict:
    samples, peaks, backend_peaks, queries = [], [], [], 0
    for i in range(BULK_REPEATS):
        if cold:
            _invalidate(schema)
        _steady_state(schema)
        clock = clock_factory() if clock_factory else None
        with PeakRss() as rss, counting_queries() as counter:
            started = time.perf_counter()
            recalculate_all(clock)
            seconds = time.perf_counter() - started
        samples.append(seconds)
        peaks.append(rss.peak)
        backend_peaks.append(rss.backend_peak)
        queries = counter.count
        progress(f"  [{i + 1}/{BULK_REPEATS}] recalculate_all {seconds:7.3f} s   peak RSS {_mb(rss.peak)} MB")
    return {
        "seconds": round(statistics.median(samples), 3),
        "samples_s": [round(s, 3) for s in samples],
        "queries": queries,
        "peak_rss_mb": _mb(max(peaks)),
        "backend_peak_rss_mb": _mb(max(backend_peaks)) if any(backend_peaks) else None,
    }


def _num(value: float | None) -> float:
    return 0.0 if value is None else value


def orm_loop(modulus: int = 1) -> dict:
    """Every KR (``id % modulus == 0``) from its effective check-ins, then every objective
    (same filter) from its KRs, one object at a time through the ORM and okrs.scoring.
    Runs in one transaction that is rolled back: the data set stays as it was."""
    clock = Clock.current()
    key_results = KeyResult.objects.select_related("objective__cycle").order_by("id")
    objectives = Objective.objects.select_related("cycle").order_by("id")
    if modulus > 1:
        key_results = key_results.alias(bucket=Mod("id", modulus)).filter(bucket=0)
        objectives = objectives.alias(bucket=Mod("id", modulus)).filter(bucket=0)
    n_kr = n_obj = 0
    with transaction.atomic(), counting_queries() as counter:
        started = time.perf_counter()
        for kr in key_results.iterator(chunk_size=2000):
            points = list(
                CheckIn.objects.filter(key_result=kr, correction__isnull=True)
                .order_by("effective_at", "id")
                .values_list("effective_at", "value", "confidence")
            )
            cycle = kr.objective.cycle
            current, confidence, last_at = (
                (points[-1][1], points[-1][2], points[-1][0]) if points else (None,) * 3
            )
            progress = scoring.key_result_progress(
                kr.kind,
                start=_num(kr.start),
                target=_num(kr.target),
                current=current,
                low=kr.low,
                high=kr.high,
            )
            status = scoring.key_result_status(
                kr.kind,
                progress=progress,
                expected=scoring.expected_progress(cycle.start_date, cycle.end_date, clock.now, clock.tz),
                has_check_in=bool(points),
                thresholds=clock.thresholds,
            )
            end = scoring.cycle_bounds(cycle.start_date, cycle.end_date, clock.tz)[1].timestamp()
            forecast = scoring.forecast([(at.timestamp(), value) for at, value, _ in points], end)
            KeyResult.objects.filter(pk=kr.pk).update(
                current=current, confidence=confidence, last_check_in_at=last_at,
                progress=progress, status=status, forecast=forecast,
            )  # fmt: skip
            n_kr += 1
        kr_seconds = time.perf_counter() - started
        started = time.perf_counter()
        for objective in objectives.iterator(chunk_size=2000):
            items = list(
                objective.key_results.order_by("position", "id").values_list("progress", "weight", "current")
            )
            progress = scoring.weighted_progress((p, w) for p, w, _ in items)
            expected = scoring.expected_progress(
                objective.cycle.start_date, objective.cycle.end_date, clock.now, clock.tz
            )
            status = scoring.objective_status(
                progress=progress,
                expected=expected,
                has_check_in=any(current is not None for _, _, current in items),
                thresholds=clock.thresholds,
            )
            Objective.objects.filter(pk=objective.pk).update(
                progress=progress, expected_progress=expected, status=status
            )
            n_obj += 1
        obj_seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return {
        "kr_seconds": kr_seconds, "objective_seconds": obj_seconds, "key_results": n_kr,
        "objectives": n_obj, "queries": counter.count,
    }  # fmt: skip


def measure_orm_loop(counts: dict[str, int], budget_s: float, progress=print) -> dict:
    """Probe on ~1/100 of the objects; run the whole loop if it fits the budget, else the
    deterministic subset ``id % m == 0`` and extrapolate linearly by object count."""
    probe_modulus = max(1, counts["key_results"] // 400)
    probe = orm_loop(probe_modulus)
    estimate = _extrapolate(probe, counts)
    modulus = 1 if estimate <= budget_s else max(2, math.ceil(estimate / budget_s))
    progress(
        f"  probe (1 in {probe_modulus}): {probe['kr_seconds'] + probe['objective_seconds']:.2f} s, "
        f"whole loop estimated at {estimate:.0f} s"
        + ("" if modulus == 1 else f" > budget {budget_s:.0f} s: measuring 1 in {modulus}")
    )
    result = orm_loop(modulus)
    measured = result["kr_seconds"] + result["objective_seconds"]
    objects = result["key_results"] + result["objectives"]
    fraction = objects / max(1, counts["key_results"] + counts["objectives"])
    seconds = _extrapolate(result, counts)
    note = "whole data set" if modulus == 1 else f"measured on 1 in {modulus} objects, extrapolated linearly"
    progress(f"  ORM loop: {measured:.1f} s for {objects} objects ({note}) → {seconds:.1f} s")
    return {
        "seconds": round(seconds, 2),
        "measured_seconds": round(measured, 2),
        "measured_fraction": round(fraction, 4),
        "queries": result["queries"],
        "note": note,
    }


def _extrapolate(result: dict, counts: dict[str, int]) -> float:
    kr = result["kr_seconds"] * counts["key_results"] / max(1, result["key_results"])
    obj = result["objective_seconds"] * counts["objectives"] / max(1, result["objectives"])
    return kr + obj


def measure_check_in(progress=print) -> dict:
    """One check_in_record on a metric KR of the quarter by its owner, rolled back each time."""
    kr = (
        KeyResult.objects.select_related("objective__cycle", "owner")
        .filter(kind=scoring.INCREASE, objective__cycle__kind=Cycle.Kind.QUARTER, owner__is_active=True)
        .exclude(owner__role=User.Role.VIEWER)
        .order_by("id")
        .first()
    )
    if kr is None:
        raise SystemExit(
            "The bench organisation has no increasing KR in its quarter: rebuild it with seed_bench."
        )
    value = kr.start + (kr.target - kr.start) / 2

    def record():
        return check_in_record(key_result=kr, actor=kr.owner, value=value, confidence=7, what_moved="bench")

    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            record()
        transaction.set_rollback(True)
    # The rollback needs an outer transaction, which turns check_in_record's own atomic
    # block into a SAVEPOINT/RELEASE pair: not part of the call's cost, so not counted.
    statements = [q["sql"] for q in captured.captured_queries]
    counted = [s for s in statements if not s.upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    samples = []
    for _ in range(CHECK_IN_REPEATS):
        with transaction.atomic():
            started = time.perf_counter()
            record()
            samples.append(time.perf_counter() - started)
            transaction.set_rollback(True)
    median_ms = statistics.median(samples) * 1000
    progress(f"  check_in_record on KR {kr.pk}: {len(counted)} queries, median {median_ms:.1f} ms")
    return {
        "queries": len(counted),
        "ms": round(median_ms, 2),
        "samples_ms": [round(s * 1000, 2) for s in samples],
        "key_result_id": kr.pk,
        "query_log": [s if len(s) <= 120 else s[:117] + "…" for s in statements],
    }


def run(progress=print) -> dict:
    sizes = sizes_from_env()
    budget_s = float(os.environ.get("BENCH_ORM_BUDGET_S", "300"))
    # Query logging (DEBUG) would slow the ORM loop and grow memory; measure without it.
    with override_settings(DEBUG=False):
        organization = ensure_tenant(sizes, progress)
        with tenant_context(organization):
            counts = row_counts()
            progress(
                f"[bench] recalculate_all on {counts['key_results']} KRs / {counts['objectives']} objectives"
            )
            progress("  every KR row rewritten (cached values invalidated before each run)")
            bulk = measure_bulk(organization.schema_name, progress, cold=True)
            progress("  steady state (nothing changed since the last run: what a quiet night costs)")
            steady = measure_bulk(organization.schema_name, progress)
            progress("[bench] the same with aligned children counted (rollup: level by level; informational)")
            rollup = measure_bulk(organization.schema_name, progress, clock_factory=_rollup_clock)
            recalculate_all()  # back to the organisation's own settings
            progress("[bench] per-object ORM loop (baseline)")
            orm = measure_orm_loop(counts, budget_s, progress)
            progress("[bench] one check-in")
            check_in = measure_check_in(progress)
        connection.set_schema_to_public()
    result = {
        "tenant": SLUG,
        "sizes": sizes,
        "rows": counts,
        "bulk_seconds": bulk["seconds"],
        "bulk_samples_s": bulk["samples_s"],
        "bulk_queries": bulk["queries"],
        "bulk_steady_seconds": steady["seconds"],
        "bulk_rollup_seconds": rollup["seconds"],
        "orm_loop_seconds": orm["seconds"],
        "orm_loop_measured_seconds": orm["measured_seconds"],
        "orm_loop_measured_fraction": orm["measured_fraction"],
        "orm_loop_queries_measured": orm["queries"],
        "orm_loop_note": orm["note"],
        "orm_over_bulk": round(orm["seconds"] / bulk["seconds"], 1),
        "peak_rss_mb": bulk["peak_rss_mb"],
        "backend_peak_rss_mb": bulk["backend_peak_rss_mb"],
        "check_in_queries": check_in["queries"],
        "check_in_ms": check_in["ms"],
        "check_in_samples_ms": check_in["samples_ms"],
        "check_in_query_log": check_in["query_log"],
        "targets": TARGETS,
    }
    result["passed"] = passed(result)
    return result


def _rollup_clock() -> Clock:
    clock = Clock.current()
    return Clock(now=clock.now, tz=clock.tz, thresholds=clock.thresholds, rollup_children=True)


def passed(result: dict) -> dict[str, bool]:
    return {
        "bulk_seconds": result["bulk_seconds"] <= TARGETS["bulk_seconds"],
        "orm_over_bulk": result["orm_over_bulk"] >= TARGETS["orm_over_bulk"],
        "peak_rss_mb": result["peak_rss_mb"] <= TARGETS["peak_rss_mb"],
        "check_in_queries": result["check_in_queries"] <= TARGETS["check_in_queries"],
    }
