"""Check a backup written by backup_platform: checksums, the public dump, the archives."""

from django.core.management.base import BaseCommand, CommandError

from tenants.backup_verify import backup_verify


class Command(BaseCommand):
    help = (
        "Verify a backup directory (DIR/<timestamp>): every file's size and SHA-256, pg_restore --list "
        "of public.dump, and each organisation archive's manifest and CRCs. Exit code 1 if anything is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The backup's directory, e.g. /var/backups/okr/20260501T023000Z")
        parser.add_argument(
            "--pg-bin", help="Directory of the pg_restore to use (default: PATH, then pgserver's)"
        )

    def handle(self, *args, path, pg_bin=None, **options):
        report = backup_verify(path=path, bin_dir=pg_bin)
        if options["verbosity"] > 1 or (options["verbosity"] and report.ok):
            for line in report.checked:
                self.stdout.write(f"  OK  {line}")
        if not report.ok:
            raise CommandError(
                f"The backup {report.path} is NOT usable:\n"
                + "\n".join(f"  {problem}" for problem in report.problems)
            )
        self.stdout.write(
            self.style.SUCCESS(f"OK: the backup {report.path} verifies ({len(report.checked)} checks).")
        )
