"""Run right after django-tenants has routed the request to an organisation."""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.shortcuts import render
from django.utils import timezone, translation
from django_tenants.utils import get_public_schema_name


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
