"""API tokens: create (the token is returned once, only its hash is kept) and revoke."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiToken, User
from accounts.permissions import can_create_api_token, can_revoke_api_token

TOKEN_PREFIX = "okr_"  # noqa: S105 - a marker, not a secret
# Shown in lists: "okr_" and the first characters of the random part.
PREFIX_LENGTH = 12
MAX_TOKENS_PER_PERSON = 50


def token_digest(raw: str) -> str:
    # The token is 256 random bits, so a fast hash is enough (no password-style stretching).
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    secret: str  # the whole token; shown once, never stored


@transaction.atomic
def api_token_create(
    *, actor: User, name: str, scope: str = ApiToken.Scope.READ, expires_at: datetime | None = None
) -> CreatedToken:
    if not can_create_api_token(actor):
        raise PermissionDenied(_("Only active people can create API tokens."))
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Give the token a name, e.g. the tool that will use it.")]
    if scope not in ApiToken.Scope.values:
        errors["scope"] = [_("Choose read or read_write.")]
    elif scope == ApiToken.Scope.READ_WRITE and actor.role == User.Role.VIEWER:
        errors["scope"] = [_("Viewers can only create read tokens.")]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = [_("The expiry must be in the future.")]
    if errors:
        raise ValidationError(errors)
    # Lock the person's row so two concurrent creates cannot both pass the limit.
    User.objects.select_for_update().filter(pk=actor.pk).first()
    if ApiToken.objects.filter(user=actor, revoked_at__isnull=True).count() >= MAX_TOKENS_PER_PERSON:
        raise ValidationError(
            _("You have %(n)d active tokens, the most allowed; revoke one first.")
            % {"n": MAX_TOKENS_PER_PERSON}
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=actor, name=name, scope=scope, expires_at=expires_at,
        prefix=secret[:PREFIX_LENGTH], digest=token_digest(secret),
    )  # fmt: skip
    token.full_clean()
    token.save()
    return CreatedToken(token=token, secret=secret)


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    if not can_revoke_api_token(actor, token):
        raise PermissionDenied(_("You can revoke only your own tokens."))
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
