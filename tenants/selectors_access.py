"""Reads for a client's Settings → Consultants page, served on the client's host.

The rows live in the public schema and name public users (consultants). On a tenant host
the search path is ``<tenant>, public``, and the tenant's own ``accounts_user`` table would
shadow the public one in a join, so these reads run in the public schema and return
evaluated lists (a fixed number of queries, whatever the number of rows)."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django_tenants.utils import get_public_schema_name, schema_context

from tenants.models import ConsultantAssignment, Organization, PlatformEvent

ACCESS_LOG_PAGE_SIZE = 50


def _assignments(organization: Organization) -> list[ConsultantAssignment]:
    return list(
        ConsultantAssignment.objects.filter(organization_id=organization.pk)
        .select_related("consultant")
        .order_by("consultant__full_name", "consultant__email", "pk")
    )


def _access_log_page(organization: Organization, page_number) -> Page:
    events = (
        PlatformEvent.objects.filter(organization_id=organization.pk, action__in=PlatformEvent.ACCESS_ACTIONS)
        .select_related("consultant")
        .order_by("-at", "-id")
    )
    page = Paginator(events, ACCESS_LOG_PAGE_SIZE).get_page(page_number)
    page.object_list = list(page.object_list)
    return page


def consultants_of(organization: Organization) -> list[ConsultantAssignment]:
    """The consultants assigned to ``organization`` (active and revoked), with their account."""
    with schema_context(get_public_schema_name()):
        return _assignments(organization)


def access_log_page(organization: Organization, page_number) -> Page:
    """One page of the organisation's consultant access log, newest first."""
    with schema_context(get_public_schema_name()):
        return _access_log_page(organization, page_number)


def consultant_access_overview(
    organization: Organization, page_number
) -> tuple[list[ConsultantAssignment], Page]:
    """Both reads of the Settings → Consultants page, in one visit to the public schema."""
    with schema_context(get_public_schema_name()):
        return _assignments(organization), _access_log_page(organization, page_number)
