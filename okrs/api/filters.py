"""Filters of the OKR API lists (django-filter; documented in the schema). A value that
is not valid is a 400 naming the parameter; an id of something you may not see (or that
does not exist, or belongs to another organisation) simply matches nothing."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from accounts.api.filters import IdFilter, StrictBooleanFilter, UtcIsoDateTimeFilter
from accounts.models import Team
from okrs.models import (
    AlignmentProposal,
    CheckIn,
    Cycle,
    Escalation,
    Initiative,
    KeyResult,
    Kpi,
    KpiReading,
    Objective,
    Status,
)
from okrs.selectors.teams import team_subtree_ids


def _since(field_name: str, help_text: str) -> UtcIsoDateTimeFilter:
    return UtcIsoDateTimeFilter(field_name=field_name, lookup_expr="gte", label=help_text)


class CycleFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=Cycle.State.choices)
    kind = django_filters.ChoiceFilter(choices=Cycle.Kind.choices)

    class Meta:
        model = Cycle
        fields = ["state", "kind"]


class ObjectiveFilter(django_filters.FilterSet):
    cycle = IdFilter(field_name="cycle_id")
    owner = IdFilter(field_name="owner_id", label=_("The objective's owner (a person id)."))
    team = IdFilter(method="filter_team", label=_("A team id: that team's objectives and its sub-teams'."))
    status = django_filters.ChoiceFilter(choices=Status.choices)
    level = django_filters.ChoiceFilter(choices=Objective.Level.choices)
    health_dimension = django_filters.ChoiceFilter(choices=Objective.HealthDimension.choices)
    state = django_filters.ChoiceFilter(choices=Objective.State.choices)
    visibility = django_filters.ChoiceFilter(choices=Objective.Visibility.choices)
    updated_since = _since("updated_at", _("Changed at or after this time (ISO 8601)."))

    class Meta:
        model = Objective
        fields = [
            "cycle", "owner", "team", "status", "level", "health_dimension", "state", "visibility",
            "updated_since",
        ]  # fmt: skip

    def filter_team(self, queryset, name, value):
        # As the explorer's team filter: the team and every team below it (one query).
        teams = Team.objects.only("id", "parent_id")
        return queryset.filter(team_id__in=team_subtree_ids(teams, value))


class KeyResultFilter(django_filters.FilterSet):
    objective = IdFilter(field_name="objective_id")
    cycle = IdFilter(field_name="objective__cycle_id")
    owner = IdFilter(field_name="owner_id", label=_("The key result's owner (a person id)."))
    status = django_filters.ChoiceFilter(choices=Status.choices)
    updated_since = _since("updated_at", _("Changed at or after this time (ISO 8601)."))

    class Meta:
        model = KeyResult
        fields = ["objective", "cycle", "owner", "status", "updated_since"]


class CheckInFilter(django_filters.FilterSet):
    key_result = IdFilter(field_name="key_result_id")
    objective = IdFilter(field_name="key_result__objective_id")
    author = IdFilter(field_name="author_id")
    since = _since("created_at", _("Recorded at or after this time (ISO 8601)."))

    class Meta:
        model = CheckIn
        fields = ["key_result", "objective", "author", "since"]


class InitiativeFilter(django_filters.FilterSet):
    key_result = IdFilter(field_name="key_result_id")
    objective = IdFilter(field_name="key_result__objective_id")
    owner = IdFilter(field_name="owner_id")
    done = StrictBooleanFilter()

    class Meta:
        model = Initiative
        fields = ["key_result", "objective", "owner", "done"]


class KpiFilter(django_filters.FilterSet):
    owner = IdFilter(field_name="owner_id")
    direction = django_filters.ChoiceFilter(choices=Kpi.Direction.choices)

    class Meta:
        model = Kpi
        fields = ["owner", "direction"]


class KpiReadingFilter(django_filters.FilterSet):
    since = _since("at", _("Measured at or after this time (ISO 8601)."))
    until = UtcIsoDateTimeFilter(
        field_name="at", lookup_expr="lt", label=_("Measured before this time (ISO 8601).")
    )

    class Meta:
        model = KpiReading
        fields = ["since", "until"]


class AlignmentProposalFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=AlignmentProposal.State.choices)
    child = IdFilter(field_name="child_id", label=_("The proposed (contributing) objective."))
    parent_objective = IdFilter(field_name="parent_objective_id")
    parent_key_result = IdFilter(field_name="parent_key_result_id")

    class Meta:
        model = AlignmentProposal
        fields = ["state", "child", "parent_objective", "parent_key_result"]


class EscalationFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=Escalation.State.choices)
    level = django_filters.ChoiceFilter(choices=[(1, "1"), (2, "2"), (3, "3")])
    key_result = IdFilter(field_name="key_result_id")
    objective = IdFilter(field_name="key_result__objective_id")

    class Meta:
        model = Escalation
        fields = ["state", "level", "key_result", "objective"]
