"""Filters of the OKR API lists (django-filter; documented in the schema). A value that
is not valid is a 400 naming the parameter; an id of something you may not see (or that
does not exist, or belongs to another organisation) simply matches nothing."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

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

MAX_ID = 2**63 - 1  # ids are bigints


@extend_schema_field(OpenApiTypes.INT64)
class IdFilter(django_filters.Filter):
    """An object id (a positive integer); no lookup of the object itself."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class StrictBooleanField(forms.NullBooleanField):
    """true / false (or 1 / 0); anything else is an error rather than "no filter"."""

    VALUES = {"true": True, "1": True, "false": False, "0": False}
    widget = forms.TextInput  # the select widget would turn anything unknown into "no filter"

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        try:
            return self.VALUES[str(value).lower()]
        except KeyError:
            raise forms.ValidationError(_("Use true or false."), code="invalid") from None

    def validate(self, value):
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class UtcIsoDateTimeField(IsoDateTimeField):
    """ISO 8601, compared in UTC: PostgreSQL refuses offsets beyond ±15:59 (Python allows
    ±23:59), and a moment before year 1 in UTC is no moment at all."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(
                _("Enter a date and time within years 1 to 9999."), code="invalid"
            ) from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


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
