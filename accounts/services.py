"""Writes for people and teams. Every function acts in the current schema."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts.models import Team, User
from accounts.tokens import set_password_token

logger = logging.getLogger(__name__)


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
    user = User(
        email=email, full_name=full_name.strip(), role=role, team=team, manager=manager,
        timezone=timezone, language=language,
    )  # fmt: skip
    user.set_password(password)  # None gives an unusable password
    user.full_clean(exclude=["password"])
    user.save()
    logger.info("user %s created by %s", user.pk, getattr(actor, "pk", None))
    return user


@transaction.atomic
def team_create(*, name: str, actor: User | None, parent: Team | None = None) -> Team:
    team = Team(name=name.strip(), parent=parent)
    team.full_clean()
    team.save()
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
