"""Reads on people: reporting lines."""

from __future__ import annotations

from django.db import connection
from django.db.models.expressions import RawSQL

from accounts.models import User

# Set on the signed-in person for the length of one request (RequestScopedReportsMiddleware):
# the permission functions ask for their reporting lines several times per page.
_REQUEST_CACHE = "_report_ids_for_request"


_BELOW_SQL = f"""
    WITH RECURSIVE below(id) AS (
        SELECT id FROM {User._meta.db_table} WHERE manager_id = %s
        UNION
        SELECT u.id FROM {User._meta.db_table} u JOIN below b ON u.manager_id = b.id
    )
    SELECT id FROM below
"""  # noqa: S608 - table name from model metadata


def _read_this_request(user: User) -> list[int] | None:
    """The reporting lines this request has read already, if it has."""
    cache = getattr(user, _REQUEST_CACHE, None)
    return list(cache["ids"]) if cache is not None and "ids" in cache else None


def report_ids(user: User) -> list[int]:
    """Everyone below ``user`` in the reporting lines (direct and indirect), one query —
    once per request for the signed-in person."""
    known = _read_this_request(user)
    if known is not None:
        return known
    cache = getattr(user, _REQUEST_CACHE, None)
    with connection.cursor() as cursor:
        cursor.execute(_BELOW_SQL, [user.pk])
        ids = [row[0] for row in cursor.fetchall()]
    if cache is not None:
        cache["ids"] = ids
    return list(ids)


def report_ids_in(user: User) -> list[int] | RawSQL:
    """``report_ids(user)`` to filter a query with (``person_id__in=``): the list when this
    request has read it already, else the same rule as a subquery of that query, which
    saves a statement of its own."""
    known = _read_this_request(user)
    return known if known is not None else RawSQL(_BELOW_SQL, [user.pk])  # noqa: S611 - the only input is a bound parameter


def manages(user: User, person_id: int) -> bool:
    """Whether ``person_id`` is anywhere below ``user`` in the reporting lines."""
    return person_id in report_ids(user)


def cache_report_ids_for_request(user: User) -> None:
    setattr(user, _REQUEST_CACHE, {})


def forget_report_ids(user: User) -> None:
    """After a change to reporting lines within a request."""
    cache = getattr(user, _REQUEST_CACHE, None)
    if cache is not None:
        cache.clear()
