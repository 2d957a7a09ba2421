"""API latency in the large ``bench`` organisation: ``GET /api/v1/objectives/?expand=key_results``
(a page of 50 objectives with their key results) with an org admin's API token, through
Django's test client (the whole middleware stack, DEBUG off). Two warm-up requests, then
REPEATS requests on the first page and as many following the ``next`` cursor; p50 and p95
of each. ``GET /api/v1/me/`` with the same token is measured in the same run as the
baseline, so the ratio holds on a noisy machine. The page cache is off (what building a page
costs, a miss); the first page is measured again with it on, as "… (cached)" (ADR 0011)."""

from __future__ import annotations

import statistics
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from accounts.services_api_tokens import api_token_create
from bench import recalculation
from okrs.selectors.cycles import default_cycle

REPEATS = 60


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _time(client: APIClient, url: str) -> tuple[list[float], int, int, dict]:
    for _ in range(2):
        client.get(url)
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return timings, len(queries.captured_queries), response.status_code, response.json()


def _row(timings: list[float], queries: int, status: int, **extra) -> dict:
    return {
        "p50_ms": round(statistics.median(timings), 1), "p95_ms": round(_percentile(timings, 0.95), 1),
        "queries": queries, "status": status, "repeats": len(timings), **extra,
    }  # fmt: skip


def run(progress=print) -> dict:
    organization = recalculation.ensure_tenant(recalculation.sizes_from_env(), progress)
    with tenant_context(organization):
        admin = User.objects.filter(role=User.Role.ORG_ADMIN, is_active=True).order_by("id").first()
        cycle = default_cycle(timezone.localdate())
        ApiToken.objects.filter(user=admin, name="bench").delete()
        secret = api_token_create(actor=admin, name="bench", scope=ApiToken.Scope.READ).secret
    connection.set_schema_to_public()
    client = APIClient(HTTP_HOST=f"{organization.slug}.{settings.BASE_DOMAIN}")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    first_page = f"/api/v1/objectives/?cycle={cycle.pk}&expand=key_results&page_size=50"
    results = {}
    with override_settings(DEBUG=False, ALLOWED_HOSTS=["*"], PAGE_CACHE_SECONDS=0):
        baseline = _time(client, "/api/v1/me/")
        first = _time(client, first_page)
        next_url = first[3]["next"]
        parts = urlsplit(next_url)
        following = _time(client, f"{parts.path}?{parts.query}")
    with override_settings(DEBUG=False, ALLOWED_HOSTS=["*"], PAGE_CACHE_SECONDS=60):
        cached = _time(client, first_page)
    objectives = len(first[3]["results"])
    key_results = sum(len(o.get("key_results", [])) for o in first[3]["results"])
    results["baseline: GET /api/v1/me/"] = _row(*baseline[:3])
    results["objectives?expand=key_results, page 1 of 50"] = _row(
        *first[:3], objectives=objectives, key_results=key_results
    )
    results["objectives?expand=key_results, page 2 (cursor)"] = _row(*following[:3])
    results["objectives?expand=key_results, page 1 (cached)"] = _row(*cached[:3])
    base = results["baseline: GET /api/v1/me/"]["p50_ms"]
    for name, row in results.items():
        row["p50_over_baseline"] = round(row["p50_ms"] / base, 1) if base else None
        progress(
            f"  {name:<48} p50 {row['p50_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms  "
            f"{row['queries']:3d} queries  HTTP {row['status']}"
        )
    progress(f"  (page 1 holds {objectives} objectives with {key_results} key results)")
    return {"repeats": REPEATS, "endpoints": results}
