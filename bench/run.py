"""`make bench`: run the benchmarks, print a table, write bench/results/*.json.

Runs against its own database (okr_bench) on the embedded PostgreSQL, so the
development data is never touched; with DATABASE_URL set it uses that database.

1. organization_provision: clone vs migrations (bench/provision.py) → provision.json
2. recalculation at scale in the "bench" organisation (bench/recalculation.py; built
   with `manage.py seed_bench` on first use, sizes from BENCH_USERS etc.)
Both end up in latest.json, with one table of figures, targets and pass/fail.
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

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from bench import provision, recalculation  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def main() -> None:
    print("[bench] preparing the bench database (migrate_platform) …")
    call_command("migrate_platform", verbosity=0)
    print("[bench] organization_provision: clone vs migrations (median of 5, interleaved)")
    result = provision.run(repeats=int(os.environ.get("BENCH_REPEATS", "5")))
    result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "provision.json").write_text(json.dumps(result, indent=2) + "\n")

    print()
    print(f"{'benchmark':<34}{'median':>12}")
    print(f"{'provision via clone':<34}{result['clone_median_ms']:>9.1f} ms")
    print(f"{'provision via migrations':<34}{result['migrations_median_ms']:>9.1f} ms")
    print(f"{'ratio migrations / clone':<34}{result['migrations_over_clone']:>11.2f}x")
    print(f"\n[bench] written to {RESULTS / 'provision.json'}")

    print("\n[bench] recalculation at scale")
    recalc = recalculation.run()
    latest = {
        "provision": {k: v for k, v in result.items() if k not in {"measured_at", "machine"}},
        "recalculation": recalc,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": result["machine"],
    }
    (RESULTS / "latest.json").write_text(json.dumps(latest, indent=2) + "\n")
    print_table(result, recalc)
    print(f"\n[bench] written to {RESULTS / 'latest.json'}")


def print_table(provision_result: dict, recalc: dict) -> None:
    targets, ok = recalc["targets"], recalc["passed"]
    orm_note = "" if recalc["orm_loop_measured_fraction"] >= 1 else " (extrapolated)"
    rows = [
        ("provision via clone", f"{provision_result['clone_median_ms']:.1f} ms", "—", None),
        ("provision via migrations", f"{provision_result['migrations_median_ms']:.1f} ms", "—", None),
        ("provision migrations / clone", f"{provision_result['migrations_over_clone']:.2f}x", "—", None),
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
    print()
    print(f"{'benchmark':<40}{'figure':>14}  {'target':<12}{'result':<6}")
    for name, figure, target, passed in rows:
        verdict = "—" if passed is None else ("pass" if passed else "FAIL")
        print(f"{name:<40}{figure:>14}  {target:<12}{verdict:<6}")
    rows_line = ", ".join(
        f"{v} {k.replace('_', ' ').replace('check ins', 'check-ins')}" for k, v in recalc["rows"].items()
    )
    print(f"\nbench organisation: {rows_line}")
    if recalc["orm_loop_measured_fraction"] < 1:
        print(f"ORM loop: {recalc['orm_loop_note']} ({recalc['orm_loop_measured_fraction']:.1%} measured)")


if __name__ == "__main__":
    main()
