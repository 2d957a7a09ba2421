"""Teams for the OKR pages' filters, from the list a page loads once per request."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from accounts.models import Team


def teams_for_picker() -> QuerySet[Team]:
    return Team.objects.order_by("name", "id")


def team_subtree_ids(teams: Iterable[Team], team_id: int) -> frozenset[int]:
    """``team_id`` and every team below it, from the already loaded ``teams``."""
    children: dict[int | None, list[int]] = {}
    for team in teams:
        children.setdefault(team.parent_id, []).append(team.pk)
    found, stack = set(), [team_id]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        stack.extend(children.get(current, []))
    return frozenset(found)


def indented_teams(teams: Iterable[Team]) -> list[tuple[Team, str]]:
    """``teams`` in tree order, sub-teams (by name) under their parent, each with its name
    indented by its depth, for a <select>. A team whose parent is not in the list is a root."""
    teams = list(teams)
    known = {team.pk for team in teams}
    children: dict[int | None, list[Team]] = {}
    for team in sorted(teams, key=lambda t: (t.name.lower(), t.pk)):
        children.setdefault(team.parent_id if team.parent_id in known else None, []).append(team)
    ordered: list[tuple[Team, str]] = []
    seen: set[int] = set()

    def walk(parent_id: int | None, depth: int) -> None:
        for team in children.get(parent_id, []):
            if team.pk not in seen:
                seen.add(team.pk)
                ordered.append((team, "\u2003" * depth + team.name))
                walk(team.pk, depth + 1)

    walk(None, 0)
    return ordered
