"""Reads on people: reporting lines."""

from __future__ import annotations

from django.db import connection

from accounts.models import User


def report_ids(user: User) -> list[int]:
    """Everyone below ``user`` in the reporting lines (direct and indirect), one query."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE below(id) AS (
                SELECT id FROM {User._meta.db_table} WHERE manager_id = %s
                UNION
                SELECT u.id FROM {User._meta.db_table} u JOIN below b ON u.manager_id = b.id
            )
            SELECT id FROM below
            """,  # noqa: S608 - table name from model metadata
            [user.pk],
        )
        return [row[0] for row in cursor.fetchall()]


def manages(user: User, person_id: int) -> bool:
    """Whether ``person_id`` is anywhere below ``user`` in the reporting lines."""
    return person_id in report_ids(user)
