"""Corrections to django-tenants' schema clone (D3), so that a clone is identical to a
migrated schema (tests/tenants/test_provisioning.py compares the catalogs):

- ``clone_schema`` recreates multi-column UNIQUE constraints under PostgreSQL's default
  names (``<table>_<cols>_key``) instead of the template's (Django's ``..._uniq`` hashes
  or an explicit ``UniqueConstraint(name=...)``); a later migration that drops such a
  constraint by name would fail on cloned schemas only. We rename them back.
- It does not copy storage parameters (``ALTER TABLE ... SET (fillfactor = 50)``); we
  copy them.
"""

from django.db import connection
from psycopg import sql

_UNIQUE_CONSTRAINTS = """
    SELECT n.nspname, c.relname, con.conname, pg_get_constraintdef(con.oid)
    FROM pg_constraint con
    JOIN pg_class c ON c.oid = con.conrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE con.contype = 'u' AND n.nspname IN (%s, %s)
"""


def align_unique_constraint_names(template_schema: str, schema: str) -> int:
    """Give ``schema``'s unique constraints the names they have in the template;
    returns how many were renamed."""
    with connection.cursor() as cursor:
        cursor.execute(_UNIQUE_CONSTRAINTS, [template_schema, schema])
        rows = cursor.fetchall()
        wanted = {(table, definition): name for ns, table, name, definition in rows if ns == template_schema}
        renames = [
            (table, name, wanted[(table, definition)])
            for ns, table, name, definition in rows
            if ns == schema and wanted.get((table, definition), name) != name
        ]
        for table, old, new in renames:
            statement = sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
                sql.Identifier(schema, table), sql.Identifier(old), sql.Identifier(new)
            )
            cursor.execute(statement.as_string(cursor.cursor.connection))
    return len(renames)


_STORAGE_OPTIONS = """
    SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %s AND c.relkind = 'r' AND c.reloptions IS NOT NULL
"""


def copy_storage_options(template_schema: str, schema: str) -> int:
    """Give ``schema``'s tables the storage parameters they have in the template."""
    with connection.cursor() as cursor:
        cursor.execute(_STORAGE_OPTIONS, [template_schema])
        rows = cursor.fetchall()
        for table, options in rows:
            assignments = sql.SQL(", ").join(
                sql.SQL("{} = {}").format(sql.Identifier(key), sql.Literal(value))
                for key, value in (option.split("=", 1) for option in options)
            )
            statement = sql.SQL("ALTER TABLE {} SET ({})").format(sql.Identifier(schema, table), assignments)
            cursor.execute(statement.as_string(cursor.cursor.connection))
    return len(rows)


def correct_clone(template_schema: str, schema: str) -> None:
    align_unique_constraint_names(template_schema, schema)
    copy_storage_options(template_schema, schema)
