"""The ``migrate`` that django-tenants runs in each schema (``TENANT_BASE_MIGRATE_COMMAND``).

A schema with nothing to migrate is left alone. Django's ``migrate`` would still render the
state of every model and re-run the post_migrate hooks (content types and permissions, which
only change with a migration): about two thirds of the ~300 ms each schema costs, so most of a
deploy's migration time once there are hundreds of organisations (docs/scaling.md). Anything
else (unapplied migrations, conflicts, a named app or migration, --plan, --check, --prune,
--run-syncdb) goes to Django's command unchanged."""

from __future__ import annotations

from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

# Options that ask migrate for more than "apply what is missing".
SPECIFIC = ("app_label", "migration_name", "plan", "check_unapplied", "prune", "run_syncdb")


class Command(MigrateCommand):
    def handle(self, *args, **options):
        if not any(options.get(name) for name in SPECIFIC) and self._up_to_date(options["database"]):
            if options["verbosity"] >= 1:
                self.stdout.write("  No migrations to apply.")
            return
        super().handle(*args, **options)

    @staticmethod
    def _up_to_date(database: str) -> bool:
        executor = MigrationExecutor(connections[database])
        if executor.loader.detect_conflicts():
            return False  # migrate reports them
        return not executor.migration_plan(executor.loader.graph.leaf_nodes())
