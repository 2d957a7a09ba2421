"""Export of a cycle's objectives, key results and check-ins, as the person sees them
(private objectives only for those who may see them, as in the UI).

- **XLSX**: one workbook, three sheets — Objectives, Key results, Check-ins — one row per
  object, linked by their ids.
- **CSV**: one flat file (what BI tools and spreadsheets read best): one row per check-in,
  with its key result's and objective's columns repeated; a key result without check-ins
  has one row with the check-in columns empty, and an objective without key results one
  row with the key result columns empty. UTF-8 with a byte order mark, so Excel shows
  non-Latin text right.

Every check-in is listed, corrections included (``corrects_check_in_id`` names the one
corrected; ``corrected`` says a later check-in took its place). Times are in the
organisation's time zone, named in the column headers. Stored values are exported
(``on_track``, ``increase``), not translated labels, so files read the same in any language.
Text cells that a spreadsheet would run as a formula (starting with = + - @, a tab or a
carriage return) get a leading apostrophe. The export takes the same handful of queries
whatever the size of the cycle.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import tablib
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.text import slugify
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from accounts.models import User
from okrs.models import CheckIn, Cycle, KeyResult, Objective
from okrs.selectors import objectives_visible_to, organization_timezone

CSV, XLSX = "csv", "xlsx"
FORMATS = (CSV, XLSX)
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A text cell that a spreadsheet would treat as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


class _Columns:
    """The columns of each sheet: (header, value of a row object)."""

    def __init__(self, tz: str, visible_parents: dict[int, str]):
        self.tz = ZoneInfo(tz)
        at = f"({tz})"
        self.objective = [
            ("objective_id", lambda o: o.pk),
            ("objective", lambda o: o.title),
            ("description", lambda o: o.description),
            ("owner", lambda o: o.owner.get_full_name()),
            ("owner_email", lambda o: o.owner.email),
            ("team", lambda o: o.team.name if o.team else ""),
            ("level", lambda o: o.level),
            ("kind", lambda o: o.kind),
            ("health_dimension", lambda o: o.health_dimension),
            ("visibility", lambda o: o.visibility),
            ("state", lambda o: o.state),
            ("progress", lambda o: _round(o.progress)),
            ("status", lambda o: o.status),
            ("score", lambda o: _round(o.score)),
            ("aligned_to_objective_id", lambda o: self._parent(o, visible_parents)[0]),
            ("aligned_to_key_result_id", lambda o: self._parent(o, visible_parents)[1]),
            ("aligned_to", lambda o: self._parent(o, visible_parents)[2]),
            (f"updated_at {at}", lambda o: self.local(o.updated_at)),
        ]
        self.key_result = [
            ("key_result_id", lambda k: k.pk),
            ("key_result", lambda k: k.title),
            ("kr_owner", lambda k: k.owner.get_full_name()),
            ("kr_owner_email", lambda k: k.owner.email),
            ("kr_type", lambda k: k.kind),
            ("unit", lambda k: k.unit),
            ("currency", lambda k: k.currency_code),
            ("unit_label", lambda k: k.unit_label),
            ("start", lambda k: k.start),
            ("target", lambda k: k.target),
            ("low", lambda k: k.low),
            ("high", lambda k: k.high),
            ("weight", lambda k: k.weight),
            ("due_date", lambda k: k.due_date),
            ("current", lambda k: k.current),
            ("confidence", lambda k: k.confidence),
            ("kr_progress", lambda k: _round(k.progress)),
            ("kr_status", lambda k: k.status),
            ("forecast", lambda k: _round(k.forecast)),
            ("kr_score", lambda k: _round(k.score)),
            (f"last_check_in_at {at}", lambda k: self.local(k.last_check_in_at)),
        ]
        self.check_in = [
            ("check_in_id", lambda c: c.pk),
            (f"effective_at {at}", lambda c: self.local(c.effective_at)),
            ("value", lambda c: c.value),
            ("check_in_confidence", lambda c: c.confidence),
            ("author", lambda c: c.author.get_full_name()),
            ("author_email", lambda c: c.author.email),
            ("what_moved", lambda c: c.what_moved),
            ("blockers", lambda c: c.blockers),
            ("next_step", lambda c: c.next_step),
            ("corrects_check_in_id", lambda c: c.corrects_id),
            ("corrected", lambda c: c.corrected),
            (f"recorded_at {at}", lambda c: self.local(c.created_at)),
        ]

    def local(self, moment: datetime | None) -> datetime | None:
        """In the organisation's time zone, without tzinfo (spreadsheets have none; the header says which)."""
        return (
            None
            if moment is None
            else timezone.localtime(moment, self.tz).replace(tzinfo=None, microsecond=0)
        )

    @staticmethod
    def _parent(objective: Objective, visible: dict[int, str]) -> tuple:
        """(parent objective id, parent KR id, title) when the person may see the parent."""
        if objective.parent_objective_id in visible:
            return objective.parent_objective_id, None, visible[objective.parent_objective_id]
        kr = objective.parent_key_result
        if kr is not None and kr.objective_id in visible:
            return None, kr.pk, kr.title
        return None, None, ""


def _load(visible: QuerySet[Objective], cycle: Cycle) -> list[Objective]:
    """The cycle's ``visible`` objectives with their KRs and check-ins (3 queries)."""
    check_ins = CheckIn.objects.select_related("author").order_by("effective_at", "id")
    key_results = KeyResult.objects.select_related("owner").order_by("position", "id")
    return list(
        visible.filter(cycle=cycle)
        .select_related("owner", "team", "parent_key_result")
        .prefetch_related(
            Prefetch("key_results", queryset=key_results),
            Prefetch("key_results__check_ins", queryset=check_ins),
        )
        .order_by("title", "id")
    )


def _visible_parents(visible: QuerySet[Objective], objectives: list[Objective]) -> dict[int, str]:
    """Ids → titles of the ``visible`` objectives above ``objectives`` (one query)."""
    ids = {o.parent_objective_id for o in objectives if o.parent_objective_id} | {
        o.parent_key_result.objective_id for o in objectives if o.parent_key_result_id
    }
    if not ids:
        return {}
    return dict(visible.filter(pk__in=ids).values_list("pk", "title"))


def _cells(columns, item, clean=None) -> list:
    if clean is None:
        return [neutralise(value(item)) for _, value in columns]
    return [neutralise(clean(value(item))) for _, value in columns]


def _flat_rows(columns: _Columns, objectives: list[Objective]) -> list[list]:
    blank_kr, blank_check_in = [None] * len(columns.key_result), [None] * len(columns.check_in)
    rows = []
    for objective in objectives:
        head = _cells(columns.objective, objective)
        if not objective.key_results.all():
            rows.append(head + blank_kr + blank_check_in)
        for kr in objective.key_results.all():
            middle = _cells(columns.key_result, kr)
            if not kr.check_ins.all():
                rows.append(head + middle + blank_check_in)
            rows.extend(head + middle + _cells(columns.check_in, check_in) for check_in in kr.check_ins.all())
    return rows


def _csv(columns: _Columns, objectives: list[Objective]) -> bytes:
    stream = io.StringIO()
    writer = csv.writer(stream)
    writer.writerow([name for name, _ in (*columns.objective, *columns.key_result, *columns.check_in)])
    for row in _flat_rows(columns, objectives):
        writer.writerow("" if value is None else _csv_value(value) for value in row)
    return ("\ufeff" + stream.getvalue()).encode("utf-8")


def _csv_value(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _sheet(title: str, columns, items, lead: list | None = None) -> tablib.Dataset:
    lead = lead or []
    sheet = tablib.Dataset(title=title, headers=[name for name, _ in [*lead, *columns]])
    for item in items:
        sheet.append(_cells([*lead, *columns], item, clean=_xlsx_value))
    return sheet


def _xlsx_value(value):
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters cannot be stored in XLSX
    return value


def _xlsx(columns: _Columns, objectives: list[Objective]) -> bytes:
    key_results = [kr for objective in objectives for kr in objective.key_results.all()]
    check_ins = [check_in for kr in key_results for check_in in kr.check_ins.all()]
    objective_of = [("objective_id", lambda k: k.objective_id)]
    kr_of = [("key_result_id", lambda c: c.key_result_id), ("objective_id", lambda c: c.objective_id)]
    book = tablib.Databook(
        [
            _sheet("Objectives", columns.objective, objectives),
            _sheet("Key results", columns.key_result, key_results, lead=objective_of),
            _sheet("Check-ins", columns.check_in, check_ins, lead=kr_of),
        ]
    )
    return book.export(XLSX)


def cycle_export(*, actor: User, cycle: Cycle, fmt: str) -> tuple[str, str, bytes]:
    """(file name, content type, content) of ``cycle``'s OKRs as ``actor`` sees them."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}")
    visible = objectives_visible_to(actor)  # the actor's reporting lines: one query
    objectives = _load(visible, cycle)
    for objective in objectives:
        for kr in objective.key_results.all():
            corrected = {check_in.corrects_id for check_in in kr.check_ins.all() if check_in.corrects_id}
            for check_in in kr.check_ins.all():
                check_in.corrected = check_in.pk in corrected
                check_in.objective_id = objective.pk
    columns = _Columns(organization_timezone(), _visible_parents(visible, objectives))
    content = _csv(columns, objectives) if fmt == CSV else _xlsx(columns, objectives)
    today = timezone.localdate(timezone.now(), columns.tz)
    filename = f"{slugify(cycle.name) or f'cycle-{cycle.pk}'}-okrs-{today:%Y-%m-%d}.{fmt}"
    return filename, CONTENT_TYPES[fmt], content
