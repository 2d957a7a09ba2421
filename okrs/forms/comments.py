"""The comment form on the objective page. It shapes the input; ``okrs.services.comments``
enforces the rules (required, at most 5,000 characters, who may comment)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from okrs.services.comments import MAX_COMMENT_LENGTH


class CommentForm(forms.Form):
    # No max_length here: the service says how long the text is and the limit; the
    # browser's maxlength stops typing beyond it anyway.
    body = forms.CharField(
        label=_("Add a comment"),
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MAX_COMMENT_LENGTH}),
        error_messages={"required": _("Write a comment first.")},
        help_text=_("Coaching, questions, context: everyone who can see this objective can read it."),
    )
