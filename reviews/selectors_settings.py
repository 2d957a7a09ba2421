"""Reads for the cycles and review settings pages."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from okrs.models import Cycle
from reviews.models import ReviewCycle


def cycles_with_review_cycles() -> QuerySet[Cycle]:
    """Every OKR cycle, the latest first, with its parent and its review cycles (each
    with ``review_count``): two queries for any number of cycles."""
    return (
        Cycle.objects.select_related("parent")
        .prefetch_related(
            Prefetch(
                "review_cycles",
                queryset=ReviewCycle.objects.annotate(review_count=Count("reviews")).order_by(
                    "opens_on", "id"
                ),
            )
        )
        .order_by("-start_date", "name", "pk")
    )
