"""Check-in: a dialog (HTMX) from anywhere a KR appears, or a plain page without
JavaScript. On success the KR's and its objective's progress update in place."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path
from django.utils.translation import gettext as _

from accounts.ui import add_service_errors, hx_trigger, is_htmx, mark_invalid_fields, safe_next
from okrs import permissions
from okrs.forms.check_in import CheckInForm
from okrs.models import KeyResult, Objective
from okrs.selectors import okr_settings
from okrs.services.check_ins import check_in_record
from okrs.views.common import visible_key_result_or_404


@login_required
def check_in(request, pk: int):
    key_result = visible_key_result_or_404(request.user, pk)
    if not permissions.can_check_in(request.user, key_result):
        raise PermissionDenied(_("Only the key result's owner can check in on it."))
    form = CheckInForm(request.POST or None, key_result=key_result)
    if request.method == "POST" and form.is_valid():
        try:
            check_in_record(key_result=key_result, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _saved(request, key_result)
    mark_invalid_fields(form)
    # The organisation's check-in questions (its method), shown as guidance for the note.
    questions = okr_settings().checkin_questions
    if questions:
        form.fields["what_moved"].widget.attrs["aria-describedby"] = f"check-in-questions-{key_result.pk}"
    context = {
        "form": form,
        "kr": key_result,
        "next": safe_next(request, "objective", key_result.objective_id),
        "checkin_questions": questions,
    }
    template = "okrs/check_in_dialog.html" if is_htmx(request) else "okrs/check_in_page.html"
    return render(request, template, context, status=422 if form.errors else 200)


def _saved(request, key_result: KeyResult):
    text = _("Check-in saved.")
    if not is_htmx(request):
        messages.success(request, text)
        return redirect(safe_next(request, "objective", key_result.objective_id))
    # The dialog goes away; every place showing this KR or its objective updates.
    key_result = KeyResult.objects.select_related("objective").get(pk=key_result.pk)
    objective: Objective = key_result.objective
    html = render_to_string("okrs/_kr_progress.html", {"kr": key_result, "oob": True}, request=request)
    html += render_to_string(
        "okrs/_objective_progress.html", {"objective": objective, "oob": True}, request=request
    )
    return hx_trigger(
        HttpResponse(html),
        **{"okr:toast": text, "okr:checked-in": {"key_result": key_result.pk, "objective": objective.pk}},
    )


urlpatterns = [path("key-results/<int:pk>/check-in/", check_in, name="check_in")]
