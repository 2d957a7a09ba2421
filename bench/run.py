"""`make bench`: run the benchmarks, print a table, write bench/results/*.json.

Runs against its own database (okr_bench) on the embedded PostgreSQL, so the
development data is never touched; with DATABASE_URL set it uses that database.

1. organization_provision: warm pool vs cold clone vs migrations, median of 10 each
   (bench/provision.py) → provision.json
2. recalculation at scale in the "bench" organisation (bench/recalculation.py; built
   with `manage.py seed_bench` on first use, sizes from BENCH_USERS etc.)
3. reminders over many organisations (bench/reminders.py; built with `manage.py seed_many`
   on first use, sizes from BENCH_ORGS and BENCH_PEOPLE)
4. web pages: server render time and queries in the "bench" organisation (bench/pages.py)
5. API: p50/p95 of GET /api/v1/objectives/?expand=key_results (page of 50), bench/api.py
6. health snapshots: `refresh_health` over the reminders benchmark's organisations (bench/health.py)
7. migrations: `migrate_schemas` over every tenant schema with nothing to migrate (bench/migrations.py)
8. load: gunicorn with the production settings under 16 locust clients: throughput and p50/p95/p99
   of four endpoints as shares of a baseline endpoint, tenant routing cost, worker memory (bench/load.py)
All end up in latest.json, with one table of figures, targets and pass/fail.

BENCH_ONLY=reminders (a comma-separated list of provision, recalculation, reminders, pages, api, health,
migrations, load) runs
only those; latest.json keeps the other benchmarks' figures from the previous run.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OKR_DATABASE_NAME", "okr_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("LOG_LEVEL", "WARNING")
if not os.environ.get("CELERY_BROKER_URL"):
    # The reminders benchmark queues deliveries and purges them afterwards: always on Redis
    # database 14 (development uses 0, tests 15) of whichever Redis is configured, so that no
    # worker picks them up and the purge never empties anybody else's queue.
    from urllib.parse import urlsplit

    from config import embedded

    redis = os.environ.get("REDIS_URL") or embedded.redis_url()
    os.environ["REDIS_URL"] = os.environ["CELERY_BROKER_URL"] = urlsplit(redis)._replace(path="/14").geturl()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from bench import api, health, load, migrations, pages, provision, recalculation, reminders  # noqa: E402

RESULTS = ROOT / "bench" / "results"
BENCHMARKS = ("provision", "recalculation", "reminders", "pages", "api", "health", "migrations", "load")
TITLES = {
    "provision": "organization_provision: pool vs clone vs migrations (median of 10, interleaved)",
    "recalculation": "recalculation at scale",
    "reminders": "reminders over many organisations",
    "pages": "web pages: server render time in the bench organisation (median of 20)",
    "api": "API: objectives with key results, p50/p95 (token auth)",
    "health": "health snapshots over many organisations",
    "migrations": "migrate_schemas over every organisation, nothing to migrate (multiprocessing)",
    "load": "load: gunicorn (production settings) under 16 clients (locust), vs a baseline endpoint",
}


def selected() -> list[str]:
    only = {name.strip() for name in os.environ.get("BENCH_ONLY", "").split(",") if name.strip()}
    if unknown := only - set(BENCHMARKS):
        raise SystemExit(
            f"BENCH_ONLY: unknown benchmark {', '.join(sorted(unknown))}; use {', '.join(BENCHMARKS)}"
        )
    return [name for name in BENCHMARKS if not only or name in only]


def _run(name: str) -> dict:
    if name == "provision":
        return provision.run(repeats=int(os.environ.get("BENCH_REPEATS", "10")))
    return {
        "recalculation": recalculation.run, "reminders": reminders.run, "pages": pages.run,
        "api": api.run, "health": health.run, "migrations": migrations.run, "load": load.run,
    }[name]()  # fmt: skip


def main() -> None:
    """Every benchmark (or BENCH_ONLY's); latest.json keeps the others' previous figures."""
    chosen = selected()
    if len(chosen) < len(BENCHMARKS):
        print(f"[bench] BENCH_ONLY={','.join(chosen)}")
    print("[bench] preparing the bench database (migrate_platform) …")
    call_command("migrate_platform", verbosity=0)
    latest_path = RESULTS / "latest.json"
    latest = json.loads(latest_path.read_text()) if latest_path.exists() else {}
    machine = {"cpus": os.cpu_count(), "python": platform.python_version()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    done: dict[str, dict] = {}
    try:
        for name in chosen:
            print(f"\n[bench] {TITLES[name]}")
            done[name] = latest[name] = _run(name)
            if name == "provision":
                stamped = {**done[name], "measured_at": _now(), "machine": machine}
                (RESULTS / "provision.json").write_text(json.dumps(stamped, indent=2) + "\n")
            latest["measured_at"], latest["machine"] = _now(), machine
            latest_path.write_text(json.dumps(latest, indent=2) + "\n")
    finally:  # the table of what was measured, even if a later benchmark failed
        print_table(done)
        print(f"\n[bench] written to {latest_path}")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def reminder_rows(rem: dict) -> list[tuple[str, str, str, bool | None]]:
    sizes = rem["sizes"]
    return [
        (f"reminders dry run, {rem['organizations']} orgs (median of 3)", f"{rem['dry_run_seconds']:.2f} s",
         "—", None),
        ("reminders first send (dispatch_reminders)", f"{rem['first_send_seconds']:.2f} s", "≤ 30 s",
         rem["first_send_seconds"] <= 30),
        ("reminders repeat, exactly once (median)", f"{rem['repeat_seconds']:.2f} s", "—", None),
        ("reminders first send per organisation", f"{rem['per_org_ms']:.1f} ms", "—", None),
        (f"reminders enqueue, {rem['enqueued']} tasks (median)", f"{rem['enqueue_seconds'] * 1000:.1f} ms",
         "—", None),
        (f"seed_many {sizes['organizations']}×{sizes['people']}, {rem['seed_created']} created",
         f"{rem['seed_seconds']:.1f} s", "—", None),
    ]  # fmt: skip


def print_reminders_note(rem: dict) -> None:
    kinds = ", ".join(f"{count} {kind}" for kind, count in rem["due_by_kind"].items())
    others = f" + {', '.join(rem['other_organizations'])}" if rem["other_organizations"] else ""
    seeded = f"{rem['seed_created']} created now" if rem["seed_created"] else "existing"
    print(
        f"reminders: {rem['seeded_organizations']} {rem['prefix']}-* organisations × "
        f"{rem['sizes']['people']} people ({seeded}){others}, at {rem['now']}: {rem['due']} due ({kinds}), "
        f"{rem['notifications_created']} notifications on first send, none on the repeats"
    )


def page_rows(result: dict) -> list[tuple[str, str, str, bool | None]]:
    return [
        (f"page: {name} ({row['queries']} q)", f"{row['median_ms']:.1f} ms", "HTTP 200", row["status"] == 200)
        for name, row in result["pages"].items()
    ]


def api_rows(result: dict) -> list[tuple[str, str, str, bool | None]]:
    return [
        (f"api: {name} ({row['queries']} q)", f"{row['p50_ms']:.1f}/{row['p95_ms']:.1f} ms", "p50/p95",
         row["status"] == 200)
        for name, row in result["endpoints"].items()
    ]  # fmt: skip


def provision_rows(result: dict) -> list[tuple[str, str, str, bool | None]]:
    passed = result["passed"]
    return [
        ("provision via warm pool (clone)", f"{result['pool_median_ms']:.1f} ms", "≤ 1000 ms",
         passed["pool_seconds"]),
        ("provision via cold clone", f"{result['clone_median_ms']:.1f} ms", "—", None),
        ("provision via migrations", f"{result['migrations_median_ms']:.1f} ms", "—", None),
        ("provision migrations / pool", f"{result['migrations_over_pool']:.2f}x", "≥ 10x",
         passed["migrations_over_pool"]),
        ("provision migrations / cold clone", f"{result['migrations_over_clone']:.2f}x", "—", None),
    ]  # fmt: skip


def print_table(done: dict[str, dict]) -> None:
    """One table of every benchmark in ``done`` (name → result), in the order they run."""
    rows = [row for name in BENCHMARKS if name in done for row in ROWS[name](done[name])]
    print()
    print(f"{'benchmark':<40}{'figure':>14}  {'target':<12}{'result':<6}")
    for name, figure, target, passed in rows:
        verdict = "—" if passed is None else ("pass" if passed else "FAIL")
        print(f"{name:<40}{figure:>14}  {target:<12}{verdict:<6}")
    if recalc := done.get("recalculation"):
        rows_line = ", ".join(
            f"{v} {k.replace('_', ' ').replace('check ins', 'check-ins')}" for k, v in recalc["rows"].items()
        )
        print(f"\nbench organisation: {rows_line}")
        if recalc["orm_loop_measured_fraction"] < 1:
            print(
                f"ORM loop: {recalc['orm_loop_note']} ({recalc['orm_loop_measured_fraction']:.1%} measured)"
            )
    if rem := done.get("reminders"):
        print_reminders_note(rem)


def recalculation_rows(recalc: dict) -> list[tuple[str, str, str, bool | None]]:
    targets, ok = recalc["targets"], recalc["passed"]
    orm_note = "" if recalc["orm_loop_measured_fraction"] >= 1 else " (extrapolated)"
    return [
        ("recalculate_all, every row (median of 3)", f"{recalc['bulk_seconds']:.3f} s",
         f"≤ {targets['bulk_seconds']} s", ok["bulk_seconds"]),
        ("recalculate_all, unchanged data", f"{recalc['bulk_steady_seconds']:.3f} s", "—", None),
        ("recalculate_all, aligned children", f"{recalc['bulk_rollup_seconds']:.3f} s", "—", None),
        ("per-object ORM loop" + orm_note, f"{recalc['orm_loop_seconds']:.1f} s", "—", None),
        ("ORM loop / bulk", f"{recalc['orm_over_bulk']:.1f}x", f"≥ {targets['orm_over_bulk']:.0f}x",
         ok["orm_over_bulk"]),
        ("peak RSS during bulk", f"{recalc['peak_rss_mb']:.1f} MB", f"≤ {targets['peak_rss_mb']:.0f} MB",
         ok["peak_rss_mb"]),
        ("check_in_record queries", f"{recalc['check_in_queries']}", f"≤ {targets['check_in_queries']}",
         ok["check_in_queries"]),
        ("check_in_record (median of 20)", f"{recalc['check_in_ms']:.1f} ms", "—", None),
    ]  # fmt: skip


# Each benchmark's rows of the table (name, figure, target, passed).
ROWS = {
    "provision": provision_rows, "recalculation": recalculation_rows, "reminders": reminder_rows,
    "pages": page_rows, "api": api_rows, "health": health.rows, "migrations": migrations.rows,
    "load": load.rows,
}  # fmt: skip


if __name__ == "__main__":
    main()
