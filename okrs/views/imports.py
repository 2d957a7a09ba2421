"""Settings — Import, OKRs (org admins only): upload a CSV for a cycle, see the dry run,
confirm (same flow and template as the people import, ``accounts.views.imports``).
Also the cycle export downloads offered on the explorer (everyone signed in; what they
may see)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext as _

from accounts.permissions import can_manage_organization_settings
from accounts.ui import redirect_with_message, require_permission
from accounts.views.imports import (
    check_upload,
    csv_download,
    file_gone_message,
    render_import_page,
    take_confirmed,
)
from okrs.exports import FORMATS, cycle_export
from okrs.forms.imports import OkrImportForm
from okrs.imports import COLUMNS, okrs_import, okrs_template_csv
from okrs.models import Cycle
from okrs.selectors.editing import open_cycles

KIND = "okrs"


def _okrs_page(request, *, form=None, **kwargs):
    return render_import_page(
        request,
        section=KIND,
        form=form or OkrImportForm(cycles=list(open_cycles())),
        columns=COLUMNS,
        template_url=reverse("settings_import_okrs_template"),
        action=reverse("settings_import_okrs"),
        **kwargs,
    )


@require_permission(can_manage_organization_settings)
def okrs_import_page(request):
    if request.method != "POST":
        return _okrs_page(request)
    if "token" in request.POST:
        pending = take_confirmed(request, kind=KIND)
        cycle = Cycle.objects.filter(pk=pending["cycle"]).first() if pending else None
        if pending is None or cycle is None:
            return _okrs_page(request, error=file_gone_message())
        report = okrs_import(
            actor=request.user, cycle=cycle, file=pending["content"].encode("utf-8"), dry_run=False
        )
        if report.applied:
            text = _("Import done in %(cycle)s. Objectives: %(objectives)d. Key results: %(krs)d.") % {
                "cycle": cycle.name,
                "objectives": len(report.objectives_to_create),
                "krs": report.key_results_to_create,
            }
            return redirect_with_message(request, f"{reverse('explorer')}?cycle={cycle.pk}", text)
        return _okrs_page(request, report=report, filename=pending.get("filename", ""), cycle=cycle)
    form = OkrImportForm(request.POST, request.FILES, cycles=list(open_cycles()))
    if not form.is_valid():
        return _okrs_page(request, form=form)
    cycle = form.cleaned_data["cycle"]
    report, confirm, filename = check_upload(
        request,
        form,
        kind=KIND,
        run=lambda upload: okrs_import(actor=request.user, cycle=cycle, file=upload, dry_run=True),
        cycle=cycle.pk,
    )
    return _okrs_page(request, report=report, confirm=confirm, filename=filename, cycle=cycle)


@require_permission(can_manage_organization_settings)
def okrs_template(request):
    return csv_download(okrs_template_csv(), "okrs-template.csv")


@login_required
def cycle_export_download(request, pk: int, fmt: str):
    """The cycle's objectives, key results and check-ins the person may see, as a file."""
    if fmt not in FORMATS:
        raise Http404
    cycle = get_object_or_404(Cycle, pk=pk)
    filename, content_type, content = cycle_export(actor=request.user, cycle=cycle, fmt=fmt)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


urlpatterns = [
    path("settings/import/okrs/", okrs_import_page, name="settings_import_okrs"),
    path("settings/import/okrs-template.csv", okrs_template, name="settings_import_okrs_template"),
    path("okrs/cycles/<int:pk>/export/<str:fmt>/", cycle_export_download, name="cycle_export"),
]
