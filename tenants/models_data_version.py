"""Each organisation's data version (public): a number that changes whenever anything an
organisation's pages show is committed, so that caches of those pages are keyed by it
(``tenants.data_version``, ADR 0011)."""

from django.db import models


class DataVersion(models.Model):
    # Written only by the database: the trigger ``public.okr_data_changed`` that
    # ``tenants.data_version`` puts on every table of every organisation's schema.
    schema_name = models.CharField(max_length=63, unique=True)
    version = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.schema_name}: {self.version}"
