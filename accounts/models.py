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
