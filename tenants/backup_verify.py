"""Checking a whole-platform backup (tenants/backup.py) without a database: every file's size
and SHA-256 against the manifest, ``pg_restore --list`` on the public dump, and each organisation
archive's own manifest, tables, row counts and CRCs. docs/backup.md has the procedure."""

from __future__ import annotations

import json
import logging
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError

from tenants.archive_format import MANIFEST as ARCHIVE_MANIFEST
from tenants.archive_format import Manifest as ArchiveManifest
from tenants.backup import (
    FORMAT,
    FORMAT_VERSION,
    INCOMPLETE,
    MANIFEST,
    PUBLIC_DUMP,
    BackupError,
    find_tool,
    run_tool,
)
from tenants.offboarding import file_sha256

logger = logging.getLogger(__name__)


# --- verification -----------------------------------------------------------------------------


@dataclass
class VerifyReport:
    path: Path
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    manifest: dict | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def _read_manifest(path: Path) -> dict:
    try:
        data = json.loads((path / MANIFEST).read_bytes())
    except FileNotFoundError as exc:
        raise BackupError(
            f"{path} has no {MANIFEST}: it is not a backup written by backup_platform."
        ) from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{MANIFEST} cannot be read: {exc}.") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError(f"{MANIFEST} is not a platform backup manifest (no “{FORMAT}” format).")
    if data.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"The backup has format version {data.get('format_version')}; this release reads "
            f"{FORMAT_VERSION}. Use the release that wrote it."
        )
    if not isinstance(data.get("files"), dict) or not isinstance(data.get("organizations"), dict):
        raise BackupError(f"{MANIFEST} is incomplete (no files or organisations).")
    return data


def backup_verify(*, path: Path | str, bin_dir: Path | str | None = None) -> VerifyReport:
    """Check a backup without a database: every file's size and SHA-256, ``pg_restore
    --list`` of the public dump, and each organisation archive's manifest and CRCs."""
    path = Path(path)
    report = VerifyReport(path)
    if not path.is_dir():
        report.problems.append(f"{path} is not a directory.")
        return report
    if path.name.endswith(INCOMPLETE):
        report.problems.append(
            f"{path.name} is an incomplete backup (the run failed): never restore from it."
        )
    try:
        manifest = report.manifest = _read_manifest(path)
    except BackupError as exc:
        report.problems.append(str(exc))
        return report

    listed = manifest["files"]
    damaged = _verify_files(report, path, listed)
    if PUBLIC_DUMP not in listed:
        report.problems.append(f"The manifest lists no {PUBLIC_DUMP}.")
    elif PUBLIC_DUMP not in damaged:
        _verify_dump(report, path / PUBLIC_DUMP, manifest, bin_dir)
    for entry in manifest["organizations"].get("included", []):
        name = entry.get("file", "")
        if name in listed and name not in damaged:
            _verify_archive(report, path / name, entry)
        elif name not in listed:
            report.problems.append(
                f"{entry.get('schema')}: its archive {name} is not listed in the manifest."
            )
    return report


def _verify_files(report: VerifyReport, path: Path, listed: dict) -> set[str]:
    """Sizes and checksums; returns the names that are missing or damaged."""
    present = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()} - {MANIFEST}
    for name in sorted(present - set(listed)):
        report.problems.append(f"{name} is not listed in the manifest.")
    damaged = set()
    for name, entry in sorted(listed.items()):
        file = path / name
        if not file.is_file():
            report.problems.append(f"{name} is missing.")
            damaged.add(name)
            continue
        size = file.stat().st_size
        if size != entry.get("size"):
            report.problems.append(f"{name} has {size} bytes; the manifest says {entry.get('size')}.")
            damaged.add(name)
        elif file_sha256(file) != entry.get("sha256"):
            report.problems.append(f"{name} does not match its SHA-256 checksum.")
            damaged.add(name)
        else:
            report.checked.append(f"{name}: size and SHA-256 match")
    return damaged


def _verify_dump(report: VerifyReport, dump: Path, manifest: dict, bin_dir) -> None:
    try:
        pg_restore = find_tool(
            "pg_restore", min_major=int(manifest.get("pg_dump_major") or 0), bin_dir=bin_dir
        )
        listing = run_tool([pg_restore.path, "--list", str(dump)], what="pg_restore --list").stdout.decode()
    except BackupError as exc:
        report.problems.append(f"{PUBLIC_DUMP}: {exc}")
        return
    if "TABLE DATA public tenants_organization" not in listing:
        report.problems.append(f"{PUBLIC_DUMP} has no data for public.tenants_organization.")
        return
    entries = sum(1 for line in listing.splitlines() if line and not line.startswith(";"))
    report.checked.append(f"{PUBLIC_DUMP}: pg_restore reads it ({entries} entries)")


def _verify_archive(report: VerifyReport, file: Path, entry: dict) -> None:
    schema = entry.get("schema")
    try:
        with zipfile.ZipFile(file) as zipped:
            archived = ArchiveManifest.from_json(zipped.read(ARCHIVE_MANIFEST))
            bad = zipped.testzip()
    except ValidationError as exc:
        report.problems.append(f"{schema}: {'; '.join(exc.messages)}")
        return
    except (zipfile.BadZipFile, KeyError, zlib.error, OSError, EOFError) as exc:
        report.problems.append(f"{schema}: the archive cannot be read ({exc}).")
        return
    if bad is not None:
        report.problems.append(f"{schema}: {bad} in the archive is damaged (CRC).")
    elif archived.source_schema != schema:
        report.problems.append(f"{schema}: the archive holds the schema {archived.source_schema}.")
    elif len(archived.tables) != entry.get("tables") or archived.total_rows != entry.get("rows"):
        report.problems.append(f"{schema}: the archive's tables or rows differ from the backup manifest.")
    else:
        report.checked.append(
            f"{schema}: archive readable ({len(archived.tables)} tables, {archived.total_rows} rows)"
        )
