"""A warm pool of spare schemas (D3): clones of the template made ahead of time.

Cloning the template takes about half a second (41 tables, 167 indexes, in PL/pgSQL);
renaming a schema takes under a millisecond. So provisioning renames a spare clone to the
new organisation's schema name, inside its own transaction, and a Celery task clones a
replacement afterwards. When the pool is empty (or disabled with TENANT_SPARE_SCHEMAS = 0)
provisioning clones the template directly, as before.

A spare records the template's migration state when it was cloned; after a migration the
template's state differs, so stale spares are dropped rather than used (and the refill makes
current ones). Spares have no Organization row, so nothing routes to them or migrates them.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.db import connection, transaction
from psycopg import sql

from tenants.models import SpareSchema
from tenants.schema_clone import clone_schema, correct_clone

logger = logging.getLogger(__name__)

SPARE_PREFIX = "spare_"
_FILL_LOCK = 7_305_001  # pg advisory lock id: one filler at a time


def _template() -> str:
    return settings.TENANT_BASE_SCHEMA


def pool_size() -> int:
    return int(getattr(settings, "TENANT_SPARE_SCHEMAS", 0))


def template_fingerprint() -> str:
    """The template's migration state: a hash of its django_migrations rows."""
    statement = sql.SQL(
        "SELECT md5(coalesce(string_agg(app || '.' || name, ',' ORDER BY app, name), '')) FROM {}"
    ).format(sql.Identifier(_template(), "django_migrations"))
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(cursor.cursor.connection))
        return cursor.fetchone()[0]


def _drop(schema_name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema_name)))


def spare_take(schema_name: str) -> bool:
    """Rename a current spare to ``schema_name``, in the caller's transaction (a rollback
    puts the spare back). False when there is none: the caller clones instead."""
    if pool_size() <= 0:
        return False
    fingerprint = None
    with transaction.atomic():
        while True:
            spare = SpareSchema.objects.select_for_update(skip_locked=True).first()
            if spare is None:
                return False
            fingerprint = fingerprint or template_fingerprint()
            if spare.template_fingerprint != fingerprint:
                _drop(spare.schema_name)  # made before the latest migration: never use it
                spare.delete()
                continue
            with connection.cursor() as cursor:
                cursor.execute(
                    sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                        sql.Identifier(spare.schema_name), sql.Identifier(schema_name)
                    )
                )
            spare.delete()
            return True


def spare_fill(*, count: int | None = None, progress=None) -> int:
    """Clone the template until ``count`` (default TENANT_SPARE_SCHEMAS) current spares
    exist, dropping stale ones first; returns how many were made. The template must be
    current (``tenants.services.template_ensure``). One filler runs at a time."""
    count = pool_size() if count is None else count
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_FILL_LOCK])
        if not cursor.fetchone()[0]:
            return 0
    made = 0
    try:
        fingerprint = template_fingerprint()
        for stale in SpareSchema.objects.exclude(template_fingerprint=fingerprint):
            with transaction.atomic():
                _drop(stale.schema_name)
                stale.delete()
        while SpareSchema.objects.filter(template_fingerprint=fingerprint).count() < count:
            name = f"{SPARE_PREFIX}{uuid.uuid4().hex[:20]}"
            with transaction.atomic():
                clone_schema(_template(), name)
                correct_clone(_template(), name)
                SpareSchema.objects.create(schema_name=name, template_fingerprint=fingerprint)
            made += 1
            if progress:
                progress(name)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_FILL_LOCK])
        connection.set_schema_to_public()
    if made:
        logger.info("made %d spare schema(s)", made)
    return made


def spare_drop_all() -> int:
    """Drop every spare (e.g. before a benchmark of the cold paths)."""
    dropped = 0
    for spare in SpareSchema.objects.all():
        with transaction.atomic():
            _drop(spare.schema_name)
            spare.delete()
        dropped += 1
    return dropped
