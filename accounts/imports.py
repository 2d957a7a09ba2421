"""People import from a CSV file (org admins only): the same services as the People and
Teams pages (``user_invite``, ``user_update``, ``team_add``), so the same rules apply.

Columns (the first row names them, any order; see ``accounts.imports_csv`` for the file rules):

- ``email`` (required): the person's e-mail address; it says who the row is about.
- ``name``: their full name.
- ``team``: a path of team names separated by “/”, e.g. ``Product & Engineering / Platform``,
  from the top of the tree or from any team whose name is unique (rules in
  ``accounts.imports_teams``). Teams missing on the path are created (the dry run lists them).
- ``manager_email``: the e-mail of their manager: someone already in the organisation or
  someone on another row of the same file (before or after).
- ``role``: ``org_admin``, ``manager``, ``member`` or ``viewer`` (or the English names, e.g.
  “Organisation admin”, whatever the case). New people default to member.

Someone whose e-mail already belongs to a person is **updated**, not refused: their name,
team, manager and role become the row's. An empty cell (or a column left out) keeps what
they have, so a file of e-mails and roles changes roles only; clearing a team or a manager
is done on the People page. Rows that change nothing are reported as unchanged. Deactivated
people are updated but stay deactivated.

Every row is checked first and every problem reported with its row number; then, in one
transaction, the teams are created and the people invited or updated (managers before
their reports) through the services, whose refusals are reported on their rows too. A dry
run, and any run with an error, rolls that transaction back: nothing is written and no
invitation leaves (they are sent on commit only, and callbacks of a rolled-back transaction
are discarded).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import permissions
from accounts.imports_csv import Column, ImportOutcome, RowError, read_csv, template_csv
from accounts.imports_teams import TeamPaths, path_label, split_path
from accounts.models import Team, User
from accounts.services import ASSIGNABLE_ROLES, team_add, user_invite, user_update

MAX_NAME = 150
# About 6 ms a person through the services (measured): 2,000 rows check in ~12 s, and are
# checked twice (the dry run, then the confirmed run) in two requests.
MAX_ROWS = 2000

COLUMNS = (
    Column("name", gettext_lazy("Full name."), example="Mei Wang"),
    Column(
        "email",
        gettext_lazy("E-mail address. Someone already in the organisation is updated."),
        required=True,
        example="mei.wang@example.com",
    ),
    Column(
        "team",
        gettext_lazy(
            "Team path separated by “/”, from the top or from a team with a unique name. "
            "Missing teams are created."
        ),
        example="Product & Engineering / Platform",
    ),
    Column(
        "manager_email",
        gettext_lazy("The manager's e-mail: someone in the organisation or on another row of the file."),
        example="linus.chen@example.com",
    ),
    Column("role", gettext_lazy("org_admin, manager, member (the default) or viewer."), example="member"),
)
ALIASES = {
    "e_mail": "email",
    "full_name": "name",
    "manager_e_mail": "manager_email",
    "manager": "manager_email",
}
# The column a service's error about a field belongs to.
_SERVICE_COLUMNS = {
    "email": "email",
    "full_name": "name",
    "role": "role",
    "team": "team",
    "manager": "manager_email",
}

TeamKey = tuple[int | None, tuple[str, ...]]  # (existing team above, lower-case names below it)


@dataclass(kw_only=True)
class ImportReport(ImportOutcome):
    """A people import's outcome, by e-mail address."""

    to_create: list[str] = field(default_factory=list)  # e-mails of people to invite
    to_update: list[str] = field(default_factory=list)  # e-mails of people whose details change
    unchanged: list[str] = field(default_factory=list)  # e-mails of people the file leaves as they are
    teams_to_create: list[str] = field(default_factory=list)  # full team paths, parents first

    def plan(self) -> dict:
        return {
            "to_create": self.to_create, "to_update": self.to_update, "unchanged": self.unchanged,
            "teams_to_create": self.teams_to_create,
        }  # fmt: skip


@dataclass
class _Row:
    number: int
    email: str
    name: str | None = None  # None: keep what an existing person has (empty for a new one)
    role: str | None = None
    team_path: list[str] | None = None
    team: Team | None = None  # the existing team the path names…
    new_team: TeamKey | None = None  # …or the team the import creates for it
    manager_email: str | None = None
    existing: User | None = None
    unchanged: bool = False


def people_template_csv() -> bytes:
    return template_csv(COLUMNS, [[column.example for column in COLUMNS]])


def _role_lookup() -> dict[str, str]:
    lookup = {"organization admin": User.Role.ORG_ADMIN, "org admin": User.Role.ORG_ADMIN}
    with translation.override("en"):
        for role in User.Role:
            if role in ASSIGNABLE_ROLES:
                lookup[role.value] = lookup[str(role.label).lower()] = role.value
    return lookup


def _email_errors(value: str, column: str) -> list[str]:
    if not value:
        return [_("The e-mail address is missing.")] if column == "email" else []
    try:
        validate_email(value)
    except ValidationError:
        return [_("“%(value)s” is not a valid e-mail address.") % {"value": value}]
    return []


def _parse_row(number: int, cells: dict[str, str], roles: dict[str, str]) -> tuple[_Row, list[RowError]]:
    errors: list[RowError] = []
    email = cells.get("email", "").lower()
    errors += [RowError(number, "email", message) for message in _email_errors(email, "email")]
    row = _Row(number=number, email=email, name=cells.get("name") or None)
    if row.name and len(row.name) > MAX_NAME:
        errors.append(RowError(number, "name", _("A name has at most %(n)d characters.") % {"n": MAX_NAME}))
    role = cells.get("role", "")
    if role:
        row.role = roles.get(" ".join(role.lower().replace("_", " ").split())) or roles.get(role.lower())
        if row.role is None:
            message = _("Unknown role “%(value)s”: use org_admin, manager, member or viewer.")
            errors.append(RowError(number, "role", message % {"value": role}))
    if cells.get("team"):
        row.team_path, problem = split_path(cells["team"])
        if problem:
            errors.append(RowError(number, "team", problem))
    manager = cells.get("manager_email", "").lower()
    manager_errors = _email_errors(manager, "manager_email")
    if manager and manager == email:
        manager_errors.append(_("Nobody can be their own manager."))
    errors += [RowError(number, "manager_email", message) for message in manager_errors]
    if manager and not manager_errors:
        row.manager_email = manager
    return row, errors


def _parse_rows(table, report: ImportReport, people: dict[str, User]) -> list[_Row]:
    roles = _role_lookup()
    rows: list[_Row] = []
    first_row_of: dict[str, int] = {}
    for number, cells in table.rows:
        row, errors = _parse_row(number, cells, roles)
        report.errors.extend(errors)
        if not row.email:
            continue
        if row.email in first_row_of:
            report.errors.append(
                RowError(
                    number,
                    "email",
                    _("%(email)s is already on row %(row)d; give each person one row.")
                    % {"email": row.email, "row": first_row_of[row.email]},
                )
            )
            continue
        first_row_of[row.email] = number
        row.existing = people.get(row.email)
        rows.append(row)
    return rows


def _plan_teams(rows: list[_Row], paths: TeamPaths, report: ImportReport) -> dict[TeamKey, tuple]:
    """Resolve each row's team; returns the teams to create: {key: (existing parent or None,
    names as first written)}, each missing level once, parents before their sub-teams."""
    missing: dict[TeamKey, tuple] = {}
    for row in rows:
        if row.team_path is None:
            continue
        resolved = paths.resolve(row.team_path)
        if resolved.error:
            report.errors.append(RowError(row.number, "team", resolved.error))
            continue
        if not resolved.missing:
            row.team = resolved.team
            continue
        above = resolved.team.pk if resolved.team else None
        for depth in range(1, len(resolved.missing) + 1):
            names = resolved.missing[:depth]
            missing.setdefault((above, tuple(name.lower() for name in names)), (resolved.team, names))
        row.new_team = (above, tuple(name.lower() for name in resolved.missing))
    report.teams_to_create = [
        path_label([*([paths.label(parent)] if parent else []), *names]) for parent, names in missing.values()
    ]
    return missing


def _check_managers(rows: list[_Row], report: ImportReport, people: dict[str, User]) -> None:
    in_file = {row.email for row in rows}
    manager_of = {email: person.manager.email for email, person in people.items() if person.manager_id}
    for row in rows:
        if row.manager_email:
            manager_of[row.email] = row.manager_email  # else an existing person keeps theirs
    for row in rows:
        if not row.manager_email:
            continue
        manager = people.get(row.manager_email)
        problem = ""
        if manager is None and row.manager_email not in in_file:
            problem = _(
                "Nobody with the e-mail address %(email)s is in the organisation or in this file."
            ) % {"email": row.manager_email}
        elif manager is not None and not manager.is_active:
            keeps_current = row.existing is not None and row.existing.manager_id == manager.pk
            if not keeps_current:
                problem = _("%(name)s is deactivated and cannot be a manager.") % {"name": manager}
        else:
            chain, current = [row.email], row.manager_email
            while current is not None and current not in chain:
                chain.append(current)
                current = manager_of.get(current)
            if current == row.email:
                problem = _("Reporting lines would go round in a circle: %(chain)s.") % {
                    "chain": " → ".join([*chain, row.email])
                }
        if problem:
            report.errors.append(RowError(row.number, "manager_email", problem))


def _changes_anything(row: _Row) -> bool:
    person = row.existing
    return (
        (row.name is not None and row.name != person.full_name)
        or (row.role is not None and row.role != person.role)
        or (row.team_path is not None and (row.new_team is not None or row.team.pk != person.team_id))
        or (row.manager_email is not None and getattr(person.manager, "email", None) != row.manager_email)
    )


def people_import_check(actor: User) -> None:
    """Refuse (403) anyone but an org admin: the import asks this, and the API before reading
    the upload."""
    if not permissions.can_manage_people(actor):
        raise PermissionDenied(_("Only org admins import people."))


def people_import(*, actor: User, file, dry_run: bool) -> ImportReport:
    """Check ``file`` and, unless ``dry_run``, invite and update the people it lists, all
    or nothing. Returns the report; raises PermissionDenied for anyone but an org admin."""
    people_import_check(actor)
    report = ImportReport(dry_run=dry_run)
    table = read_csv(file, columns=COLUMNS, aliases=ALIASES, max_rows=MAX_ROWS)
    report.rows_read = table.rows_read
    report.errors.extend(table.errors)
    if report.errors:
        return report
    people = {person.email: person for person in User.objects.select_related("manager", "team")}
    rows = _parse_rows(table, report, people)
    _check_managers(rows, report, people)
    missing_teams = _plan_teams(rows, TeamPaths(), report)
    for row in rows:
        if row.existing is None:
            report.to_create.append(row.email)
        elif row.team_path is not None and row.team is None and row.new_team is None:
            continue  # the team path is in error
        elif _changes_anything(row):
            report.to_update.append(row.email)
        else:
            row.unchanged = True
            report.unchanged.append(row.email)
    if not report.errors:
        try:
            with transaction.atomic():
                _apply(actor, rows, report, missing_teams=missing_teams, people=people)
                if report.errors or dry_run:
                    raise _RollBackError
        except _RollBackError:
            pass
        else:
            report.applied = True
    report.errors.sort(key=lambda error: (error.row or 0, error.column))
    return report


# A service's "no" (its rules, or a row someone else wrote at the same moment), reported on the row.
SERVICE_REFUSALS = (ValidationError, PermissionDenied, IntegrityError)


def refusal_messages(error: Exception) -> list[str]:
    if isinstance(error, IntegrityError):
        return [_("Someone changed the same data at the same moment; check the file again.")]
    if isinstance(error, PermissionDenied):
        return [str(error) or _("You are not allowed to do this.")]
    return error.messages


class _RollBackError(Exception):
    """Leaves the import's transaction without committing (dry run, or an error)."""


def _service_errors(number: int | None, error: Exception) -> list[RowError]:
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        return [
            RowError(number, _SERVICE_COLUMNS.get(name, ""), message)
            for name, messages in error.message_dict.items()
            for message in messages
        ]
    return [RowError(number, "", message) for message in refusal_messages(error)]


def _in_manager_order(rows: list[_Row]) -> list[_Row]:
    """Each row after the row of its manager, when the manager is in the file (loops were
    refused): then every step is valid for the services too."""
    by_email = {row.email: row for row in rows}
    ordered: list[_Row] = []
    placed: set[str] = set()
    for row in rows:
        chain = []
        current = row
        while current is not None and current.email not in placed and current not in chain:
            chain.append(current)
            current = by_email.get(current.manager_email or "")
        for item in reversed(chain):
            placed.add(item.email)
            ordered.append(item)
    return ordered


def _create_teams(actor: User, rows: list[_Row], missing: dict, report: ImportReport) -> dict[TeamKey, Team]:
    created: dict[TeamKey, Team] = {}
    for key, (existing_parent, names) in missing.items():  # parents come first
        above, lowered = key
        parent = created[(above, lowered[:-1])] if len(lowered) > 1 else existing_parent
        try:  # services are atomic: a refusal rolls back to their own savepoint
            created[key] = team_add(actor=actor, name=names[-1], parent=parent)
        except SERVICE_REFUSALS as error:
            number = next(
                (row.number for row in rows if row.new_team and row.new_team[1][: len(lowered)] == lowered),
                None,
            )
            report.errors.extend(RowError(number, "team", e.message) for e in _service_errors(number, error))
            return created
    return created


def _apply(actor: User, rows: list[_Row], report: ImportReport, *, missing_teams: dict, people: dict) -> None:
    """Create the teams, then invite or update each person (managers first), through the
    services. Errors are collected on their rows; the caller rolls back if there are any."""
    created = _create_teams(actor, rows, missing_teams, report)
    if report.errors:
        return
    saved: dict[str, User] = {}
    failed: dict[str, int] = {}
    for row in _in_manager_order(rows):
        if row.manager_email in failed:
            message = _("The manager on row %(row)d could not be imported.") % {
                "row": failed[row.manager_email]
            }
            report.errors.append(RowError(row.number, "manager_email", message))
            failed[row.email] = row.number
            continue
        team = created[row.new_team] if row.new_team else row.team
        manager = saved.get(row.manager_email) or people.get(row.manager_email) if row.manager_email else None
        try:
            saved[row.email] = _save_person(actor, row, team=team, manager=manager)
        except SERVICE_REFUSALS as error:
            report.errors.extend(_service_errors(row.number, error))
            failed[row.email] = row.number


def _save_person(actor: User, row: _Row, *, team: Team | None, manager: User | None) -> User:
    person = row.existing
    if person is None:
        return user_invite(
            actor=actor, email=row.email, full_name=row.name or "", role=row.role or User.Role.MEMBER,
            team=team, manager=manager,
        )  # fmt: skip
    if row.unchanged:
        return person
    return user_update(
        actor=actor,
        user=person,
        full_name=row.name if row.name is not None else person.full_name,
        role=row.role or person.role,
        team=team if row.team_path is not None else person.team,
        manager=manager or person.manager,
        timezone=person.timezone,
    )
