"""Reads for the KPI board: every KPI with its recent readings, its health and the key
results (visible to the viewer) linked to it — three queries whatever the number of KPIs
(four for people who are not org admins: their reporting lines)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from accounts.models import User
from okrs import scoring
from okrs.models import KeyResult, Kpi, KpiReading, Objective
from okrs.selectors import objectives_visible_to

# Readings shown per KPI. Django turns the sliced Prefetch below into one query with
# ROW_NUMBER() OVER (PARTITION BY kpi_id ORDER BY at DESC, id DESC) <= 12, so a KPI with
# thousands of readings still costs twelve rows, and 50 KPIs cost one query.
TREND_LENGTH = 12
HEALTHS = ("red", "amber", "green", "unknown")  # okrs.scoring.kpi_health's answers


def kpis_for_board(user: User) -> QuerySet[Kpi]:
    """KPIs by name, with ``recent_readings`` (newest first, at most TREND_LENGTH) and
    ``visible_key_results`` (KRs of objectives ``user`` may see, archived ones left out)."""
    readings = KpiReading.objects.order_by("-at", "-id")[:TREND_LENGTH]
    key_results = (
        KeyResult.objects.filter(objective__in=objectives_visible_to(user))
        .exclude(objective__state=Objective.State.ARCHIVED)
        .select_related("objective", "owner")
        .order_by("objective__title", "position", "id")
    )
    return (
        Kpi.objects.select_related("owner")
        .prefetch_related(
            Prefetch("readings", queryset=readings, to_attr="recent_readings"),
            Prefetch("key_results", queryset=key_results, to_attr="visible_key_results"),
        )
        .order_by("name", "id")
    )


def with_health(kpis) -> list[Kpi]:
    """Attach ``trend`` (readings oldest first), ``latest`` (the newest reading or None)
    and ``health`` (green / amber / red / unknown, okrs.scoring.kpi_health) — no queries."""
    shaped = []
    for kpi in kpis:
        kpi.trend = list(reversed(kpi.recent_readings))
        kpi.latest = kpi.recent_readings[0] if kpi.recent_readings else None
        kpi.health = scoring.kpi_health(
            kpi.direction,
            green=kpi.green_threshold,
            red=kpi.red_threshold,
            value=kpi.latest.value if kpi.latest else None,
        )
        shaped.append(kpi)
    return shaped


def health_counts(kpis: list[Kpi]) -> dict[str, int]:
    counts = dict.fromkeys(HEALTHS, 0)
    for kpi in kpis:
        counts[kpi.health] += 1
    return counts
