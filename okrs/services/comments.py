"""Writes on objective comments: coaching and discussion on an objective's page."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from okrs import permissions
from okrs.models import Objective
from okrs.models_comments import ObjectiveComment
from okrs.services.common import require

logger = logging.getLogger(__name__)

MAX_COMMENT_LENGTH = ObjectiveComment._meta.get_field("body").max_length  # 5,000 characters


@transaction.atomic
def comment_add(*, objective: Objective, actor: User, body: str) -> ObjectiveComment:
    """Add ``actor``'s comment to ``objective``: anyone who may see it and write
    (``permissions.can_comment_on_objective``: consultants yes, viewers no). The text is
    required and at most MAX_COMMENT_LENGTH characters, surrounding blanks dropped."""
    require(
        permissions.can_comment_on_objective(actor, objective),
        _("Only people who can see this objective and change OKRs can comment on it."),
    )
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": [_("Write a comment first.")]})
    if "\x00" in body:
        raise ValidationError({"body": [_("The comment contains a character that cannot be stored (NUL).")]})
    if len(body) > MAX_COMMENT_LENGTH:
        raise ValidationError(
            {
                "body": [
                    _("A comment can be at most %(max)d characters long (this one has %(length)d).")
                    % {"max": MAX_COMMENT_LENGTH, "length": len(body)}
                ]
            }
        )
    comment = ObjectiveComment(objective=objective, author=actor, body=body)
    comment.full_clean()
    comment.save()
    return comment


@transaction.atomic
def comment_delete(*, comment: ObjectiveComment, actor: User) -> None:
    """Remove a comment: its author, or an org admin (``permissions.can_delete_comment``)."""
    require(
        permissions.can_delete_comment(actor, comment),
        _("Only the comment's author or an org admin can delete it."),
    )
    logger.info("comment %s on objective %s deleted by %s", comment.pk, comment.objective_id, actor.pk)
    comment.delete()
