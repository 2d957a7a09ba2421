"""Run the reminder logic on demand, for every serving organisation (or one)."""

import time
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_tenants.utils import tenant_context
from tqdm import tqdm

from reviews.reminders import run_reminders
from tenants.management.progress import bar_stream
from tenants.models import Organization


class Command(BaseCommand):
    help = "Work out and send due reminders and digests now (what the 15-minute task does)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--now", help="Pretend it is this instant (ISO 8601 with offset, e.g. 2026-11-23T09:00+01:00)"
        )
        parser.add_argument("--dry-run", action="store_true", help="Show what would be sent; send nothing")
        parser.add_argument("--schema", help="Only this organisation's schema")

    def handle(self, *args, now=None, dry_run=False, schema=None, **options):
        try:
            instant = datetime.fromisoformat(now) if now else timezone.now()
        except ValueError as exc:
            raise CommandError(f"--now must be ISO 8601, e.g. 2026-11-23T09:00+01:00 ({exc})") from exc
        if timezone.is_naive(instant):
            raise CommandError("--now needs a UTC offset, e.g. 2026-11-23T09:00+01:00 or ...Z")
        organizations = Organization.objects.serving()
        if schema:
            organizations = organizations.filter(schema_name=schema)
            if not organizations.exists():
                raise CommandError(f"No serving organisation with schema “{schema}”.")
        started, total_due, total_sent = time.perf_counter(), 0, 0
        verb = "would send" if dry_run else "sent"
        for organization in tqdm(
            list(organizations), unit="org", disable=options["verbosity"] == 0, file=bar_stream(self)
        ):
            with tenant_context(organization):
                summary = run_reminders(instant, dry_run=dry_run)
            total_due += len(summary.due)
            total_sent += summary.sent
            if options["verbosity"] > 1 or (summary.due and options["verbosity"] > 0):
                counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.counts().items())) or "nothing due"
                sent = len(summary.due) if dry_run else summary.sent
                self.stdout.write(f"{organization.slug}: due {len(summary.due)} ({counts}); {verb} {sent}")
        self.stdout.write(
            f"{total_due} due, {verb} {total_due if dry_run else total_sent} "
            f"in {time.perf_counter() - started:.2f} s at {instant.isoformat()}."
        )
