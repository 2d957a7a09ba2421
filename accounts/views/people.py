"""Settings — People: everyone in the organisation, invitations, role/team/manager
changes, deactivation and reactivation. Org admins only; everyone else gets a 403."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms_settings import PeopleFilterForm, PersonEditForm, PersonInviteForm
from accounts.models import User
from accounts.permissions import can_manage_people
from accounts.selectors_settings import active_people, people_for_settings, teams_tree
from accounts.services import (
    user_deactivate,
    user_invitation_resend,
    user_invite,
    user_reactivate,
    user_update,
)
from accounts.ui import (
    add_service_errors,
    is_htmx,
    mark_invalid_fields,
    redirect_with_message,
    require_permission,
    safe_next,
)

PAGE_SIZE = 25


def _people_page(request, *, error: str = "", status: int = 200):
    filters = PeopleFilterForm(request.GET or None)
    search = status_filter = ""
    if filters.is_valid():
        search, status_filter = filters.cleaned_data["q"], filters.cleaned_data["status"]
    page = Paginator(people_for_settings(search=search, status=status_filter), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "settings/people.html",
        {
            "tab": "people",
            "filters": filters,
            "page": page,
            "people": list(page.object_list),
            "filtered": bool(search or status_filter),
            "query": query.urlencode(),
            "error": error,
        },
        status=status,
    )


@require_permission(can_manage_people)
def people(request):
    return _people_page(request)


def _form_response(request, form, *, title: str, action: str, template: str, extra: dict | None = None):
    mark_invalid_fields(form)
    context = {
        "tab": "people",
        "form": form,
        "title": title,
        "action": action,
        "form_template": template,
        "next": safe_next(request, "settings"),
        **(extra or {}),
    }
    page = "settings/dialog.html" if is_htmx(request) else "settings/form_page.html"
    return render(request, page, context, status=422 if form.errors else 200)


@require_permission(can_manage_people)
def person_invite(request):
    form = PersonInviteForm(request.POST or None, teams=teams_tree(), managers=active_people())
    if request.method == "POST" and form.is_valid():
        try:
            user = user_invite(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            text = _("Invitation sent to %(email)s.") % {"email": user.email}
            return redirect_with_message(request, safe_next(request, "settings"), text)
    return _form_response(
        request, form, title=_("Invite someone"), action=reverse("settings_person_invite"),
        template="settings/_person_form.html",
    )  # fmt: skip


@require_permission(can_manage_people)
def person_edit(request, pk: int):
    person = get_object_or_404(User.objects.select_related("manager"), pk=pk)
    form = PersonEditForm(request.POST or None, person=person, teams=teams_tree(), managers=active_people())
    if request.method == "POST" and form.is_valid():
        try:
            person = user_update(actor=request.user, user=person, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            text = _("%(name)s's details were saved.") % {"name": person.get_full_name()}
            if person.pk == request.user.pk and not can_manage_people(person):
                # They gave up their own admin role: the settings pages are closed to them now.
                return redirect_with_message(request, reverse("home"), text)
            return redirect_with_message(request, safe_next(request, "settings"), text)
    return _form_response(
        request, form, title=_("Edit %(name)s") % {"name": person.get_full_name()},
        action=reverse("settings_person_edit", args=[person.pk]), template="settings/_person_form.html",
        extra={"person": person},
    )  # fmt: skip


def _person_action(request, pk: int, service, success: str):
    person = get_object_or_404(User, pk=pk)
    try:
        service(person)
    except ValidationError as error:
        return _people_page(request, error=" ".join(error.messages), status=422)
    return redirect_with_message(
        request, safe_next(request, "settings"), success % {"name": person.get_full_name()}
    )


@require_POST
@require_permission(can_manage_people)
def person_deactivate(request, pk: int):
    return _person_action(
        request, pk, lambda person: user_deactivate(actor=request.user, user=person),
        _("%(name)s was deactivated and can no longer sign in. Their OKRs and reviews stay."),
    )  # fmt: skip


@require_POST
@require_permission(can_manage_people)
def person_reactivate(request, pk: int):
    return _person_action(
        request, pk, lambda person: user_reactivate(actor=request.user, user=person),
        _("%(name)s was reactivated and can sign in again."),
    )  # fmt: skip


@require_POST
@require_permission(can_manage_people)
def person_resend_invitation(request, pk: int):
    return _person_action(
        request, pk, lambda person: user_invitation_resend(actor=request.user, user=person),
        _("A new invitation was sent to %(name)s."),
    )  # fmt: skip


urlpatterns = [
    path("settings/", people, name="settings"),
    path("settings/people/invite/", person_invite, name="settings_person_invite"),
    path("settings/people/<int:pk>/", person_edit, name="settings_person_edit"),
    path("settings/people/<int:pk>/deactivate/", person_deactivate, name="settings_person_deactivate"),
    path("settings/people/<int:pk>/reactivate/", person_reactivate, name="settings_person_reactivate"),
    path(
        "settings/people/<int:pk>/resend-invitation/",
        person_resend_invitation,
        name="settings_person_resend_invitation",
    ),
]
