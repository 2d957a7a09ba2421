"""Full organisation export/import (tenants.archive): lossless round trip, a working copy,
and clear refusals that leave nothing behind.

Imports run inside each test's transaction (as in test_provisioning.py), so the test's
rollback removes the new organisation's row, domain and schema; the autouse fixture
below checks, after the module's tests, that nothing was committed (and removes it if so)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context, tenant_context

from accounts.models import Team
from tenants.archive import (
    FORMAT_VERSION,
    Manifest,
    Progress,
    code_migrations,
    organization_export,
    organization_import,
)
from tenants.models import Domain, Organization

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = "tenant_template"
COPY = "acme-copy"
COPY_SCHEMA = "acme_copy"
TEST_SLUGS = (COPY, "cmd-copy", "odd-copy", "copy-of-copy", "stream-copy")


@pytest.fixture(autouse=True, scope="module")
def _nothing_committed(django_db_blocker):
    """After the module's tests (and their rollbacks), no schema or organisation may remain."""
    yield
    schemas = [slug.replace("-", "_") for slug in TEST_SLUGS]
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", [schemas])
        left = [name for (name,) in cursor.fetchall()]
        for name in left:
            cursor.execute(f'DROP SCHEMA "{name}" CASCADE')
        organizations = Organization.objects.filter(slug__in=TEST_SLUGS)
        left_rows = list(organizations.values_list("slug", flat=True))
        Domain.objects.filter(tenant__in=organizations).delete()
        organizations.delete()
    assert (left, left_rows) == ([], [])


# --- helpers -----------------------------------------------------------------------------------


def tables_of(schema: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY 1",
            [schema],
        )
        return [name for (name,) in cursor.fetchall()]


def rows_of(schema: str) -> dict[str, list[str]]:
    """Every row of every table, as PostgreSQL's text of the whole row and as jsonb."""
    contents = {}
    with connection.cursor() as cursor:
        for table in tables_of(schema):
            cursor.execute(f'SELECT t::text, to_jsonb(t)::text FROM "{schema}"."{table}" AS t ORDER BY 1, 2')
            contents[table] = cursor.fetchall()
    return contents


def state() -> tuple:
    """Schemas, organisations, domains: what an import would add."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace")
        (schemas,) = cursor.fetchone()
    return schemas, Organization.objects.count(), Domain.objects.count()


def export_acme(tmp_path: Path) -> tuple[Path, Manifest]:
    path = tmp_path / "acme.zip"
    return path, organization_export(schema="acme", out=path)


def rewrite(source: Path, target: Path, *, replace=None, drop=(), add=None, manifest=None) -> Path:
    """A copy of an archive with members replaced, dropped or added, or the manifest edited."""
    replace, add = dict(replace or {}), dict(add or {})
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            if name in drop:
                continue
            data = replace.get(name, old.read(name))
            if name == "manifest.json" and manifest is not None:
                data = json.dumps(manifest(json.loads(data))).encode()
            new.writestr(name, data)
        for name, data in add.items():
            new.writestr(name, data)
    return target


def resealed(source: Path, target: Path, table: str, edit) -> Path:
    """Edit a table's lines and fix the manifest's checksum and count to match."""
    with zipfile.ZipFile(source) as old:
        lines = old.read(f"tables/{table}.jsonl").decode().splitlines()
    data = "".join(line + "\n" for line in edit(lines)).encode()

    def fix(manifest):
        manifest["tables"][table]["sha256"] = hashlib.sha256(data).hexdigest()
        manifest["tables"][table]["rows"] = data.count(b"\n")
        return manifest

    return rewrite(source, target, replace={f"tables/{table}.jsonl": data}, manifest=fix)


def import_copy(path, slug: str = COPY, **kwargs) -> Organization:
    return organization_import(archive=path, slug=slug, **kwargs)


# --- the round trip ----------------------------------------------------------------------------


def test_round_trip_keeps_every_row_of_every_table(tmp_path):
    path, manifest = export_acme(tmp_path)

    organization = import_copy(path)

    acme_rows, copy_rows = rows_of("acme"), rows_of(COPY_SCHEMA)
    assert organization.schema_name == COPY_SCHEMA
    assert sorted(manifest.tables) == tables_of("acme") == tables_of(COPY_SCHEMA)
    assert {"django_migrations", "django_session", "django_content_type", "auth_permission"} <= set(
        manifest.tables
    )
    assert {table for table in manifest.tables if "historical" in table} == {
        "okrs_historicalcheckin", "okrs_historicalkeyresult", "okrs_historicalobjective",
    }  # fmt: skip
    for table in acme_rows:
        assert copy_rows[table] == acme_rows[table], table
        assert manifest.tables[table].rows == len(acme_rows[table]), table
    assert manifest.tables["okrs_historicalobjective"].rows > 0
    assert manifest.tables["accounts_user"].rows == 12
    assert manifest.total_rows == sum(len(rows) for rows in acme_rows.values())
    assert manifest.migrations == code_migrations()
    assert manifest.source_schema == "acme"
    assert manifest.format_version == FORMAT_VERSION


def test_export_of_the_imported_organisation_has_the_same_checksums(tmp_path):
    path, first = export_acme(tmp_path)
    import_copy(path)

    second = organization_export(schema=COPY_SCHEMA, out=tmp_path / "copy.zip")

    assert {t: (e.rows, e.sha256) for t, e in second.tables.items()} == {
        t: (e.rows, e.sha256) for t, e in first.tables.items()
    }
    assert second.sequences == first.sequences
    assert second.migrations == first.migrations
    assert (second.organization["slug"], second.organization["name"]) == (COPY, "Acme Corp")


def test_rows_of_every_kind_of_column_survive(tmp_path):
    # The demo data has no bytea, arrays, json, NaN or generated columns: a table made
    # for the occasion, in the template (so the import's clone has it) and in acme.
    ddl = """
        CREATE TABLE {schema}.zz_kinds (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            archive_row text, r integer, f double precision, n numeric, b bytea, j json, jb jsonb,
            jbn jsonb NOT NULL, a integer[], ta text[], ts timestamptz, tsl timestamp, d date,
            iv interval, u uuid, bo boolean, g bigint GENERATED ALWAYS AS (id * 2) STORED
        );
        CREATE TABLE {schema}.zz_no_key (k integer, v text);
    """
    with connection.cursor() as cursor:
        for schema in (TEMPLATE, "acme"):
            cursor.execute(ddl.format(schema=schema))
        cursor.execute(
            r"""
            INSERT INTO acme.zz_kinds
                (archive_row, r, f, n, b, j, jb, jbn, a, ta, ts, tsl, d, iv, u, bo)
            VALUES
            ('alias', 1, 0.1::float8 + 0.2::float8, 1.000000000000000000000000000001, '\x00ff10'::bytea,
             '{"a" : [1, 2.50]}', '{"b": 1e40, "c": null}', 'null', '{{1,2},{3,4}}', '{"a b",NULL,"c\"d"}',
             '2024-03-01 10:00:00.123456+08', '2024-03-01 10:00:00.5', '2024-02-29', '1 day 02:03:04.5',
             'c4c364ff-dd0d-434e-bcc9-94dc54265920', true),
            (NULL, NULL, 'NaN', NULL, '', '"s"', NULL, '[]', '{}', '{}', 'infinity', NULL, NULL, NULL, NULL,
             false),
            (E'line\nbreak\ttab \u2028', -2147483648, '-0', NULL, NULL, 'null', 'null', '{}', NULL, '{NULL}',
             '-infinity', NULL, NULL, '-3 mons', NULL, NULL),
            (NULL, NULL, 1e-310, 'NaN', NULL, NULL, NULL, '"x"', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
             NULL);
            INSERT INTO acme.zz_no_key VALUES (2, 'b'), (1, NULL), (1, 'a'), (1, 'a');
            """
        )
    path, manifest = export_acme(tmp_path)

    import_copy(path)

    with connection.cursor() as cursor:
        for table in ("zz_kinds", "zz_no_key"):
            cursor.execute(f"SELECT t::text FROM acme.{table} t ORDER BY 1")
            original = cursor.fetchall()
            cursor.execute(f"SELECT t::text FROM {COPY_SCHEMA}.{table} t ORDER BY 1")
            assert cursor.fetchall() == original
        cursor.execute(f"SELECT id, f, jb IS NULL, j::text, jbn FROM {COPY_SCHEMA}.zz_kinds ORDER BY id")
        rows = cursor.fetchall()
    assert rows[0][1] == 0.30000000000000004
    # SQL NULL and a JSON null stay apart; json keeps its spacing.
    assert [(row[2], row[3]) for row in rows] == [
        (False, '{"a" : [1, 2.50]}'), (True, '"s"'), (False, "null"), (True, None),
    ]  # fmt: skip
    assert manifest.tables["zz_kinds"].rows == 4
    assert "g" not in dict(manifest.tables["zz_kinds"].columns)  # generated: computed again
    assert manifest.tables["zz_no_key"].primary_key == []
    with connection.cursor() as cursor:  # the identity continues after the loaded ids
        cursor.execute(f"INSERT INTO {COPY_SCHEMA}.zz_kinds (jbn) VALUES ('1') RETURNING id, g")
        assert cursor.fetchone() == (5, 10)


def test_import_without_a_template_migrates_the_schema_and_keeps_every_row(tmp_path):
    path, first = export_acme(tmp_path)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA "{TEMPLATE}" CASCADE')  # rolled back with the test

    import_copy(path)

    # A migrated schema may order its columns differently from a cloned one: compare as jsonb.
    copy_rows = {t: sorted(row[1] for row in rows) for t, rows in rows_of(COPY_SCHEMA).items()}
    acme_rows = {t: sorted(row[1] for row in rows) for t, rows in rows_of("acme").items()}
    assert copy_rows == acme_rows
    second = organization_export(schema=COPY_SCHEMA, out=tmp_path / "copy.zip")
    assert {t: e.sha256 for t, e in second.tables.items()} == {t: e.sha256 for t, e in first.tables.items()}


def test_every_foreign_key_is_deferred_so_load_order_does_not_matter():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE con.condeferrable AND con.condeferred) "
            "FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace "
            "WHERE n.nspname = 'acme' AND con.contype = 'f'"
        )
        total, deferred = cursor.fetchone()
    assert total == deferred > 20


# --- the copy works ----------------------------------------------------------------------------


def test_imported_organisation_is_routed_and_people_can_sign_in(tmp_path, demo_password):
    path, _manifest = export_acme(tmp_path)

    organization = import_copy(path)

    assert connection.schema_name == "public"
    assert (organization.name, organization.timezone, organization.language, organization.status) == (
        "Acme Corp", "Europe/Berlin", "en", "active",
    )  # fmt: skip
    assert list(Domain.objects.filter(tenant=organization).values_list("domain", "is_primary")) == [
        ("acme-copy.localhost", True)
    ]
    client = Client(HTTP_HOST="acme-copy.localhost")
    signed_in = client.post("/login/", {"username": "ceo@acme.example", "password": demo_password})
    assert signed_in.status_code == 302
    assert client.get("/").status_code == 200


def test_new_rows_in_the_imported_organisation_get_fresh_ids(tmp_path):
    path, manifest = export_acme(tmp_path)
    sequence = manifest.sequences["accounts_team.id"]
    organization = import_copy(path)

    with tenant_context(organization):
        highest = max(Team.objects.values_list("pk", flat=True))
        team = Team.objects.create(name="Formed after the move")

    assert sequence["is_called"] is True
    assert team.pk == sequence["last_value"] + 1 > highest


def test_name_can_be_given_and_archives_can_be_streams(tmp_path):
    stream = io.BytesIO()
    organization_export(schema="acme", out=stream)
    stream.seek(0)

    organization = organization_import(archive=stream, slug="stream-copy", name="  Acme (restored) ")

    assert organization.name == "Acme (restored)"
    with schema_context("stream_copy"), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_user")
        assert cursor.fetchone() == (12,)


def test_progress_is_reported_per_table(tmp_path):
    seen: list[Progress] = []
    path = tmp_path / "acme.zip"
    manifest = organization_export(schema="acme", out=path, progress=seen.append)
    import_copy(path, progress=seen.append)

    n = len(manifest.tables)
    assert [(step.phase, step.done) for step in seen] == [
        *(("export", i) for i in range(1, n + 1)),
        *(("verify", i) for i in range(1, n + 1)),
        *(("load", i) for i in range(1, n + 1)),
    ]
    assert {step.total for step in seen} == {n}
    assert sum(step.rows for step in seen if step.phase == "load") == manifest.total_rows


# --- refusals leave nothing behind ----------------------------------------------------------------


def _bump_version(manifest):
    manifest["format_version"] = FORMAT_VERSION + 1
    return manifest


def _drop_migration(manifest):
    manifest["migrations"] = [m for m in manifest["migrations"] if m != "okrs.0001_initial"]
    return manifest


def _add_migration(manifest):
    manifest["migrations"].append("okrs.9999_from_the_future")
    return manifest


def _miscount(manifest):
    manifest["tables"]["okrs_objective"]["rows"] += 1
    return manifest


def _retype_column(manifest):
    columns = manifest["tables"]["okrs_cycle"]["columns"]
    manifest["tables"]["okrs_cycle"]["columns"] = [[c, "text" if c == "name" else t] for c, t in columns]
    return manifest


CORRUPTIONS = {
    "checksum": (
        {"replace": {"tables/okrs_objective.jsonl": b'{"id": 1}\n'}},
        "okrs_objective.jsonl does not match",
    ),
    "rows": ({"manifest": _miscount}, "okrs_objective.jsonl has"),
    "missing file": (
        {"drop": ("tables/okrs_cycle.jsonl",)},
        "Files are missing from the archive: tables/okrs_cycle",
    ),
    "extra file": (
        {"add": {"tables/evil.jsonl": b"{}\n"}},
        "files its manifest does not list: tables/evil.jsonl",
    ),
    "version": (
        {"manifest": _bump_version},
        f"format version {FORMAT_VERSION + 1}; this release reads version 1",
    ),
    "older": ({"manifest": _drop_migration}, "lacks migrations this release has (okrs.0001_initial)"),
    "newer": ({"manifest": _add_migration}, "newer release: it has migrations this release does not know"),
    "no manifest": ({"drop": ("manifest.json",)}, "it has no manifest.json"),
    "manifest not json": ({"replace": {"manifest.json": b"{oops"}}, "manifest.json is not valid JSON"),
    # found once the schema exists, inside the transaction: rolled back
    "columns": ({"manifest": _retype_column}, "okrs_cycle has other columns here"),
    "manifest incomplete": (
        {"manifest": lambda m: {k: v for k, v in m.items() if k != "tables"}},
        "incomplete",
    ),
}


@pytest.mark.parametrize(("change", "message"), CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_damaged_archive_is_refused_and_nothing_is_created(tmp_path, change, message):
    path, _manifest = export_acme(tmp_path)
    damaged = rewrite(path, tmp_path / "damaged.zip", **change)
    before = state()

    with pytest.raises(ValidationError) as refused:
        import_copy(damaged)

    assert list(refused.value.message_dict) == ["archive"]
    assert message in " ".join(refused.value.message_dict["archive"])
    assert state() == before
    assert not Organization.objects.filter(slug=COPY).exists()


def test_a_file_that_is_not_an_archive_is_refused(tmp_path):
    path = tmp_path / "notes.zip"
    path.write_text("not a zip")

    with pytest.raises(ValidationError) as refused:
        import_copy(path, slug="www")

    assert refused.value.message_dict == {
        "slug": ["“www” is reserved by the platform; choose another."],
        "archive": ["This is not an organisation archive (not a ZIP file: File is not a zip file)."],
    }


@pytest.mark.parametrize(
    ("table", "edit", "message"),
    [
        (  # passes every checksum, but a key result names an objective that does not exist
            "okrs_keyresult",
            lambda lines: [lines[0].replace('"objective_id":', '"objective_id":99999,"x":', 1), *lines[1:]],
            "The archive's rows are inconsistent",
        ),
        (
            "okrs_cycle",
            lambda lines: [lines[0].replace('"id":', '"id":"one","x":', 1), *lines[1:]],
            "okrs_cycle cannot be loaded",
        ),
        ("okrs_cycle", lambda lines: [*lines, lines[0]], "okrs_cycle cannot be loaded"),  # duplicate key
    ],
    ids=["dangling-foreign-key", "bad-value", "duplicate-key"],
)
def test_rows_that_do_not_load_leave_nothing_behind(tmp_path, table, edit, message):
    path, _manifest = export_acme(tmp_path)
    broken = resealed(path, tmp_path / "broken.zip", table, edit)
    before = state()

    with pytest.raises(ValidationError) as refused:
        import_copy(broken)

    assert message in " ".join(refused.value.message_dict["archive"])
    assert state() == before
    assert not Organization.objects.filter(slug=COPY).exists()
    assert connection.schema_name == "public"


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("acme", "The subdomain “acme” is already taken."),
        ("ACME", "The subdomain “acme” is already taken."),
        ("www", "“www” is reserved by the platform; choose another."),
        ("ab", "A subdomain has 3 to 40 characters; “ab” has 2."),
        ("", "Choose a subdomain, for example “acme”."),
    ],
)
def test_taken_or_invalid_slug_is_refused_before_anything_is_created(tmp_path, slug, message):
    path, _manifest = export_acme(tmp_path)
    before = state()

    with pytest.raises(ValidationError) as refused:
        import_copy(path, slug=slug)

    assert refused.value.message_dict == {"slug": [message]}
    assert state() == before


def test_too_long_a_name_is_refused(tmp_path):
    path, _manifest = export_acme(tmp_path)
    before = state()

    with pytest.raises(ValidationError) as refused:
        import_copy(path, name="x" * 201)

    assert refused.value.message_dict == {"name": ["The name is too long (200 characters at most)."]}
    assert state() == before


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ("public", "“public” is not an organisation's schema; nothing to export."),
        (TEMPLATE, "“tenant_template” is not an organisation's schema; nothing to export."),
        ("nowhere", "No organisation has the schema “nowhere”. See the admin's list."),
    ],
)
def test_public_template_or_unknown_schema_is_not_exported(tmp_path, schema, message):
    path = tmp_path / "out.zip"

    with pytest.raises(ValidationError) as refused:
        organization_export(schema=schema, out=path)

    assert refused.value.message_dict == {"schema": [message]}
    assert list(tmp_path.iterdir()) == []


def test_failed_export_leaves_no_file(tmp_path):
    path = tmp_path / "missing-directory" / "acme.zip"

    with pytest.raises(ValidationError) as refused:
        organization_export(schema="acme", out=path)

    assert list(refused.value.message_dict) == ["out"]
    assert "No such file or directory" in refused.value.message_dict["out"][0]
    assert list(tmp_path.iterdir()) == []


# --- the commands --------------------------------------------------------------------------------


def test_commands_export_and_import_end_to_end(tmp_path):
    path = tmp_path / "acme.zip"
    exported, imported = io.StringIO(), io.StringIO()

    call_command("export_org", schema="acme", out=str(path), stdout=exported, stderr=io.StringIO())
    call_command(
        "import_org",
        archive=str(path),
        slug="cmd-copy",
        name="Acme Two",
        stdout=imported,
        stderr=io.StringIO(),
    )

    with zipfile.ZipFile(path) as archive:
        manifest = Manifest.from_json(archive.read("manifest.json"))
    n, rows = len(manifest.tables), manifest.total_rows
    assert exported.getvalue().startswith(f"Exported Acme Corp (acme): {n} tables, {rows} rows in ")
    assert f" s to {path} (" in exported.getvalue()
    lines = imported.getvalue().splitlines()
    assert lines[0].startswith(
        f"Imported Acme Two at http://cmd-copy.localhost/: {n} tables, {rows} rows in "
    )
    assert lines[1:] == ["  schema cmd_copy, status active"]
    assert Organization.objects.get(slug="cmd-copy").name == "Acme Two"


def test_export_command_in_its_own_process_reads_a_read_only_snapshot(tmp_path):
    # Outside a test's transaction the export opens its own REPEATABLE READ, READ ONLY
    # transaction; the archive is the same as one written inside this test's transaction.
    path = tmp_path / "acme.zip"
    environment = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "OKR_TEST_DATABASE_NAME": connection.settings_dict["NAME"],
    }  # fmt: skip
    finished = subprocess.run(
        [sys.executable, "manage.py", "export_org", "--schema", "acme", "--out", str(path), "-v", "0"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.startswith("Exported Acme Corp (acme): ")
    in_process = organization_export(schema="acme", out=tmp_path / "here.zip")
    with zipfile.ZipFile(path) as archive:
        manifest = Manifest.from_json(archive.read("manifest.json"))
    assert manifest.tables == in_process.tables


def test_commands_show_progress_per_table(tmp_path):
    path, progress = tmp_path / "acme.zip", io.StringIO()

    call_command("export_org", schema="acme", out=str(path), stdout=io.StringIO(), stderr=progress)

    n = len(tables_of("acme"))
    assert "[export_org] tables: 100%" in progress.getvalue()
    assert f"| {n}/{n} [" in progress.getvalue()
    assert "reviews_reviewsettings (" in progress.getvalue()  # the last table's name


def test_import_command_explains_what_is_wrong(tmp_path):
    path, _manifest = export_acme(tmp_path)

    with pytest.raises(CommandError) as refused:
        call_command("import_org", archive=str(path), slug="acme", verbosity=0)

    assert str(refused.value) == "Nothing was created:\n  slug: The subdomain “acme” is already taken."


def test_import_command_lists_every_damaged_file(tmp_path):
    path, _manifest = export_acme(tmp_path)
    damaged = rewrite(
        path, tmp_path / "damaged.zip",
        replace={"tables/okrs_cycle.jsonl": b"{}\n", "tables/okrs_kpi.jsonl": b"{}\n"},
    )  # fmt: skip

    with pytest.raises(CommandError) as refused:
        call_command("import_org", archive=str(damaged), slug=COPY, verbosity=0)

    assert str(refused.value) == (
        "Nothing was created:\n"
        "  archive: The archive is damaged or was changed after export:\n"
        "    tables/okrs_cycle.jsonl does not match its checksum.\n"
        "    tables/okrs_kpi.jsonl does not match its checksum."
    )


def test_export_command_refuses_to_overwrite_and_explains_bad_schema(tmp_path):
    path = tmp_path / "acme.zip"
    path.write_bytes(b"keep me")

    with pytest.raises(CommandError) as exists:
        call_command("export_org", schema="acme", out=str(path), verbosity=0)
    with pytest.raises(CommandError) as public:
        call_command("export_org", schema="public", out=str(tmp_path / "p.zip"), verbosity=0)

    assert str(exists.value) == f"Nothing was written: {path} exists (choose another name, or add --force)."
    assert path.read_bytes() == b"keep me"
    assert str(public.value) == (
        "Nothing was written:\n  schema: “public” is not an organisation's schema; nothing to export."
    )
