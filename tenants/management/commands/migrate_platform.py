"""Bring every schema up to date: public, the clone template and all organisations."""

import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from tenants.models import Domain, Organization, SpareSchema
from tenants.schema_clone import install_clone_function
from tenants.schema_pool import pool_size, spare_fill
from tenants.services import template_ensure

# Below this many organisations, starting worker processes costs more than it saves.
PARALLEL_FROM = 8


class Command(BaseCommand):
    help = "Migrate the public schema, the template schema (D3) and every organisation's schema."

    def add_arguments(self, parser):
        parser.add_argument("--processes", type=int, default=2, help="Parallel workers for tenant schemas.")

    def step(self, message):
        self.stdout.write(f"[migrate] {message}")

    def handle(self, *args, **options):
        started = time.perf_counter()
        verbosity = max(options["verbosity"] - 1, 0)
        self.step("public schema …")
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
        public, _ = Organization.objects.get_or_create(
            schema_name="public",
            defaults={"name": "Platform", "slug": "_public", "status": Organization.Status.ACTIVE},
        )
        Domain.objects.get_or_create(
            domain=settings.BASE_DOMAIN, defaults={"tenant": public, "is_primary": True}
        )

        install_clone_function()  # keep the SQL function in step with the installed django-tenants
        state = template_ensure(verbosity=verbosity)
        note = "ready" if state == "ready" else f"was {state}, now ready"
        self.step(f"template schema {settings.TENANT_BASE_SCHEMA}: {note}")

        count = Organization.objects.exclude(schema_name="public").count()
        executor = "multiprocessing" if count >= PARALLEL_FROM else "standard"
        self.step(f"{count} tenant schemas (template included) with the {executor} executor …")
        if executor == "multiprocessing":
            settings.TENANT_MULTIPROCESSING_MAX_PROCESSES = options["processes"]
        call_command(
            "migrate_schemas", tenant=True, interactive=False, verbosity=verbosity, executor=executor
        )
        made, ready = spare_fill(), SpareSchema.objects.count()
        self.step(f"warm pool: {ready} of {pool_size()} spare schemas ready ({made} cloned now)")
        self.step(self.style.SUCCESS(f"done in {time.perf_counter() - started:.1f} s"))
