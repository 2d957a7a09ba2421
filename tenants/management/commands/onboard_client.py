"""Onboard a client from a YAML file: the portal wizard's input, run through the same
service (``tenants.onboarding.client_onboard``), all or nothing. See docs/examples/client.yaml."""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

import yaml
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts.imports_csv import MAX_FILE_BYTES
from accounts.models import User
from tenants.models import MethodPack, MethodPackVersion
from tenants.onboarding import (
    PLAN_ANNUAL_AND_QUARTER,
    PLAN_CUSTOM,
    STEP_LABELS,
    ClientSpec,
    OnboardingError,
    client_onboard,
)

KEYS = {
    "name",
    "slug",
    "timezone",
    "language",
    "status",
    "cycle",
    "admin",
    "people_csv",
    "pack",
    "consultants",
}
CYCLE_KEYS = {"plan", "name", "start", "end", "kind"}
ADMIN_KEYS = {"email", "name"}
PACK_KEYS = {"slug", "version"}
# Where each ClientSpec field is written in the file, for error messages.
FIELD_PATHS = {
    "admin_email": "admin.email", "admin_name": "admin.name", "cycle_plan": "cycle.plan",
    "cycle_name": "cycle.name", "cycle_start": "cycle.start", "cycle_end": "cycle.end",
    "cycle_kind": "cycle.kind", "pack_version": "pack", NON_FIELD_ERRORS: "",
}  # fmt: skip


class SpecFileError(Exception):
    """The file cannot describe a client; ``problems`` are "where: what" lines."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _text(data: dict, key: str, where: str, problems: list[str], *, required: bool = True) -> str:
    value = data.get(key)
    if value is None:
        if required:
            problems.append(f"{where}{key}: missing.")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        problems.append(f"{where}{key}: expected text, got {type(value).__name__}.")
        return ""
    return str(value)


def _mapping(data: dict, key: str, allowed: set[str], problems: list[str]) -> dict:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{key}: expected a mapping (keys {', '.join(sorted(allowed))}).")
        return {}
    unknown = sorted(str(name) for name in set(value) - allowed)
    if unknown:
        problems.append(f"{key}: unknown key(s) {', '.join(unknown)}; use {', '.join(sorted(allowed))}.")
    return value


def _date(value, where: str, problems: list[str]) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{where}: “{value}” is not a date (YYYY-MM-DD).")
        return None


def _pack_version(pack: dict, problems: list[str]) -> MethodPackVersion | None:
    if not pack:
        return None
    slug = str(pack.get("slug") or "")
    found = MethodPack.objects.filter(slug=slug).first()
    if found is None:
        problems.append(f"pack.slug: no method pack “{slug}”.")
        return None
    versions = MethodPackVersion.objects.select_related("pack").filter(pack=found)
    number = pack.get("version")
    if number is None:
        version = versions.order_by("-number").first()
        if version is None:
            problems.append(f"pack: “{slug}” has no published version.")
        return version
    version = versions.filter(number=number).first() if isinstance(number, int) else None
    if version is None:
        known = ", ".join(str(n) for n in versions.order_by("number").values_list("number", flat=True))
        problems.append(f"pack.version: “{slug}” has no version {number} (it has {known or 'none'}).")
    return version


def _consultants(emails, problems: list[str]) -> list[User]:
    if emails is None:
        return []
    if not isinstance(emails, list) or not all(isinstance(email, str) for email in emails):
        problems.append("consultants: expected a list of e-mail addresses.")
        return []
    wanted = [email.strip().lower() for email in emails]
    found = {user.email: user for user in User.objects.filter(email__in=wanted, role=User.Role.CONSULTANT)}
    for email in wanted:
        if email not in found:
            problems.append(f"consultants: {email} is not a consultant account.")
    return [found[email] for email in wanted if email in found]


def _people_csv(value, base_dir: Path, problems: list[str]) -> bytes | None:
    if value is None:
        return None
    path = base_dir / str(value)
    if not path.is_file():
        problems.append(f"people_csv: no file {path}.")
        return None
    with path.open("rb") as handle:
        return handle.read(MAX_FILE_BYTES + 1)  # the importer refuses anything larger


def load_yaml(text: str, *, source: str) -> dict:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{source}, line {mark.line + 1}" if mark is not None else source
        problem = getattr(error, "problem", None) or str(error)
        raise SpecFileError([f"{where}: the YAML is not valid ({problem})."]) from error
    if not isinstance(data, dict):
        raise SpecFileError([f"{source}: expected a mapping of keys ({', '.join(sorted(KEYS))})."])
    return data


def spec_from_file(path: Path) -> ClientSpec:
    """The ClientSpec a YAML file describes; raises SpecFileError listing every problem
    the file has on its own (the onboarding checks the rest)."""
    if not path.is_file():
        raise SpecFileError([f"{path}: no such file."])
    data = load_yaml(path.read_text(encoding="utf-8"), source=path.name)
    problems: list[str] = []
    unknown = sorted(str(key) for key in set(data) - KEYS)
    if unknown:
        problems.append(f"unknown key(s) {', '.join(unknown)}; use {', '.join(sorted(KEYS))}.")
    cycle = _mapping(data, "cycle", CYCLE_KEYS, problems)
    admin = _mapping(data, "admin", ADMIN_KEYS, problems)
    pack = _mapping(data, "pack", PACK_KEYS, problems)
    spec = ClientSpec(
        name=_text(data, "name", "", problems),
        slug=_text(data, "slug", "", problems),
        timezone=_text(data, "timezone", "", problems, required=False) or "UTC",
        language=_text(data, "language", "", problems, required=False) or "en",
        admin_email=_text(admin, "email", "admin.", problems),
        admin_name=_text(admin, "name", "admin.", problems, required=False),
        cycle_plan=_text(cycle, "plan", "cycle.", problems, required=False) or PLAN_ANNUAL_AND_QUARTER,
        cycle_name=_text(cycle, "name", "cycle.", problems, required=False),
        cycle_start=_date(cycle.get("start"), "cycle.start", problems),
        cycle_end=_date(cycle.get("end"), "cycle.end", problems),
        cycle_kind=_text(cycle, "kind", "cycle.", problems, required=False) or "custom",
        people_csv=_people_csv(data.get("people_csv"), path.parent, problems),
        pack_version=_pack_version(pack, problems),
        consultants=_consultants(data.get("consultants"), problems),
        status=_text(data, "status", "", problems, required=False) or "pilot",
    )
    if spec.cycle_plan not in (PLAN_ANNUAL_AND_QUARTER, PLAN_CUSTOM):
        problems.append(f"cycle.plan: use {PLAN_ANNUAL_AND_QUARTER} or {PLAN_CUSTOM}.")
    if problems:
        raise SpecFileError(problems)
    return spec


class Command(BaseCommand):
    help = (
        "Onboard a client organisation from a YAML file (the portal wizard's input): provision it, open "
        "its first cycles, import its people, assign consultants and apply a method pack — all or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--file", required=True, help="The client's YAML file (see docs/examples/client.yaml)"
        )
        parser.add_argument(
            "--consultant",
            help="E-mail of the consultant onboarding the client (assigned to it; default: the system)",
        )

    def handle(self, *args, file: str, consultant: str | None = None, **options):
        path = Path(file)
        actor = None
        if consultant:
            actor = User.objects.filter(email=consultant.strip().lower(), role=User.Role.CONSULTANT).first()
            if actor is None or not actor.is_active:
                raise CommandError(f"Nothing was created: {consultant} is not an active consultant account.")
        try:
            spec = spec_from_file(path)
        except SpecFileError as error:
            raise CommandError(
                "Nothing was created:\n" + "\n".join(f"  {p}" for p in error.problems)
            ) from error

        # The raw stream: Django's wrapper would end each of tqdm's redraws with a newline.
        stream = options.get("stderr") or sys.stderr
        bar = tqdm(total=1, unit="step", disable=options["verbosity"] == 0, file=stream)

        def progress(step: str, index: int, total: int) -> None:
            bar.total = total
            bar.n = index
            bar.set_description_str(str(STEP_LABELS.get(step, "done")))
            bar.refresh()

        started = time.perf_counter()
        try:
            result = client_onboard(spec=spec, actor=actor, progress=progress)
        except OnboardingError as error:
            bar.close()
            raise CommandError(self._failure(error)) from error
        except PermissionDenied as error:
            bar.close()
            raise CommandError(f"Nothing was created: {error}") from error
        bar.close()
        organization = result.organization
        self.stdout.write(
            self.style.SUCCESS(
                f"Onboarded {organization.name} at {result.address} in {time.perf_counter() - started:.2f} s"
            )
        )
        for step in result.steps:
            detail = f" — {step.detail}" if step.detail else ""
            self.stdout.write(f"  ✓ {step.label}{detail} ({step.seconds:.2f} s)")
        self.stdout.write(
            f"The org admin {result.admin.email} sets a password here:\n  {result.set_password_url}"
        )

    @staticmethod
    def _failure(error: OnboardingError) -> str:
        lines = [f"Nothing was created (stopped at: {error.step_label})."]
        for field, messages in error.message_dict.items():
            where = FIELD_PATHS.get(field, field)
            lines += [f"  {where}: {message}" if where else f"  {message}" for message in messages]
        for problem in error.row_errors:
            place = "people_csv" if problem.row is None else f"people_csv row {problem.row}"
            column = f", column {problem.column}" if problem.column else ""
            lines.append(f"    {place}{column}: {problem.message}")
        return "\n".join(lines)
