"""Method packs (public schema): versioned bundles a consultant maintains — objective and
KR templates by function, check-in questions, review prompts, status thresholds and a
check-in cadence. Applying a version copies it into a client's schema
(``tenants.method_packs``); the content's shape is checked by ``tenants.pack_content``."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MethodPack(models.Model):
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    # The consultant who maintains it (publishes new versions); every consultant may apply it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("maintained by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="method_packs",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("method pack")
        verbose_name_plural = _("method packs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MethodPackVersion(models.Model):
    """One published version; never edited afterwards (a change is a new version)."""

    pack = models.ForeignKey(
        MethodPack, verbose_name=_("pack"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    content = models.JSONField(_("content"))
    notes = models.TextField(_("what changed"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("published"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("published by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = _("method pack version")
        verbose_name_plural = _("method pack versions")
        ordering = ["pack", "-number"]
        constraints = [models.UniqueConstraint(fields=["pack", "number"], name="one_number_per_pack_version")]

    def __str__(self) -> str:
        return f"{self.pack.name} v{self.number}"


class MethodPackApplication(models.Model):
    """A pack version applied to an organisation, with what it changed there."""

    organization = models.ForeignKey(
        "tenants.Organization", verbose_name=_("organisation"), on_delete=models.CASCADE,
        related_name="pack_applications",
    )  # fmt: skip
    version = models.ForeignKey(
        MethodPackVersion, verbose_name=_("version"), on_delete=models.PROTECT, related_name="applications"
    )
    applied_at = models.DateTimeField(_("applied"), default=timezone.now)
    applied_by = models.CharField(_("applied by"), max_length=254, blank=True)
    # Counts: {"added": n, "updated": n, "kept": n, "removed": n}.
    result = models.JSONField(_("result"), default=dict, blank=True)

    class Meta:
        verbose_name = _("method pack application")
        verbose_name_plural = _("method pack applications")
        ordering = ["-applied_at", "-id"]
        indexes = [models.Index(fields=["organization", "-applied_at"], name="packapp_org_idx")]

    def __str__(self) -> str:
        return f"{self.version} → {self.organization_id}"
