"""API tokens: ``Authorization: Bearer okr_…``. A token is looked up by its hash in the
current organisation's schema, so the same token on another organisation's host is unknown
there (401), and it acts as its creator, limited to its scope."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, status

from accounts.lockout import current_lockout
from accounts.models import ApiToken
from accounts.services_api_tokens import token_digest

# last_used_at is written at most this often per token (not on every request).
LAST_USED_GRANULARITY = timedelta(minutes=1)


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send the token as: Authorization: Bearer <token>."))
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("The token is not valid.")) from exc
        try:  # the digest is unique: no ordering to plan (the model's default) and no LIMIT 1
            token = ApiToken.objects.select_related("user").order_by().get(digest=token_digest(raw))
        except ApiToken.DoesNotExist:
            token = None
        now = timezone.now()
        if token is None or token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("The token is not valid for this organisation."))
        if token.expires_at is not None and token.expires_at <= now:
            raise exceptions.AuthenticationFailed(_("The token has expired; create a new one."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("The token's owner is deactivated."))
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRANULARITY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class SignInLockedOut(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"

    def __init__(self, detail: str, wait: int):
        super().__init__(detail)
        self.wait = wait  # DRF's handler sends it as Retry-After


class LockoutAwareBasicAuthentication(authentication.BasicAuthentication):
    """HTTP Basic (e-mail and password; only where a first token is minted). Failures count
    towards the sign-in lockout like the sign-in form's (accounts.lockout); a locked-out
    account gets 429 with Retry-After instead of 401."""

    def authenticate_credentials(self, userid, password, request=None):
        if "\x00" in userid or "\x00" in password:  # PostgreSQL cannot compare them (a 500)
            raise exceptions.AuthenticationFailed(_("The e-mail or password contains a NUL character."))
        try:
            return super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            if request is not None and getattr(request, "axes_locked_out", False):
                lockout = current_lockout(request, getattr(request, "axes_credentials", None))
                raise SignInLockedOut(lockout.message, lockout.retry_after) from None
            raise


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token of this organisation (scope read or read_write).",
        }


class LockoutAwareBasicScheme(OpenApiAuthenticationExtension):
    target_class = LockoutAwareBasicAuthentication
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic"}
