"""Run right after django-tenants has routed the request to an organisation."""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.messages import WARNING
from django.contrib.messages.storage import default_storage
from django.db import connection
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils import timezone, translation
from django.utils.translation import gettext
from django_tenants.utils import get_public_schema_name

from accounts.models import User
from tenants.models import ConsultantAssignment


def organization_of(request):
    """The organisation this host serves, or None on the public host."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == get_public_schema_name():
        return None
    return tenant


class OrganizationStatusMiddleware:
    """A suspended or offboarded organisation's host serves one page: a 403 that says
    so. No view, session or data of that organisation is reached."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        organization = organization_of(request)
        if organization is not None and not organization.is_serving:
            with translation.override(organization.language):
                return render(request, "tenants/unavailable.html", {"organization": organization}, status=403)
        return self.get_response(request)


class OrganizationLanguageMiddleware:
    """Pick the interface language and time zone on an organisation's host.

    Language: a signed-in person's saved choice (the switcher saves it to their
    profile, so it follows them to every device), then the switcher's cookie (people
    not signed in), then the organisation's default language — not the browser's.
    Time zone: the person's, else the organisation's. Runs after authentication."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        organization = organization_of(request)
        if organization is None:
            return self.get_response(request)
        user = request.user
        signed_in = user.is_authenticated
        language = (
            (signed_in and user.language)
            or request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
            or organization.language
        )
        zone = (signed_in and user.timezone) or organization.timezone or "UTC"
        # override, not activate: neither may outlive this request in the thread.
        with translation.override(language), timezone.override(ZoneInfo(zone)):
            request.LANGUAGE_CODE = translation.get_language()
            response = self.get_response(request)
            response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response


# Set in the session of a consultant who entered from the portal (tenants.views_access).
ENTERED_AS_CONSULTANT = "entered_as_consultant"
# The client's host's entry page (config.urls_tenant → tenants.views_access.consultant_enter).
ENTRY_PATH_PREFIX = "/enter/"


class ConsultantAccessMiddleware:
    """A consultant's session on a client's host ends as soon as their access does: the
    client revoked it, a platform admin removed the assignment, or their public account
    was switched off. One query per request, for consultants' accounts only (tenant
    accounts linked to a public user); legacy accounts without that link are unaffected.
    Runs right after authentication."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        organization = organization_of(request)
        user = getattr(request, "user", None)
        if organization is None or user is None:
            return self.get_response(request)
        if user.is_authenticated:
            ended = user.public_user_id is not None and not consultant_access_active(
                organization, user.public_user_id
            )
        else:
            # Entered as a consultant, and the account has since been switched off (the
            # client revoked the access): Django already treats them as signed out.
            ended = bool(request.session.get(ENTERED_AS_CONSULTANT))
        if not ended:
            return self.get_response(request)
        if request.path_info.startswith(ENTRY_PATH_PREFIX):
            # A fresh entry from the portal (say, after the access was restored): end the
            # old session and let the entry page decide about the new one.
            logout(request)
            return self.get_response(request)
        return self._sign_out(request, organization, user.language if user.is_authenticated else "")

    @staticmethod
    def _sign_out(request, organization, language: str):
        logout(request)  # flushes the session
        # The message middleware has not run yet: write the message to the response here.
        storage = default_storage(request)
        with translation.override(language or organization.language):
            storage.add(
                WARNING,
                gettext(
                    "Your consultant access to %(name)s has ended: the organisation revoked it or your "
                    "assignment was removed. You have been signed out."
                )
                % {"name": organization.name},
            )
        login_url = resolve_url(settings.LOGIN_URL)
        if request.headers.get("HX-Request") == "true":
            response = HttpResponse(status=204)
            response["HX-Redirect"] = login_url
        else:
            response = HttpResponseRedirect(login_url)
        storage.update(response)
        return response


def consultant_access_active(organization, public_user_id: int) -> bool:
    """The consultant is still assigned to ``organization`` with access not revoked, and
    their public account is an active consultant. Tables named with their schema: on a
    tenant host the tenant's own ``accounts_user`` would otherwise answer."""
    public = connection.ops.quote_name(get_public_schema_name())
    assignments = connection.ops.quote_name(ConsultantAssignment._meta.db_table)
    users = connection.ops.quote_name(User._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {public}.{assignments} a "  # noqa: S608 - quoted names only
            f"JOIN {public}.{users} u ON u.id = a.consultant_id "
            "WHERE a.organization_id = %s AND a.consultant_id = %s AND a.revoked_at IS NULL "
            "AND u.is_active AND u.role = %s)",
            [organization.pk, public_user_id, User.Role.CONSULTANT],
        )
        return bool(cursor.fetchone()[0])
