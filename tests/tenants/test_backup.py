"""Whole-platform backups (tenants/backup.py): backup_platform writes a private, checksummed
backup from one snapshot; backup_verify finds damage; failures say what to do and never
leave something that looks like a good backup; restore_platform rebuilds a new database.

pg_dump and pg_restore are the real programs (PATH, else pgserver's bundled ones). The
only stand-ins are two tiny shell scripts playing a broken or too old pg_dump."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context

from accounts.models import User
from tenants.backup import CONSISTENT, STAMP, find_tool
from tenants.backup_verify import backup_verify

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _backup(out: Path, *args: str) -> tuple[Path, str]:
    stdout = io.StringIO()
    call_command("backup_platform", "--out", str(out), *args, stdout=stdout, stderr=io.StringIO())
    made = [p for p in out.iterdir() if STAMP.match(p.name)]
    assert len(made) == 1
    return made[0], stdout.getvalue()


def _verify(path: Path) -> str:
    stdout = io.StringIO()
    call_command("backup_verify", str(path), stdout=stdout)
    return stdout.getvalue()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _fake_pg_dump(directory: Path, *, version: str, dump_error: str = "") -> Path:
    directory.mkdir()
    script = directory / "pg_dump"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) {version}"; exit 0; fi\n'
        f'echo "{dump_error}" >&2\nexit 1\n'
    )
    script.chmod(0o755)
    return directory


def test_backup_writes_private_checksummed_files_that_verify(tmp_path):
    path, output = _backup(tmp_path / "backups")

    manifest = json.loads((path / "manifest.json").read_bytes())
    assert set(manifest["files"]) == {"public.dump", "organizations/acme.zip", "organizations/globex.zip"}
    for name, entry in manifest["files"].items():
        data = (path / name).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["size"], entry["sha256"])
        assert _mode(path / name) == 0o600
    assert (_mode(path), _mode(path / "organizations"), _mode(path / "manifest.json")) == (
        0o700,
        0o700,
        0o600,
    )
    assert [(o["schema"], o["file"]) for o in manifest["organizations"]["included"]] == [
        ("acme", "organizations/acme.zip"),
        ("globex", "organizations/globex.zip"),
    ]
    assert manifest["organizations"]["skipped"] == []
    assert manifest["format"] == "okr-platform-backup"
    assert manifest["pg_dump"].startswith("pg_dump (PostgreSQL) ")
    assert manifest["migrations"]["latest_per_app"]["tenants"].startswith("00")
    assert "PASSWORD" not in json.dumps(manifest).upper()
    assert re.search(r"^\[backup\] acme: \d+ tables, \d+ rows, \d+ KiB$", output, re.MULTILINE)
    assert f"Backup written to {path}: the public schema and 2 organisations (0 skipped)" in output

    verified = _verify(path)
    assert "OK  public.dump: pg_restore reads it" in verified
    assert "OK  acme: archive readable" in verified
    assert f"OK: the backup {path} verifies (6 checks)." in verified


def test_verify_reports_a_changed_byte_and_exits_1(tmp_path):
    path, _ = _backup(tmp_path / "backups")
    archive = path / "organizations" / "acme.zip"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))

    with pytest.raises(CommandError) as refused:
        _verify(path)
    assert str(refused.value) == (
        f"The backup {path} is NOT usable:\n  organizations/acme.zip does not match its SHA-256 checksum."
    )
    # From the command line: exit code 1, the reason on stderr.
    done = subprocess.run(
        [sys.executable, "manage.py", "backup_verify", str(path)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
    )  # fmt: skip
    assert done.returncode == 1
    assert "organizations/acme.zip does not match its SHA-256 checksum." in done.stderr


def test_verify_runs_pg_restore_and_notices_missing_and_extra_files(tmp_path):
    path, _ = _backup(tmp_path / "backups")
    # A dump that is not one, with a manifest rewritten to match it: only pg_restore can tell.
    manifest = json.loads((path / "manifest.json").read_bytes())
    (path / "public.dump").write_bytes(b"PGDMP garbage")
    manifest["files"]["public.dump"] = {"size": 13, "sha256": hashlib.sha256(b"PGDMP garbage").hexdigest()}
    (path / "manifest.json").write_text(json.dumps(manifest))
    (path / "organizations" / "globex.zip").unlink()
    (path / "notes.txt").write_text("hello")

    report = backup_verify(path=path)
    assert report.ok is False
    assert report.problems[0:2] == [
        "notes.txt is not listed in the manifest.",
        "organizations/globex.zip is missing.",
    ]
    assert report.problems[2].startswith("public.dump: pg_restore --list failed: pg_restore: error:")
    assert len(report.problems) == 3


def test_backup_of_chosen_schemas_lists_the_others_as_skipped(tmp_path):
    path, _ = _backup(tmp_path / "backups", "--schema", "globex")
    manifest = json.loads((path / "manifest.json").read_bytes())
    assert [o["schema"] for o in manifest["organizations"]["included"]] == ["globex"]
    assert [(o["schema"], o["reason"]) for o in manifest["organizations"]["skipped"]] == [
        ("acme", "not selected (--schema)")
    ]
    assert set(manifest["files"]) == {"public.dump", "organizations/globex.zip"}


def test_unknown_schema_is_refused_before_writing(tmp_path):
    with pytest.raises(CommandError) as refused:
        call_command(
            "backup_platform", "--out", str(tmp_path / "b"), "--schema", "nope", stdout=io.StringIO()
        )
    assert str(refused.value) == (
        "No organisation has the schema nope (the organisations' schemas are: acme, globex). "
        "Nothing was written."
    )
    assert not (tmp_path / "b").exists()


def test_unwritable_directory_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(CommandError) as refused:
        call_command("backup_platform", "--out", str(blocker / "backups"), stdout=io.StringIO())
    assert str(refused.value).startswith(f"Cannot create the backup directory in {blocker / 'backups'}: ")
    assert str(refused.value).endswith("Nothing was written.")


def test_no_usable_pg_dump_says_what_to_install(tmp_path):
    connection.ensure_connection()
    major = connection.connection.info.server_version // 10000
    old = _fake_pg_dump(tmp_path / "old-bin", version="9.6.24")
    with pytest.raises(CommandError) as refused:
        call_command(
            "backup_platform", "--out", str(tmp_path / "b"), "--pg-bin", str(old), stdout=io.StringIO()
        )
    assert str(refused.value) == (
        f"No pg_dump of PostgreSQL {major} or newer was found (tried: {old / 'pg_dump'} (version 9)). "
        f"Install the PostgreSQL {major} client programs (Debian/Ubuntu: apt install "
        f"postgresql-client-{major}, from apt.postgresql.org if your release lacks it) or give their "
        "directory with --pg-bin."
    )
    assert not (tmp_path / "b").exists()


def test_too_old_pg_dump_on_path_falls_back_to_the_bundled_one(tmp_path, monkeypatch):
    old = _fake_pg_dump(tmp_path / "old-bin", version="9.6.24")
    monkeypatch.setenv("PATH", str(old))
    tool = find_tool("pg_dump", min_major=16)
    assert tool.path.endswith("pgserver/pginstall/bin/pg_dump")
    assert tool.major >= 16


def test_failure_midway_leaves_an_incomplete_directory_and_exits_1(tmp_path):
    broken = _fake_pg_dump(
        tmp_path / "bin", version="99.0", dump_error="pg_dump: error: No space left on device"
    )
    out = tmp_path / "backups"
    with pytest.raises(CommandError) as refused:
        call_command("backup_platform", "--out", str(out), "--pg-bin", str(broken), stdout=io.StringIO())
    (left,) = list(out.iterdir())
    assert left.name.endswith(".incomplete")
    assert STAMP.match(left.name.removesuffix(".incomplete"))
    assert str(refused.value) == (
        "The backup failed: pg_dump of the public schema failed: pg_dump: error: No space left on device\n"
        f"What was written is in {left} (named .incomplete: it is not a usable backup; delete it once you "
        "have looked at it)."
    )
    report = backup_verify(path=left)
    assert (
        report.problems[0] == f"{left.name} is an incomplete backup (the run failed): never restore from it."
    )


def test_keep_prunes_old_complete_backups_and_superseded_incomplete_ones(tmp_path):
    out = tmp_path / "backups"
    for name in ("20200101T000000Z", "20200102T000000Z", "20200103T000000Z"):
        (out / name).mkdir(parents=True)
        (out / name / "manifest.json").write_text("{}")
    (out / "20200102T120000Z.incomplete").mkdir()  # older than a good backup: superseded
    (out / "29990101T000000Z.incomplete").mkdir()  # newer than every good one: kept as evidence
    (out / "20200104T000000Z").mkdir()  # named like a backup but has no manifest: not ours to judge
    (out / "keep-me").mkdir()

    before = {p.name for p in out.iterdir()}
    stdout = io.StringIO()
    call_command("backup_platform", "--out", str(out), "--keep", "2", stdout=stdout, stderr=io.StringIO())

    left = sorted(p.name for p in out.iterdir())
    new = sorted(set(left) - before)
    assert len(new) == 1
    assert STAMP.match(new[0])
    assert left == sorted(
        ["20200103T000000Z", "20200104T000000Z", "29990101T000000Z.incomplete", "keep-me", new[0]]
    )
    assert f"[backup] pruned {out / '20200101T000000Z'}" in stdout.getvalue()
    assert f"[backup] pruned {out / '20200102T120000Z.incomplete'}" in stdout.getvalue()


def test_keep_must_be_positive(tmp_path):
    with pytest.raises(CommandError, match=r"^--keep must be at least 1. Nothing was written.$"):
        call_command("backup_platform", "--out", str(tmp_path), "--keep", "0", stdout=io.StringIO())


def _admin_connection():
    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"], port=db["PORT"] or None, user=db["USER"], password=db["PASSWORD"] or None,
        dbname="postgres", autocommit=True,
    )  # fmt: skip


def test_restore_platform_rebuilds_a_new_database_from_a_backup(tmp_path):
    """Round trip, each step in a process of its own as an operator runs it: back up the
    test database (outside any transaction: one exported snapshot), restore into a scratch
    database on the same server, compare."""
    test_db = connection.settings_dict["NAME"]
    scratch = f"{test_db}_restore"
    with schema_context("acme"):
        acme_people = sorted(User.objects.values_list("email", flat=True))

    def manage(*args, database):
        return subprocess.run(
            [sys.executable, "manage.py", *args], check=False, cwd=ROOT, capture_output=True, text=True,
            timeout=240, env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
                              "OKR_TEST_DATABASE_NAME": database},
        )  # fmt: skip

    backed_up = manage("backup_platform", "--out", str(tmp_path / "backups"), "-v", "0", database=test_db)
    assert backed_up.returncode == 0, backed_up.stderr
    (path,) = (tmp_path / "backups").iterdir()
    assert json.loads((path / "manifest.json").read_bytes())["consistency"] == CONSISTENT

    def restore(*args):
        return manage("restore_platform", str(path), "-v", "1", *args, database=scratch)

    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{scratch}"')
        try:
            done = restore()
            assert done.returncode == 0, done.stderr
            assert "Restored 2 organisations (0 were there already)" in done.stdout

            db = settings.DATABASES["default"]
            with psycopg.connect(
                host=db["HOST"], port=db["PORT"] or None, user=db["USER"], password=db["PASSWORD"] or None,
                dbname=scratch,
            ) as restored:  # fmt: skip
                organizations = restored.execute(
                    "SELECT schema_name, status FROM tenants_organization WHERE NOT is_template "
                    "AND schema_name <> 'public' ORDER BY 1"
                ).fetchall()
                people = [e for (e,) in restored.execute("SELECT email FROM acme.accounts_user ORDER BY 1")]
                domains = [d for (d,) in restored.execute("SELECT domain FROM tenants_domain ORDER BY 1")]
                template = restored.execute(
                    "SELECT to_regclass('tenant_template.django_migrations')"
                ).fetchone()
            assert organizations == [("acme", "active"), ("globex", "active")]
            assert people == acme_people
            assert domains == ["acme.localhost", "globex.localhost", "localhost"]
            assert template[0] is not None

            again = restore()  # refused: the database is no longer empty
            assert again.returncode == 1
            assert f"The database {scratch} already has a platform" in again.stderr
            resumed = restore("--skip-public")  # a repeated run leaves restored organisations alone
            assert resumed.returncode == 0, resumed.stderr
            assert "Restored 0 organisations (2 were there already)" in resumed.stdout
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
