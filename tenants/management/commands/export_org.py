"""Write one organisation's whole schema to a versioned archive (see docs/backup.md)."""

import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.archive import organization_export
from tenants.management.commands.import_org import explain, progress_bars


class Command(BaseCommand):
    help = "Export an organisation (every table of its schema, plus a manifest) to a ZIP archive."

    def add_arguments(self, parser):
        parser.add_argument("--schema", required=True, help="The organisation's schema, e.g. acme")
        parser.add_argument("--out", required=True, help="Archive to write, e.g. acme-2026-05-01.zip")
        parser.add_argument("--force", action="store_true", help="Overwrite the archive if it exists")

    def handle(self, *args, schema, out, force, **options):
        path = Path(out)
        if path.exists() and not force:
            raise CommandError(f"Nothing was written: {path} exists (choose another name, or add --force).")
        started = time.perf_counter()
        with progress_bars(self, options["verbosity"]) as bars:
            try:
                manifest = organization_export(schema=schema, out=path, progress=bars.update)
            except ValidationError as exc:
                raise CommandError(explain("Nothing was written:", exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {manifest.organization['name']} ({schema}): {len(manifest.tables)} tables, "
                f"{manifest.total_rows} rows in {time.perf_counter() - started:.2f} s to {path} "
                f"({path.stat().st_size / 1024:.0f} KiB)."
            )
        )
