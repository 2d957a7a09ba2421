"""Reads for OKRs: querysets already shaped for their callers."""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import Q, QuerySet

from accounts.models import User
from okrs import scoring
from okrs.models import Cycle, KeyResult, Objective, OkrSettings


def okr_settings() -> OkrSettings:
    settings, _ = OkrSettings.objects.get_or_create(pk=1)
    return settings


def organization_timezone() -> str:
    """The time zone of the organisation whose schema is active (UTC outside one)."""
    return getattr(connection.tenant, "timezone", None) or "UTC"


def cycle_expected_progress(cycle: Cycle, now: datetime) -> float:
    return scoring.expected_progress(cycle.start_date, cycle.end_date, now, organization_timezone())


def report_ids(user: User) -> list[int]:
    """Everyone below ``user`` in the reporting lines (direct and indirect), one query."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE below(id) AS (
                SELECT id FROM {User._meta.db_table} WHERE manager_id = %s
                UNION
                SELECT u.id FROM {User._meta.db_table} u JOIN below b ON u.manager_id = b.id
            )
            SELECT id FROM below
            """,  # noqa: S608 - table name from model metadata
            [user.pk],
        )
        return [row[0] for row in cursor.fetchall()]


def objectives_visible_to(user: User) -> QuerySet[Objective]:
    """Objectives ``user`` may see. Private ones: owner, the owner's manager chain,
    the objective's team and org admins."""
    objectives = Objective.objects.all()
    if user.is_org_admin:
        return objectives
    visible = Q(visibility=Objective.Visibility.ORGANIZATION) | Q(owner=user)
    if user.team_id:
        visible |= Q(team_id=user.team_id)
    reports = report_ids(user)
    if reports:
        visible |= Q(owner_id__in=reports)
    return objectives.filter(visible)


def objective_with_key_results(objective_id: int) -> Objective:
    return (
        Objective.objects.select_related("cycle", "owner", "team", "parent_objective", "parent_key_result")
        .prefetch_related("key_results__owner")
        .get(pk=objective_id)
    )


def key_results_of(objective: Objective) -> QuerySet[KeyResult]:
    return objective.key_results.select_related("owner").order_by("position", "id")


def rollup(*, cycle: Cycle, by: str) -> dict[int | None, float]:
    """Average objective progress per ``by`` ("team", "owner") for a cycle: each
    objective counts once (weight 1), archived ones not at all. One query."""
    if by not in {"team", "owner"}:
        raise ValueError("rollup by team or owner")
    rows = (
        Objective.objects.filter(cycle=cycle)
        .exclude(state=Objective.State.ARCHIVED)
        .order_by(f"{by}_id", "id")
        .values_list(f"{by}_id", "progress")
    )
    groups: dict[int | None, list[tuple[float, float]]] = {}
    for key, progress in rows:
        groups.setdefault(key, []).append((progress, 1.0))
    return {key: scoring.weighted_progress(items) for key, items in groups.items()}


def cycle_progress(cycle: Cycle) -> float:
    rows = (
        Objective.objects.filter(cycle=cycle)
        .exclude(state=Objective.State.ARCHIVED)
        .order_by("id")
        .values_list("progress", flat=True)
    )
    return scoring.weighted_progress((p, 1.0) for p in rows)
