"""Filters of the review API (documented in the OpenAPI schema; a value of the wrong type
is a 400, an id of something you cannot see simply matches nothing)."""

from __future__ import annotations

from django_filters import rest_framework as filters

from accounts.api.filters import IdFilter, StrictBooleanFilter
from reviews.models import PeerFeedbackRequest, Review, ReviewCycle


class ReviewCycleFilter(filters.FilterSet):
    cycle = IdFilter(field_name="cycle_id", help_text="OKR cycle id.")
    state = filters.ChoiceFilter(choices=ReviewCycle.State.choices)
    kind = filters.ChoiceFilter(choices=ReviewCycle.Kind.choices)

    class Meta:
        model = ReviewCycle
        fields = ["cycle", "state", "kind"]


class ReviewFilter(filters.FilterSet):
    review_cycle = IdFilter(field_name="review_cycle_id", help_text="Review cycle id.")
    cycle = IdFilter(field_name="review_cycle__cycle_id", help_text="OKR cycle id.")
    state = filters.ChoiceFilter(choices=Review.State.choices)
    participant = IdFilter(field_name="participant_id", help_text="The participant's user id.")
    manager = IdFilter(field_name="manager_id", help_text="The manager recorded on the review (user id).")
    objective = IdFilter(field_name="objective_id", help_text="Objective id.")
    updated_since = filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text="Changed at or after this ISO 8601 time."
    )

    class Meta:
        model = Review
        fields = ["review_cycle", "cycle", "state", "participant", "manager", "objective", "updated_since"]


class PeerFeedbackRequestFilter(filters.FilterSet):
    answered = StrictBooleanFilter(
        field_name="answered_at", lookup_expr="isnull", exclude=True,
        help_text="false: requests still waiting for your answer.",
    )  # fmt: skip
    review = IdFilter(field_name="review_id", help_text="Review id.")

    class Meta:
        model = PeerFeedbackRequest
        fields = ["answered", "review"]
