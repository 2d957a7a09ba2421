"""D2: tenant schemas are self-contained — checked from the database catalog."""

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db

FOREIGN_KEYS_ACROSS_SCHEMAS = """
    SELECT src_ns.nspname, src.relname, con.conname, dst_ns.nspname, dst.relname
    FROM pg_constraint con
    JOIN pg_class src ON src.oid = con.conrelid
    JOIN pg_namespace src_ns ON src_ns.oid = src.relnamespace
    JOIN pg_class dst ON dst.oid = con.confrelid
    JOIN pg_namespace dst_ns ON dst_ns.oid = dst.relnamespace
    WHERE con.contype = 'f' AND src_ns.nspname = ANY(%s) AND dst_ns.nspname <> src_ns.nspname
"""


def tenant_schemas() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT schema_name FROM tenants_organization WHERE schema_name <> 'public'")
        return [row[0] for row in cursor.fetchall()]


def test_there_are_tenant_schemas_with_foreign_keys_to_check():
    schemas = tenant_schemas()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE con.contype = 'f' AND n.nspname = ANY(%s)",
            [schemas],
        )
        (foreign_keys,) = cursor.fetchone()

    assert {"acme", "globex", "tenant_template"} <= set(schemas)
    assert foreign_keys > 0


def test_no_foreign_key_leaves_a_tenant_schema():
    with connection.cursor() as cursor:
        cursor.execute(FOREIGN_KEYS_ACROSS_SCHEMAS, [tenant_schemas()])
        crossing = cursor.fetchall()

    assert crossing == []


def test_every_primary_key_is_bigint():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.table_schema, c.table_name, c.column_name, c.data_type
            FROM information_schema.columns c
            JOIN information_schema.key_column_usage k USING (table_schema, table_name, column_name)
            JOIN information_schema.table_constraints t
              ON t.constraint_name = k.constraint_name AND t.table_schema = k.table_schema
            WHERE t.constraint_type = 'PRIMARY KEY' AND c.table_schema = ANY(%s)
              AND c.column_name = 'id' AND c.data_type <> 'bigint'
              AND c.table_name NOT LIKE 'django\\_%%' AND c.table_name NOT LIKE 'auth\\_%%'
              AND c.table_name NOT LIKE 'axes\\_%%'  -- django-axes' own tables (docs/security.md)
            """,
            [["public", "acme"]],
        )
        assert cursor.fetchall() == []


def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
