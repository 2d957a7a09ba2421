"""Health snapshots at scale: ``health_snapshots_refresh`` over many organisations.

The organisations are the reminders benchmark's (``bench/reminders.py``: ``manage.py
seed_many``, sizes from BENCH_ORGS, default 200, and BENCH_PEOPLE, default 50; built on first
use), plus any other serving organisation of the bench database. Each run takes one
snapshot per serving organisation (into its schema, eleven or twelve aggregate queries, back
to public, one INSERT) and then prunes old snapshots (one DELETE) — what ``manage.py
refresh_health`` and the hourly task do; median of 3. The snapshots the benchmark writes are
deleted afterwards, so the bench database does not grow.
"""

from __future__ import annotations

import os
import statistics
import time

from django.db import connection
from django.test.utils import override_settings

from bench import reminders
from tenants.health import health_snapshots_refresh
from tenants.models import HealthSnapshot, Organization

REPEATS = 3


def run(progress=print) -> dict:
    organizations = int(os.environ.get("BENCH_ORGS", "200"))
    people = int(os.environ.get("BENCH_PEOPLE", "50"))
    with override_settings(DEBUG=False):  # no query log: it would slow and grow the runs
        seeding = reminders.ensure_organizations(organizations, people, progress)
        serving = Organization.objects.serving().count()
        progress(f"[bench] refresh_health over {serving} serving organisations (median of {REPEATS})")
        last_id = HealthSnapshot.objects.order_by("-id").values_list("id", flat=True).first() or 0
        samples, taken = [], 0
        try:
            for i in range(REPEATS):
                started = time.perf_counter()
                taken = len(health_snapshots_refresh())
                samples.append(time.perf_counter() - started)
                connection.set_schema_to_public()
                progress(
                    f"  [{i + 1}/{REPEATS}] {samples[-1]:7.2f} s   {taken} snapshots, "
                    f"{samples[-1] / taken * 1000:6.1f} ms per organisation"
                )
        finally:
            removed, _ = HealthSnapshot.objects.filter(id__gt=last_id).delete()
    seconds = statistics.median(samples)
    return {
        "sizes": {"organizations": organizations, "people": people},
        "seed_seconds": round(seeding["seconds"], 1),
        "seed_created": seeding["created"],
        "organizations": taken,
        "refresh_seconds": round(seconds, 3),
        "refresh_samples_s": [round(s, 3) for s in samples],
        "per_org_ms": round(seconds / taken * 1000, 2) if taken else None,
        "snapshots_removed_after": removed,
    }


def rows(result: dict) -> list[tuple[str, str, str, bool | None]]:
    return [
        (f"refresh_health, {result['organizations']} orgs (median of 3)",
         f"{result['refresh_seconds']:.2f} s", "—", None),
        ("refresh_health per organisation", f"{result['per_org_ms']:.1f} ms", "—", None),
    ]  # fmt: skip
