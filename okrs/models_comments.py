"""Comments on an objective (tenant schemas only): coaching and discussion, by anyone
who may see the objective and write (consultants included)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ObjectiveComment(models.Model):
    objective = models.ForeignKey(
        "okrs.Objective", verbose_name=_("objective"), on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField(_("comment"), max_length=5000)
    created_at = models.DateTimeField(_("written"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        indexes = [models.Index(fields=["objective", "created_at"], name="comment_objective_idx")]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.objective_id}"
