"""Reads for the people, teams and notification settings pages: querysets shaped so
that a page takes the same number of queries however many people or teams it shows."""

from __future__ import annotations

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Count, Q, QuerySet

from accounts.models import Team, User

PERSON_STATUSES = ("active", "invited", "deactivated")


def people_for_settings(*, search: str = "", status: str = "") -> QuerySet[User]:
    """Everyone in the organisation (deactivated people too) with their team and manager,
    by name. ``search`` matches name or e-mail; ``status`` is one of PERSON_STATUSES
    ("invited": active but no password chosen yet)."""
    people = User.objects.select_related("team", "manager")
    search = (search or "").strip()
    if search:
        people = people.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
    if status == "active":
        people = people.filter(is_active=True).exclude(password__startswith=UNUSABLE_PASSWORD_PREFIX)
    elif status == "invited":
        people = people.filter(is_active=True, password__startswith=UNUSABLE_PASSWORD_PREFIX)
    elif status == "deactivated":
        people = people.filter(is_active=False)
    return people.order_by("full_name", "email", "pk")


def active_people() -> QuerySet[User]:
    """People who can be chosen as someone's manager."""
    return User.objects.filter(is_active=True).only("pk", "email", "full_name").order_by("full_name", "email")


def teams_tree() -> list[Team]:
    """Every team in tree order (parents before their sub-teams, siblings by name), one
    query. Each team carries ``path_label`` (names from the top), ``member_count`` (active
    members), ``total_count`` (with all sub-teams), ``subteams`` (its children) and
    ``descendant_ids``."""
    teams = list(
        Team.objects.annotate(member_count=Count("members", filter=Q(members__is_active=True))).order_by(
            "name", "pk"
        )
    )
    children: dict[int | None, list[Team]] = {}
    for team in teams:
        children.setdefault(team.parent_id, []).append(team)
    ordered: list[Team] = []

    def walk(parent_id: int | None, above: str) -> None:
        for team in children.get(parent_id, []):
            team.path_label = f"{above} › {team.name}" if above else team.name
            team.subteams = children.get(team.pk, [])
            ordered.append(team)
            walk(team.pk, team.path_label)

    walk(None, "")

    def totals(team: Team) -> tuple[int, set[int]]:
        count, below = team.member_count, set()
        for child in team.subteams:
            child_count, child_below = totals(child)
            count += child_count
            below |= {child.pk, *child_below}
        team.total_count, team.descendant_ids = count, below
        return count, below

    for root in children.get(None, []):
        totals(root)
    return ordered
