"""People and teams. This app has a table set in every schema (D1): public users are
platform administrators and consultants, tenant users are that organisation's people."""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone as django_timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        # E-mail logins are case-insensitive.
        return self.get(email__iexact=username)


class Team(models.Model):
    """A team in the organisation's tree (adjacency list; parent is None at the top)."""

    name = models.CharField(_("name"), max_length=120)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent team"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="children",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "parent", Lower("name"), name="team_unique_name_per_parent",
                nulls_distinct=False,
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.name


class User(AbstractBaseUser, PermissionsMixin):
    class Role(models.TextChoices):
        ORG_ADMIN = "org_admin", _("Organisation admin")
        MANAGER = "manager", _("Manager")
        MEMBER = "member", _("Member")
        VIEWER = "viewer", _("Viewer")
        CONSULTANT = "consultant", _("Consultant")

    # Stored lower-case (see save), so the unique index is case-insensitive in effect.
    email = models.EmailField(_("e-mail address"), max_length=254, unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    # Tenant side: the person's role in their organisation. Public side: consultants
    # have role "consultant"; platform administrators are is_staff/is_superuser.
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="members",
    )  # fmt: skip
    manager = models.ForeignKey(
        "self", verbose_name=_("manager"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="reports",
    )  # fmt: skip
    # Empty means "the organisation's time zone / language".
    timezone = models.CharField(_("time zone"), max_length=64, blank=True)
    language = models.CharField(_("language"), max_length=16, blank=True)
    # D2: a consultant's tenant-side account refers to its public user by plain id.
    public_user_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    # Channels: the inbox always; e-mail, chat and the weekly digest can be turned off.
    notify_by_email = models.BooleanField(_("e-mail me reminders"), default=True, db_default=True)
    receive_digests = models.BooleanField(_("send me the weekly digest"), default=True, db_default=True)
    notify_by_chat = models.BooleanField(
        _("post my reminders in the team chat"), default=True, db_default=True
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=django_timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return (self.full_name.split() or [self.email])[0]

    @property
    def is_org_admin(self) -> bool:
        return self.role == self.Role.ORG_ADMIN


class NotificationSettings(models.Model):
    """How the organisation's rhythm reaches people (tenant side; one row, pk 1)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    checkin_day = models.PositiveSmallIntegerField(_("check-in day"), choices=Weekday.choices, default=0)
    digest_day = models.PositiveSmallIntegerField(_("digest day"), choices=Weekday.choices, default=4)
    max_reminders_per_week = models.PositiveSmallIntegerField(
        _("reminders per person per week, at most"), default=5
    )
    chat_webhook_url = models.URLField(_("chat webhook (Slack-compatible)"), blank=True)

    def __str__(self) -> str:
        return "Notification settings"


class InboxItem(models.Model):
    """One entry of a person's in-app inbox ("what do I owe"). Never lost: it is
    written in the same transaction as the notification, before any delivery."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="inbox")
    kind = models.CharField(max_length=32)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=django_timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"])]

    def __str__(self) -> str:
        return self.title


class Notification(models.Model):
    """A notification sent to a person, recorded under a unique key (person, kind,
    subject, period) so that it is sent exactly once however often the task runs."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=32)
    subject_key = models.CharField(max_length=100)
    period = models.CharField(max_length=40)
    # Reminders count towards the weekly limit; escalations and digests do not.
    capped = models.BooleanField(default=False)
    inbox_item = models.OneToOneField(InboxItem, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=django_timezone.now)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    chat_sent_at = models.DateTimeField(null=True, blank=True)
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "subject_key", "period"], name="notification_once"
            ),
        ]
        indexes = [models.Index(fields=["user", "capped", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject_key} {self.period} → {self.user_id}"


from accounts.models_integrations import (  # noqa: E402  (Django finds models through accounts.models)
    ApiToken,
    IdempotencyRecord,
    WebhookDelivery,
    WebhookEndpoint,
)
from accounts.models_logo import OrganizationLogo  # noqa: E402

__all__ = [
    "ApiToken", "IdempotencyRecord", "InboxItem", "Notification", "NotificationSettings",
    "OrganizationLogo", "Team", "User", "WebhookDelivery", "WebhookEndpoint",
]  # fmt: skip
