"""Back up the whole platform: the public schema (pg_dump) and every organisation's archive,
from one snapshot, with a manifest of checksums (see docs/backup.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tenants.backup import BackupError, platform_backup
from tenants.management.progress import organization_bars


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

        with organization_bars(self, "backup", verbosity) as bars:
            try:
                result = platform_backup(
                    out_dir=Path(out), schemas=schemas, keep=keep, bin_dir=pg_bin, progress=bars.update_for,
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
