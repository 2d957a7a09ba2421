"""The consultant portal's portfolio pages (public host): my clients, one client's
figures, benchmarks and coach notes, the calendar across my clients (and its iCalendar
download). Reads come from ``tenants.selectors_portal``; writes go through
``tenants.coach_notes`` and ``tenants.health.health_refresh_request``. A client that is
not mine (or does not exist) is a 404, for the page, its notes and its refresh alike.

Dates and times show in the consultant's time zone (their profile's, else UTC): the public
host has no organisation to take one from.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from okrs.sparkline import sparkline_svg
from okrs.templatetags.okr_ui import percent
from tenants.coach_notes import NOTE_MAX_LENGTH, note_add, note_delete, note_update
from tenants.health import UPCOMING_DAYS, health_refresh_request
from tenants.models import CoachNote, Organization
from tenants.portal import consultant_required
from tenants.selectors_portal import (
    BAR_STATUSES,
    TREND_WEEKS,
    CalendarEntry,
    ClientRow,
    benchmark_minimum,
    calendar_entries,
    client_benchmarks,
    client_row,
    coach_notes_of,
    my_calendar,
    platform_medians,
    portfolio,
    visible_client,
)

SORTS = {"attention": gettext_lazy("Needs attention first"), "name": gettext_lazy("Name")}


def consultant_zone(user) -> ZoneInfo:
    try:
        return ZoneInfo(getattr(user, "timezone", "") or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _render(request, template: str, context: dict, *, status: int = 200):
    """Render in the consultant's time zone (dates, "updated … ago")."""
    with timezone.override(consultant_zone(request.user)):
        return render(request, template, context, status=status)


def _client_or_404(request, slug: str) -> Organization:
    organization = visible_client(request.user, slug)
    if organization is None:
        raise Http404(_("No such client in your portfolio."))
    return organization


def _count(value: float | None) -> str:
    return "—" if value is None else number_format(value, 0, use_l10n=True)


# (figure, label, formatter) of the trend lines on a client's page; the first is the
# portfolio's.
TRENDS: tuple[tuple[str, str, Callable[[float | None], str]], ...] = (
    ("on_track_share", gettext_lazy("Key results on track"), percent),
    ("checkin_discipline", gettext_lazy("Check-in discipline"), percent),
    ("escalations_open", gettext_lazy("Open escalations"), _count),
    ("reviews_overdue", gettext_lazy("Overdue reviews"), _count),
)


def trend_label(figure: str, values: Sequence[float | None], fmt: Callable[[float | None], str]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return _("%(figure)s: no figures yet") % {"figure": figure}
    if len(known) == 1:
        return _("%(figure)s: %(value)s") % {"figure": figure, "value": fmt(known[0])}
    return _("%(figure)s over %(count)s days: from %(first)s to %(last)s") % {
        "figure": figure,
        "count": len(known),
        "first": fmt(known[0]),
        "last": fmt(known[-1]),
    }


def _trend_svg(row: ClientRow, name: str, label: str, fmt) -> str:
    values = row.trend_of(name)
    return sparkline_svg(values, label=trend_label(label, values, fmt))


# --- Portfolio ----------------------------------------------------------------------------


@consultant_required
@require_GET
def portfolio_page(request):
    sort = request.GET.get("sort", "attention")
    if sort not in SORTS:
        sort = "attention"
    data = portfolio(request.user)
    clients = data.clients
    if sort == "attention":
        # Clients without figures yet go last; ties by name (stable sort).
        clients = sorted(clients, key=lambda row: (row.snapshot is None, -row.attention))
    figure, label, fmt = TRENDS[0]
    for row in clients:
        row.sparkline = _trend_svg(row, figure, label, fmt)
    context = {
        "clients": clients,
        "revoked": data.revoked,
        "sort": sort,
        "sorts": SORTS.items(),
        "trend_weeks": TREND_WEEKS,
    }
    return _render(request, "tenants/portal/portfolio.html", context)


# --- One client ---------------------------------------------------------------------------


def _client_page(request, organization: Organization, *, status: int = 200, **form_state):
    now = timezone.now()
    row = client_row(organization, now=now)
    benchmarks = client_benchmarks(row.snapshot, platform_medians(now=now))
    notes = list(coach_notes_of(organization))
    for note in notes:
        note.mine = note.author_id == request.user.pk
    today = now.astimezone(consultant_zone(request.user)).date()
    context = {
        "client": organization,
        "row": row,
        "snapshot": row.snapshot,
        "bar_statuses": BAR_STATUSES,
        "trends": [
            {"label": label, "svg": _trend_svg(row, name, label, fmt), "name": name}
            for name, label, fmt in TRENDS
        ],
        "trend_weeks": TREND_WEEKS,
        "benchmarks": benchmarks,
        "benchmarks_shown": any(b.shown for b in benchmarks),
        "benchmark_minimum": benchmark_minimum(),
        "upcoming": calendar_entries([(organization, row.snapshot)], today=today),
        "notes": notes,
        "note_max_length": NOTE_MAX_LENGTH,
        "add_body": form_state.get("add_body", ""),
        "add_errors": form_state.get("add_errors", []),
        "edit_note_id": form_state.get("edit_note_id"),
        "edit_body": form_state.get("edit_body", ""),
        "edit_errors": form_state.get("edit_errors", []),
    }
    return _render(request, "tenants/portal/client.html", context, status=status)


@consultant_required
@require_GET
def client_page(request, slug: str):
    return _client_page(request, _client_or_404(request, slug))


@consultant_required
@require_POST
def client_refresh(request, slug: str):
    organization = _client_or_404(request, slug)
    try:
        health_refresh_request(organization=organization, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Refresh requested: %(client)s's figures update within a minute or two; reload the page then.")
            % {"client": organization.name},
        )
    return redirect("portal:client", slug=organization.slug)


# --- Coach notes --------------------------------------------------------------------------


def _note_or_404(organization: Organization, pk: int) -> CoachNote:
    note = CoachNote.objects.select_related("organization").filter(organization=organization, pk=pk).first()
    if note is None:
        raise Http404(_("No such note."))
    return note


def _notes_url(organization: Organization) -> str:
    return reverse("portal:client", args=[organization.slug]) + "#notes"


def _errors(error: ValidationError) -> list[str]:
    return error.message_dict.get("body", error.messages) if hasattr(error, "error_dict") else error.messages


@consultant_required
@require_POST
def note_add_view(request, slug: str):
    organization = _client_or_404(request, slug)
    body = request.POST.get("body", "")
    try:
        note_add(organization=organization, body=body, actor=request.user)
    except ValidationError as error:
        return _client_page(request, organization, status=422, add_body=body, add_errors=_errors(error))
    messages.success(request, _("Note added."))
    return redirect(_notes_url(organization))


@consultant_required
@require_POST
def note_edit_view(request, slug: str, pk: int):
    organization = _client_or_404(request, slug)
    note = _note_or_404(organization, pk)
    body = request.POST.get("body", "")
    try:
        note_update(note=note, body=body, actor=request.user)
    except ValidationError as error:
        errors = _errors(error)
        return _client_page(
            request, organization, status=422, edit_note_id=note.pk, edit_body=body, edit_errors=errors
        )
    messages.success(request, _("Note saved."))
    return redirect(_notes_url(organization))


@consultant_required
@require_POST
def note_delete_view(request, slug: str, pk: int):
    organization = _client_or_404(request, slug)
    note_delete(note=_note_or_404(organization, pk), actor=request.user)
    messages.success(request, _("Note deleted."))
    return redirect(_notes_url(organization))


# --- Calendar -----------------------------------------------------------------------------


def _today(request) -> date:
    return timezone.now().astimezone(consultant_zone(request.user)).date()


def group_by_month_and_week(entries: list[CalendarEntry]) -> list[dict]:
    """[{"month": first day, "weeks": [{"start": Monday, "number": ISO week, "entries": [...]}]}]"""
    months = []
    for month, in_month in itertools.groupby(entries, key=lambda e: e.date.replace(day=1)):
        weeks = [
            {"start": monday, "number": monday.isocalendar().week, "entries": list(in_week)}
            for monday, in_week in itertools.groupby(
                in_month, key=lambda e: e.date - timedelta(days=e.date.weekday())
            )
        ]
        months.append({"month": month, "weeks": weeks})
    return months


@consultant_required
@require_GET
def calendar_page(request):
    today = _today(request)
    entries = my_calendar(request.user, today=today)
    context = {
        "months": group_by_month_and_week(entries),
        "count": len(entries),
        "today": today,
        "until": today + timedelta(days=UPCOMING_DAYS),
    }
    return _render(request, "tenants/portal/calendar.html", context)


def _ics_text(value: str) -> str:
    """RFC 5545 TEXT escaping."""
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n")
    ).replace("\n", "\\n")


def _ics_fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts, current = [], b""
    for char in line:
        piece = char.encode()
        if len(current) + len(piece) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += piece
    parts.append(current.decode())
    return "\r\n ".join(parts)


def calendar_ics_text(entries: list[CalendarEntry], *, now: datetime) -> str:
    stamp = now.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//OKR platform//Consultant portal//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_ics_text(_('My clients’ dates'))}",
    ]
    for entry in entries:
        summary = f"{entry.organization.name}: {entry.kind_label}"
        if entry.detail_label:
            summary += f" ({entry.detail_label})"
        lines += [
            "BEGIN:VEVENT",
            f"UID:{entry.uid}@{settings.BASE_DOMAIN}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{entry.date:%Y%m%d}",
            f"DTEND;VALUE=DATE:{entry.date + timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{_ics_text(summary)}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(f"{_ics_fold(line)}\r\n" for line in lines)


@consultant_required
@require_GET
def calendar_ics(request):
    entries = my_calendar(request.user, today=_today(request))
    response = HttpResponse(
        calendar_ics_text(entries, now=timezone.now()), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="okr-clients.ics"'
    return response
