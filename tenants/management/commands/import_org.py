"""Restore an organisation archive as a new organisation (see docs/backup.md)."""

import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.archive import organization_import
from tenants.management.progress import TableBars
from tenants.services import organization_url

PHASES = {"export": "[export_org] tables", "verify": "[import_org] checking", "load": "[import_org] loading"}


def progress_bars(command, verbosity: int) -> TableBars:
    """One bar per phase of export_org / import_org, on the command's stderr."""
    return TableBars(
        command.stderr, disabled=verbosity == 0, describe=lambda _schema, phase: PHASES.get(phase, phase)
    )


def explain(headline: str, exc: ValidationError) -> str:
    if not hasattr(exc, "error_dict"):
        return "\n  ".join([headline, *exc.messages])
    lines = [headline]
    for field, messages in exc.message_dict.items():
        lines += [f"  {field}: {messages[0]}", *(f"    {message}" for message in messages[1:])]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Import an archive written by export_org as a new organisation (new subdomain, same data)."

    def add_arguments(self, parser):
        parser.add_argument("--in", dest="archive", required=True, help="Archive written by export_org")
        parser.add_argument("--slug", required=True, help="Subdomain of the new organisation, e.g. acme-copy")
        parser.add_argument("--name", help="Display name (default: the archived organisation's)")

    def handle(self, *args, archive, slug, name=None, **options):
        started = time.perf_counter()
        with progress_bars(self, options["verbosity"]) as bars:
            try:
                organization = organization_import(
                    archive=Path(archive), slug=slug, name=name, progress=bars.update
                )
            except ValidationError as exc:
                raise CommandError(explain("Nothing was created:", exc)) from exc
            tables, rows = (bars.tables, bars.rows) if bars.phase == "load" else (0, 0)
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {organization.name} at {organization_url(organization)}: {tables} tables, "
                f"{rows} rows in {time.perf_counter() - started:.2f} s."
            )
        )
        self.stdout.write(f"  schema {organization.schema_name}, status {organization.status}")
        if not organization.is_serving:
            self.stdout.write(f"  It is {organization.status}: reactivate it in the admin to open it.")
