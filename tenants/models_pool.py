"""Spare schemas (D3, warm pool): clones of the template made ahead of time, so that
provisioning only renames one (``tenants.schema_pool``)."""

from django.db import models
from django.utils import timezone


class SpareSchema(models.Model):
    schema_name = models.CharField(max_length=63, unique=True)
    # The template's migration state when it was cloned (``schema_pool.template_fingerprint``):
    # a spare from an older state is dropped instead of used.
    template_fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.schema_name
