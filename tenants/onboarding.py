"""Onboard a client organisation in one go (the portal's wizard and ``manage.py
onboard_client``): provision it, open its first cycle(s), import its people, assign its
consultants, apply a method pack and record it — all in ONE transaction, so a failure at
any step leaves nothing behind (no organisation row, schema, domain, people or events;
PostgreSQL's DDL is transactional). E-mails (the org admin's invitation, the imported
people's) are queued with ``on_commit`` by the services, so none leaves on a failure."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tenants.utils import tenant_context

from accounts.imports import ALIASES, COLUMNS, MAX_ROWS, ImportReport, people_import
from accounts.imports_csv import RowError, read_csv
from accounts.models import User
from okrs.models import Cycle
from okrs.selectors import okr_settings
from okrs.services.cycles import cycle_activate, cycle_create
from tenants import permissions
from tenants.assignments import consultant_assign
from tenants.events import event_record
from tenants.method_packs import method_pack_apply
from tenants.models import (
    ConsultantAssignment,
    MethodPackApplication,
    MethodPackVersion,
    Organization,
    PlatformEvent,
)
from tenants.services import (
    organization_host,
    organization_provision,
    organization_url,
    organization_validate,
)

logger = logging.getLogger(__name__)

PLAN_ANNUAL_AND_QUARTER = "annual_and_quarter"
PLAN_CUSTOM = "custom"
PLANS = (PLAN_ANNUAL_AND_QUARTER, PLAN_CUSTOM)
CUSTOM_KINDS = (Cycle.Kind.QUARTER, Cycle.Kind.CUSTOM)
CYCLE_NAME_MAX = Cycle._meta.get_field("name").max_length
ADMIN_NAME_MAX = User._meta.get_field("full_name").max_length

ONBOARDING_STATUSES = (Organization.Status.PILOT, Organization.Status.ACTIVE)

STEP_LABELS = {
    "validate": gettext_lazy("Check the details"),
    "provision": gettext_lazy("Create the organisation (schema, address, org admin)"),
    "cycles": gettext_lazy("Open the first cycles"),
    "people": gettext_lazy("Import the people"),
    "consultants": gettext_lazy("Assign the consultants"),
    "pack": gettext_lazy("Apply the method pack"),
    "record": gettext_lazy("Record the onboarding"),
}

Progress = Callable[[str, int, int], None]


@dataclass
class ClientSpec:
    """What a new client needs, as the wizard and the YAML file give it.

    ``cycle_plan`` is ``annual_and_quarter`` (the current calendar year and the current
    quarter inside it, both active, by the organisation's time zone) or ``custom`` (one
    active cycle: ``cycle_name``, ``cycle_start``, ``cycle_end``, ``cycle_kind`` quarter or
    custom). ``people_csv`` is the people importer's file (``accounts.imports``), as text
    or bytes. ``consultants`` are assigned besides the acting consultant, who always is.
    """

    name: str
    slug: str
    timezone: str
    language: str
    admin_email: str
    admin_name: str = ""
    cycle_plan: str = PLAN_ANNUAL_AND_QUARTER
    cycle_name: str = ""
    cycle_start: date | None = None
    cycle_end: date | None = None
    cycle_kind: str = Cycle.Kind.QUARTER
    people_csv: str | bytes | None = None
    pack_version: MethodPackVersion | None = None
    consultants: list[User] = field(default_factory=list)
    # New clients usually start as a pilot; a platform admin makes them active later.
    status: str = Organization.Status.PILOT

    def normalised(self) -> ClientSpec:
        """The same spec with the text fields stripped (slug and e-mail lower-case)."""
        self.name = (self.name or "").strip()
        self.slug = (self.slug or "").strip().lower()
        self.timezone = (self.timezone or "").strip()
        self.language = (self.language or "").strip()
        self.admin_email = (self.admin_email or "").strip().lower()
        self.admin_name = (self.admin_name or "").strip()
        self.cycle_name = (self.cycle_name or "").strip()
        return self


@dataclass(frozen=True)
class StepTiming:
    name: str
    seconds: float
    detail: str = ""

    @property
    def label(self) -> str:
        return str(STEP_LABELS[self.name])


@dataclass
class OnboardResult:
    organization: Organization
    admin: User
    set_password_url: str
    address: str
    cycles: list[Cycle]
    people: ImportReport | None
    pack_application: MethodPackApplication | None
    assignments: list[ConsultantAssignment]
    steps: list[StepTiming]

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)


class OnboardingError(ValidationError):
    """The onboarding stopped at ``step``; nothing was created. The messages are keyed by
    the ``ClientSpec`` field they concern (``__all__`` otherwise); ``row_errors`` are the
    people file's problems (row, column, message)."""

    def __init__(self, message, *, step: str, row_errors=()):
        super().__init__(message)
        self.step = step
        self.row_errors: list[RowError] = list(row_errors)

    @property
    def step_label(self) -> str:
        return str(STEP_LABELS.get(self.step, self.step))


# --- validation ----------------------------------------------------------------------


def _people_file_errors(people_csv) -> list[RowError]:
    """Problems with the file itself (encoding, size, header, cells); the rows' meaning
    (managers, teams, duplicates) is checked by the import once the schema exists."""
    if people_csv is None or people_csv in ("", b""):
        return []
    data = people_csv.encode("utf-8") if isinstance(people_csv, str) else people_csv
    return read_csv(data, columns=COLUMNS, aliases=ALIASES, max_rows=MAX_ROWS).errors


def row_error_text(error: RowError) -> str:
    if error.row is None:
        return error.message
    if error.column:
        return _("Row %(row)d, column “%(column)s”: %(message)s") % {
            "row": error.row, "column": error.column, "message": error.message,
        }  # fmt: skip
    return _("Row %(row)d: %(message)s") % {"row": error.row, "message": error.message}


def _cycle_errors(spec: ClientSpec) -> dict[str, list[str]]:
    if spec.cycle_plan not in PLANS:
        return {"cycle_plan": [_("Choose the first cycle: the year and its current quarter, or a range.")]}
    if spec.cycle_plan != PLAN_CUSTOM:
        return {}
    errors: dict[str, list[str]] = {}
    if not spec.cycle_name:
        errors["cycle_name"] = [_("Give the cycle a name, for example “Pilot H2”.")]
    elif len(spec.cycle_name) > CYCLE_NAME_MAX:
        errors["cycle_name"] = [_("A cycle name has at most %(n)d characters.") % {"n": CYCLE_NAME_MAX}]
    for name, value in (("cycle_start", spec.cycle_start), ("cycle_end", spec.cycle_end)):
        if not isinstance(value, date) or isinstance(value, datetime):
            errors[name] = [_("Enter a date (YYYY-MM-DD).")]
    if "cycle_start" not in errors and "cycle_end" not in errors and spec.cycle_end < spec.cycle_start:
        errors["cycle_end"] = [_("The cycle must end on or after its start date.")]
    if spec.cycle_kind not in CUSTOM_KINDS:
        errors["cycle_kind"] = [_("A custom range is a quarter or a custom cycle.")]
    return errors


def _consultant_errors(consultants) -> list[str]:
    return [
        _("%(email)s is not an active consultant account.") % {"email": getattr(person, "email", person)}
        for person in consultants
        if not permissions.is_consultant(person)
    ]


def _problems(spec: ClientSpec) -> tuple[dict[str, list[str]], list[RowError]]:
    errors: dict[str, list[str]] = {}
    try:
        organization_validate(
            name=spec.name, slug=spec.slug, admin_email=spec.admin_email, timezone=spec.timezone,
            language=spec.language,
        )  # fmt: skip
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if len(spec.admin_name) > ADMIN_NAME_MAX:
        errors["admin_name"] = [_("A name has at most %(n)d characters.") % {"n": ADMIN_NAME_MAX}]
    if spec.status not in ONBOARDING_STATUSES:
        errors["status"] = [_("A new client starts as a pilot or active.")]
    errors.update(_cycle_errors(spec))
    row_errors = _people_file_errors(spec.people_csv)
    if row_errors:
        errors["people_csv"] = [
            _("The people file has problems (listed by row); nothing was imported."),
        ]
    if spec.pack_version is not None and not (
        isinstance(spec.pack_version, MethodPackVersion) and spec.pack_version.pk
    ):
        errors["pack_version"] = [_("Choose a published version of a method pack.")]
    if problems := _consultant_errors(spec.consultants):
        errors["consultants"] = problems
    return errors, row_errors


def client_spec_errors(spec: ClientSpec) -> dict[str, list[str]]:
    """Everything wrong with ``spec`` before anything is created, keyed by field (the
    people file's problems one message per row under ``people_csv``); empty when fine."""
    spec.normalised()
    errors, row_errors = _problems(spec)
    if row_errors:
        errors["people_csv"] = [row_error_text(error) for error in row_errors]
    return errors


def client_spec_validate(spec: ClientSpec) -> None:
    """Raise ``OnboardingError`` (step "validate") keyed by field if ``spec`` cannot work."""
    spec.normalised()
    errors, row_errors = _problems(spec)
    if errors:
        raise OnboardingError(errors, step="validate", row_errors=row_errors)


def slug_problems(slug: str) -> list[str]:
    """What is wrong with ``slug`` as a new client's subdomain (format, reserved, taken):
    the provisioning service's own check, for the wizard's live preview."""
    try:
        organization_validate(
            name="-", slug=(slug or "").strip().lower(), admin_email="preview@example.com", timezone="UTC",
            language=settings.LANGUAGE_CODE,
        )  # fmt: skip
    except ValidationError as exc:
        return exc.message_dict.get("slug", [])
    return []


# --- the steps -----------------------------------------------------------------------


def _quarter_of(day: date) -> tuple[date, date, int]:
    """The calendar quarter ``day`` falls in: (first day, last day, its number 1–4)."""
    number = (day.month - 1) // 3 + 1
    start = date(day.year, 3 * number - 2, 1)
    following = date(day.year + 1, 1, 1) if number == 4 else date(day.year, 3 * number + 1, 1)
    return start, following - timedelta(days=1), number


def _cadence(spec: ClientSpec) -> str:
    """The pack's check-in cadence when it has a valid one, else the organisation's default."""
    cadence = (spec.pack_version.content or {}).get("cadence") if spec.pack_version else None
    if cadence in Cycle.Cadence.values:
        return cadence
    default = okr_settings().default_cadence
    return default if default in Cycle.Cadence.values else Cycle.Cadence.BIWEEKLY


def _create_cycles(spec: ClientSpec, admin: User, now: datetime) -> list[Cycle]:
    """In the new organisation's schema, as its org admin (the cycle services' rule)."""
    cadence = _cadence(spec)
    if spec.cycle_plan == PLAN_CUSTOM:
        cycle = cycle_create(
            actor=admin, name=spec.cycle_name, kind=spec.cycle_kind, start_date=spec.cycle_start,
            end_date=spec.cycle_end, cadence=cadence,
        )  # fmt: skip
        return [cycle_activate(cycle=cycle, actor=admin)]
    today = now.astimezone(ZoneInfo(spec.timezone)).date()
    year = cycle_create(
        actor=admin, name=f"FY{today.year}", kind=Cycle.Kind.ANNUAL, start_date=date(today.year, 1, 1),
        end_date=date(today.year, 12, 31), cadence=cadence,
    )  # fmt: skip
    start, end, number = _quarter_of(today)
    quarter = cycle_create(
        actor=admin, name=f"Q{number} {today.year}", kind=Cycle.Kind.QUARTER, start_date=start,
        end_date=end, parent=year, cadence=cadence,
    )  # fmt: skip
    return [cycle_activate(cycle=year, actor=admin), cycle_activate(cycle=quarter, actor=admin)]


_CYCLE_FIELDS = {
    "name": "cycle_name",
    "start_date": "cycle_start",
    "end_date": "cycle_end",
    "kind": "cycle_kind",
}


def _consultants_to_assign(spec: ClientSpec, actor) -> list[User]:
    people = ([actor] if permissions.is_consultant(actor) else []) + list(spec.consultants)
    unique: dict[int, User] = {}
    for person in people:
        unique.setdefault(person.pk, person)
    return list(unique.values())


class _Onboarding:
    """One run of ``client_onboard``: the steps, their timings and what they made."""

    def __init__(self, *, spec: ClientSpec, actor, progress: Progress | None, now: datetime, ip):
        self.spec, self.actor, self.progress, self.now, self.ip = spec, actor, progress, now, ip
        self.steps = ["validate", "provision", "cycles"]
        self.steps += ["people"] if spec.people_csv else []
        self.steps += ["consultants"]  # before the pack: applying one is the assigned consultants' right
        self.steps += ["pack"] if spec.pack_version is not None else []
        self.steps += ["record"]
        self.timings: list[StepTiming] = []
        self.current = "validate"
        self.provisioned = None
        self.cycles: list[Cycle] = []
        self.people: ImportReport | None = None
        self.assignments: list[ConsultantAssignment] = []
        self.pack: MethodPackApplication | None = None

    def step(self, name: str, work: Callable[[], str | None]) -> None:
        self.current = name
        if self.progress is not None:
            self.progress(name, len(self.timings), len(self.steps))
        started = time.perf_counter()
        detail = work()
        self.timings.append(StepTiming(name, time.perf_counter() - started, detail or ""))

    def run(self) -> OnboardResult:
        try:
            self.step("validate", lambda: client_spec_validate(self.spec))
            with transaction.atomic():
                self.step("provision", self.provision)
                organization = self.provisioned.organization
                with tenant_context(organization):
                    self.step("cycles", self.create_cycles)
                    if "people" in self.steps:
                        self.step("people", self.import_people)
                self.step("consultants", self.assign)
                if "pack" in self.steps:
                    self.step("pack", self.apply_pack)
                self.step("record", self.record)
        except OnboardingError:
            raise
        except ValidationError as exc:
            raise OnboardingError(self.keyed(exc), step=self.current) from exc
        except PermissionDenied as exc:
            message = str(exc) or _("You are not allowed to do this.")
            raise OnboardingError({NON_FIELD_ERRORS: [message]}, step=self.current) from exc
        except DatabaseError as exc:
            logger.exception("onboarding %s failed at %s", self.spec.slug, self.current)
            message = _("The database refused a change; try again in a moment.")
            raise OnboardingError({NON_FIELD_ERRORS: [message]}, step=self.current) from exc
        finally:
            connection.set_schema_to_public()
        if self.progress is not None:
            self.progress("done", len(self.steps), len(self.steps))
        result = OnboardResult(
            organization=organization, admin=self.provisioned.admin,
            set_password_url=self.provisioned.set_password_url, address=organization_url(organization),
            cycles=self.cycles, people=self.people, pack_application=self.pack,
            assignments=self.assignments, steps=self.timings,
        )  # fmt: skip
        logger.info(
            "client %s onboarded in %.2fs by %s", organization.slug, result.seconds,
            getattr(self.actor, "email", "system"),
        )  # fmt: skip
        return result

    def keyed(self, error: ValidationError) -> dict[str, list[str]]:
        """A service's error re-keyed to the spec's fields."""
        mapping = _CYCLE_FIELDS if self.current == "cycles" else {}
        fallback = {"pack": "pack_version", "consultants": "consultants"}.get(self.current, NON_FIELD_ERRORS)
        if self.current == "provision":  # organization_provision names the spec's own fields
            mapping = {name: name for name in ("name", "slug", "admin_email", "timezone", "language")}
        if not hasattr(error, "error_dict"):
            return {fallback: error.messages}
        keyed: dict[str, list[str]] = {}
        for name, messages in error.message_dict.items():
            keyed.setdefault(mapping.get(name, fallback), []).extend(messages)
        return keyed

    def provision(self) -> str:
        spec = self.spec
        self.provisioned = organization_provision(
            name=spec.name, slug=spec.slug, admin_email=spec.admin_email, admin_name=spec.admin_name,
            timezone=spec.timezone, language=spec.language, status=spec.status, actor=self.actor,
        )  # fmt: skip
        return f"{organization_host(self.provisioned.organization)} ({self.provisioned.method})"

    def create_cycles(self) -> str:
        self.cycles = _create_cycles(self.spec, self.provisioned.admin, self.now)
        return ", ".join(cycle.name for cycle in self.cycles)

    def import_people(self) -> str:
        data = self.spec.people_csv
        report = people_import(
            actor=self.provisioned.admin, file=data.encode("utf-8") if isinstance(data, str) else data,
            dry_run=False,
        )  # fmt: skip
        if report.errors:
            raise OnboardingError(
                {"people_csv": [_("The people file has problems (listed by row); nothing was imported.")]},
                step="people",
                row_errors=report.errors,
            )
        self.people = report
        return _("%(invited)d invited, %(updated)d updated") % {
            "invited": len(report.to_create), "updated": len(report.to_update),
        }  # fmt: skip

    def assign(self) -> str:
        organization = self.provisioned.organization
        consultants = _consultants_to_assign(self.spec, self.actor)
        self.assignments = [
            consultant_assign(organization=organization, consultant=consultant, actor=self.actor)
            for consultant in consultants
        ]
        return ", ".join(consultant.email for consultant in consultants)

    def apply_pack(self) -> str:
        self.pack = method_pack_apply(
            organization=self.provisioned.organization, version=self.spec.pack_version, actor=self.actor
        )
        return str(self.spec.pack_version)

    def record(self) -> str:
        spec, people = self.spec, self.people
        event_record(
            PlatformEvent.Action.ONBOARDED,
            organization=self.provisioned.organization,
            actor=self.actor,
            consultant=self.actor if permissions.is_consultant(self.actor) else None,
            ip=self.ip,
            cycles=[cycle.name for cycle in self.cycles],
            people_invited=len(people.to_create) if people else 0,
            people_updated=len(people.to_update) if people else 0,
            pack=(
                {"slug": spec.pack_version.pack.slug, "version": spec.pack_version.number}
                if spec.pack_version is not None
                else None
            ),
            consultants=[assignment.consultant.email for assignment in self.assignments],
            admin_email=spec.admin_email,
            seconds={timing.name: round(timing.seconds, 3) for timing in self.timings},
        )
        return ""


def client_onboard(
    *,
    spec: ClientSpec,
    actor: User | None,
    progress: Progress | None = None,
    now: datetime | None = None,
    ip: str | None = None,
) -> OnboardResult:
    """Create the client described by ``spec``, all or nothing: check it, provision the
    organisation (cloned schema, domain, org admin invited on commit), open the first
    cycle(s), import the people, assign the consultants, apply the method pack and record
    a ``PlatformEvent`` (onboarded) — in one transaction.

    ``actor`` is the onboarding consultant (always assigned to the client), a platform
    admin, or None (a command run by the system). ``progress(step, index, total)`` is called
    as each step starts (index from 0) and once more with ``("done", total, total)``.

    Raises ``OnboardingError`` (a ``ValidationError`` keyed by ``ClientSpec`` field, naming
    the step that failed) and ``PermissionDenied``; nothing is created then.
    """
    if actor is not None and not permissions.can_onboard_client(actor):
        raise PermissionDenied(_("Only consultants and platform admins onboard clients."))
    return _Onboarding(spec=spec, actor=actor, progress=progress, now=now or timezone.now(), ip=ip).run()
