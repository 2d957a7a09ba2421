"""Writes for people and teams. Every function acts in the current schema.

``user_create`` and ``team_create`` are the building blocks that provisioning and the demo
data also use (``actor`` may be None there); the org admin's settings pages call the
services below them, which check the admin's permission and the organisation's rules
around them. People are never deleted: a deactivated person keeps their history and
cannot sign in."""

from __future__ import annotations

import logging
import zoneinfo
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import Team, User
from accounts.notifications import absolute_link
from accounts.selectors import forget_report_ids, report_ids
from accounts.tokens import set_password_token

logger = logging.getLogger(__name__)

# Roles an org admin hands out. Consultants are added by the platform team (D2).
ASSIGNABLE_ROLES = frozenset({User.Role.ORG_ADMIN, User.Role.MANAGER, User.Role.MEMBER, User.Role.VIEWER})


@lru_cache(maxsize=1)
def _known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _check_timezone(timezone: str) -> None:
    if timezone and timezone not in _known_timezones():
        raise ValidationError({"timezone": [_("Choose a time zone from the list.")]})


def set_password_path(user: User) -> str:
    """Path of the one-time link that lets ``user`` choose a password."""
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = set_password_token.make_token(user)
    # Explicit urlconf: this also runs on the public host (admin), whose urlconf differs.
    return reverse("set_password", urlconf=settings.ROOT_URLCONF, kwargs={"uidb64": uidb64, "token": token})


@transaction.atomic
def user_create(
    *,
    email: str,
    actor: User | None,
    full_name: str = "",
    role: str = User.Role.MEMBER,
    team: Team | None = None,
    manager: User | None = None,
    password: str | None = None,
    timezone: str = "",
    language: str = "",
) -> User:
    """Create a person in the current organisation. Without a password the account
    is usable only after its owner follows a set-password link."""
    email = (email or "").strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            {"email": _("Someone with the e-mail address %(email)s already exists.") % {"email": email}}
        )
    _check_timezone(timezone)
    user = User(
        email=email, full_name=full_name.strip(), role=role, team=team, manager=manager,
        timezone=timezone, language=language,
    )  # fmt: skip
    user.set_password(password)  # None gives an unusable password
    user.full_clean(exclude=["password"])
    user.save()
    if actor is not None:
        forget_report_ids(actor)  # a new report below the actor, perhaps
    logger.info("user %s created by %s", user.pk, getattr(actor, "pk", None))
    return user


def _check_unique_name(name: str, parent: Team | None, team: Team | None = None, field: str = "name") -> None:
    """Sibling teams have different names (whatever the case). The database constraint
    says the same; this says it on the form's field, in words."""
    name = name.strip()
    siblings = Team.objects.filter(parent=parent, name__iexact=name)
    if team is not None:
        siblings = siblings.exclude(pk=team.pk)
    if name and siblings.exists():
        where = parent.name if parent else _("the top level")
        message = _("There is already a team called “%(name)s” in %(where)s.") % {
            "name": name,
            "where": where,
        }
        raise ValidationError({field: [message]})


def _save_team(team: Team, **save_kwargs) -> None:
    # The only constraint (unique name among siblings) was checked by _check_unique_name.
    team.full_clean(validate_constraints=False)
    team.save(**save_kwargs)


@transaction.atomic
def team_create(*, name: str, actor: User | None, parent: Team | None = None) -> Team:
    _check_unique_name(name, parent)
    team = Team(name=name.strip(), parent=parent)
    _save_team(team)
    return team


def invitation_send(*, user: User, link: str, organization_name: str) -> None:
    """E-mail ``user`` their set-password link (printed to the console in development)."""
    subject = _("You are invited to %(org)s on the OKR platform") % {"org": organization_name}
    body = _(
        "Hello,\n\nYou have an account at %(org)s. Choose your password here "
        "(the link works once and expires in %(days)d days):\n\n%(link)s\n\n"
        "Sign in with this e-mail address: %(email)s\n"
    ) % {
        "org": organization_name,
        "link": link,
        "email": user.email,
        "days": settings.PASSWORD_RESET_TIMEOUT // 86400,
    }
    send_mail(subject, body, None, [user.email])


def user_set_language(*, user: User, language: str) -> None:
    """Remember the person's interface language (one of settings.LANGUAGES)."""
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": [_("Choose English or Simplified Chinese.")]})
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])


# --- people, by org admins -------------------------------------------------------------------


def _check_role(role: str, user: User | None = None) -> None:
    if user is not None and user.role == User.Role.CONSULTANT and role != User.Role.CONSULTANT:
        raise ValidationError({"role": [_("A consultant's role is managed by the platform team.")]})
    if role not in ASSIGNABLE_ROLES and not (user is not None and role == user.role):
        raise ValidationError({"role": [_("Choose organisation admin, manager, member or viewer.")]})


def _check_manager(user: User | None, manager: User | None) -> None:
    """A new manager for ``user`` (None: someone being invited). Keeping the current
    manager is always allowed, even one deactivated since."""
    if manager is None or (user is not None and manager.pk == user.manager_id):
        return
    if user is not None and manager.pk == user.pk:
        raise ValidationError({"manager": [_("Nobody can be their own manager.")]})
    if not manager.is_active:
        raise ValidationError({"manager": [_("%(name)s is deactivated.") % {"name": manager}]})
    if user is not None and manager.pk in report_ids(user):
        raise ValidationError(
            {
                "manager": [
                    _("%(manager)s reports to %(person)s; reporting lines cannot go round in a circle.")
                    % {"manager": manager, "person": user}
                ]
            }
        )


def _lock_other_admins(user: User) -> list[User]:
    """The active org admins other than ``user``, locked so that two admins demoting or
    deactivating each other at once cannot leave the organisation without one."""
    return list(
        User.objects.select_for_update()
        .filter(role=User.Role.ORG_ADMIN, is_active=True)
        .exclude(pk=user.pk)
        .order_by("pk")
    )


def _invitation_send_on_commit(user: User) -> None:
    """The set-password link on the organisation's own host (the configured site address,
    not the request's host), e-mailed once the transaction commits."""
    link = absolute_link(set_password_path(user))
    name = connection.tenant.name
    transaction.on_commit(lambda: invitation_send(user=user, link=link, organization_name=name))


@transaction.atomic
def user_invite(
    *,
    actor: User,
    email: str,
    full_name: str = "",
    role: str = User.Role.MEMBER,
    team: Team | None = None,
    manager: User | None = None,
) -> User:
    """Create a person without a password and e-mail them their set-password link."""
    permissions.require(permissions.can_manage_people(actor), _("Only org admins invite people."))
    _check_role(role)
    _check_manager(None, manager)
    user = user_create(
        email=email, full_name=full_name, role=role, team=team, manager=manager, actor=actor
    )  # fmt: skip
    _invitation_send_on_commit(user)
    logger.info("user %s invited by %s", user.pk, actor.pk)
    return user


@transaction.atomic
def user_invitation_resend(*, actor: User, user: User) -> User:
    """E-mail a new set-password link to someone who has not chosen a password yet."""
    permissions.require(permissions.can_manage_people(actor), _("Only org admins invite people."))
    if not user.is_active:
        raise ValidationError(_("%(name)s is deactivated; reactivate them first.") % {"name": user})
    if user.has_usable_password():
        raise ValidationError(
            _("%(name)s has already chosen a password; they can reset it from the sign-in page.")
            % {"name": user}
        )
    _invitation_send_on_commit(user)
    return user


@transaction.atomic
def user_update(
    *,
    actor: User,
    user: User,
    full_name: str,
    role: str,
    team: Team | None,
    manager: User | None,
    timezone: str = "",
) -> User:
    """Change a person's name, role, team, manager and time zone. The last active org
    admin keeps their role."""
    permissions.require(
        permissions.can_manage_people(actor), _("Only org admins change people's roles and teams.")
    )
    user = User.objects.select_for_update().get(pk=user.pk)
    _check_role(role, user)
    _check_timezone(timezone)
    _check_manager(user, manager)
    demoting = user.role == User.Role.ORG_ADMIN and role != User.Role.ORG_ADMIN and user.is_active
    if demoting and not _lock_other_admins(user):
        raise ValidationError(
            {
                "role": [
                    _("%(name)s is the only org admin; make someone else org admin first.") % {"name": user}
                ]
            }
        )
    user.full_name = (full_name or "").strip()
    user.role, user.team, user.manager, user.timezone = role, team, manager, timezone or ""
    user.full_clean(exclude=["password"])
    user.save(update_fields=["full_name", "role", "team", "manager", "timezone"])
    forget_report_ids(actor)  # the actor's reporting lines may have just changed
    logger.info("user %s updated by %s", user.pk, actor.pk)
    return user


@transaction.atomic
def user_deactivate(*, actor: User, user: User) -> User:
    """Deactivate a person: they can no longer sign in (their open sessions end too) and
    receive nothing; their objectives, check-ins and reviews stay."""
    permissions.require(permissions.can_manage_people(actor), _("Only org admins deactivate people."))
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.pk == actor.pk:
        raise ValidationError(_("You cannot deactivate yourself; ask another org admin."))
    if not user.is_active:
        return user
    if user.role == User.Role.ORG_ADMIN and not _lock_other_admins(user):
        raise ValidationError(
            _("%(name)s is the only org admin; make someone else org admin first.") % {"name": user}
        )
    user.is_active = False
    user.save(update_fields=["is_active"])
    logger.info("user %s deactivated by %s", user.pk, actor.pk)
    return user


@transaction.atomic
def user_reactivate(*, actor: User, user: User) -> User:
    permissions.require(permissions.can_manage_people(actor), _("Only org admins reactivate people."))
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
        logger.info("user %s reactivated by %s", user.pk, actor.pk)
    return user


# --- teams, by org admins --------------------------------------------------------------------


@transaction.atomic
def team_add(*, actor: User, name: str, parent: Team | None = None) -> Team:
    """An org admin creates a team under ``parent`` (at the top level when None)."""
    permissions.require(permissions.can_manage_teams(actor), _("Only org admins create teams."))
    return team_create(name=name, parent=parent, actor=actor)


@transaction.atomic
def team_rename(*, actor: User, team: Team, name: str) -> Team:
    permissions.require(permissions.can_manage_teams(actor), _("Only org admins rename teams."))
    team = Team.objects.select_related("parent").select_for_update(of=("self",)).get(pk=team.pk)
    _check_unique_name(name, team.parent, team)
    team.name = name.strip()
    _save_team(team, update_fields=["name"])
    return team


@transaction.atomic
def team_move(*, actor: User, team: Team, parent: Team | None) -> Team:
    """Put ``team`` (with everything below it) under ``parent``, or at the top level."""
    permissions.require(permissions.can_manage_teams(actor), _("Only org admins move teams."))
    # Moves lock the whole (small) tree so two moves at once cannot make a circle; the
    # locked rows are also the tree the circle is looked for in.
    parents = dict(Team.objects.select_for_update().order_by("pk").values_list("pk", "parent_id"))
    team = Team.objects.get(pk=team.pk)
    if parent is not None:
        if parent.pk == team.pk:
            raise ValidationError({"parent": [_("A team cannot be placed under itself.")]})
        above = parents.get(parent.pk)
        while above is not None:
            if above == team.pk:
                raise ValidationError(
                    {
                        "parent": [
                            _("“%(parent)s” is inside “%(team)s”; a team cannot move under its own sub-team.")
                            % {"parent": parent, "team": team}
                        ]
                    }
                )
            above = parents.get(above)
    _check_unique_name(team.name, parent, team, field="parent")
    team.parent = parent
    _save_team(team, update_fields=["parent"])
    return team
