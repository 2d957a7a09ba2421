"""Corrections to django-tenants' schema clone (D3).

The ``clone_schema`` SQL function recreates multi-column UNIQUE constraints under
PostgreSQL's default names (``<table>_<cols>_key``) instead of the template's names
(Django's ``..._uniq`` hashes or an explicit ``UniqueConstraint(name=...)``). A later
migration that drops or alters such a constraint by name would then fail on cloned
schemas only. We rename them back so a clone is identical to a migrated schema.
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
