"""Restore an organisation archive (tenants/archive_format.py) as a new organisation, or
back into an existing organisation row that has no schema (restoring an offboarded one)."""

from __future__ import annotations

import hashlib
import logging
import time
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils.translation import gettext as _
from django_tenants.utils import schema_exists
from psycopg import sql

from tenants.archive_format import (
    MANIFEST,
    MANIFEST_MAX_BYTES,
    Manifest,
    Progress,
    ProgressCallback,
    Table,
    ident,
    render,
    schema_sequences,
    schema_tables,
    session_settings,
    table_file,
)
from tenants.models import Domain, Organization
from tenants.services import (
    _create_schema,
    organization_host,
    schema_method_prepare,
)
from tenants.validators import language_errors, schema_name_for, slug_errors, timezone_errors

logger = logging.getLogger(__name__)

BATCH_ROWS = 5000
BATCH_BYTES = 8 * 1024 * 1024
SHOWN = 5  # names listed in an error before "and N more"


def organization_import(
    *,
    archive: Path | str | BinaryIO,
    slug: str,
    name: str | None = None,
    progress: ProgressCallback | None = None,
) -> Organization:
    """Create the organisation ``slug`` from an archive written by ``organization_export``:
    same rows (primary keys included) in every table, sequences where they were.

    The archive is checked first (format version, every file's row count and checksum,
    migrations equal to this release's), then the organisation row, its schema and its
    domain are created and filled in one transaction: on any error nothing is left.
    Name, time zone, language and status come from the archive (``name`` overrides the
    name). Raises ``ValidationError`` keyed "archive", "slug" or "name".
    """
    slug = (slug or "").strip().lower()
    started = time.perf_counter()
    slug_problems = _slug_problems(slug)
    with ExitStack() as stack:
        try:
            zipped = stack.enter_context(_opened(archive))
            manifest = _read_manifest(zipped)
        except ValidationError as exc:  # say what is wrong with the slug too
            raise ValidationError(
                {**({"slug": slug_problems} if slug_problems else {}), **exc.error_dict}
            ) from exc
        if name is None:
            name = manifest.organization.get("name")
        name = name.strip() if isinstance(name, str) else ""
        _validate(manifest, slug_problems=slug_problems, name=name)
        _verify_files(zipped, manifest, progress)

        method = schema_method_prepare()
        try:
            with transaction.atomic():
                organization = _create_organization(manifest, slug=slug, name=name, method=method)
                _load(zipped, manifest, organization.schema_name, progress)
        finally:
            connection.set_schema_to_public()
    logger.info(
        "organisation %s imported from %s (%d tables, %d rows) via %s in %.2fs",
        slug, manifest.source_schema, len(manifest.tables), manifest.total_rows, method,
        time.perf_counter() - started,
    )  # fmt: skip
    return organization


def organization_import_into(
    *,
    archive: Path | str | BinaryIO,
    organization: Organization,
    progress: ProgressCallback | None = None,
) -> Organization:
    """Fill the existing ``organization``, which has no schema (it was offboarded), from an
    archive: its schema is created as in provisioning and loaded like ``organization_import``
    does, and its domain is kept (made again if it is missing). The row itself (name, status,
    time zone, language) is left as it is: the caller decides the status.

    Same checks as ``organization_import``, then one transaction: on any error there is
    still no schema. Raises ``ValidationError`` keyed "organization" or "archive".
    """
    started = time.perf_counter()
    if organization.pk is None or organization.is_template or organization.schema_name == "public":
        raise ValidationError({"organization": [_("Archives are restored into client organisations only.")]})
    if schema_exists(organization.schema_name):
        raise ValidationError(
            {
                "organization": [
                    _(
                        "%(org)s still has its schema “%(schema)s”: only an organisation without "
                        "one is restored."
                    )
                    % {"org": organization.name, "schema": organization.schema_name}
                ]
            }
        )
    with ExitStack() as stack:
        zipped = stack.enter_context(_opened(archive))
        manifest = _read_manifest(zipped)
        _validate(manifest, slug_problems=[], name=organization.name)
        _verify_files(zipped, manifest, progress)
        method = schema_method_prepare()
        try:
            with transaction.atomic():
                _create_schema(organization, method)
                if not Domain.objects.filter(tenant=organization).exists():
                    Domain.objects.create(
                        domain=organization_host(organization), tenant=organization, is_primary=True
                    )
                _load(zipped, manifest, organization.schema_name, progress)
        finally:
            connection.set_schema_to_public()
    logger.info(
        "organisation %s restored from %s (%d tables, %d rows) via %s in %.2fs",
        organization.slug, manifest.source_schema, len(manifest.tables), manifest.total_rows, method,
        time.perf_counter() - started,
    )  # fmt: skip
    return organization


def code_migrations() -> list[str]:
    """The migrations a current organisation schema has applied ("app.name", sorted)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return sorted(f"{app}.{name}" for app, name in loader.graph.nodes)


# --- checks before anything is created -------------------------------------------------------


def _archive_error(*messages: str) -> ValidationError:
    return ValidationError({"archive": list(messages)})


def _listed(names) -> str:
    names = sorted(names)
    shown = ", ".join(names[:SHOWN])
    return (
        shown
        if len(names) <= SHOWN
        else _("%(shown)s and %(n)d more") % {"shown": shown, "n": len(names) - SHOWN}
    )


@contextmanager
def _opened(archive: Path | str | BinaryIO) -> Iterator[zipfile.ZipFile]:
    try:
        zipped = zipfile.ZipFile(archive)
    except FileNotFoundError as exc:
        raise _archive_error(_("There is no file “%(path)s”.") % {"path": archive}) from exc
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _archive_error(
            _("This is not an organisation archive (not a ZIP file: %(error)s).") % {"error": exc}
        ) from exc
    with zipped:
        yield zipped


def _read_manifest(zipped: zipfile.ZipFile) -> Manifest:
    try:
        info = zipped.getinfo(MANIFEST)
    except KeyError as exc:
        raise _archive_error(_("This is not an organisation archive (it has no manifest.json).")) from exc
    if info.file_size > MANIFEST_MAX_BYTES:
        raise _archive_error(_("manifest.json is implausibly large (%(n)d bytes).") % {"n": info.file_size})
    try:
        raw = zipped.read(info)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
        raise _archive_error(
            _("manifest.json cannot be read: the archive is damaged (%(error)s).") % {"error": exc}
        ) from exc
    return Manifest.from_json(raw)


def _slug_problems(slug: str) -> list[str]:
    problems = slug_errors(slug)
    if not problems and (
        Organization.objects.filter(slug=slug).exists() or schema_exists(schema_name_for(slug))
    ):
        problems = [_("The subdomain “%(slug)s” is already taken.") % {"slug": slug}]
    return problems


def _validate(manifest: Manifest, *, slug_problems: list[str], name: str) -> None:
    errors: dict[str, list[str]] = {"slug": slug_problems} if slug_problems else {}
    if not name:
        errors["name"] = [_("Give the organisation a name.")]
    elif len(name) > Organization._meta.get_field("name").max_length:
        errors["name"] = [_("The name is too long (200 characters at most).")]

    archive = []
    source = manifest.organization
    archive += timezone_errors(source.get("timezone"))
    archive += language_errors(source.get("language"))
    if source.get("status") not in Organization.Status.values:
        archive.append(
            _("The archive's organisation has an unknown status “%(s)s”.") % {"s": source.get("status")}
        )
    archived, current = set(manifest.migrations), set(code_migrations())
    if newer := archived - current:
        archive.append(
            _(
                "The archive was exported by a newer release: it has migrations this release does not know "
                "(%(names)s). Import it with the release that exported it."
            )
            % {"names": _listed(newer)}
        )
    if older := current - archived:
        archive.append(
            _(
                "The archive lacks migrations this release has (%(names)s): it was exported by an older "
                "release, or before `migrate_platform` had run on it. Import it with the release that "
                "exported it and run `migrate_platform` then, or migrate the source and export it again."
            )
            % {"names": _listed(older)}
        )
    if archive:
        errors["archive"] = archive
    if errors:
        raise ValidationError(errors)


def _verify_files(zipped: zipfile.ZipFile, manifest: Manifest, progress: ProgressCallback | None) -> None:
    expected = {MANIFEST} | {table_file(table) for table in manifest.tables}
    present = set(zipped.namelist())
    problems = []
    if missing := expected - present:
        problems.append(_("Files are missing from the archive: %(names)s.") % {"names": _listed(missing)})
    if unexpected := present - expected:
        problems.append(
            _("The archive has files its manifest does not list: %(names)s.") % {"names": _listed(unexpected)}
        )
    for done, (table, entry) in enumerate(sorted(manifest.tables.items()), start=1):
        if table_file(table) in missing:
            continue
        digest, rows = hashlib.sha256(), 0
        try:
            with zipped.open(table_file(table)) as member:
                for line in member:
                    digest.update(line)
                    rows += 1
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            problems.append(
                _("%(file)s cannot be read: %(error)s.") % {"file": table_file(table), "error": exc}
            )
            continue
        if digest.hexdigest() != entry.sha256:
            problems.append(_("%(file)s does not match its checksum.") % {"file": table_file(table)})
        elif rows != entry.rows:
            problems.append(
                _("%(file)s has %(found)d rows; the manifest says %(listed)d.")
                % {"file": table_file(table), "found": rows, "listed": entry.rows}
            )
        if progress:
            progress(Progress("verify", table, rows, done, len(manifest.tables)))
    if problems:
        raise _archive_error(_("The archive is damaged or was changed after export:"), *problems)


# --- creating and filling ----------------------------------------------------------------------


def _create_organization(manifest: Manifest, *, slug: str, name: str, method: str) -> Organization:
    source = manifest.organization
    organization = Organization(
        name=name, slug=slug, schema_name=schema_name_for(slug), timezone=source["timezone"],
        language=source["language"], status=source["status"],
    )  # fmt: skip
    organization.full_clean()
    try:
        with transaction.atomic():
            organization.save()
    except IntegrityError as exc:  # lost a race with another organisation of this slug
        raise ValidationError(
            {"slug": [_("The subdomain “%(slug)s” is already taken.") % {"slug": slug}]}
        ) from exc
    # The clone copies the (empty) template; no admin is created: the archive has the people.
    _create_schema(organization, method)
    Domain.objects.create(domain=organization_host(organization), tenant=organization, is_primary=True)
    return organization


def _load(
    zipped: zipfile.ZipFile, manifest: Manifest, schema: str, progress: ProgressCallback | None
) -> None:
    tables = {table.name: table for table in schema_tables(schema)}
    _check_same_tables(manifest, tables, schema)
    deferrable = _deferrable_constraints(schema)
    all_deferrable = [name for name, _initially_deferred in deferrable]
    with session_settings(), connection.cursor() as cursor:
        # Fire checks still pending from creating the schema, then empty every table.
        _set_constraints(cursor, all_deferrable, "IMMEDIATE")
        _set_constraints(cursor, all_deferrable, "DEFERRED")
        if tables:
            truncate = sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(ident(schema, t) for t in tables))
            cursor.execute(render(truncate), [])
        for done, (name, table) in enumerate(sorted(tables.items()), start=1):
            rows = _load_table(cursor, zipped, schema, table)
            if rows != manifest.tables[name].rows:
                raise _archive_error(
                    _("%(table)s: %(found)d rows were loaded; the manifest says %(listed)d.")
                    % {"table": name, "found": rows, "listed": manifest.tables[name].rows}
                )
            if progress:
                progress(Progress("load", name, rows, done, len(tables)))
        # Check every foreign key now (with this transaction nested in another, the
        # deferred checks would only run at the outer commit), then restore the defaults.
        try:
            _set_constraints(cursor, all_deferrable, "IMMEDIATE")
        except IntegrityError as exc:
            raise _archive_error(
                _("The archive's rows are inconsistent: %(error)s") % {"error": exc}
            ) from exc
        _set_constraints(
            cursor, [name for name, initially_deferred in deferrable if initially_deferred], "DEFERRED"
        )
        _restore_sequences(cursor, manifest, schema)


def _check_same_tables(manifest: Manifest, tables: dict[str, Table], schema: str) -> None:
    problems = []
    if missing := set(tables) - set(manifest.tables):
        problems.append(_("Tables missing from the archive: %(names)s.") % {"names": _listed(missing)})
    if unknown := set(manifest.tables) - set(tables):
        problems.append(_("Tables this release does not have: %(names)s.") % {"names": _listed(unknown)})
    for name in sorted(set(tables) & set(manifest.tables)):
        ours = [[c.name, c.type] for c in tables[name].columns]
        if ours != manifest.tables[name].columns:
            problems.append(
                _("%(table)s has other columns here: %(ours)s; in the archive: %(theirs)s.")
                % {"table": name, "ours": ours, "theirs": manifest.tables[name].columns}
            )
    sequences = {sequence.key for sequence in schema_sequences(schema)}
    if sequences != set(manifest.sequences):
        problems.append(
            _("Sequences differ: %(names)s.") % {"names": _listed(sequences ^ set(manifest.sequences))}
        )
    if problems:
        raise _archive_error(
            _("The archive does not fit this release's tables although its migrations do:"), *problems
        )


def _load_table(cursor, zipped: zipfile.ZipFile, schema: str, table: Table) -> int:
    """INSERT … SELECT from json_to_recordset in batches: PostgreSQL parses every value
    itself, as the type of its column (json/jsonb arrive as text: see archive_format)."""
    columns = table.columns
    insert = sql.SQL(
        "INSERT INTO {table} ({names}) OVERRIDING SYSTEM VALUE "
        "SELECT {selected} FROM json_to_recordset(%s::json) AS r({definitions})"
    ).format(
        table=ident(schema, table.name),
        names=sql.SQL(", ").join(ident(c.name) for c in columns),
        selected=sql.SQL(", ").join(
            sql.SQL("r.{}::{}").format(ident(c.name), sql.SQL(c.sql_type))
            if c.text_encoded
            else sql.SQL("r.{}").format(ident(c.name))
            for c in columns
        ),
        definitions=sql.SQL(", ").join(
            sql.SQL("{} {}").format(ident(c.name), sql.SQL("text" if c.text_encoded else c.sql_type))
            for c in columns
        ),
    )
    insert = render(insert)
    loaded, batch, size = 0, [], 0

    def flush() -> int:
        try:
            cursor.execute(insert, [(b"[" + b",".join(batch) + b"]").decode()])
        except DatabaseError as exc:
            raise _archive_error(
                _("The rows of %(table)s cannot be loaded: %(error)s") % {"table": table.name, "error": exc}
            ) from exc
        return cursor.rowcount

    with zipped.open(table_file(table.name)) as member:
        for line in member:
            batch.append(line.rstrip(b"\n"))
            size += len(line)
            if len(batch) >= BATCH_ROWS or size >= BATCH_BYTES:
                loaded += flush()
                batch, size = [], 0
    if batch:
        loaded += flush()
    return loaded


def _deferrable_constraints(schema: str) -> list[tuple[str, bool]]:
    """(qualified name, initially deferred) of every deferrable constraint in ``schema``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT con.conname, con.condeferred FROM pg_constraint con "
            "JOIN pg_namespace n ON n.oid = con.connamespace WHERE n.nspname = %s AND con.condeferrable",
            [schema],
        )
        return [(render(ident(schema, name)), deferred) for name, deferred in cursor.fetchall()]


def _set_constraints(cursor, names: list[str], mode: str) -> None:
    if names:
        cursor.execute(f"SET CONSTRAINTS {', '.join(names)} {mode}", [])


def _restore_sequences(cursor, manifest: Manifest, schema: str) -> None:
    """Sequences as they were at export (so the ids of deleted rows, which history rows
    still name, are not handed out again), but never behind the highest id loaded."""
    for sequence in schema_sequences(schema):
        state = manifest.sequences[sequence.key]
        last_value, is_called = state["last_value"], state["is_called"]
        if sequence.table:
            highest = sql.SQL("SELECT max({}) FROM {}").format(
                ident(sequence.column), ident(schema, sequence.table)
            )
            cursor.execute(render(highest), [])
            (highest,) = cursor.fetchone()
            if highest is not None and (highest > last_value or (highest == last_value and not is_called)):
                last_value, is_called = highest, True
        cursor.execute(
            "SELECT setval(c.oid, %s, %s) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s",
            [last_value, is_called, schema, sequence.name],
        )
