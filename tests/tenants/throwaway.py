"""Throwaway organisations in tests that commit (offboarding drops schemas; those steps
are not rolled back with the test): what a module leaves behind is dropped, and reported."""

from __future__ import annotations

from django.db import connection

from tenants.models import Domain, Organization


def drop_leftovers(django_db_blocker, *, slug: str, schema: str) -> tuple[list[str], list[str]]:
    """Drop the schema and the organisation rows left by a module; returns what was left
    (``([], [])`` when the tests cleaned up after themselves)."""
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        connection.set_schema_to_public()
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname = %s", [schema])
        left = [name for (name,) in cursor.fetchall()]
        for name in left:
            cursor.execute(f'DROP SCHEMA "{name}" CASCADE')
        organizations = Organization.objects.filter(slug=slug)
        left_rows = list(organizations.values_list("slug", flat=True))
        Domain.objects.filter(tenant__in=organizations).delete()
        organizations.delete()
    return left, left_rows
