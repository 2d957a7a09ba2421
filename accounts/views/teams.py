"""Settings — Teams: the organisation's team tree with member counts; create a team
under a parent, rename and move teams. Org admins only; everyone else gets a 403."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms_settings import TeamCreateForm, TeamMoveForm, TeamRenameForm
from accounts.models import Team
from accounts.permissions import can_manage_teams
from accounts.selectors_settings import teams_tree
from accounts.services import team_add, team_move, team_rename
from accounts.ui import (
    add_service_errors,
    is_htmx,
    mark_invalid_fields,
    redirect_with_message,
    require_permission,
)


@require_permission(can_manage_teams)
def teams(request):
    """The tree, and the form to create a team (it posts here)."""
    tree = teams_tree()
    form = TeamCreateForm(request.POST or None, teams=tree)
    if request.method == "POST" and form.is_valid():
        try:
            team = team_add(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect_with_message(
                request, reverse("settings_teams"), _("Team “%(name)s” was created.") % {"name": team.name}
            )
    mark_invalid_fields(form)
    return render(
        request,
        "settings/teams.html",
        {
            "tab": "teams",
            "form": form,
            "roots": [t for t in tree if t.parent_id is None],
            "team_count": len(tree),
        },
        status=422 if form.errors else 200,
    )


def _team_of(tree: list[Team], pk: int) -> Team:
    team = next((t for t in tree if t.pk == pk), None)
    if team is None:
        raise Http404
    return team


def _edit_response(request, team: Team, tree: list[Team], *, rename=None, move=None):
    rename = rename or TeamRenameForm(initial={"name": team.name})
    move = move or TeamMoveForm(team=team, teams=tree)
    for form in (rename, move):
        mark_invalid_fields(form)
    context = {
        "tab": "teams",
        "team": team,
        "rename_form": rename,
        "move_form": move,
        "title": _("Edit team “%(name)s”") % {"name": team.name},
        "form_template": "settings/_team_forms.html",
    }
    page = "settings/dialog.html" if is_htmx(request) else "settings/form_page.html"
    return render(request, page, context, status=422 if rename.errors or move.errors else 200)


@require_permission(can_manage_teams)
def team_edit(request, pk: int):
    """The rename and move forms of one team (a dialog with HTMX, else a page)."""
    tree = teams_tree()
    return _edit_response(request, _team_of(tree, pk), tree)


@require_POST
@require_permission(can_manage_teams)
def team_rename_view(request, pk: int):
    tree = teams_tree()
    team = _team_of(tree, pk)
    form = TeamRenameForm(request.POST)
    if form.is_valid():
        old = team.name
        try:
            team = team_rename(actor=request.user, team=team, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect_with_message(
                request,
                reverse("settings_teams"),
                _("“%(old)s” is now called “%(name)s”.") % {"old": old, "name": team.name},
            )
    return _edit_response(request, team, tree, rename=form)


@require_POST
@require_permission(can_manage_teams)
def team_move_view(request, pk: int):
    tree = teams_tree()
    team = _team_of(tree, pk)
    form = TeamMoveForm(request.POST, team=team, teams=tree)
    if form.is_valid():
        try:
            team_move(actor=request.user, team=team, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            parent = form.cleaned_data["parent"]
            text = (
                _("“%(name)s” moved under “%(parent)s”.") % {"name": team.name, "parent": parent.path_label}
                if parent
                else _("“%(name)s” moved to the top level.") % {"name": team.name}
            )
            return redirect_with_message(request, reverse("settings_teams"), text)
    return _edit_response(request, team, tree, move=form)


urlpatterns = [
    path("settings/teams/", teams, name="settings_teams"),
    path("settings/teams/<int:pk>/", team_edit, name="settings_team_edit"),
    path("settings/teams/<int:pk>/rename/", team_rename_view, name="settings_team_rename"),
    path("settings/teams/<int:pk>/move/", team_move_view, name="settings_team_move"),
]
