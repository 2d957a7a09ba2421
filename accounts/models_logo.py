"""The organisation's logo (issue 8): at most one row per organisation schema.

Kept in the database, not on disk: web processes scale out without a shared filesystem,
and the organisation's archive and backups carry it like any other row. The image was
checked and re-encoded by ``accounts.logos`` (no metadata; PNG, JPEG or WebP only)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OrganizationLogo(models.Model):
    content = models.BinaryField(_("image"))
    content_type = models.CharField(_("content type"), max_length=20)  # image/png, image/jpeg, image/webp
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.SET_NULL, null=True,
        blank=True, related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = _("organisation logo")
        verbose_name_plural = _("organisation logos")

    def __str__(self) -> str:
        return f"{self.content_type} {self.width}×{self.height} {self.sha256[:12]}"
