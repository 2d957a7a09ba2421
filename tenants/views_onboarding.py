"""Portal: onboard a client (one page, four sections). The POST runs
``tenants.onboarding.client_onboard``: everything is created or nothing is. On success the
browser is sent to a result page (the steps and their durations, kept in the session for
that page); on failure the form comes back with the errors on its fields, the people file's
problems as a table, and the step that failed."""

from __future__ import annotations

from functools import wraps

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.ui import mark_invalid_fields
from config.sites import host_for
from tenants.events import client_ip
from tenants.forms_onboarding import OnboardForm
from tenants.models import Organization
from tenants.onboarding import STEP_LABELS, OnboardingError, OnboardResult, client_onboard, slug_problems
from tenants.permissions import can_enter_client, can_onboard_client, can_view_client

SESSION_KEY = "portal_onboarded"
SHOWN_ROW_ERRORS = 200


def onboarding_allowed(view):
    """Signed-in consultants and platform admins (``can_onboard_client``); others are sent
    to sign in, or refused."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not can_onboard_client(request.user):
            raise PermissionDenied(_("Only consultants onboard clients."))
        return view(request, *args, **kwargs)

    return wrapper


def _show_errors(form: OnboardForm, error: OnboardingError) -> None:
    for name, messages in error.message_dict.items():
        target = name if name in form.fields and name != NON_FIELD_ERRORS else None
        for message in messages:
            form.add_error(target, message)


def _wire(form: OnboardForm) -> None:
    """Accessibility (invalid fields, their help and errors described) and the subdomain's
    live preview (HTMX asks for it as the consultant types)."""
    mark_invalid_fields(form)
    for name, field in form.fields.items():
        described = [f"id_{name}_helptext"] if field.help_text else []
        described += [f"id_{name}_error"] if name in form.errors else []
        if name == "slug":
            described.append("slug-preview")
        if described and not isinstance(field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
            field.widget.attrs["aria-describedby"] = " ".join(described)
    form.fields["slug"].widget.attrs.update(
        {
            "hx-get": reverse("portal:onboard_slug"),
            "hx-trigger": "input changed delay:300ms",
            "hx-target": "#slug-preview",
            "hx-swap": "innerHTML",
        }
    )


def _summary(result: OnboardResult) -> dict:
    """What the result page shows, as plain data for the session."""
    organization = result.organization
    return {
        "slug": organization.slug,
        "name": organization.name,
        "address": result.address,
        "admin_email": result.admin.email,
        "steps": [{"name": s.name, "seconds": round(s.seconds, 3), "detail": s.detail} for s in result.steps],
        "seconds": round(result.seconds, 3),
        "cycles": [cycle.name for cycle in result.cycles],
        "people_invited": len(result.people.to_create) if result.people else 0,
        "people_updated": len(result.people.to_update) if result.people else 0,
        "pack": str(result.pack_application.version) if result.pack_application else "",
        "consultants": [assignment.consultant.email for assignment in result.assignments],
    }


@onboarding_allowed
@require_http_methods(["GET", "POST"])
def onboard(request):
    failure = None
    if request.method == "POST":
        form = OnboardForm(request.POST, request.FILES, actor=request.user)
        if form.is_valid():
            try:
                result = client_onboard(spec=form.spec(), actor=request.user, ip=client_ip(request))
            except OnboardingError as error:
                failure = error
                _show_errors(form, error)
            else:
                done = request.session.get(SESSION_KEY, {})
                done[result.organization.slug] = _summary(result)
                request.session[SESSION_KEY] = dict(list(done.items())[-10:])
                return redirect("portal:onboarded", slug=result.organization.slug)
    else:
        form = OnboardForm(actor=request.user)
    _wire(form)
    slug = form["slug"].value() or ""
    context = {
        "form": form,
        "failure": failure,
        "row_errors": failure.row_errors[:SHOWN_ROW_ERRORS] if failure else [],
        "hidden_row_errors": max(0, len(failure.row_errors) - SHOWN_ROW_ERRORS) if failure else 0,
        "file_was_given": bool(request.FILES.get("people_csv")),
        "preview_host": host_for(slug.strip().lower()) if slug else "",
        "example_host": host_for("acme"),
    }
    failed = failure is not None or bool(form.errors)
    return render(request, "tenants/portal/onboard.html", context, status=422 if failed else 200)


@onboarding_allowed
@require_GET
def slug_preview(request):
    """HTMX: the address the subdomain makes and whether it can be used."""
    slug = (request.GET.get("slug") or "").strip().lower()[:100]
    context = {
        "host": host_for(slug) if slug else "",
        "example_host": host_for("acme"),
        "problems": slug_problems(slug) if slug else [],
        "checked": True,
    }
    return render(request, "tenants/portal/onboard_slug_preview.html", context)


@onboarding_allowed
@require_GET
def onboarded(request, slug: str):
    """The result of an onboarding this browser just ran (kept in its session)."""
    summary = request.session.get(SESSION_KEY, {}).get(slug)
    if summary is None:
        raise Http404
    organization = Organization.objects.clients().filter(slug=slug).first()
    if organization is None:
        raise Http404
    steps = [{**step, "label": STEP_LABELS.get(step["name"], step["name"])} for step in summary["steps"]]
    context = {
        "summary": summary,
        "steps": steps,
        "client": organization,
        "can_view": can_view_client(request.user, organization),
        "can_enter": can_enter_client(request.user, organization),
    }
    return render(request, "tenants/portal/onboard_done.html", context)
