"""Restoring a whole-platform backup (tenants/backup.py) onto a new database: the public dump
first, then every organisation archive into its own row and schema (docs/backup.md, procedure b).
Verified and checked against this release before anything changes."""

from __future__ import annotations

import logging
import re
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.utils import schema_exists

from tenants.archive_format import MANIFEST as ARCHIVE_MANIFEST
from tenants.archive_format import Manifest as ArchiveManifest
from tenants.archive_import import code_migrations, organization_import_into
from tenants.backup import PUBLIC_DUMP, BackupError, Notify, OrganizationProgress, find_tool, run_tool
from tenants.backup_verify import backup_verify
from tenants.models import Organization, SpareSchema

logger = logging.getLogger(__name__)


# --- restore ----------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    restored: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _public_restored() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('public.tenants_organization') IS NOT NULL")
        return cursor.fetchone()[0]


def platform_restore(
    *,
    path: Path | str,
    skip_public: bool = False,
    bin_dir: Path | str | None = None,
    progress: OrganizationProgress | None = None,
    notify: Notify | None = None,
) -> RestoreResult:
    """Restore a verified backup into the (new, empty) database of ``settings``: the public
    dump with pg_restore (unless ``skip_public``: it was restored already), the template
    schema, then every archived organisation into its own row and ORIGINAL schema name
    (``organization_import_into``). An organisation whose schema exists is left alone, so
    a failed run can be repeated with ``skip_public``. Raises ``BackupError`` before
    changing anything when the backup is damaged or the database is not empty."""
    from tenants.services import template_ensure

    notify = notify or (lambda line: None)
    started = time.perf_counter()
    path = Path(path)
    report = backup_verify(path=path, bin_dir=bin_dir)
    if not report.ok:
        raise BackupError(
            "The backup does not verify; nothing was restored:\n  " + "\n  ".join(report.problems)
        )
    manifest = report.manifest
    _check_release(path, manifest)
    connection.set_schema_to_public()
    _public_step(path, manifest, skip_public=skip_public, bin_dir=bin_dir, notify=notify)
    connection.close()  # start afresh on the restored catalog

    gone = [s.schema_name for s in SpareSchema.objects.all() if not schema_exists(s.schema_name)]
    SpareSchema.objects.filter(schema_name__in=gone).delete()
    state = template_ensure()
    notify(f"template schema {settings.TENANT_BASE_SCHEMA}: {'ready' if state == 'ready' else 'created'}")

    result = RestoreResult()
    for entry in manifest["organizations"]["included"]:
        schema = entry["schema"]
        organization = Organization.objects.filter(schema_name=schema).first()
        if organization is None:
            result.problems.append(
                f"{schema}: the public schema has no organisation with this schema. Import its archive as a "
                f"new organisation: manage.py import_org --in {path / entry['file']} --slug {entry['slug']}"
            )
            continue
        if schema_exists(schema):
            result.already.append(schema)
            notify(f"{schema}: its schema exists already; left as it is")
            continue
        if organization.status == Organization.Status.OFFBOARDED:  # since the backup (a live database)
            result.already.append(schema)
            notify(f"{schema}: offboarded since this backup; restore it from the admin if wanted")
            continue
        report_step = (lambda step, schema=schema: progress(schema, step)) if progress else None
        try:
            organization_import_into(
                archive=path / entry["file"], organization=organization, progress=report_step
            )
        except ValidationError as exc:
            result.problems.append(f"{schema}: {'; '.join(exc.messages)}")
            continue
        finally:
            connection.set_schema_to_public()
        result.restored.append(schema)
        notify(f"{schema}: restored ({entry['tables']} tables, {entry['rows']} rows)")
    result.seconds = time.perf_counter() - started
    logger.info(
        "platform restore from %s: %d restored, %d already there, %d problems",
        path, len(result.restored), len(result.already), len(result.problems),
    )  # fmt: skip
    return result


def _public_step(path: Path, manifest: dict, *, skip_public: bool, bin_dir, notify: Notify) -> None:
    """pg_restore public.dump into an empty database, or, with ``skip_public``, check that
    it was restored already."""
    database = settings.DATABASES["default"]["NAME"]
    if skip_public:
        if not _public_restored():
            raise BackupError(
                f"--skip-public, but the database {database} has no platform tables: leave it out to restore "
                f"{PUBLIC_DUMP} first."
            )
    else:
        if _public_restored():
            raise BackupError(
                f"The database {database} already has a platform (public.tenants_organization exists); "
                "nothing was restored. Restore onto a new, empty database (createdb, then point DATABASE_URL "
                "at it), or add --skip-public if its public schema was restored from this backup."
            )
        _restore_public(path / PUBLIC_DUMP, manifest, bin_dir)
        notify(f"public schema restored from {PUBLIC_DUMP}")


def _check_release(path: Path, manifest: dict) -> None:
    """The archives can only be loaded by a release with the same migrations: say so before
    anything is restored, not after the public schema is in."""
    current = set(code_migrations())
    for entry in manifest["organizations"]["included"]:
        with zipfile.ZipFile(path / entry["file"]) as zipped:
            archived = set(ArchiveManifest.from_json(zipped.read(ARCHIVE_MANIFEST)).migrations)
        if archived != current:
            differ = sorted(archived ^ current)
            raise BackupError(
                f"The backup was made by a release with other migrations than this one "
                f"({entry['schema']}: {', '.join(differ[:5])}{' …' if len(differ) > 5 else ''}); nothing was "
                "restored. Restore it with the release that made it (the same code version), then upgrade "
                "and run migrate_platform."
            )


def _restore_public(dump: Path, manifest: dict, bin_dir) -> None:
    """pg_restore the dump in one transaction, without its ``CREATE SCHEMA public`` (every
    new database has that schema already, so the statement would fail)."""
    pg_restore = find_tool("pg_restore", min_major=int(manifest.get("pg_dump_major") or 0), bin_dir=bin_dir)
    listing = run_tool([pg_restore.path, "--list", str(dump)], what="pg_restore --list").stdout.decode()
    kept = [
        line
        for line in listing.splitlines()
        if not re.search(r" (SCHEMA|COMMENT) - (SCHEMA )?public(\s|$)", line)
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as handle:
        handle.write("\n".join(kept) + "\n")
    try:
        run_tool(
            [
                pg_restore.path, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                "--no-password", f"--use-list={handle.name}",
                f"--dbname={settings.DATABASES['default']['NAME']}", str(dump),
            ],
            what="pg_restore of the public schema",
        )  # fmt: skip
    finally:
        Path(handle.name).unlink(missing_ok=True)
