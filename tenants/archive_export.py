"""Write an organisation's whole schema to an archive (format: tenants/archive_format.py)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_exists
from psycopg import sql

from tenants.archive_format import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    Manifest,
    Progress,
    ProgressCallback,
    Table,
    TableEntry,
    ident,
    render,
    schema_sequences,
    schema_tables,
    session_settings,
    table_file,
)
from tenants.models import Domain, Organization

logger = logging.getLogger(__name__)

FETCH_ROWS = 2000


def organization_export(
    *, schema: str, out: Path | str | BinaryIO, progress: ProgressCallback | None = None
) -> Manifest:
    """Write every table of the organisation whose schema is ``schema`` to ``out`` (a path,
    or a binary file open for writing) and return the manifest.

    Reads from one snapshot: a REPEATABLE READ, READ ONLY transaction of its own, or, when
    called inside an atomic block, the caller's transaction (whose snapshot the caller
    then owns). A path is written under a temporary name and renamed at the end, so a
    failed export leaves no file. Raises ``ValidationError`` (keyed "schema") for the
    public or template schema or one that no organisation has.
    """
    organization = _source(schema)
    started = time.perf_counter()
    if isinstance(out, str | Path):
        path = Path(out)
        partial = path.with_name(path.name + ".partial")
        try:
            with partial.open("wb") as stream:
                manifest = _export(organization, stream, progress)
            os.replace(partial, path)
        except OSError as exc:
            raise ValidationError(
                {
                    "out": [
                        _("Cannot write “%(path)s”: %(error)s") % {"path": path, "error": exc.strerror or exc}
                    ]
                }
            ) from exc
        finally:
            partial.unlink(missing_ok=True)
    else:
        manifest = _export(organization, out, progress)
    logger.info(
        "organisation %s exported: %d tables, %d rows in %.2fs",
        schema, len(manifest.tables), manifest.total_rows, time.perf_counter() - started,
    )  # fmt: skip
    return manifest


def _source(schema: str) -> Organization:
    if schema in ("public", settings.TENANT_BASE_SCHEMA):
        raise ValidationError(
            {
                "schema": [
                    _("“%(schema)s” is not an organisation's schema; nothing to export.") % {"schema": schema}
                ]
            }
        )
    organization = Organization.objects.filter(schema_name=schema).first()
    if organization is None or organization.is_template or not schema_exists(schema):
        raise ValidationError(
            {
                "schema": [
                    _("No organisation has the schema “%(schema)s”. See the admin's list.")
                    % {"schema": schema}
                ]
            }
        )
    return organization


@contextmanager
def _snapshot() -> Iterator[None]:
    if connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Must come before the transaction's first query (a SET is not one).
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _export(organization: Organization, stream: BinaryIO, progress: ProgressCallback | None) -> Manifest:
    schema = organization.schema_name
    with (
        _snapshot(),
        session_settings(),
        zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive,
    ):
        tables = schema_tables(schema)
        entries = {}
        for done, table in enumerate(tables, start=1):
            entries[table.name] = _write_table(archive, schema, table)
            if progress:
                progress(Progress("export", table.name, entries[table.name].rows, done, len(tables)))
        domains = (
            Domain.objects.filter(tenant=organization).order_by("domain").values_list("domain", flat=True)
        )
        manifest = Manifest(
            format=FORMAT, format_version=FORMAT_VERSION, created_at=timezone.now().isoformat(),
            source_schema=schema, organization=_organization_data(organization), domains=list(domains),
            migrations=_migrations(schema), postgresql=_server_version(), tables=entries,
            sequences=_sequences(schema),
        )  # fmt: skip
        archive.writestr(_member(MANIFEST), manifest.to_json())
        archive.comment = f"{FORMAT} {FORMAT_VERSION}".encode()
    return manifest


def _write_table(archive: zipfile.ZipFile, schema: str, table: Table) -> TableEntry:
    """Stream the rows through a server-side cursor, hashing the bytes as they are written."""
    selected = sql.SQL(", ").join(
        sql.SQL("{}::text AS {}").format(ident(c.name), ident(c.name)) if c.text_encoded else ident(c.name)
        for c in table.columns
    )
    names = {c.name for c in table.columns}
    if table.primary_key and set(table.primary_key) <= names:
        order = sql.SQL(", ").join(sql.SQL("archive_row.{}").format(ident(c)) for c in table.primary_key)
    else:
        order = sql.SQL("1")  # no primary key: the rows' own text orders them repeatably
    # ``archive_row.*``, not ``archive_row``: a column may be called like the alias.
    query = sql.SQL(
        "SELECT row_to_json(archive_row.*)::text FROM (SELECT {} FROM {}) AS archive_row ORDER BY {}"
    ).format(selected, ident(schema, table.name), order)
    digest, rows = hashlib.sha256(), 0
    with (
        archive.open(_member(table_file(table.name)), "w", force_zip64=True) as member,
        connection.connection.cursor(name="tenants_archive_export") as cursor,
    ):
        cursor.itersize = FETCH_ROWS
        cursor.execute(render(query), ())
        for (line,) in cursor:
            data = line.encode() + b"\n"  # row_to_json escapes every newline inside values
            digest.update(data)
            member.write(data)
            rows += 1
    return TableEntry(
        rows=rows, sha256=digest.hexdigest(), columns=[[c.name, c.type] for c in table.columns],
        primary_key=table.primary_key,
    )  # fmt: skip


def _member(name: str) -> zipfile.ZipInfo:
    member = zipfile.ZipInfo(name, date_time=timezone.now().timetuple()[:6])
    member.compress_type = zipfile.ZIP_DEFLATED
    return member


def _sequences(schema: str) -> dict[str, dict]:
    states = {}
    with connection.cursor() as cursor:
        for sequence in schema_sequences(schema):
            query = sql.SQL("SELECT last_value, is_called FROM {}").format(ident(schema, sequence.name))
            cursor.execute(render(query), [])
            last_value, is_called = cursor.fetchone()
            states[sequence.key] = {"last_value": last_value, "is_called": is_called}
    return states


def _migrations(schema: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            render(sql.SQL("SELECT app, name FROM {}").format(ident(schema, "django_migrations"))), []
        )
        return sorted(f"{app}.{name}" for app, name in cursor.fetchall())


def _server_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def _organization_data(organization: Organization) -> dict:
    values = {
        f.attname: f.value_from_object(organization)
        for f in Organization._meta.concrete_fields
        if not f.primary_key
    }
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder))
