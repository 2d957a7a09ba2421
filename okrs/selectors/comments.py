"""Reads for objective comments."""

from __future__ import annotations

from accounts.models import User
from okrs import permissions
from okrs.models import Objective
from okrs.models_comments import ObjectiveComment


def comments_of(user: User, objective: Objective) -> list[ObjectiveComment]:
    """The objective's comments, oldest first (newest last), with their authors and
    whether ``user`` may delete each (``can_delete``). One query for any number."""
    comments = list(
        ObjectiveComment.objects.filter(objective=objective)
        .select_related("author")
        .order_by("created_at", "id")
    )
    for comment in comments:
        comment.objective = objective  # loaded already: no query if anything reads it
        comment.can_delete = permissions.can_delete_comment(user, comment)
    return comments
