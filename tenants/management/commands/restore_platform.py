"""Restore a whole backup (backup_platform) onto a new, empty database (see docs/backup.md)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tenants.backup import BackupError
from tenants.backup_restore import platform_restore
from tenants.management.progress import organization_bars


class Command(BaseCommand):
    help = (
        "Restore a backup directory into the configured (new, empty) database: public.dump with pg_restore, "
        "the template schema, then every organisation into its original schema. Run migrate_platform after."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The backup's directory, e.g. /var/backups/okr/20260501T023000Z")
        parser.add_argument(
            "--skip-public", action="store_true",
            help="public.dump was restored already (a repeated run): only restore the missing organisations",
        )  # fmt: skip
        parser.add_argument(
            "--pg-bin", help="Directory of the pg_restore to use (default: PATH, then pgserver's)"
        )

    def handle(self, *args, path, skip_public=False, pg_bin=None, **options):
        verbosity = options["verbosity"]

        def notify(line: str) -> None:
            if verbosity:
                self.stdout.write(f"[restore] {line}")

        notify(f"into the database {settings.DATABASES['default']['NAME']}")
        with organization_bars(self, "restore", verbosity) as bars:
            try:
                result = platform_restore(
                    path=path, skip_public=skip_public, bin_dir=pg_bin, progress=bars.update_for,
                    notify=lambda line: (bars.close(), notify(line)),
                )  # fmt: skip
            except BackupError as exc:
                raise CommandError(str(exc)) from exc
        if result.problems:
            raise CommandError(
                f"{len(result.restored)} organisations restored, but not all:\n"
                + "\n".join(f"  {problem}" for problem in result.problems)
                + "\nFix the cause and run again with --skip-public: restored organisations are left alone."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {len(result.restored)} organisations ({len(result.already)} were there already) "
                f"in {result.seconds:.1f} s. Next: run migrate_platform, then start web, worker, beat."
            )
        )
