"""organization_provision: the warm pool (a spare clone renamed), a cold clone of the
template schema, and replaying migrations.

The three paths run interleaved in the same process (pool, clone, migrations, pool, …) so
that machine noise hits them alike; we report medians and the ratios. Before each pooled run
one spare is cloned, untimed: in production a Celery task does that after the provisioning
commits (``tenants.schema_pool``); here the task is not enqueued.
"""

from __future__ import annotations

import statistics
import time
from unittest import mock

from django.db import connection
from django.test.utils import override_settings
from django_tenants.utils import schema_exists

from tenants.models import Organization
from tenants.schema_pool import spare_drop_all, spare_fill
from tenants.services import TEMPLATE_SCHEMA, organization_provision

PATHS = ("pool", "clone", "migrations")

PARKED = f"{TEMPLATE_SCHEMA}_parked"


def _rename_schema(old: str, new: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER SCHEMA "{old}" RENAME TO "{new}"')


def _provision(slug: str) -> tuple[str, float]:
    started = time.perf_counter()
    result = organization_provision(
        name=f"Bench {slug}", slug=slug, admin_email=f"admin@{slug}.example",
        timezone="UTC", language="en", actor=None, send_invitation=False,
    )  # fmt: skip
    return result.method, time.perf_counter() - started


def _remove(slug: str) -> None:
    organization = Organization.objects.get(slug=slug)
    organization.delete(force_drop=True)


def _measure(path: str, slug: str) -> float:
    spare_drop_all()
    if path == "pool":
        spare_fill(count=1)
    elif path == "migrations":
        _rename_schema(TEMPLATE_SCHEMA, PARKED)
    try:
        # The bench refills the pool itself (above), so the refill task is not enqueued.
        with (
            override_settings(TENANT_SPARE_SCHEMAS=1 if path == "pool" else 0),
            mock.patch("tenants.services._refill_spares_later"),
        ):
            method, seconds = _provision(slug)
    finally:
        if path == "migrations":
            _rename_schema(PARKED, TEMPLATE_SCHEMA)
        connection.set_schema_to_public()
    if method != path:
        raise SystemExit(f"Expected the {path} path, got {method}; nothing measured.")
    return seconds


def run(repeats: int = 10, progress=print) -> dict:
    if not schema_exists(TEMPLATE_SCHEMA):
        raise SystemExit("The template schema is missing: run `python manage.py migrate_platform` first.")
    timings: dict[str, list[float]] = {path: [] for path in PATHS}
    for i in range(repeats):
        for path in PATHS:
            slug = f"bench-{path[:5]}-{i}"
            seconds = _measure(path, slug)
            timings[path].append(seconds)
            _remove(slug)
            progress(f"  [{i + 1}/{repeats}] {path:<10} {seconds * 1000:8.1f} ms")
    spare_drop_all()
    spare_fill()  # leave the bench database with its usual pool
    pool, clone = statistics.median(timings["pool"]), statistics.median(timings["clone"])
    migrations = statistics.median(timings["migrations"])
    return {
        "repeats": repeats,
        "pool_median_ms": round(pool * 1000, 1),
        "clone_median_ms": round(clone * 1000, 1),
        "migrations_median_ms": round(migrations * 1000, 1),
        "migrations_over_pool": round(migrations / pool, 2),
        "migrations_over_clone": round(migrations / clone, 2),
        "targets": {"migrations_over_pool": 10, "pool_seconds": 1},
        "passed": {
            "migrations_over_pool": migrations / pool >= 10,
            "pool_seconds": pool <= 1,
        },
        "samples_ms": {k: [round(v * 1000, 1) for v in vs] for k, vs in timings.items()},
    }
