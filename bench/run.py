"""`make bench`: run the benchmarks, print a table, write bench/results/*.json.

Runs against its own database (okr_bench) on the embedded PostgreSQL, so the
development data is never touched; with DATABASE_URL set it uses that database.
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

from bench import provision  # noqa: E402

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


if __name__ == "__main__":
    main()
