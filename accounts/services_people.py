"""Writes on an organisation's people and teams made by its org admins (settings pages).

Creating a person or a team goes through ``accounts.services`` (``user_create``,
``team_create``); these services add the org admin's rules around them. People are
never deleted: a deactivated person keeps their history and cannot sign in.
"""

from __future__ import annotations

import logging
import zoneinfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import Team, User
from accounts.notifications import absolute_link
from accounts.selectors import report_ids
from accounts.services import invitation_send, set_password_path, team_create, user_create

logger = logging.getLogger(__name__)

# Roles an org admin hands out. Consultants are added by the platform team (D2).
ASSIGNABLE_ROLES = frozenset({User.Role.ORG_ADMIN, User.Role.MANAGER, User.Role.MEMBER, User.Role.VIEWER})


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _check_role(role: str, user: User | None = None) -> None:
    if user is not None and user.role == User.Role.CONSULTANT and role != User.Role.CONSULTANT:
        raise ValidationError({"role": [_("A consultant's role is managed by the platform team.")]})
    if role not in ASSIGNABLE_ROLES and not (user is not None and role == user.role):
        raise ValidationError({"role": [_("Choose organisation admin, manager, member or viewer.")]})


def _check_timezone(timezone: str) -> None:
    if timezone and timezone not in zoneinfo.available_timezones():
        raise ValidationError({"timezone": [_("Choose a time zone from the list.")]})


def _check_manager(user: User | None, manager: User | None) -> None:
    if manager is None:
        return
    if user is not None and manager.pk == user.pk:
        raise ValidationError({"manager": [_("Nobody can be their own manager.")]})
    if not manager.is_active and (user is None or manager.pk != user.manager_id):
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


@transaction.atomic
def user_invite(
    *,
    actor: User,
    email: str,
    full_name: str = "",
    role: str = User.Role.MEMBER,
    team: Team | None = None,
    manager: User | None = None,
    organization_name: str,
) -> User:
    """Create a person without a password and, once the transaction commits, e-mail them
    their set-password link on the organisation's own host (built like provisioning's
    link: ``set_password_path`` on the configured site address, not the request's host)."""
    _require(permissions.can_manage_people(actor), _("Only org admins invite people."))
    _check_role(role)
    _check_manager(None, manager)
    user = user_create(
        email=email, full_name=full_name, role=role, team=team, manager=manager, actor=actor
    )  # fmt: skip
    link = absolute_link(set_password_path(user))
    transaction.on_commit(lambda: invitation_send(user=user, link=link, organization_name=organization_name))
    logger.info("user %s invited by %s", user.pk, actor.pk)
    return user


@transaction.atomic
def user_invitation_resend(*, actor: User, user: User, organization_name: str) -> User:
    """E-mail a new set-password link to someone who has not chosen a password yet."""
    _require(permissions.can_manage_people(actor), _("Only org admins invite people."))
    if not user.is_active:
        raise ValidationError(_("%(name)s is deactivated; reactivate them first.") % {"name": user})
    if user.has_usable_password():
        raise ValidationError(
            _("%(name)s has already chosen a password; they can reset it from the sign-in page.")
            % {"name": user}
        )
    link = absolute_link(set_password_path(user))
    transaction.on_commit(lambda: invitation_send(user=user, link=link, organization_name=organization_name))
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
    _require(permissions.can_manage_people(actor), _("Only org admins change people's roles and teams."))
    user = User.objects.select_for_update().get(pk=user.pk)
    _check_role(role, user)
    _check_timezone(timezone)
    if manager is None or manager.pk != user.manager_id:
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
    logger.info("user %s updated by %s", user.pk, actor.pk)
    return user


@transaction.atomic
def user_deactivate(*, actor: User, user: User) -> User:
    """Deactivate a person: they can no longer sign in (their open sessions end too) and
    receive nothing; their objectives, check-ins and reviews stay."""
    _require(permissions.can_manage_people(actor), _("Only org admins deactivate people."))
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
    _require(permissions.can_manage_people(actor), _("Only org admins reactivate people."))
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
        logger.info("user %s reactivated by %s", user.pk, actor.pk)
    return user


# --- teams -------------------------------------------------------------------------------


def _check_unique_name(name: str, parent: Team | None, team: Team | None = None, field: str = "name") -> None:
    siblings = Team.objects.filter(parent=parent, name__iexact=name.strip())
    if team is not None:
        siblings = siblings.exclude(pk=team.pk)
    if name.strip() and siblings.exists():
        where = parent.name if parent else _("the top level")
        message = _("There is already a team called “%(name)s” in %(where)s.") % {
            "name": name,
            "where": where,
        }
        raise ValidationError({field: [message]})


def _descendant_ids(team: Team) -> set[int]:
    """Every team below ``team`` (one query: the tree is small)."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Team.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    below, stack = set(), list(children.get(team.pk, []))
    while stack:
        pk = stack.pop()
        if pk not in below:
            below.add(pk)
            stack.extend(children.get(pk, []))
    return below


@transaction.atomic
def team_add(*, actor: User, name: str, parent: Team | None = None) -> Team:
    """Create a team under ``parent`` (at the top level when None)."""
    _require(permissions.can_manage_teams(actor), _("Only org admins create teams."))
    _check_unique_name(name or "", parent)
    return team_create(name=name or "", parent=parent, actor=actor)


@transaction.atomic
def team_rename(*, actor: User, team: Team, name: str) -> Team:
    _require(permissions.can_manage_teams(actor), _("Only org admins rename teams."))
    team = Team.objects.select_for_update().get(pk=team.pk)
    _check_unique_name(name or "", team.parent, team)
    team.name = (name or "").strip()
    team.full_clean()
    team.save(update_fields=["name"])
    return team


@transaction.atomic
def team_move(*, actor: User, team: Team, parent: Team | None) -> Team:
    """Put ``team`` (with everything below it) under ``parent``, or at the top level."""
    _require(permissions.can_manage_teams(actor), _("Only org admins move teams."))
    # Moves lock the whole (small) tree so two moves at once cannot make a circle.
    list(Team.objects.select_for_update().order_by("pk").values_list("pk"))
    team = Team.objects.get(pk=team.pk)
    if parent is not None:
        if parent.pk == team.pk:
            raise ValidationError({"parent": [_("A team cannot be placed under itself.")]})
        if parent.pk in _descendant_ids(team):
            raise ValidationError(
                {
                    "parent": [
                        _("“%(parent)s” is inside “%(team)s”; a team cannot move under its own sub-team.")
                        % {"parent": parent, "team": team}
                    ]
                }
            )
    _check_unique_name(team.name, parent, team, field="parent")
    team.parent = parent
    team.full_clean()
    team.save(update_fields=["parent"])
    return team
