"""Public-schema models: the organisations (tenants) and their host names (D1)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin


class OrganizationQuerySet(models.QuerySet):
    def clients(self):
        """Real client organisations: never the public row or the clone template."""
        return self.filter(is_template=False).exclude(schema_name="public")

    def serving(self):
        """Organisations whose host serves pages and whose periodic work runs."""
        return self.clients().filter(status__in=Organization.SERVING_STATUSES)


class Organization(TenantMixin):
    class Status(models.TextChoices):
        PILOT = "pilot", _("Pilot")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        OFFBOARDED = "offboarded", _("Offboarded")

    SERVING_STATUSES = (Status.PILOT, Status.ACTIVE)

    name = models.CharField(_("name"), max_length=200)
    slug = models.CharField(_("subdomain"), max_length=63, unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC")
    language = models.CharField(_("default language"), max_length=16, default="en")
    # The template schema (D3) has a row so that migrate_schemas keeps it migrated;
    # it has no domain, so it is never routed, and it is hidden everywhere else.
    is_template = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # Schemas are created by tenants.services.organization_provision, inside its
    # transaction, so that a failure leaves nothing behind.
    auto_create_schema = False
    auto_drop_schema = False

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    @property
    def is_serving(self) -> bool:
        return self.status in self.SERVING_STATUSES


class Domain(DomainMixin):
    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")


# Register the other public models (each file holds one subject).
from tenants.models_consulting import (  # noqa: E402, F401
    CoachNote,
    ConsultantAssignment,
    ConsultantEntry,
    OrganizationArchive,
    PlatformEvent,
)
from tenants.models_data_version import DataVersion  # noqa: E402, F401
from tenants.models_health import HealthSnapshot  # noqa: E402, F401
from tenants.models_packs import MethodPack, MethodPackApplication, MethodPackVersion  # noqa: E402, F401
from tenants.models_pool import SpareSchema  # noqa: E402, F401
from tenants.models_tasks import TaskFailure  # noqa: E402, F401
