"""OKR import from a CSV file into one cycle (org admins: it is a settings page). The
objectives, key results and alignments are made by the same services as the UI
(``objective_create``, ``key_result_create``, ``alignment_propose``), so the same rules apply.

One row per key result; an objective without key results is a row with the key result
cells empty. Columns (the first row names them, any order; file rules in
``accounts.imports_csv``):

- ``objective`` (required): the objective's title. Rows with the same title (and no
  ``objective_ref``) belong to one objective.
- ``objective_ref``: any short label (“O1”) that groups rows into one objective: needed to
  tell apart two objectives with the same title, and handy for ``parent``.
- ``objective_owner_email`` (required once per objective), ``description``,
  ``team`` (a team path, see ``accounts.imports_teams``; the team must exist; empty: no team),
  ``level`` (company, team — the default —, individual), ``kind`` (committed — the default —,
  aspirational), ``health_dimension`` (customer_value — the default —, technology_moat,
  financial_return, operational_excellence), ``visibility`` (organization — the default —,
  private), ``state`` (draft — the default — or active), ``parent``: what the objective
  contributes to: the ``objective_ref`` or title of another objective of the file, or the
  id or title of an existing objective of the cycle or of the year it belongs to (the
  alignments the UI allows). The importer is an org admin, so the alignment is accepted at
  once. Objective cells may be repeated on every row of the objective or given once; two
  different values for one objective are an error.
- ``kr`` (the key result's title), ``kr_owner_email`` (empty: the objective's owner),
  ``kr_type`` (increase, decrease, stay_above, stay_below, stay_between, milestone),
  ``start`` and ``target`` (increase … stay_below), ``low`` and ``high`` (stay_between),
  ``unit`` (number — the default —, percent, currency), ``currency`` (three letters, for
  currency), ``unit_label`` (“minutes”), ``weight`` (default 1), ``due_date`` (YYYY-MM-DD).
  Numbers use a dot for decimals and no thousands separators. A value in a column the type
  does not use is an error rather than silently dropped.

Choices accept the stored value or the English name, whatever the case. Every row is
checked first (row numbers as in the spreadsheet, header = row 1); then, in one
transaction, the services create everything (parents before the objectives aligned to
them) and their refusals are reported on their rows too. A dry run, and any run with an
error, rolls the transaction back: nothing is written, and nothing is sent (notifications
are enqueued on commit only; callbacks of a rolled-back transaction are discarded).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.imports import SERVICE_REFUSALS, refusal_messages
from accounts.imports_csv import Column, ImportOutcome, RowError, read_csv, template_csv
from accounts.imports_teams import TeamPaths, split_path
from accounts.models import Team, User
from accounts.permissions import can_manage_organization_settings
from okrs import scoring
from okrs.models import Cycle, KeyResult, Objective
from okrs.selectors import objectives_visible_to
from okrs.services.alignment import alignment_propose
from okrs.services.objectives import key_result_create, objective_create

MAX_TITLE = 200
# About 20 ms a key result with its objective and alignment through the services (measured):
# 1,000 rows take ~20 s, within the web server's 30-second timeout.
MAX_ROWS = 1000

COLUMNS = (
    Column(
        "objective_ref",
        gettext_lazy("Optional label grouping rows into one objective, e.g. O1."),
        example="O1",
    ),
    Column(
        "objective",
        gettext_lazy("The objective's title."),
        required=True,
        example="Ship changes safely every day",
    ),
    Column("description", gettext_lazy("Why it matters."), example=""),
    Column(
        "objective_owner_email",
        gettext_lazy("The objective owner's e-mail (once per objective)."),
        required=True,
        example="linus.chen@example.com",
    ),
    Column(
        "team",
        gettext_lazy("An existing team's path, e.g. Product & Engineering / Platform."),
        example="Platform",
    ),
    Column("level", gettext_lazy("company, team (the default) or individual."), example="team"),
    Column("kind", gettext_lazy("committed (the default) or aspirational."), example="committed"),
    Column(
        "health_dimension",
        gettext_lazy(
            "customer_value (the default), technology_moat, financial_return or operational_excellence."
        ),
        example="technology_moat",
    ),
    Column("visibility", gettext_lazy("organization (the default) or private."), example="organization"),
    Column("state", gettext_lazy("draft (the default) or active."), example="draft"),
    Column(
        "parent",
        gettext_lazy(
            "What it contributes to: another objective's objective_ref or title in this file, or the id or "
            "title of an objective of the cycle or of its year."
        ),
        example="",
    ),
    Column(
        "kr",
        gettext_lazy("The key result's title; empty for an objective without key results."),
        example="Deploy time from 40 to 10 minutes",
    ),
    Column(
        "kr_owner_email",
        gettext_lazy("The key result owner's e-mail; empty: the objective's owner."),
        example="",
    ),
    Column(
        "kr_type",
        gettext_lazy("increase, decrease, stay_above, stay_below, stay_between or milestone."),
        example="decrease",
    ),
    Column("unit", gettext_lazy("number (the default), percent or currency."), example="number"),
    Column("currency", gettext_lazy("Three letters (EUR, CNY) when the unit is currency."), example=""),
    Column("unit_label", gettext_lazy("What is counted, e.g. minutes."), example="minutes"),
    Column("start", gettext_lazy("Start value (increase, decrease, stay_above, stay_below)."), example="40"),
    Column("target", gettext_lazy("Target, floor or ceiling (the same types)."), example="10"),
    Column("low", gettext_lazy("Lower bound (stay_between)."), example=""),
    Column("high", gettext_lazy("Upper bound (stay_between)."), example=""),
    Column("weight", gettext_lazy("How much it counts in the objective (default 1)."), example="1"),
    Column("due_date", gettext_lazy("Target date, YYYY-MM-DD."), example=""),
)
OBJECTIVE_COLUMNS = (
    "objective", "description", "objective_owner_email", "team", "level", "kind", "health_dimension",
    "visibility", "state", "parent",
)  # fmt: skip
KR_COLUMNS = (
    "kr", "kr_owner_email", "kr_type", "unit", "currency", "unit_label", "start", "target", "low", "high",
    "weight", "due_date",
)  # fmt: skip
NUMBER_COLUMNS = ("start", "target", "low", "high")
# The number columns each type uses (as in the UI's key result form).
TYPE_NUMBERS = {
    scoring.INCREASE: ("start", "target"),
    scoring.DECREASE: ("start", "target"),
    scoring.STAY_ABOVE: ("start", "target"),
    scoring.STAY_BELOW: ("start", "target"),
    scoring.STAY_BETWEEN: ("low", "high"),
    scoring.MILESTONE: (),
}
ALIASES = {"ref": "objective_ref", "title": "objective", "owner_email": "objective_owner_email",
           "key_result": "kr", "type": "kr_type", "dimension": "health_dimension"}  # fmt: skip
_OBJECTIVE_SERVICE_COLUMNS = {"title": "objective", "owner": "objective_owner_email"}
_KR_SERVICE_COLUMNS = {
    "title": "kr",
    "owner": "kr_owner_email",
    "kind": "kr_type",
    "currency_code": "currency",
}

TEMPLATE_ROWS = (
    ("O1", "Ship changes safely every day", "", "linus.chen@example.com", "Product & Engineering / Platform",
     "team", "committed", "technology_moat", "organization", "draft", "", "Deploy time from 40 to 10 minutes",
     "", "decrease", "number", "", "minutes", "40", "10", "", "", "1", "2026-12-31"),
)  # fmt: skip


@dataclass(frozen=True)
class PlannedObjective:
    row: int
    title: str
    owner_email: str
    key_results: int
    parent: str  # the parent's title, "" when none

    def as_dict(self) -> dict:
        return {
            "row": self.row, "title": self.title, "owner_email": self.owner_email,
            "key_results": self.key_results, "parent": self.parent,
        }  # fmt: skip


@dataclass(kw_only=True)
class OkrImportReport(ImportOutcome):
    """An OKR import's outcome."""

    cycle: str = ""
    objectives_to_create: list[PlannedObjective] = field(default_factory=list)
    key_results_to_create: int = 0
    alignments_to_create: int = 0

    def plan(self) -> dict:
        return {
            "cycle": self.cycle,
            "objectives_to_create": [planned.as_dict() for planned in self.objectives_to_create],
            "key_results_to_create": self.key_results_to_create,
            "alignments_to_create": self.alignments_to_create,
        }


@dataclass
class _KeyResult:
    row: int
    values: dict = field(default_factory=dict)  # key_result_create's arguments


@dataclass
class _Objective:
    row: int  # where it first appears
    ref: str
    cells: dict[str, tuple[str, int]] = field(default_factory=dict)  # column → (value, row it came from)
    values: dict = field(default_factory=dict)  # objective_create's arguments
    parent_in_file: _Objective | None = None
    parent_existing: Objective | None = None
    key_results: list[_KeyResult] = field(default_factory=list)
    failed: bool = False

    def cell(self, column: str) -> str:
        return self.cells.get(column, ("", self.row))[0]

    def row_of(self, column: str) -> int:
        return self.cells.get(column, ("", self.row))[1]

    @property
    def title(self) -> str:
        return self.cell("objective")


def okrs_template_csv() -> bytes:
    return template_csv(COLUMNS, TEMPLATE_ROWS)


def _normal(value: str) -> str:
    return " ".join(value.lower().replace("_", " ").replace("-", " ").split())


def _choices(choices, *aliases: tuple[str, str]) -> dict[str, str]:
    """Accepted spellings (value or English name, normalised) → stored value."""
    lookup = {}
    with translation.override("en"):
        for value, label in choices:
            lookup[_normal(value)] = lookup[_normal(str(label))] = value
    lookup |= {_normal(alias): value for alias, value in aliases}
    return lookup


class _Choices:
    def __init__(self):
        self.level = _choices(Objective.Level.choices)
        self.kind = _choices(Objective.Kind.choices)
        self.health_dimension = _choices(Objective.HealthDimension.choices)
        self.visibility = _choices(
            Objective.Visibility.choices, ("organisation", "organization"), ("everyone", "organization")
        )
        self.state = _choices([(Objective.State.DRAFT, "Draft"), (Objective.State.ACTIVE, "Active")])
        self.kr_type = _choices(KeyResult.Kind.choices)
        self.unit = _choices(KeyResult.Unit.choices)


def _choice_error(column: str, value: str, lookup: dict[str, str]) -> str:
    return _("Unknown %(column)s “%(value)s”: use %(choices)s.") % {
        "column": column,
        "value": value,
        "choices": ", ".join(sorted(set(lookup.values()))),
    }


class _People:
    """Owners by e-mail from one query; an owner must be active and not a viewer (the
    people the UI offers as owners)."""

    def __init__(self, emails: set[str]):
        self.by_email = {user.email: user for user in User.objects.filter(email__in=emails)}

    def owner(self, email: str) -> tuple[User | None, str]:
        person = self.by_email.get(email.lower())
        if person is None:
            return None, _("Nobody with the e-mail address %(email)s is in the organisation.") % {
                "email": email
            }
        if not person.is_active:
            return None, _("%(person)s is deactivated and cannot own OKRs.") % {"person": person}
        if person.role == User.Role.VIEWER:
            return None, _("%(person)s is a viewer; viewers cannot own OKRs.") % {"person": person}
        return person, ""


def _number(value: str) -> tuple[float | None, str]:
    try:
        number = float(value)
    except ValueError:
        return None, _(
            "“%(value)s” is not a number: use a dot for decimals and no thousands separators, e.g. 1234.5."
        ) % {"value": value}
    if not math.isfinite(number) or abs(number) > scoring.MAX_MAGNITUDE:
        return None, _("“%(value)s” is not a usable number.") % {"value": value}
    return number, ""


def _same(column: str, first: str, value: str) -> bool:
    """Whether two cells of one objective say the same (texts exactly, the rest loosely)."""
    if column in {"objective", "description"}:
        return first == value
    return _normal(first) == _normal(value)


def _group(table, report: OkrImportReport) -> list[_Objective]:
    """The file's objectives (in order of first appearance), each with its rows' cells."""
    groups: dict[tuple[str, str], _Objective] = {}
    for number, cells in table.rows:
        title, ref = cells.get("objective", ""), cells.get("objective_ref", "")
        if not title and not ref:
            report.errors.append(RowError(number, "objective", _("The objective's title is missing.")))
            continue
        key = ("ref", ref.lower()) if ref else ("title", title)
        objective = groups.setdefault(key, _Objective(row=number, ref=ref))
        for column in OBJECTIVE_COLUMNS:
            value = cells.get(column, "")
            if not value:
                continue
            if column not in objective.cells:
                objective.cells[column] = (value, number)
            elif not _same(column, objective.cells[column][0], value):
                first, first_row = objective.cells[column]
                report.errors.append(
                    RowError(
                        number,
                        column,
                        _("“%(value)s” differs from “%(first)s” on row %(row)d for the same objective; "
                          "leave it empty or repeat the same value.")
                        % {"value": value, "first": first, "row": first_row},
                    )
                )  # fmt: skip
        if cells.get("kr"):
            objective.key_results.append(
                _KeyResult(row=number, values={c: cells.get(c, "") for c in KR_COLUMNS})
            )
        else:
            for column in KR_COLUMNS[1:]:
                if cells.get(column):
                    report.errors.append(
                        RowError(
                            number,
                            column,
                            _("This row has no key result (its kr cell is empty); leave this empty too."),
                        )
                    )
    objectives = list(groups.values())
    for objective in objectives:
        if not objective.title:
            report.errors.append(RowError(objective.row, "objective", _("The objective's title is missing.")))
    return objectives


def _parse_objective(
    objective: _Objective, people: _People, teams: TeamPaths, choices: _Choices, errors: list
):
    def error(column: str, message: str) -> None:
        errors.append(RowError(objective.row_of(column), column, message))

    values = objective.values
    values["title"] = objective.title
    if len(objective.title) > MAX_TITLE:
        error("objective", _("A title has at most %(n)d characters.") % {"n": MAX_TITLE})
    values["description"] = objective.cell("description")
    email = objective.cell("objective_owner_email")
    if not email:
        error(
            "objective_owner_email",
            _("The objective's owner is missing: give objective_owner_email on one of its rows."),
        )
    else:
        values["owner"], problem = people.owner(email)
        if problem:
            error("objective_owner_email", problem)
    values["team"] = None
    if objective.cell("team"):
        values["team"], problem = _team(objective.cell("team"), teams)
        if problem:
            error("team", problem)
    for column, default in (
        ("level", Objective.Level.TEAM),
        ("kind", Objective.Kind.COMMITTED),
        ("health_dimension", Objective.HealthDimension.CUSTOMER_VALUE),
        ("visibility", Objective.Visibility.ORGANIZATION),
        ("state", Objective.State.DRAFT),
    ):
        cell = objective.cell(column)
        lookup = getattr(choices, column)
        values[column] = lookup.get(_normal(cell)) if cell else default
        if values[column] is None:
            error(column, _choice_error(column, cell, lookup))


def _team(cell: str, teams: TeamPaths) -> tuple[Team | None, str]:
    parts, problem = split_path(cell)
    if problem:
        return None, problem
    resolved = teams.resolve(parts)
    if resolved.error:
        return None, resolved.error
    if not resolved.complete:
        return None, _(
            "There is no team “%(path)s”; create it on the Teams page (or import people into it) first."
        ) % {"path": cell}
    return resolved.team, ""


def _parse_key_result(
    kr: _KeyResult, objective: _Objective, people: _People, choices: _Choices, errors: list
):
    cells, values = kr.values, {}

    def error(column: str, message: str) -> None:
        errors.append(RowError(kr.row, column, message))

    values["title"] = cells["kr"]
    if len(cells["kr"]) > MAX_TITLE:
        error("kr", _("A title has at most %(n)d characters.") % {"n": MAX_TITLE})
    values["owner"] = objective.values.get("owner")
    if cells["kr_owner_email"]:
        values["owner"], problem = people.owner(cells["kr_owner_email"])
        if problem:
            error("kr_owner_email", problem)
    kind = choices.kr_type.get(_normal(cells["kr_type"])) if cells["kr_type"] else None
    if kind is None:
        error("kr_type", _choice_error("kr_type", cells["kr_type"], choices.kr_type))
    values["kind"] = kind
    values["unit"] = choices.unit.get(_normal(cells["unit"])) if cells["unit"] else KeyResult.Unit.NUMBER
    if values["unit"] is None:
        error("unit", _choice_error("unit", cells["unit"], choices.unit))
    values["currency_code"] = cells["currency"].upper()
    if values["unit"] == KeyResult.Unit.CURRENCY and not (
        len(cells["currency"]) == 3 and cells["currency"].isalpha()
    ):
        error("currency", _("Give the three-letter currency code, for example EUR or CNY."))
    elif cells["currency"] and values["unit"] != KeyResult.Unit.CURRENCY:
        error("currency", _("Only a key result whose unit is currency has a currency; leave this empty."))
    values["unit_label"] = cells["unit_label"]
    if len(cells["unit_label"]) > 40:
        error("unit_label", _("At most %(n)d characters.") % {"n": 40})
    values.update(_parse_kr_numbers(cells, kind, error))
    values["due_date"] = None
    if cells["due_date"]:
        try:
            values["due_date"] = date.fromisoformat(cells["due_date"])
        except ValueError:
            error("due_date", _("Write the date as YYYY-MM-DD, e.g. 2026-12-31."))
    kr.values = values


def _parse_kr_numbers(cells: dict[str, str], kind: str | None, error) -> dict:
    """start/target/low/high/weight: numbers, only those the type uses, and the type's rules."""
    values: dict = {}
    used = TYPE_NUMBERS.get(kind, NUMBER_COLUMNS)
    ok = True
    for column in (*NUMBER_COLUMNS, "weight"):
        values[column] = None
        if not cells[column]:
            continue
        if column != "weight" and column not in used:
            message = _("A %(type)s key result does not use %(column)s; leave it empty.")
            error(column, message % {"type": kind, "column": column})
            continue
        values[column], problem = _number(cells[column])
        if problem:
            error(column, problem)
            ok = False
    if not cells["weight"]:
        values["weight"] = 1.0
    if kind is not None and ok:
        for column, message in scoring.key_result_errors(
            kind, start=values["start"], target=values["target"], low=values["low"], high=values["high"],
            weight=values["weight"],
        ).items():  # fmt: skip
            error(column if column in cells else "kr_type", message)
    return values


def _resolve_parents(objectives: list[_Objective], *, actor: User, cycle: Cycle, errors: list) -> None:
    """Each objective's parent: another objective of the file (by ref or title) or an
    existing objective of the cycle or its year that the importer can see (by id or title)."""
    refs = {objective.ref.lower(): objective for objective in objectives if objective.ref}
    titles: dict[str, list] = {}
    for objective in objectives:
        titles.setdefault(objective.title.lower(), []).append(objective)
    existing = list(
        objectives_visible_to(actor)
        .filter(cycle_id__in=[cycle.pk, cycle.parent_id or cycle.pk])
        .exclude(state=Objective.State.ARCHIVED)
        .only("id", "title", "cycle_id")
        .order_by("id")
    )
    by_id = {objective.pk: objective for objective in existing}
    for objective in existing:
        titles.setdefault(objective.title.lower(), []).append(objective)
    cycles = _(" or ").join(c.name for c in [cycle, cycle.parent] if c)
    for objective in objectives:
        cell = objective.cell("parent")
        if not cell:
            continue
        target, problem = _find_parent(cell, refs=refs, by_id=by_id, titles=titles, cycles=cycles)
        if target is objective:
            problem = _("An objective cannot align to itself.")
        if problem:
            errors.append(RowError(objective.row_of("parent"), "parent", problem))
        elif isinstance(target, _Objective):
            objective.parent_in_file = target
        else:
            objective.parent_existing = target
    _refuse_loops(objectives, errors)


def _find_parent(cell: str, *, refs: dict, by_id: dict, titles: dict, cycles: str):
    """(the objective of the file or existing one ``cell`` names, "") or (None, why not):
    an objective_ref of the file first, then an existing objective's id, then a title."""
    number = cell.removeprefix("#")
    if cell.lower() in refs:
        return refs[cell.lower()], ""
    if number.isdigit() and len(number) < 19 and int(number) in by_id:
        return by_id[int(number)], ""
    matches = titles.get(cell.lower(), [])
    if len(matches) > 1:
        return None, _(
            "Several objectives are called “%(title)s”; give the parent's objective_ref, or the id of an "
            "existing objective."
        ) % {"title": cell}
    if not matches:
        return None, _(
            "No objective “%(parent)s” in this file or in %(cycles)s; give an objective_ref of this file, "
            "or the id or exact title of an existing objective."
        ) % {"parent": cell, "cycles": cycles}
    return matches[0], ""


def _refuse_loops(objectives: list[_Objective], errors: list) -> None:
    for objective in objectives:
        chain, current = [objective], objective.parent_in_file
        while current is not None and current not in chain:
            chain.append(current)
            current = current.parent_in_file
        if current is objective:
            errors.append(
                RowError(
                    objective.row_of("parent"),
                    "parent",
                    _("Alignments would go round in a circle: %(chain)s.")
                    % {"chain": " → ".join(f"“{o.title}”" for o in [*chain, objective])},
                )
            )


def _plan(objectives: list[_Objective], report: OkrImportReport) -> None:
    for objective in objectives:
        parent = objective.parent_in_file or objective.parent_existing
        report.objectives_to_create.append(
            PlannedObjective(
                row=objective.row,
                title=objective.title,
                owner_email=objective.cell("objective_owner_email").lower(),
                key_results=len(objective.key_results),
                parent=parent.title if parent else "",
            )
        )
        report.key_results_to_create += len(objective.key_results)
        report.alignments_to_create += parent is not None


def okrs_import_check(actor: User) -> None:
    """Refuse (403) anyone but an org admin: the import asks this, and the API before reading
    the upload."""
    if not can_manage_organization_settings(actor):
        raise PermissionDenied(_("Only org admins import OKRs."))


def okrs_import(*, actor: User, cycle: Cycle, file, dry_run: bool) -> OkrImportReport:
    """Check ``file`` and, unless ``dry_run``, create its objectives, key results and
    alignments in ``cycle``, all or nothing. Raises PermissionDenied for anyone but an org admin."""
    okrs_import_check(actor)
    report = OkrImportReport(dry_run=dry_run, cycle=cycle.name)
    if cycle.state == Cycle.State.CLOSED:
        report.errors.append(
            RowError(
                None,
                "",
                _("The cycle “%(cycle)s” is closed; its OKRs can no longer change.") % {"cycle": cycle},
            )
        )
        return report
    table = read_csv(file, columns=COLUMNS, aliases=ALIASES, max_rows=MAX_ROWS)
    report.rows_read = table.rows_read
    report.errors.extend(table.errors)
    if report.errors:
        return report
    objectives = _group(table, report)
    emails = {
        cells.get(c, "").lower()
        for _, cells in table.rows
        for c in ("objective_owner_email", "kr_owner_email")
    }
    people, teams, choices = _People(emails - {""}), TeamPaths(), _Choices()
    for objective in objectives:
        _parse_objective(objective, people, teams, choices, report.errors)
        for kr in objective.key_results:
            _parse_key_result(kr, objective, people, choices, report.errors)
    _resolve_parents(objectives, actor=actor, cycle=cycle, errors=report.errors)
    _plan(objectives, report)
    if not report.errors:
        try:
            with transaction.atomic():
                _apply(actor, cycle, objectives, report)
                if report.errors or dry_run:
                    raise _RollBackError
        except _RollBackError:
            pass
        else:
            report.applied = True
    report.errors.sort(key=lambda error: (error.row or 0, error.column))
    return report


class _RollBackError(Exception):
    """Leaves the import's transaction without committing (dry run, or an error)."""


def _service_errors(
    error: Exception, row_of, columns: dict[str, str], known: tuple[str, ...]
) -> list[RowError]:
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        found = []
        for name, messages in error.message_dict.items():
            column = columns.get(name, name if name in known else "")
            found += [RowError(row_of(column), column, message) for message in messages]
        return found
    return [RowError(row_of(""), "", message) for message in refusal_messages(error)]


def _parents_first(objectives: list[_Objective]) -> list[_Objective]:
    ordered: list[_Objective] = []
    placed: set[int] = set()
    for objective in objectives:
        chain, current = [], objective
        while current is not None and id(current) not in placed and current not in chain:
            chain.append(current)
            current = current.parent_in_file
        for item in reversed(chain):
            placed.add(id(item))
            ordered.append(item)
    return ordered


def _apply(actor: User, cycle: Cycle, objectives: list[_Objective], report: OkrImportReport) -> None:
    """Create through the services (each atomic: a refusal rolls back to its own savepoint
    and the next row goes on); errors are collected, and the caller rolls back if any."""
    created: dict[int, Objective] = {}
    for objective in _parents_first(objectives):
        parent_row = objective.parent_in_file
        if parent_row is not None and id(parent_row) not in created:
            report.errors.append(
                RowError(
                    objective.row_of("parent"), "parent",
                    _("The parent objective (row %(row)d) could not be imported.") % {"row": parent_row.row},
                )
            )  # fmt: skip
            continue
        try:
            made = objective_create(actor=actor, cycle=cycle, **objective.values)
        except SERVICE_REFUSALS as error:
            report.errors += _service_errors(
                error,
                lambda c, o=objective: o.row_of(c) if c else o.row,
                _OBJECTIVE_SERVICE_COLUMNS,
                OBJECTIVE_COLUMNS,
            )
            continue
        created[id(objective)] = made
        for kr in objective.key_results:
            try:
                key_result_create(actor=actor, objective=made, **kr.values)
            except SERVICE_REFUSALS as error:
                report.errors += _service_errors(
                    error, lambda c, k=kr: k.row, _KR_SERVICE_COLUMNS, KR_COLUMNS
                )
        parent = objective.parent_existing or (created[id(parent_row)] if parent_row is not None else None)
        if parent is not None:
            try:
                alignment_propose(child=made, actor=actor, parent_objective=parent)
            except SERVICE_REFUSALS as error:
                report.errors += _service_errors(
                    error, lambda c, o=objective: o.row_of("parent"), {"__all__": "parent"}, ()
                )
