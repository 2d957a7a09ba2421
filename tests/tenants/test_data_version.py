"""Each organisation's data version (tenants/data_version.py, ADR 0011): every table that a
cached page can show carries the trigger, in every kind of schema; a committed change moves the
version once, whatever made it; a rolled-back one, another organisation's, or a write to an
untracked table does not."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from accounts.models import InboxItem, User
from okrs.models import KeyResult, Objective
from okrs.recalculation import recalculate_all
from tenants.data_version import (
    UNTRACKED_TABLES,
    bulk_write,
    data_version,
    install_triggers,
    remove_triggers,
    tables_without_trigger,
)
from tenants.models import Organization

# No module-wide django_db: the tests using ``committed_acme`` must run outside a test
# transaction (their commits are real); the others get one through the ``acme`` fixture.


def _tenant_tables() -> set[str]:
    return {
        model._meta.db_table
        for app in settings.TENANT_APPS
        for model in apps.get_app_config(app.rsplit(".", 1)[-1]).get_models(include_auto_created=True)
    }


def test_every_table_of_an_organisation_carries_the_trigger_in_every_kind_of_schema(acme):
    # The template (built by migrations), acme (seeded from it) and the test suite's own pool
    # of spares (clones) all have it on every table but the untracked ones.
    with connection.cursor() as cursor:
        cursor.execute("SELECT schema_name FROM tenants_spareschema")
        spares = [name for (name,) in cursor.fetchall()]
    for schema in ["tenant_template", acme.schema_name, "globex", *spares]:
        assert tables_without_trigger(schema) == [], schema
    # The untracked list names real tables only (a renamed table would silently get tracked
    # while its old name stays here), and every model's table is covered.
    assert _tenant_tables() | {"django_migrations"} >= UNTRACKED_TABLES
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT c.relname) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND t.tgname = 'okr_data_changed'",
            [acme.schema_name],
        )
        assert cursor.fetchone()[0] == len(_tenant_tables() - UNTRACKED_TABLES)


def test_own_changes_move_the_version_inside_the_transaction_every_time(acme, globex):
    with tenant_context(acme):
        before, other = data_version(), data_version(globex.schema_name)
        objective = Objective.objects.first()
        Objective.objects.filter(pk=objective.pk).update(title="Renamed once")
        first = data_version()
        assert first != before
        assert data_version() == first  # reading again changes nothing
        KeyResult.objects.filter(objective=objective).update(title="Renamed too")
        second = data_version()
        assert second not in (before, first)
        assert data_version(globex.schema_name) == other


def test_untracked_tables_do_not_move_the_version(acme):
    with tenant_context(acme):
        before = data_version()
        user = User.objects.get(email="sre@acme.example")
        InboxItem.objects.filter(user=user).update(read_at=timezone.now())
        Session.objects.create(session_key="x" * 32, session_data="", expire_date=timezone.now())
        assert data_version() == before


@pytest.fixture
def committed_acme(committed):
    """acme outside any test transaction (``committed``): commits are real here."""
    return Organization.objects.get(slug="acme")


@pytest.fixture
def committed_objective(committed_acme):
    with tenant_context(committed_acme):
        objective = Objective.objects.order_by("pk").first()
        title = objective.title
    yield objective
    with tenant_context(committed_acme):
        Objective.objects.filter(pk=objective.pk).update(title=title)
    connection.set_schema_to_public()


def _sequence() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value FROM public.tenants_dataversion_seq")
        return cursor.fetchone()[0]


def test_a_commit_moves_the_version_once_and_a_rollback_not_at_all(committed_acme, committed_objective):
    with schema_context(committed_acme.schema_name):
        before = data_version()
        with transaction.atomic():
            Objective.objects.filter(pk=committed_objective.pk).update(title="Never seen")
            transaction.set_rollback(True)
        assert data_version() == before

        sequence = _sequence()
        with transaction.atomic():
            # One bulk statement over many rows, another table, and raw SQL: one new version.
            KeyResult.objects.filter(objective__cycle=committed_objective.cycle_id).update(title=F("title"))
            Objective.objects.filter(pk=committed_objective.pk).update(title="Committed")
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE okrs_objective SET title = title WHERE id = %s", [committed_objective.pk]
                )
        after = data_version()
        assert after != before
        assert _sequence() == sequence + 1  # once for the transaction, never per row


def test_a_change_committed_by_another_connection_is_seen_once_committed(committed_acme, committed_objective):
    # What a web process sees when a worker (another connection) recalculates scores.
    acme = committed_acme
    with schema_context(acme.schema_name):
        before = data_version()
        other = connections.create_connection("default")
        try:
            other.set_autocommit(False)
            with other.cursor() as cursor:
                cursor.execute(f'SET search_path = "{acme.schema_name}", public')
                cursor.execute(
                    "UPDATE okrs_objective SET title = 'By a worker' WHERE id = %s", [committed_objective.pk]
                )
            assert data_version() == before  # not committed yet: not visible
            other.commit()
        finally:
            other.close()
        assert data_version() != before


def test_bulk_write_queues_no_row_events_and_moves_the_version_once_at_its_end(acme):
    with tenant_context(acme):
        before = data_version()
        with transaction.atomic():
            with bulk_write():
                KeyResult.objects.update(updated_at=timezone.now())
                # Nothing queued for these rows: flushing the pending triggers moves nothing.
                assert data_version() == before
            after = data_version()
        assert after != before


def test_the_bulk_recalculation_moves_the_version(acme):
    with tenant_context(acme):
        before = data_version()
        KeyResult.objects.update(progress=-1)  # every row must be rewritten
        with_stale_rows = data_version()
        recalculate_all()
        assert data_version() not in (before, with_stale_rows)
        assert not KeyResult.objects.filter(progress=-1).exists()


def test_bulk_write_needs_a_transaction(committed_acme):
    with (
        schema_context(committed_acme.schema_name),
        pytest.raises(RuntimeError, match="needs a transaction"),
        bulk_write(),
    ):
        pass


def test_triggers_come_off_and_back_on_every_tracked_table(acme):
    # What migrating okrs.0006 backwards and forwards does (DDL, rolled back with the test).
    with tenant_context(acme):
        tracked = len(_tenant_tables() - UNTRACKED_TABLES)
        remove_triggers()
        assert len(tables_without_trigger(acme.schema_name)) == tracked
        assert install_triggers() == tracked
        assert tables_without_trigger(acme.schema_name) == []
