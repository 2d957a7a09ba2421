"""Each organisation's data version: changes whenever anything its pages show is committed
(ADR 0011). Caches of rendered pages (``tenants.page_cache``) are keyed by it, so a change
made anywhere — a service, a bulk recalculation, an import, the admin, a migration, raw SQL —
is never served stale: the database itself moves the version, not the code that writes.

How: every table of an organisation's schema (but the few in ``UNTRACKED_TABLES``) carries
a deferred constraint trigger that runs ``public.okr_data_changed()`` at commit. The function
sets the schema's row in ``public.tenants_dataversion`` to the next value of a sequence, once
per transaction and schema. The new version is therefore visible exactly when the data is:
a reader that sees it also sees the rows it stands for. The row is locked only while the
transaction commits, so concurrent writers in one organisation barely wait for each other.
A sequence, not a counter: a rolled-back transaction, or an organisation restored from its
archive, never brings back a number that was already used for other data (restoring the
whole database restores the sequence too: flush the cache then, docs/backup.md)."""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection, connections

TRIGGER = "okr_data_changed"
# The triggers' condition: off inside ``bulk_write``.
NOT_IN_BULK_WRITE = "current_setting('okr.bulk_write', true) IS DISTINCT FROM 'on'"
TRUNCATE_TRIGGER = "okr_data_truncated"

# Tables whose writes change nothing a cached page shows: sessions, sign-in records,
# idempotency records, notifications and deliveries (the inbox count and the inbox are never
# cached), API tokens (checked before any cache is read) and the migration log.
UNTRACKED_TABLES = frozenset(
    {
        "django_session",
        "django_migrations",
        "axes_accessattempt",
        "axes_accessattemptexpiration",
        "axes_accessfailurelog",
        "axes_accesslog",
        "accounts_apitoken",
        "accounts_idempotencyrecord",
        "accounts_inboxitem",
        "accounts_notification",
        "accounts_webhookdelivery",
    }
)

CREATE_FUNCTION = """
CREATE SEQUENCE IF NOT EXISTS public.tenants_dataversion_seq;
CREATE OR REPLACE FUNCTION public.okr_data_bump(target text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    marker text := ',' || target || ',';
    done text := coalesce(current_setting('okr.data_changed', true), '');
BEGIN
    -- Once per transaction and schema: a bulk update of 40,000 rows moves the version once.
    IF position(marker IN done) > 0 THEN
        RETURN;
    END IF;
    PERFORM set_config('okr.data_changed', done || marker, true);
    INSERT INTO public.tenants_dataversion (schema_name, version)
    VALUES (target, nextval('public.tenants_dataversion_seq'))
    ON CONFLICT (schema_name) DO UPDATE SET version = EXCLUDED.version;
END
$$;
CREATE OR REPLACE FUNCTION public.okr_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- okr_data_bump's first check, repeated here: after the first row of a transaction, each
    -- further row costs this test only, not a second function call.
    IF position(',' || TG_TABLE_SCHEMA || ','
                IN coalesce(current_setting('okr.data_changed', true), '')) = 0 THEN
        PERFORM public.okr_data_bump(TG_TABLE_SCHEMA);
    END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION public.okr_data_version(target text, own_changes boolean)
RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    IF own_changes THEN
        -- Run this transaction's pending triggers now; later changes wait for commit again,
        -- and move the version once more (a page may be cached in between).
        SET CONSTRAINTS okr_data_changed IMMEDIATE;
        SET CONSTRAINTS okr_data_changed DEFERRED;
        PERFORM set_config('okr.data_changed', '', true);
    END IF;
    RETURN coalesce((SELECT version FROM public.tenants_dataversion WHERE schema_name = target), 0);
END
$$;
"""

DROP_FUNCTION = """
DROP FUNCTION IF EXISTS public.okr_data_version(text, boolean);
DROP FUNCTION IF EXISTS public.okr_data_bump(text);
DROP FUNCTION IF EXISTS public.okr_data_changed() CASCADE;
DROP SEQUENCE IF EXISTS public.tenants_dataversion_seq;
"""


def data_version(schema_name: str | None = None) -> int:
    """The data version of ``schema_name`` (default: the current organisation) as this
    transaction sees it; 0 before anything was ever written there. One query.

    Inside a transaction, the changes it has made so far move the version first (their
    deferred triggers run now, not at commit), so a request that writes and then reads in
    one transaction, or a test, never gets a page cached before its own change."""
    schema_name = schema_name or connection.schema_name
    own_changes = connection.in_atomic_block and schema_name == connection.schema_name != "public"
    with connection.cursor() as cursor:
        cursor.execute("SELECT public.okr_data_version(%s, %s)", [schema_name, own_changes])
        return cursor.fetchone()[0]


@contextmanager
def bulk_write():
    """Inside a transaction, for statements that rewrite many rows of the current organisation
    (the bulk recalculation): their rows queue no trigger event each (~4 µs a row at commit,
    0.2 s for 50,000), and the version is moved once when the block ends instead."""
    if not connection.in_atomic_block:
        raise RuntimeError("bulk_write() needs a transaction: the version must move with the rows")
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('okr.bulk_write', 'on', true)")
        try:
            yield
        finally:  # even on an error: what was written before it may still be committed
            cursor.execute("SELECT set_config('okr.bulk_write', 'off', true)")
            cursor.execute("SELECT public.okr_data_bump(%s)", [connection.schema_name])


def tables_without_trigger(schema_name: str, conn=connection) -> list[str]:
    """Tables of ``schema_name`` that lack the trigger but should have it (a test holds this
    to empty for the template and a new organisation)."""
    with conn.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relkind IN ('r', 'p')
              AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = %s)
            ORDER BY c.relname
            """,
            [schema_name, TRIGGER],
        )
        return [name for (name,) in cursor.fetchall() if name not in UNTRACKED_TABLES]


def install_triggers(conn=connection) -> int:
    """Put the triggers on every tracked table of ``conn``'s current schema that lacks them
    (all of them the first time, new tables after a migration); returns how many tables got
    them. Nothing in public: its tables are the platform's, not an organisation's."""
    schema = conn.schema_name
    if schema == "public":
        return 0
    missing = tables_without_trigger(schema, conn)
    with conn.cursor() as cursor:
        for table in missing:
            qualified = f"{conn.ops.quote_name(schema)}.{conn.ops.quote_name(table)}"
            # Not queued at all inside ``bulk_write`` (the WHEN is checked as each row changes).
            cursor.execute(
                f"CREATE CONSTRAINT TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON {qualified} "
                f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ({NOT_IN_BULK_WRITE}) "
                f"EXECUTE FUNCTION public.{TRIGGER}()"
            )
            cursor.execute(
                f"CREATE TRIGGER {TRUNCATE_TRIGGER} AFTER TRUNCATE ON {qualified} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION public.{TRIGGER}()"
            )
    return len(missing)


def remove_triggers(conn=connection) -> None:
    """Take the triggers off every table of ``conn``'s current schema (undoing ``okrs.0006``)."""
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND t.tgname IN (%s, %s)",
            [conn.schema_name, TRIGGER, TRUNCATE_TRIGGER],
        )
        for table, trigger in cursor.fetchall():
            qualified = f"{conn.ops.quote_name(conn.schema_name)}.{conn.ops.quote_name(table)}"
            cursor.execute(f"DROP TRIGGER {conn.ops.quote_name(trigger)} ON {qualified}")


def install_after_migrate(sender, using: str = "default", **kwargs) -> None:
    """post_migrate: tables a migration added in an organisation's schema get the triggers."""
    install_triggers(connections[using])
