"""Consultants and their clients (public schema): who serves which organisation, their
private notes, single-use entry tokens, and the platform's event log (which is also the
consultant access log a client's org admins read)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ConsultantAssignment(models.Model):
    """A consultant serves an organisation. A client's org admin can revoke it (the row
    stays, with who and when) and restore it; a platform admin can remove it."""

    organization = models.ForeignKey(
        "tenants.Organization", verbose_name=_("organisation"), on_delete=models.CASCADE,
        related_name="consultant_assignments",
    )  # fmt: skip
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("consultant"), on_delete=models.CASCADE,
        related_name="client_assignments", limit_choices_to={"role": "consultant"},
    )  # fmt: skip
    assigned_at = models.DateTimeField(_("assigned"), default=timezone.now)
    assigned_by = models.CharField(_("assigned by"), max_length=254, blank=True)
    # Set by the client's org admin: a tenant person, so an e-mail address, not a key (D2).
    revoked_at = models.DateTimeField(_("access revoked"), null=True, blank=True)
    revoked_by = models.CharField(_("revoked by"), max_length=254, blank=True)

    class Meta:
        verbose_name = _("consultant assignment")
        verbose_name_plural = _("consultant assignments")
        ordering = ["organization__name", "consultant__email"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "consultant"], name="one_assignment_per_pair"),
        ]
        indexes = [models.Index(fields=["consultant", "revoked_at"], name="assignment_consultant_idx")]

    def __str__(self) -> str:
        return f"{self.consultant_id} → {self.organization_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


ACTIVE_ASSIGNMENT = Q(revoked_at__isnull=True)


class CoachNote(models.Model):
    """A consultant's private note about a client: visible only to the consultants
    assigned to that client (never to the client, never in the tenant schema)."""

    organization = models.ForeignKey(
        "tenants.Organization", verbose_name=_("organisation"), on_delete=models.CASCADE,
        related_name="coach_notes",
    )  # fmt: skip
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, on_delete=models.SET_NULL,
        related_name="coach_notes",
    )  # fmt: skip
    body = models.TextField(_("note"), max_length=10_000)
    created_at = models.DateTimeField(_("written"), auto_now_add=True)
    updated_at = models.DateTimeField(_("edited"), auto_now=True)

    class Meta:
        verbose_name = _("coach note")
        verbose_name_plural = _("coach notes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="coachnote_org_idx")]

    def __str__(self) -> str:
        return f"note {self.pk} on {self.organization_id}"


class ConsultantEntry(models.Model):
    """One "enter the client's workspace" token: issued on the portal, redeemed at most
    once on the client's host within a minute (``tenants.access``)."""

    jti = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey("tenants.Organization", on_delete=models.CASCADE, related_name="+")
    consultant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("entry token")
        verbose_name_plural = _("entry tokens")
        indexes = [models.Index(fields=["issued_at"], name="entry_issued_idx")]

    def __str__(self) -> str:
        return f"entry {self.jti}"


class PlatformEvent(models.Model):
    """What happened to organisations on the platform, by whom: written by the services
    (portal, admin and commands alike). The access actions are the consultant access log
    that a client's org admins read on their own host."""

    class Action(models.TextChoices):
        PROVISIONED = "provisioned", _("Organisation created")
        ONBOARDED = "onboarded", _("Client onboarded")
        STATUS_CHANGED = "status_changed", _("Status changed")
        UPDATED = "updated", _("Details changed")
        EXPORTED = "exported", _("Archive exported")
        OFFBOARDED = "offboarded", _("Offboarded")
        RESTORED = "restored", _("Restored from archive")
        ARCHIVE_DELETED = "archive_deleted", _("Archive deleted")
        PACK_CREATED = "pack_created", _("Method pack created")
        PACK_PUBLISHED = "pack_published", _("Method pack version published")
        PACK_APPLIED = "pack_applied", _("Method pack applied")
        CONSULTANT_ASSIGNED = "consultant_assigned", _("Consultant assigned")
        CONSULTANT_UNASSIGNED = "consultant_unassigned", _("Consultant removed")
        ACCESS_REVOKED = "access_revoked", _("Consultant access revoked")
        ACCESS_RESTORED = "access_restored", _("Consultant access restored")
        ENTERED = "entered", _("Consultant entered the workspace")
        ENTRY_REFUSED = "entry_refused", _("Entry refused")

    ACCESS_ACTIONS = (
        Action.CONSULTANT_ASSIGNED,
        Action.CONSULTANT_UNASSIGNED,
        Action.ACCESS_REVOKED,
        Action.ACCESS_RESTORED,
        Action.ENTERED,
        Action.ENTRY_REFUSED,
    )

    at = models.DateTimeField(_("when"), default=timezone.now)
    organization = models.ForeignKey(
        "tenants.Organization", verbose_name=_("organisation"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="events",
    )  # fmt: skip
    # Kept when the organisation's row is gone.
    organization_slug = models.CharField(_("subdomain"), max_length=63, blank=True)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    # Whoever acted: a platform admin or consultant (public user), a client's org admin
    # (a tenant person: e-mail only, D2) or "system".
    actor_email = models.CharField(_("by"), max_length=254, blank=True)
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("consultant"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("platform event")
        verbose_name_plural = _("platform events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-at"], name="event_org_at_idx"),
            models.Index(fields=["action", "-at"], name="event_action_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.organization_slug} {self.action}"


class OrganizationArchive(models.Model):
    """An archive file written by an export or an offboarding (``tenants.archive``). An
    offboarded organisation can be restored from it until the file is deleted."""

    class Reason(models.TextChoices):
        EXPORT = "export", _("Export")
        OFFBOARD = "offboard", _("Offboarding")

    organization = models.ForeignKey(
        "tenants.Organization", verbose_name=_("organisation"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="archives",
    )  # fmt: skip
    organization_slug = models.CharField(_("subdomain"), max_length=63)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    path = models.CharField(_("file"), max_length=500)
    size = models.BigIntegerField(_("size (bytes)"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.CharField(_("created by"), max_length=254, blank=True)
    deleted_at = models.DateTimeField(_("file deleted"), null=True, blank=True)

    class Meta:
        verbose_name = _("organisation archive")
        verbose_name_plural = _("organisation archives")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.organization_slug} {self.reason} {self.created_at:%Y-%m-%d %H:%M}"
