"""Recompute every cached OKR score, for one organisation or all of them."""

import time

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context
from tqdm import tqdm

from okrs.recalculation import recalculate_all
from tenants.management.progress import bar_stream
from tenants.models import Organization


class Command(BaseCommand):
    help = "Recompute progress, status, expected progress and forecast with set-based SQL (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="Only this organisation's schema (default: every serving one)")

    def handle(self, *args, schema=None, **options):
        organizations = Organization.objects.serving()
        if schema:
            organizations = Organization.objects.clients().filter(schema_name=schema)
            if not organizations.exists():
                raise CommandError(f"No organisation with schema “{schema}”. List them in the admin.")
        started = time.perf_counter()
        totals = {"key_results": 0, "objectives": 0}
        bar = tqdm(list(organizations), unit="org", disable=options["verbosity"] == 0, file=bar_stream(self))
        for organization in bar:
            bar.set_postfix_str(organization.slug)
            with tenant_context(organization):
                counts = recalculate_all()
            totals["key_results"] += counts["key_results"]
            totals["objectives"] += counts["objectives"]
        self.stdout.write(
            f"Recalculated {totals['key_results']} key results and {totals['objectives']} objectives "
            f"in {time.perf_counter() - started:.2f} s."
        )
