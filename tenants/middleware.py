"""Runs right after django-tenants has routed the request to an organisation."""

from django.shortcuts import render
from django.utils import translation
from django_tenants.utils import get_public_schema_name


class OrganizationStatusMiddleware:
    """A suspended or offboarded organisation's host serves one page: a 403 that says
    so. No view, session or data of that organisation is reached."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        organization = getattr(request, "tenant", None)
        if (
            organization is not None
            and organization.schema_name != get_public_schema_name()
            and not organization.is_serving
        ):
            with translation.override(organization.language):
                return render(request, "tenants/unavailable.html", {"organization": organization}, status=403)
        return self.get_response(request)
