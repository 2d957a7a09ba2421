"""The organisation's copy of its OKR method (tenant schemas only): objective templates
and the record of method packs applied from the consultant's library (public schema,
``tenants.method_packs``). A template from a pack remembers the hash of what the pack
wrote, so a newer version updates it only while the client has not changed it."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ObjectiveTemplate(models.Model):
    class Function(models.TextChoices):
        SALES = "sales", _("Sales")
        ENGINEERING = "engineering", _("Engineering")
        CUSTOMER_SUCCESS = "customer_success", _("Customer success")
        OPERATIONS = "operations", _("Operations")
        HR = "hr", _("People (HR)")
        GENERAL = "general", _("General")

    function = models.CharField(_("function"), max_length=32, choices=Function.choices)
    title = models.CharField(_("objective"), max_length=200)
    description = models.TextField(_("why it matters"), blank=True)
    # [{"title", "kind", "unit", "unit_label", "start", "target", "low", "high"}, ...]: the key
    # results suggested with the objective (checked by okrs.method.key_result_rows_errors).
    key_results = models.JSONField(_("key results"), default=list, blank=True)
    # Set when a method pack wrote it: the pack, the template's key in the pack, the
    # version, and the SHA-256 of the content as written (blank for the client's own).
    pack_slug = models.CharField(max_length=60, blank=True)
    pack_key = models.CharField(max_length=80, blank=True)
    pack_version = models.PositiveIntegerField(null=True, blank=True)
    applied_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["function", "title", "id"]
        verbose_name = _("objective template")
        verbose_name_plural = _("objective templates")
        constraints = [
            models.UniqueConstraint(
                fields=["pack_slug", "pack_key"], condition=~Q(pack_key=""), name="template_unique_pack_key"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class AppliedMethodPack(models.Model):
    """The latest application of one method pack here: what it wrote, so that applying
    a newer version changes only what the client has left as the pack set it."""

    pack_slug = models.CharField(max_length=60, unique=True)
    pack_name = models.CharField(_("method pack"), max_length=120)
    version = models.PositiveIntegerField(_("version"))
    applied_at = models.DateTimeField(_("applied"))
    applied_by = models.CharField(_("applied by"), max_length=254, blank=True)
    # {"at_risk_gap": 0.15, "default_cadence": "weekly", "checkin_questions": [...], ...}
    settings_written = models.JSONField(default=dict, blank=True)
    # Keys of the templates this pack has written (so that one the client deleted
    # is not written again).
    template_keys = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["pack_name"]
        verbose_name = _("applied method pack")
        verbose_name_plural = _("applied method packs")

    def __str__(self) -> str:
        return f"{self.pack_name} v{self.version}"
