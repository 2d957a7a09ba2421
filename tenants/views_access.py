"""Consultant access to a client's workspace.

- Portal (public host): ``enter`` issues a single-use token and sends the consultant to
  the client's host (routes in ``tenants.urls_portal_access``).
- Client's host: ``consultant_enter`` redeems it and signs the consultant in; Settings →
  Consultants lets the org admins read the access log and revoke or restore a
  consultant's access (routes in ``urlpatterns`` below, included by config.urls_tenant).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login, logout
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.ui import redirect_with_message, require_permission
from config.sites import site_url
from tenants.access import EntryRefused, entry_issue, entry_redeem
from tenants.assignments import consultant_access_restore, consultant_access_revoke
from tenants.events import client_ip
from tenants.middleware import ENTERED_AS_CONSULTANT
from tenants.models import ConsultantAssignment, Organization
from tenants.permissions import can_enter_client, can_manage_consultant_access, can_view_client
from tenants.portal import consultant_required
from tenants.selectors_access import consultant_access_overview

# Why an entry was refused, as the access log shows it (the event keeps the code).
REFUSAL_REASONS = {
    "bad_signature": gettext_lazy("invalid link"),
    "expired": gettext_lazy("link expired"),
    "other_organisation": gettext_lazy("link made for another organisation"),
    "already_used": gettext_lazy("link already used"),
    "not_serving": gettext_lazy("organisation unavailable"),
    "not_consultant": gettext_lazy("consultant account inactive"),
    "not_assigned": gettext_lazy("no access (revoked or not assigned)"),
    "email_in_use": gettext_lazy("e-mail address already used by a person here"),
    "account_invalid": gettext_lazy("consultant account details not accepted here"),
}


def _portal_url() -> str:
    return site_url(None, "/portal/")


# --- Portal (public host) ---------------------------------------------------------------------


@consultant_required
@require_POST
def enter(request, slug: str):
    """POST from the portal: a fresh entry token, then off to the client's host. A client
    the consultant may not see is a 404, like one that does not exist."""
    organization = get_object_or_404(Organization.objects.clients(), slug=slug)
    if not can_view_client(request.user, organization):
        raise Http404
    if not can_enter_client(request.user, organization):
        return render(
            request,
            "tenants/access/enter_unavailable.html",
            {"client": organization},
            status=403,
        )
    token = entry_issue(consultant=request.user, organization=organization, ip=client_ip(request))
    path_on_client = reverse("consultant_enter", urlconf=settings.ROOT_URLCONF, kwargs={"token": token})
    response = redirect(site_url(organization.slug, path_on_client))
    response["Referrer-Policy"] = "no-referrer"
    return response


# --- Client's host ------------------------------------------------------------------------------


@never_cache
@require_GET
def consultant_enter(request, token: str):
    """The portal's redirect lands here: redeem the token, replace whatever session this
    browser had on the host with the consultant's, and go home (the token leaves the
    address bar). A refusal is a page that says why and what to do."""
    try:
        account = entry_redeem(token=token, organization=request.tenant, ip=client_ip(request))
    except EntryRefused as refusal:
        response = render(
            request,
            "tenants/access/enter_refused.html",
            {"message": refusal.message, "portal_url": _portal_url()},
            status=400 if refusal.bad_request else 403,
        )
    else:
        if request.user.is_authenticated:
            logout(request)
        login(request, account, backend="django.contrib.auth.backends.ModelBackend")
        request.session[ENTERED_AS_CONSULTANT] = True
        response = redirect("home")
    response["Referrer-Policy"] = "no-referrer"
    return response


def _consultants_page(request, *, error: str = "", status: int = 200):
    organization = request.tenant
    assignments, page = consultant_access_overview(organization, request.GET.get("page"))
    for event in page.object_list:
        event.reason_label = REFUSAL_REASONS.get((event.detail or {}).get("reason", ""), "")
    return render(
        request,
        "settings/consultants.html",
        {
            "tab": "consultants",
            "assignments": assignments,
            "page": page,
            "events": page.object_list,
            "error": error,
        },
        status=status,
    )


@require_permission(can_manage_consultant_access)
def consultants(request):
    return _consultants_page(request)


def _access_change(request, consultant_id: int, service, success: str):
    if not ConsultantAssignment.objects.filter(
        organization_id=request.tenant.pk, consultant_id=consultant_id
    ).exists():
        raise Http404
    try:
        assignment = service(
            organization=request.tenant,
            consultant_id=consultant_id,
            actor=request.user,
            ip=client_ip(request),
        )
    except (ValidationError, PermissionDenied) as error:
        message = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        return _consultants_page(request, error=message, status=422)
    name = assignment.consultant.get_full_name()
    return redirect_with_message(request, reverse("settings_consultants"), success % {"name": name})


@require_POST
@require_permission(can_manage_consultant_access)
def consultant_revoke(request, consultant_id: int):
    return _access_change(
        request, consultant_id, consultant_access_revoke,
        _("%(name)s's access was revoked: they were signed out and cannot enter until you restore it."),
    )  # fmt: skip


@require_POST
@require_permission(can_manage_consultant_access)
def consultant_restore(request, consultant_id: int):
    return _access_change(
        request, consultant_id, consultant_access_restore,
        _("%(name)s's access was restored: they can enter from their portal again."),
    )  # fmt: skip


urlpatterns = [
    path("enter/<str:token>/", consultant_enter, name="consultant_enter"),
    path("settings/consultants/", consultants, name="settings_consultants"),
    path(
        "settings/consultants/<int:consultant_id>/revoke/",
        consultant_revoke,
        name="settings_consultant_revoke",
    ),
    path(
        "settings/consultants/<int:consultant_id>/restore/",
        consultant_restore,
        name="settings_consultant_restore",
    ),
]
