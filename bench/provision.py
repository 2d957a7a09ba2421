"""organization_provision: clone of the template schema vs replaying migrations.

Both paths run interleaved in the same process (clone, migrations, clone, …) so
that machine noise hits both alike; we report medians and their ratio.
"""

from __future__ import annotations

import statistics
import time

from django.db import connection
from django_tenants.utils import schema_exists

from tenants.models import Organization
from tenants.services import TEMPLATE_SCHEMA, organization_provision

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


def run(repeats: int = 5, progress=print) -> dict:
    if not schema_exists(TEMPLATE_SCHEMA):
        raise SystemExit("The template schema is missing: run `python manage.py migrate_platform` first.")
    timings: dict[str, list[float]] = {"clone": [], "migrations": []}
    for i in range(repeats):
        for path in ("clone", "migrations"):
            slug = f"bench-{path[:5]}-{i}"
            if path == "migrations":
                _rename_schema(TEMPLATE_SCHEMA, PARKED)
            try:
                method, seconds = _provision(slug)
            finally:
                if path == "migrations":
                    _rename_schema(PARKED, TEMPLATE_SCHEMA)
                connection.set_schema_to_public()
            if method != path:
                raise SystemExit(f"Expected the {path} path, got {method}; nothing measured.")
            timings[path].append(seconds)
            _remove(slug)
            progress(f"  [{i + 1}/{repeats}] {path:<10} {seconds * 1000:8.1f} ms")
    clone, migrations = statistics.median(timings["clone"]), statistics.median(timings["migrations"])
    return {
        "repeats": repeats,
        "clone_median_ms": round(clone * 1000, 1),
        "migrations_median_ms": round(migrations * 1000, 1),
        "migrations_over_clone": round(migrations / clone, 2),
        "samples_ms": {k: [round(v * 1000, 1) for v in vs] for k, vs in timings.items()},
    }
