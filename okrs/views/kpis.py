"""The KPI board: every KPI with its latest reading, health, trend and the key results
linked to it; a KPI's owner records a new reading in place (HTMX) or with a plain form."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.ui import add_service_errors, hx_trigger, is_htmx, mark_invalid_fields
from okrs import permissions
from okrs.forms.kpis import KpiReadingForm
from okrs.models import Kpi
from okrs.selectors.kpis import health_counts, kpis_for_board, with_health
from okrs.services.kpis import kpi_reading_record


def _shape(user, kpis, bound: KpiReadingForm | None = None) -> list[Kpi]:
    """Health, trend, permissions and the reading form of each KPI: no queries."""
    kpis = with_health(kpis)
    for kpi in kpis:
        kpi.can_record = permissions.can_manage_kpi(user, kpi.owner_id)
        if kpi.can_record:
            kpi.reading_form = (
                bound if bound is not None and bound.kpi.pk == kpi.pk else KpiReadingForm(kpi=kpi)
            )
        for key_result in kpi.visible_key_results:
            key_result.can_check_in = permissions.can_check_in(user, key_result)
    return kpis


def _board(request, bound: KpiReadingForm | None = None, status: int = 200):
    kpis = _shape(request.user, kpis_for_board(request.user), bound)
    return render(
        request,
        "okrs/kpis.html",
        {"kpis": kpis, "health_counts": health_counts(kpis)},
        status=status,
    )


@login_required
def kpi_board(request):
    return _board(request)


@login_required
@require_POST
def kpi_reading(request, pk: int):
    kpi = get_object_or_404(Kpi.objects.select_related("owner"), pk=pk)
    if not permissions.can_manage_kpi(request.user, kpi.owner_id):
        raise PermissionDenied(_("Only the KPI's owner can record its readings."))
    form = KpiReadingForm(request.POST, kpi=kpi)
    if form.is_valid():
        try:
            kpi_reading_record(
                kpi=kpi, actor=request.user, value=form.cleaned_data["value"], at=form.cleaned_data["at"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _saved(request, kpi)
    mark_invalid_fields(form)
    if not is_htmx(request):
        return _board(request, bound=form, status=422)
    return _card(request, kpi.pk, bound=form, status=422)


def _card(request, pk: int, *, bound: KpiReadingForm | None = None, status: int = 200):
    (kpi,) = _shape(request.user, kpis_for_board(request.user).filter(pk=pk), bound)
    context = {"kpi": kpi, "check_in_next": reverse("kpis")}  # not this POST's URL
    return render(request, "okrs/kpis_card.html", context, status=status)


def _saved(request, kpi: Kpi):
    text = _("Reading saved for %(kpi)s.") % {"kpi": kpi.name}
    if not is_htmx(request):
        messages.success(request, text)
        return redirect(f"{reverse('kpis')}#kpi-{kpi.pk}")
    return hx_trigger(_card(request, kpi.pk), **{"okr:toast": text})


urlpatterns = [
    path("kpis/", kpi_board, name="kpis"),
    path("kpis/<int:pk>/readings/", kpi_reading, name="kpi_reading_record"),
]
