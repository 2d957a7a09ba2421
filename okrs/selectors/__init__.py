"""Reads for OKRs: querysets already shaped for their callers."""

from __future__ import annotations

from django.db import connection
from django.db.models import JSONField, Q, QuerySet
from django.db.models.expressions import RawSQL

from accounts.models import User
from accounts.selectors import report_ids_in
from okrs import scoring
from okrs.models import Cycle, Objective, OkrSettings


def okr_settings() -> OkrSettings:
    """The organisation's OKR settings, or the defaults (unsaved) while nobody changed them:
    reading never writes (``okr_settings_update`` creates the row)."""
    return OkrSettings.objects.filter(pk=1).first() or OkrSettings(pk=1)


def okr_settings_column() -> RawSQL:
    """The settings row as one JSON value (NULL while nobody changed the defaults), to
    annotate another statement's rows with: the settings come without a statement of their
    own. ``okr_settings_from`` turns the value into what ``okr_settings()`` returns."""
    sql = f"SELECT row_to_json(s)::jsonb FROM {OkrSettings._meta.db_table} s WHERE s.id = 1"  # noqa: S608 - table name from model metadata
    return RawSQL(sql, (), output_field=JSONField())  # noqa: S611 - no input in it


def okr_settings_from(row: dict | None) -> OkrSettings:
    if row is None:
        return OkrSettings(pk=1)
    fields = OkrSettings._meta.concrete_fields
    values = [field.to_python(row[field.column]) for field in fields]
    return OkrSettings.from_db(None, [field.attname for field in fields], values)


def organization_timezone() -> str:
    """The time zone of the organisation whose schema is active (UTC outside one)."""
    return getattr(connection.tenant, "timezone", None) or "UTC"


def objectives_visible_to(user: User) -> QuerySet[Objective]:
    """Objectives ``user`` may see. Private ones: owner, the owner's manager chain,
    the objective's team and org admins."""
    objectives = Objective.objects.all()
    if user.is_org_admin:
        return objectives
    visible = Q(visibility=Objective.Visibility.ORGANIZATION) | Q(owner=user)
    if user.team_id:
        visible |= Q(team_id=user.team_id)
    reports = report_ids_in(user)  # a subquery unless this request has read them already
    if not isinstance(reports, list) or reports:
        visible |= Q(owner_id__in=reports)
    return objectives.filter(visible)


def rollup(*, cycle: Cycle, by: str) -> dict[int | None, float]:
    """Average objective progress per ``by`` ("team", "owner" or "cycle") for a cycle:
    each objective counts once (weight 1), archived ones not at all. One query."""
    if by not in {"team", "owner", "cycle"}:
        raise ValueError("rollup by team, owner or cycle")
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
