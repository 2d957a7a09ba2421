"""Whole-platform backups: a ``pg_dump`` of the public schema plus one organisation archive
(tenants/archive_format.py) per organisation, all read from ONE database snapshot, with a
manifest of checksums. Verifying one is tenants/backup_verify.py, restoring one
tenants/backup_restore.py.

    platform_backup(out_dir=Path("/var/backups/okr"), keep=14)   -> BackupResult
    backup_verify(path=Path("/var/backups/okr/20260501T023000Z")) -> VerifyReport
    platform_restore(path=...)                                    -> RestoreResult

The procedure (schedule, retention, off-site copies, restoring) is in docs/backup.md.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import subprocess
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django_tenants.utils import schema_exists

from tenants.archive_format import Progress
from tenants.archive_import import code_migrations
from tenants.models import Organization
from tenants.offboarding import file_sha256

logger = logging.getLogger(__name__)

FORMAT = "okr-platform-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PUBLIC_DUMP = "public.dump"
ORGANIZATIONS_DIR = "organizations"
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
STAMP = re.compile(r"^\d{8}T\d{6}Z$")
INCOMPLETE = ".incomplete"
# Spare schemas (warm pool) are not backed up, so their rows would name missing schemas.
EXCLUDED_TABLE_DATA = ("public.tenants_spareschema",)
CONSISTENT = "one snapshot: pg_dump --snapshot and every archive read the same transaction"

OrganizationProgress = Callable[[str, Progress], None]  # (schema, step)
Notify = Callable[[str], None]


class BackupError(Exception):
    """A backup, verification or restore could not be done; the message says what to do."""


# --- PostgreSQL client programs ---------------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    path: str
    version: str  # e.g. "pg_dump (PostgreSQL) 16.2"
    major: int


def _bundled_bin() -> Path | None:
    """pgserver's PostgreSQL binaries (the embedded server of development), if installed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            import pgserver
    except ImportError:
        return None
    return Path(pgserver.__file__).resolve().parent / "pginstall" / "bin"


def _version(path: str) -> tuple[str, int] | None:
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=True)  # noqa: S603
    except (OSError, subprocess.SubprocessError):
        return None
    text = done.stdout.strip()
    match = re.search(r"\)\s*(\d+)", text)
    return (text, int(match.group(1))) if match else None


def find_tool(name: str, *, min_major: int, bin_dir: Path | str | None = None) -> Tool:
    """``name`` (pg_dump, pg_restore) of PostgreSQL ``min_major`` or newer: from ``bin_dir``
    only when given, else the first of PATH and pgserver's bundled binaries that is new
    enough (pg_dump refuses a server newer than itself)."""
    if bin_dir is not None:
        candidates = [str(Path(bin_dir) / name)]
    else:
        bundled = _bundled_bin()
        candidates = [c for c in (shutil.which(name), bundled and str(bundled / name)) if c]
    tried = []
    for candidate in candidates:
        found = _version(candidate) if os.access(candidate, os.X_OK) else None
        if found is None:
            tried.append(f"{candidate} (not runnable)")
            continue
        text, major = found
        if major >= min_major:
            return Tool(candidate, text, major)
        tried.append(f"{candidate} (version {major})")
    where = "; ".join(tried) if tried else "none on PATH"
    raise BackupError(
        f"No {name} of PostgreSQL {min_major} or newer was found (tried: {where}). Install the "
        f"PostgreSQL {min_major} client programs (Debian/Ubuntu: apt install postgresql-client-{min_major}, "
        f"from apt.postgresql.org if your release lacks it) or give their directory with --pg-bin."
    )


def _libpq_env() -> dict[str, str]:
    """Connection parameters for pg_dump/pg_restore from Django's settings, as libpq
    environment variables: the password never appears on a command line or in a log."""
    db = settings.DATABASES["default"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("NAME", "PGDATABASE")):
        if db.get(key):
            env[variable] = str(db[key])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    for option, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
        if (db.get("OPTIONS") or {}).get(option):
            env[variable] = str(db["OPTIONS"][option])
    return env


def run_tool(command: list[str], *, what: str, stdout=None) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(  # noqa: S603
            command, env=_libpq_env(), stdout=stdout if stdout is not None else subprocess.PIPE,
            stderr=subprocess.PIPE, check=False,
        )  # fmt: skip
    except OSError as exc:
        raise BackupError(f"{what} could not be started: {exc}") from exc
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip() or f"exit code {done.returncode}"
        raise BackupError(f"{what} failed: {message}")
    return done


def _server_major() -> tuple[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version'), current_setting('server_version_num')::int")
        version, number = cursor.fetchone()
    return version, number // 10000


# --- files ------------------------------------------------------------------------------------


def _private_file(path: Path):
    """A new file only its owner can read (backups hold password hashes)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700)
    path.chmod(0o700)  # whatever the umask


# --- backup -----------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    manifest: dict
    seconds: float
    pruned: list[Path] = field(default_factory=list)


@contextlib.contextmanager
def _snapshot() -> Iterator[str | None]:
    """One REPEATABLE READ, READ ONLY transaction for the whole backup; its snapshot is
    exported so pg_dump reads exactly what the archives read (``organization_export``
    uses the caller's transaction when called inside one). Called inside a transaction
    already (tests), PostgreSQL cannot export a savepoint's snapshot: pg_dump then takes
    its own (None), and the manifest says so."""
    if connection.in_atomic_block:
        with transaction.atomic():
            yield None
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot,) = cursor.fetchone()
        yield snapshot


def _selected(schemas: list[str] | None) -> tuple[list[Organization], list[dict]]:
    """The organisations to archive and the ones skipped, with the reason."""
    included, skipped = [], []
    clients = list(Organization.objects.clients().order_by("schema_name"))
    known = {o.schema_name for o in clients}
    if schemas:
        unknown = sorted(set(schemas) - known)
        if unknown:
            raise BackupError(
                f"No organisation has the schema {', '.join(unknown)} (the organisations' schemas are: "
                f"{', '.join(sorted(known)) or 'none'}). Nothing was written."
            )
    for organization in clients:
        reason = None
        if schemas and organization.schema_name not in schemas:
            reason = "not selected (--schema)"
        elif organization.status == Organization.Status.OFFBOARDED:
            reason = "offboarded: it has no schema; its archives are in ARCHIVE_DIR"
        elif not schema_exists(organization.schema_name):
            reason = "its schema does not exist"
        if reason:
            skipped.append(_organization_entry(organization) | {"reason": reason})
        else:
            included.append(organization)
    return included, skipped


def _organization_entry(organization: Organization) -> dict:
    return {
        "schema": organization.schema_name,
        "slug": organization.slug,
        "name": organization.name,
        "status": organization.status,
    }


def _migration_summary() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM public.django_migrations ORDER BY app, name")
        rows = cursor.fetchall()
    latest: dict[str, str] = {}
    for app, name in rows:
        latest[app] = max(latest.get(app, name), name)
    return {
        "public_applied": len(rows),
        "latest_per_app": latest,
        "release_migrations": len(code_migrations()),
    }


def platform_backup(
    *,
    out_dir: Path | str,
    schemas: list[str] | None = None,
    keep: int | None = None,
    bin_dir: Path | str | None = None,
    progress: OrganizationProgress | None = None,
    notify: Notify | None = None,
) -> BackupResult:
    """Write ``out_dir/<UTC timestamp>/`` (public.dump, organizations/<schema>.zip,
    manifest.json) from one snapshot. The directory is ``<timestamp>.incomplete`` until
    everything is written, so a failure (or a crash) never leaves something
    that looks like a good backup. Then, with ``keep``, older backups are pruned
    (``backups_prune``). Raises ``BackupError`` saying what to do."""
    notify = notify or (lambda line: None)
    started = time.perf_counter()
    out_dir = Path(out_dir)
    connection.set_schema_to_public()
    server_version, server_major = _server_major()
    pg_dump = find_tool("pg_dump", min_major=server_major, bin_dir=bin_dir)
    included, skipped = _selected(schemas)
    try:
        out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = datetime.now(UTC).strftime(STAMP_FORMAT)
        work = out_dir / f"{stamp}{INCOMPLETE}"
        if (out_dir / stamp).exists():
            raise BackupError(f"{out_dir / stamp} exists already (a backup in the same second); run again.")
        _private_dir(work)
    except OSError as exc:
        raise BackupError(
            f"Cannot create the backup directory in {out_dir}: {exc}. Nothing was written."
        ) from exc
    try:
        manifest = _write(
            work, included=included, skipped=skipped, pg_dump=pg_dump, server_version=server_version,
            progress=progress, notify=notify,
        )  # fmt: skip
        final = out_dir / stamp
        os.rename(work, final)
    except Exception as exc:
        if isinstance(exc, BackupError):
            logger.error("platform backup failed (%s); partial files left in %s", exc, work)
        else:
            logger.exception("platform backup failed; partial files left in %s", work)
        detail = str(exc) if isinstance(exc, BackupError | OSError | ValidationError) else repr(exc)
        if isinstance(exc, ValidationError):
            detail = "; ".join(exc.messages)
        raise BackupError(
            f"The backup failed: {detail}\nWhat was written is in {work} (named {INCOMPLETE}: it is not "
            "a usable backup; delete it once you have looked at it)."
        ) from exc
    result = BackupResult(final, manifest, time.perf_counter() - started)
    logger.info(
        "platform backup %s: %d organisations, %d skipped, in %.1fs",
        final, len(included), len(skipped), result.seconds,
    )  # fmt: skip
    if keep:
        try:
            result.pruned = backups_prune(out_dir=out_dir, keep=keep)
        except OSError as exc:
            raise BackupError(
                f"The backup {final} was written, but pruning old backups failed: {exc}. Remove them by hand."
            ) from exc
    return result


def _write(
    work: Path,
    *,
    included: list[Organization],
    skipped: list[dict],
    pg_dump: Tool,
    server_version: str,
    progress: OrganizationProgress | None,
    notify: Notify,
) -> dict:
    from tenants.archive_export import organization_export

    started_at = datetime.now(UTC).isoformat()
    files: dict[str, dict] = {}
    organizations = []
    with _snapshot() as snapshot:
        consistent = snapshot is not None
        dump = work / PUBLIC_DUMP
        command = [
            pg_dump.path, "--format=custom", "--schema=public", "--no-password",
            *([f"--snapshot={snapshot}"] if snapshot else []),
            *(f"--exclude-table-data={table}" for table in EXCLUDED_TABLE_DATA),
        ]  # fmt: skip
        with _private_file(dump) as stream:
            run_tool(command, what="pg_dump of the public schema", stdout=stream)
        files[PUBLIC_DUMP] = {"size": dump.stat().st_size, "sha256": file_sha256(dump)}
        notify(f"public schema: {PUBLIC_DUMP} ({files[PUBLIC_DUMP]['size'] / 1024:.0f} KiB)")
        migrations = _migration_summary()

        _private_dir(work / ORGANIZATIONS_DIR)
        for organization in included:
            schema = organization.schema_name
            name = f"{ORGANIZATIONS_DIR}/{schema}.zip"
            path = work / name
            report = (lambda step, schema=schema: progress(schema, step)) if progress else None
            with _private_file(path) as stream:
                archived = organization_export(schema=schema, out=stream, progress=report)
            files[name] = {"size": path.stat().st_size, "sha256": file_sha256(path)}
            organizations.append(
                _organization_entry(organization)
                | {"file": name, "tables": len(archived.tables), "rows": archived.total_rows}
            )
            notify(
                f"{schema}: {len(archived.tables)} tables, {archived.total_rows} rows, "
                f"{files[name]['size'] / 1024:.0f} KiB"
            )
    for entry in skipped:
        notify(f"{entry['schema']}: skipped ({entry['reason']})")
    db = settings.DATABASES["default"]
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "started_at": started_at,
        "finished_at": datetime.now(UTC).isoformat(),
        "database": {"name": db.get("NAME"), "host": db.get("HOST") or "", "port": str(db.get("PORT") or "")},
        "postgresql": server_version,
        "pg_dump": pg_dump.version,
        "pg_dump_major": pg_dump.major,
        "consistency": CONSISTENT if consistent else "separate snapshots (run inside a transaction)",
        "migrations": migrations,
        "files": files,
        "organizations": {"included": organizations, "skipped": skipped},
    }
    with _private_file(work / MANIFEST) as stream:
        stream.write(json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode())
    return manifest


def backups_prune(*, out_dir: Path | str, keep: int) -> list[Path]:
    """Delete the complete backups in ``out_dir`` beyond the newest ``keep``, and the
    ``.incomplete`` ones older than the newest complete backup (a later backup succeeded,
    so they are no longer evidence of a current problem). Incomplete ones newer than every
    complete backup stay. Only directories named like a backup are touched."""
    if keep < 1:
        raise BackupError("--keep must be at least 1.")
    out_dir = Path(out_dir)
    complete = sorted(
        p for p in out_dir.iterdir() if p.is_dir() and STAMP.match(p.name) and (p / MANIFEST).is_file()
    )
    if not complete:
        return []
    newest = complete[-1].name
    doomed = complete[:-keep] + sorted(
        p
        for p in out_dir.iterdir()
        if p.is_dir()
        and p.name.endswith(INCOMPLETE)
        and STAMP.match(p.name.removesuffix(INCOMPLETE))
        and p.name.removesuffix(INCOMPLETE) < newest
    )
    for path in doomed:
        shutil.rmtree(path)
        logger.info("backup pruned: %s", path)
    return doomed
