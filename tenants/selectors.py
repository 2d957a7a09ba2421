"""Reads on organisations that reach into tenant schemas, in one query per call."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from psycopg import sql

from tenants.models import Organization


def organization_user_counts(organizations: Iterable[Organization]) -> dict[int, int]:
    """Active people per organisation, for a page of organisations, in one query.

    Each organisation's people are in its own schema, so this is a UNION ALL over
    the schemas of the page rather than one query per row.
    """
    organizations = [o for o in organizations if not o.is_template and o.schema_name != "public"]
    if not organizations:
        return {}
    with connection.cursor() as cursor:
        existing = _existing_schemas(cursor, [o.schema_name for o in organizations])
        parts = [
            sql.SQL("SELECT {id}::bigint, count(*) FROM {table} WHERE is_active").format(
                id=sql.Literal(o.pk), table=sql.Identifier(o.schema_name, "accounts_user")
            )
            for o in organizations
            if o.schema_name in existing
        ]
        if not parts:
            return {}
        cursor.execute(sql.SQL(" UNION ALL ").join(parts).as_string(cursor.cursor.connection))
        return dict(cursor.fetchall())


def _existing_schemas(cursor, names: list[str]) -> set[str]:
    cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", [names])
    return {row[0] for row in cursor.fetchall()}
