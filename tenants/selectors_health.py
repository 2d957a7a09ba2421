"""Reads of health snapshots for pages that list many organisations: a fixed number of
queries whatever the number of organisations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime

from django.db.models.functions import TruncDate

from tenants.models import HealthSnapshot


def latest_snapshots(organization_ids: Iterable[int]) -> dict[int, HealthSnapshot]:
    """The newest snapshot of each organisation, in one query (DISTINCT ON)."""
    ids = list(organization_ids)
    if not ids:
        return {}
    rows = (
        HealthSnapshot.objects.filter(organization_id__in=ids)
        .order_by("organization_id", "-taken_at", "-id")
        .distinct("organization_id")
    )
    return {snapshot.organization_id: snapshot for snapshot in rows}


def snapshot_trends(organization_ids: Iterable[int], *, since: datetime) -> dict[int, list[HealthSnapshot]]:
    """Each organisation's last snapshot of each day (UTC) since ``since``, oldest first,
    in one query: snapshots are hourly, a trend needs one point a day."""
    ids = list(organization_ids)
    trends: dict[int, list[HealthSnapshot]] = defaultdict(list)
    if not ids:
        return trends
    rows = (
        HealthSnapshot.objects.filter(organization_id__in=ids, taken_at__gte=since)
        .annotate(day=TruncDate("taken_at", tzinfo=UTC))
        .order_by("organization_id", "day", "-taken_at", "-id")
        .distinct("organization_id", "day")
    )
    for snapshot in rows:
        trends[snapshot.organization_id].append(snapshot)
    return trends
