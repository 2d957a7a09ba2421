"""Take a health snapshot of one organisation or of every serving one (the consultant portal's figures)."""

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from tenants.health import health_snapshots_refresh
from tenants.management.progress import bar_stream


class Command(BaseCommand):
    help = "Compute each organisation's health figures in its schema and store a snapshot in public."

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="Only this organisation's schema (default: every serving one)")

    def handle(self, *args, schema=None, **options):
        started = time.perf_counter()

        def progress(organizations):
            bar = tqdm(organizations, unit="org", disable=options["verbosity"] == 0, file=bar_stream(self))
            for organization in bar:
                bar.set_postfix_str(organization.slug)
                yield organization

        try:
            snapshots = health_snapshots_refresh(schema=schema, progress=progress)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages) + " List them in the admin.") from exc
        escalations = sum(s.escalations_open for s in snapshots)
        self.stdout.write(
            f"Took {len(snapshots)} health snapshot{'s' if len(snapshots) != 1 else ''} "
            f"({sum(s.key_results_in_cycle for s in snapshots)} key results in current cycles, "
            f"{escalations} open escalations, {sum(s.reviews_overdue for s in snapshots)} overdue reviews) "
            f"in {time.perf_counter() - started:.2f} s."
        )
