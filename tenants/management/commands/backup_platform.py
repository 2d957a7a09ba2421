"""Back up the whole platform: the public schema (pg_dump) and every organisation's archive,
from one snapshot, with a manifest of checksums (see docs/backup.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from tenants.archive import Progress
from tenants.backup import BackupError, platform_backup
from tenants.management.progress import bar_stream


class OrganizationBars:
    """One tqdm bar per organisation, advanced per table (the table's name alongside)."""

    def __init__(self, command: BaseCommand, *, disabled: bool, label: str):
        self.command, self.disabled, self.label = command, disabled, label
        self.bar, self.schema = None, None

    def update(self, schema: str, step: Progress) -> None:
        if (schema, step.phase) != self.schema:
            self.close()
            self.schema = (schema, step.phase)
            self.bar = tqdm(
                total=step.total, desc=f"[{self.label}] {schema} {step.phase}", unit="table",
                file=bar_stream(self.command), disable=self.disabled, dynamic_ncols=True, leave=False,
            )  # fmt: skip
        self.bar.set_postfix_str(step.table, refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class Command(BaseCommand):
    help = (
        "Back up the platform into DIR/<UTC timestamp>/: public.dump (pg_dump of the public schema), "
        "one archive per organisation and manifest.json, all from one database snapshot."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--out", required=True, help="Directory that holds the backups, e.g. /var/backups/okr"
        )
        parser.add_argument(
            "--schema", action="append", dest="schemas", metavar="SCHEMA",
            help="Only this organisation (repeatable); the public schema is always dumped",
        )  # fmt: skip
        parser.add_argument(
            "--keep", type=int, metavar="N",
            help="Afterwards delete the complete backups in DIR beyond the newest N (see docs/backup.md)",
        )  # fmt: skip
        parser.add_argument(
            "--pg-bin", help="Directory of the pg_dump to use (default: PATH, then pgserver's)"
        )

    def handle(self, *args, out, schemas=None, keep=None, pg_bin=None, **options):
        if keep is not None and keep < 1:
            raise CommandError("--keep must be at least 1. Nothing was written.")
        verbosity = options["verbosity"]

        def notify(line: str) -> None:
            if verbosity:
                self.stdout.write(f"[backup] {line}")

        with OrganizationBars(self, disabled=verbosity == 0, label="backup") as bars:
            try:
                result = platform_backup(
                    out_dir=Path(out), schemas=schemas, keep=keep, bin_dir=pg_bin, progress=bars.update,
                    notify=lambda line: (bars.close(), notify(line)),
                )  # fmt: skip
            except BackupError as exc:
                raise CommandError(str(exc)) from exc
        organizations = result.manifest["organizations"]
        size = sum(entry["size"] for entry in result.manifest["files"].values())
        for path in result.pruned:
            notify(f"pruned {path}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {result.path}: the public schema and {len(organizations['included'])} "
                f"organisations ({len(organizations['skipped'])} skipped), {size / 1024:.0f} KiB "
                f"in {result.seconds:.1f} s."
            )
        )
