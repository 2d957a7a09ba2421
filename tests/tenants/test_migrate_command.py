"""The per-schema migrate (tenants/migrate_command.py): a schema with nothing to migrate is
left alone (no model state rendered, no post_migrate hooks); anything else is Django's
migrate, unchanged."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.models.signals import post_migrate
from django_tenants.utils import tenant_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def post_migrate_runs():
    runs: list[str] = []

    def receiver(sender, **kwargs):
        runs.append(sender.label)

    post_migrate.connect(receiver, weak=False, dispatch_uid="test-migrate-command")
    yield runs
    post_migrate.disconnect(dispatch_uid="test-migrate-command")


def migrate(schema: str, **options) -> None:
    call_command("migrate_schemas", schema_name=schema, interactive=False, verbosity=1, **options)
    connection.set_schema_to_public()


def test_an_up_to_date_schema_is_left_alone(acme, post_migrate_runs, capsys):
    migrate(acme.schema_name)

    assert "No migrations to apply." in capsys.readouterr().out
    assert post_migrate_runs == []


def test_a_schema_missing_a_migration_goes_through_djangos_migrate(acme, post_migrate_runs):
    with tenant_context(acme):
        leaf = next(node for node in MigrationLoader(connection).graph.leaf_nodes() if node[0] == "okrs")
        MigrationRecorder.Migration.objects.filter(app=leaf[0], name=leaf[1]).delete()

    migrate(acme.schema_name, fake=True)

    with tenant_context(acme):
        assert MigrationRecorder.Migration.objects.filter(app=leaf[0], name=leaf[1]).exists()
    assert "okrs" in post_migrate_runs


def test_a_named_app_is_djangos_migrate_even_when_up_to_date(acme, post_migrate_runs):
    migrate(acme.schema_name, app_label="okrs")

    assert "okrs" in post_migrate_runs
