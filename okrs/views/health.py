"""The OKR health dashboard (method §7), for managers, org admins and consultants: a
cycle (and optionally a team with the teams below it), progress and risk per health
dimension, check-in discipline, a team × status heatmap and the at-risk list."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from okrs import permissions
from okrs.models import Status
from okrs.selectors.cycles import cycles_for_picker, default_cycle
from okrs.selectors.health import health_dashboard
from okrs.selectors.teams import indented_teams, team_subtree_ids, teams_for_picker


def _chosen(items: list, raw: str | None):
    """The item whose pk is ``raw`` (a query parameter), or None when absent or unknown."""
    if not raw or not raw.isdigit():
        return None
    return next((item for item in items if item.pk == int(raw)), None)


@login_required
def health(request):
    user = request.user
    if not permissions.can_view_health_dashboard(user):
        raise PermissionDenied(
            _("The health dashboard is for managers, organisation admins and consultants.")
        )
    now = timezone.now()
    cycles = list(cycles_for_picker())
    teams = list(teams_for_picker())
    cycle = _chosen(cycles, request.GET.get("cycle")) or default_cycle(timezone.localdate(now), cycles)
    team = _chosen(teams, request.GET.get("team"))
    dashboard = None
    if cycle is not None:
        dashboard = health_dashboard(
            user,
            cycle=cycle,
            now=now,
            teams=teams,
            team_ids=team_subtree_ids(teams, team.pk) if team else None,
        )
    return render(
        request,
        "okrs/health.html",
        {
            "cycles": cycles,
            "cycle": cycle,
            "team_options": indented_teams(teams),
            "team": team,
            "dashboard": dashboard,
            "statuses": Status.choices,
            "can_manage_cycles": permissions.can_manage_cycles(user),
        },
    )


urlpatterns = [path("health/", health, name="health")]
