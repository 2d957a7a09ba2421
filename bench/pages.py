"""Server render time of the web pages in the large ``bench`` organisation.

Each page is requested through Django's test client (the whole middleware stack: tenant
routing, session, authentication, language, rendering) as a person for whom the page is
full: the org admin for organisation-wide pages, a manager for team pages, the member who
owns the most key results for personal ones. Two warm-up requests, then the median of 20;
the queries are counted in one more request. DEBUG is off, as in production.

Every page is measured with the page cache off: what rendering it costs (a miss). The pages
that are cached (ADR 0011) are measured again with it on, as "… (cached)": what a repeat
costs while nothing in the organisation changes.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import User
from bench import recalculation
from okrs.models import KeyResult, Kpi, Objective
from okrs.selectors.cycles import default_cycle

REPEATS = 20
# The pages whose content is cached (tenants/page_cache.py).
CACHED = ("home (My focus)", "explorer, company", "explorer, team")


@dataclass
class Page:
    name: str
    url: str
    person: User


def _people() -> dict[str, User]:
    admin = User.objects.filter(role=User.Role.ORG_ADMIN).order_by("id").first()
    manager = (
        User.objects.filter(role=User.Role.MANAGER).annotate(n=Count("reports")).order_by("-n", "id").first()
    )
    member = (
        User.objects.filter(role=User.Role.MEMBER)
        .annotate(n=Count("key_results"))
        .order_by("-n", "id")
        .first()
    )
    return {"admin": admin, "manager": manager, "member": member}


def pages() -> list[Page]:
    """The pages to measure, with ids chosen in the bench organisation (tenant schema active)."""
    people = _people()
    cycle = default_cycle(timezone.localdate())
    objective = (
        Objective.objects.filter(cycle=cycle).annotate(n=Count("key_results")).order_by("-n", "id").first()
    )
    key_result = KeyResult.objects.filter(objective=objective).order_by("id").first()
    team_id = people["manager"].team_id
    kpi = Kpi.objects.order_by("id").first()
    result = [
        Page("home (My focus)", "/", people["member"]),
        Page("explorer, company", f"/okrs/?cycle={cycle.pk}", people["admin"]),
        Page("explorer, team", f"/okrs/?cycle={cycle.pk}&view=team&team={team_id}", people["manager"]),
        Page("objective page", f"/objectives/{objective.pk}/", people["admin"]),
        Page("check-in dialog", f"/key-results/{key_result.pk}/check-in/", key_result.owner),
        Page("new objective form", f"/objectives/new/?cycle={cycle.pk}", people["member"]),
        Page("KPI board", "/kpis/", people["admin"]),
        Page("health dashboard", f"/health/?cycle={cycle.pk}", people["admin"]),
        Page("reviews", "/reviews/", people["manager"]),
        Page("inbox", "/inbox/", people["member"]),
        Page("settings: people", "/settings/", people["admin"]),
        Page("settings: teams", "/settings/teams/", people["admin"]),
        Page("settings: cycles", "/settings/cycles/", people["admin"]),
    ]
    if kpi is None:
        result = [p for p in result if p.name != "KPI board"] + [
            Page("KPI board (empty)", "/kpis/", people["admin"])
        ]
    return result


def _measure(client: Client, url: str) -> tuple[float, int, int]:
    for _ in range(2):
        client.get(url)
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return statistics.median(timings), len(queries.captured_queries), response.status_code


def run(progress=print) -> dict:
    organization = recalculation.ensure_tenant(recalculation.sizes_from_env(), progress)
    host = f"{organization.slug}.{settings.BASE_DOMAIN}"
    with tenant_context(organization):
        chosen = pages()
    connection.set_schema_to_public()
    results = {}
    runs = [(page, page.name, 0) for page in chosen]
    runs += [(page, f"{page.name} (cached)", 60) for page in chosen if page.name in CACHED]
    for page, name, cache_seconds in runs:
        with override_settings(DEBUG=False, ALLOWED_HOSTS=["*"], PAGE_CACHE_SECONDS=cache_seconds):
            client = Client(HTTP_HOST=host)
            with tenant_context(organization):
                client.force_login(page.person)
            connection.set_schema_to_public()
            median_ms, queries, status = _measure(client, page.url)
        progress(f"  {name:<37} {median_ms:8.1f} ms  {queries:3d} queries  HTTP {status}")
        results[name] = {
            "url": page.url, "as": page.person.get_role_display(), "median_ms": round(median_ms, 1),
            "queries": queries, "status": status,
        }  # fmt: skip
    return {"repeats": REPEATS, "pages": results}
