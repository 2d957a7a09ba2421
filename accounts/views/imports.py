"""Settings — Import: people from a CSV file (org admins only; the OKR import page is in
``okrs.views.imports`` and shares the template and the helpers below).

Upload → the import service's dry run shows every problem with its row number, or what
would happen → confirm → the same file (kept in the session, ``accounts.imports_session``)
is imported, all or nothing. Nothing is written before the confirmation."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from accounts.forms_imports import ImportConfirmForm, ImportUploadForm
from accounts.imports import COLUMNS, MAX_ROWS, people_import, people_template_csv
from accounts.imports_csv import decode_upload
from accounts.imports_session import pending_store, pending_take
from accounts.permissions import can_manage_people
from accounts.ui import mark_invalid_fields, redirect_with_message, require_permission

KIND = "people"
SHOWN_ERRORS = 200  # a file full of mistakes shows the first ones; fixing them shows the next


def csv_download(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def render_import_page(
    request, *, section: str, form, report=None, confirm=None, filename="", error="", **extra
):
    """The Import page of ``section`` ("people" or "okrs"): the upload form, the report of
    the last check (errors, or what would happen and the confirm button) and the columns."""
    mark_invalid_fields(form)
    failed = bool(error or form.errors or (report is not None and report.errors))
    context = {
        "tab": "import",
        "section": section,
        "form": form,
        "report": report,
        "shown_errors": report.errors[:SHOWN_ERRORS] if report is not None else [],
        "hidden_errors": max(0, len(report.errors) - SHOWN_ERRORS) if report is not None else 0,
        "confirm": confirm,
        "filename": filename,
        "error": error,
        **extra,
    }
    return render(request, "settings/import.html", context, status=422 if failed else 200)


def check_upload(request, form, *, kind: str, run, **keep):
    """Dry-run the uploaded file; when it is clean, keep it for the confirmation.
    Returns (report, confirm form or None, file name)."""
    upload = form.cleaned_data["file"]
    report = run(upload)
    confirm = None
    if report.ok:
        content, _problem = decode_upload(upload)
        token = pending_store(request, kind=kind, content=content, filename=upload.name, **keep)
        confirm = ImportConfirmForm(initial={"token": token})
    return report, confirm, upload.name


def take_confirmed(request, *, kind: str) -> dict | None:
    form = ImportConfirmForm(request.POST)
    return pending_take(request, kind=kind, token=form.data.get("token", "")) if form.is_valid() else None


def file_gone_message() -> str:
    return _("The checked file is no longer available (it was imported or replaced); upload it again.")


def _people_page(request, **kwargs):
    return render_import_page(
        request,
        section=KIND,
        columns=COLUMNS,
        template_url=reverse("settings_import_people_template"),
        action=reverse("settings_import"),
        **kwargs,
    )


@require_permission(can_manage_people)
def people_import_page(request):
    if request.method != "POST":
        return _people_page(request, form=ImportUploadForm(max_rows=MAX_ROWS))
    if "token" in request.POST:
        pending = take_confirmed(request, kind=KIND)
        if pending is None:
            return _people_page(request, form=ImportUploadForm(max_rows=MAX_ROWS), error=file_gone_message())
        report = people_import(actor=request.user, file=pending["content"].encode("utf-8"), dry_run=False)
        if report.applied:
            text = _("Import done. Invited: %(created)d. Updated: %(updated)d. Unchanged: %(unchanged)d.") % {
                "created": len(report.to_create),
                "updated": len(report.to_update),
                "unchanged": len(report.unchanged),
            }
            return redirect_with_message(request, reverse("settings"), text)
        return _people_page(
            request,
            form=ImportUploadForm(max_rows=MAX_ROWS),
            report=report,
            filename=pending.get("filename", ""),
        )
    form = ImportUploadForm(request.POST, request.FILES, max_rows=MAX_ROWS)
    if not form.is_valid():
        return _people_page(request, form=form)
    report, confirm, filename = check_upload(
        request,
        form,
        kind=KIND,
        run=lambda upload: people_import(actor=request.user, file=upload, dry_run=True),
    )
    return _people_page(
        request, form=ImportUploadForm(max_rows=MAX_ROWS), report=report, confirm=confirm, filename=filename
    )


@require_permission(can_manage_people)
def people_template(request):
    return csv_download(people_template_csv(), "people-template.csv")


urlpatterns = [
    path("settings/import/", people_import_page, name="settings_import"),
    path("settings/import/people-template.csv", people_template, name="settings_import_people_template"),
]
