"""Celery task failures (issue 8, operability): one row per task that failed for good,
whatever schema it ran in, kept in public for the platform admin (``tenants.task_failures``
records them; ``TaskFailureAdmin`` lists them). Retried attempts are not failures; rows older
than ``RETENTION`` are pruned daily."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TaskFailure(models.Model):
    task_name = models.CharField(_("task"), max_length=200, db_index=True)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    # The schema the task ran in ("public" for dispatchers): a name, not a foreign key, so the
    # row outlives an offboarded organisation and never blocks deleting one.
    schema_name = models.CharField(_("schema"), max_length=63, blank=True, db_index=True)
    exception_class = models.CharField(_("exception"), max_length=200)
    message = models.TextField(_("message"), blank=True)
    traceback = models.TextField(_("traceback"), blank=True)
    # Positional and keyword arguments with every string that could be a secret redacted
    # (``tenants.task_failures.redacted``): ids, numbers and short plain values remain.
    arguments = models.JSONField(_("arguments"), default=dict, blank=True)
    retries = models.PositiveIntegerField(_("retries"), default=0)
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("task failure")
        verbose_name_plural = _("task failures")
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.task_name} ({self.schema_name or '?'}) {self.exception_class}"
