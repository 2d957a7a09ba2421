"""Migrations over many organisations when there is nothing to migrate: what every deploy pays.

``manage.py migrate_schemas --tenant --executor=multiprocessing`` over every tenant schema of the
bench database (the template, the ``bench`` organisation and the ``seed_many`` ones), in a fresh
process as an operator runs it, median of BENCH_MIGRATE_REPEATS (default 3). ``migrate_platform``
runs the same step after the public schema and the template; bench/run.py times it as the
preparation of every run."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django_tenants.utils import get_tenant_model

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 60.0


def run(progress=print) -> dict:
    schemas = get_tenant_model().objects.exclude(schema_name="public").count()
    processes = int(os.environ.get("BENCH_MIGRATE_PROCESSES", str(os.cpu_count() or 2)))
    repeats = int(os.environ.get("BENCH_MIGRATE_REPEATS", "3"))
    command = [sys.executable, "manage.py", "migrate_schemas", "--tenant", "--executor=multiprocessing",
               "--noinput", "-v", "0"]  # fmt: skip
    env = {**os.environ, "TENANT_MULTIPROCESSING_MAX_PROCESSES": str(processes)}
    timings = []
    for number in range(1, repeats + 1):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, check=True)
        timings.append(time.perf_counter() - started)
        progress(f"  run {number}/{repeats}: {schemas} schemas in {timings[-1]:.1f} s")
    median = statistics.median(timings)
    return {
        "schemas": schemas,
        "processes": processes,
        "seconds": [round(t, 2) for t in timings],
        "median_seconds": round(median, 2),
        "per_schema_ms": round(median / schemas * 1000, 1) if schemas else None,
        "target_seconds": TARGET_SECONDS,
        "passed": median <= TARGET_SECONDS,
        "database": settings.DATABASES["default"]["NAME"],
    }


def rows(result: dict) -> list[tuple[str, str, str, bool | None]]:
    return [
        (f"migrate_schemas, nothing to do, {result['schemas']} schemas", f"{result['median_seconds']:.1f} s",
         f"≤ {result['target_seconds']:.0f} s", result["passed"]),
        ("  … per schema", f"{result['per_schema_ms']:.0f} ms", "—", None),
    ]  # fmt: skip
