"""The OKR explorer: a cycle's objectives as a collapsible alignment tree, for the whole
company, a team (with its sub-teams) or a person, with filters and text search.

The filter form is a plain GET form (works without JavaScript); with HTMX it swaps the
explorer's body only and pushes the URL, so the address can be shared and reloaded."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, User
from accounts.permissions import can_write
from accounts.ui import FastSelect, is_htmx, mark_invalid_fields
from okrs import permissions
from okrs.models import Cycle, Objective, Status
from okrs.selectors.cycles import cycles_for_picker, default_cycle
from okrs.selectors.explorer import ExplorerFilters, explorer_tree
from okrs.selectors.teams import indented_teams, team_subtree_ids, teams_for_picker
from tenants.page_cache import cached_fragment, cached_page

COMPANY, TEAM, PERSON = "company", "team", "person"


def _deactivated(person: User) -> str:
    return gettext("%(name)s (deactivated)") % {"name": person.get_full_name()}


class ExplorerForm(forms.Form):
    cycle = forms.TypedChoiceField(label=_("Cycle"), coerce=int, required=False)
    view = forms.ChoiceField(
        label=_("Show"),
        choices=[(COMPANY, _("Company")), (TEAM, _("Team")), (PERSON, _("Person"))],
        widget=forms.RadioSelect,
        required=False,
    )
    team = forms.TypedChoiceField(label=_("Team"), coerce=int, required=False, widget=FastSelect)
    person = forms.TypedChoiceField(label=_("Person"), coerce=int, required=False, widget=FastSelect)
    status = forms.ChoiceField(label=_("Status"), required=False)
    dimension = forms.ChoiceField(label=_("Health dimension"), required=False)
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Title or description")}),
    )

    def __init__(self, data, *, cycles: list[Cycle], teams: list[Team], people: list[User]):
        super().__init__(data)
        self.fields["cycle"].choices = [(c.pk, c.name) for c in cycles]
        self.fields["team"].choices = [
            ("", _("Any team")),
            *((str(t.pk), label) for t, label in indented_teams(teams)),
        ]
        self.fields["person"].choices = [
            ("", _("Anyone")),
            *((p.pk, p.get_full_name() if p.is_active else _deactivated(p)) for p in people),
        ]
        self.fields["status"].choices = [("", _("Any status")), *Status.choices]
        self.fields["dimension"].choices = [("", _("Any dimension")), *Objective.HealthDimension.choices]

    def valid_value(self, name: str, default=None):
        """The cleaned value of ``name``; ``default`` when it is missing or invalid
        (the error is shown on the field; the rest of the filters still apply)."""
        if name in self.errors:
            return default
        value = getattr(self, "cleaned_data", {}).get(name)
        return default if value in (None, "") else value


@login_required
def explorer(request):
    """The explorer, kept whole in the cache until the organisation's data changes (its HTMX
    body on its own; ``tenants.page_cache``)."""
    if is_htmx(request) and not request.headers.get("HX-History-Restore-Request"):
        body = cached_fragment(
            request, "explorer-body", "okrs/explorer_body.html", lambda: explorer_context(request)
        )
        return HttpResponse(body)
    return cached_page(
        request,
        "explorer",
        "okrs/explorer.html",
        "okrs/explorer_content.html",
        lambda: explorer_context(request),
    )


def explorer_context(request) -> dict:
    user = request.user
    cycles = list(cycles_for_picker())
    teams = list(teams_for_picker())
    people = list(User.objects.order_by("full_name", "email").only("id", "full_name", "email", "is_active"))
    form = ExplorerForm(request.GET, cycles=cycles, teams=teams, people=people)
    form.is_valid()
    mark_invalid_fields(form)

    by_id = {c.pk: c for c in cycles}
    cycle = by_id.get(form.valid_value("cycle")) or default_cycle(timezone.localdate(), cycles)
    view = form.valid_value("view", COMPANY)
    team_id = form.valid_value("team")
    person_id = form.valid_value("person")
    if view == TEAM and team_id is None:
        team_id = user.team_id
    if view == PERSON and person_id is None:
        person_id = user.pk
    team = next((t for t in teams if t.pk == team_id), None)
    person = next((p for p in people if p.pk == person_id), None)
    filters = ExplorerFilters(
        team_ids=team_subtree_ids(teams, team.pk) if team else None,
        person=person,
        status=form.valid_value("status", ""),
        dimension=form.valid_value("dimension", ""),
        text=form.valid_value("q", ""),
    )
    # Show the choices actually applied (the cycle and the view's defaults).
    form.data = form.data.copy()
    form.data["view"] = view
    if cycle:
        form.data["cycle"] = str(cycle.pk)
    if team:
        form.data["team"] = str(team.pk)
    if person:
        form.data["person"] = str(person.pk)

    page = request.GET.get("page", "")
    page = int(page) if page.isdigit() else 1
    tree = explorer_tree(user=user, cycle=cycle, filters=filters, page=page) if cycle else None
    page_query = request.GET.copy()
    page_query.pop("page", None)
    return {
        "form": form,
        "cycle": cycle,
        "view": view,
        "scope_team": team,
        "scope_person": person,
        "needs_team": view == TEAM and team is None,
        "tree": tree,
        "page_query": page_query.urlencode(),
        "filters_active": filters.active,
        "can_create": can_write(user),
        "can_manage_cycles": permissions.can_manage_cycles(user),
    }


urlpatterns = [path("okrs/", explorer, name="explorer")]
