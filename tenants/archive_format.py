"""The organisation archive format (shared by ``archive_export`` and ``archive_import``).

An archive is a ZIP file::

    manifest.json               format, version, source, organisation, migrations, tables, sequences
    tables/<table>.jsonl        one JSON object per row, ordered by primary key

Each row is PostgreSQL's own ``row_to_json`` of the table's stored columns (generated
columns are left out: PostgreSQL computes them again), keys in column-name order, so the
same rows always give the same bytes and checksum. PostgreSQL writes and reads every
value itself, so nothing passes through Python types: timestamps keep their microseconds
and offset, floats their exact digits (``extra_float_digits`` > 0), numerics all their
digits, bytea is hex, arrays are JSON arrays. ``json``/``jsonb`` values are written as
their text in a JSON string, because ``row_to_json`` writes SQL NULL and a JSON ``null``
both as ``null``.

ZIP rather than tar.gz: the manifest is written last (its checksums are only known at
the end) but read first, and tables are read one at a time, without unpacking anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _
from psycopg import sql

FORMAT = "okr-organization-archive"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_MAX_BYTES = 20 * 1024 * 1024

# Session settings that make PostgreSQL's text output of values exact and repeatable.
SESSION_SETTINGS = {
    "TimeZone": "UTC",
    "DateStyle": "ISO, YMD",
    "IntervalStyle": "postgres",
    "extra_float_digits": "1",  # PostgreSQL >= 12: the shortest text that reads back exactly
    "bytea_output": "hex",
}
# Types written as their text: row_to_json cannot tell SQL NULL from a JSON null in them.
TEXT_ENCODED_TYPES = frozenset({"json", "jsonb", "json[]", "jsonb[]"})


def table_file(table: str) -> str:
    return f"tables/{table}.jsonl"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # format_type(), without the schema's own name (so source and target compare)
    sql_type: str  # format_type() as it names the type from anywhere (for casts)

    @property
    def text_encoded(self) -> bool:
        return self.type in TEXT_ENCODED_TYPES


@dataclass(frozen=True)
class TableEntry:
    rows: int
    sha256: str
    columns: list[list[str]]  # [name, type], by name
    primary_key: list[str]


@dataclass(frozen=True)
class Manifest:
    format: str
    format_version: int
    created_at: str
    source_schema: str
    organization: dict  # the public-schema row (tenants.Organization), minus its id
    domains: list[str]
    migrations: list[str]  # "app.name", sorted
    postgresql: str
    tables: dict[str, TableEntry] = field(default_factory=dict)
    # "table.column" for a column's sequence (identity or serial), else the sequence's name
    sequences: dict[str, dict] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(entry.rows for entry in self.tables.values())

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        """Parse and check the shape; raises ValidationError (keyed "archive")."""
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _archive_error(_("manifest.json is not valid JSON (%(error)s).") % {"error": exc}) from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise _archive_error(
                _("This is not an organisation archive (manifest.json has no “%s” format).") % FORMAT
            )
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise _archive_error(
                _(
                    "The archive has format version %(found)s; this release reads version %(known)s. "
                    "Import it with the release that exported it (or a newer one)."
                )
                % {"found": version, "known": FORMAT_VERSION}
            )
        try:
            tables = {
                str(name): TableEntry(
                    rows=_int(entry["rows"]),
                    sha256=str(entry["sha256"]),
                    columns=[[str(c), str(t)] for c, t in entry["columns"]],
                    primary_key=[str(c) for c in entry["primary_key"]],
                )
                for name, entry in data["tables"].items()
            }
            sequences = {
                str(key): {"last_value": _int(s["last_value"]), "is_called": bool(s["is_called"])}
                for key, s in data["sequences"].items()
            }
            return cls(
                format=FORMAT, format_version=version, created_at=str(data["created_at"]),
                source_schema=str(data["source_schema"]), organization=dict(data["organization"]),
                domains=[str(d) for d in data["domains"]], migrations=[str(m) for m in data["migrations"]],
                postgresql=str(data["postgresql"]), tables=tables, sequences=sequences,
            )  # fmt: skip
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise _archive_error(
                _("manifest.json is incomplete or malformed (%(error)s).") % {"error": repr(exc)}
            ) from exc


def _int(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _archive_error(message: str) -> ValidationError:
    return ValidationError({"archive": [message]})


@dataclass(frozen=True)
class Progress:
    """Reported after each table: phase is "export", "verify" (checksums) or "load"."""

    phase: str
    table: str
    rows: int
    done: int
    total: int


ProgressCallback = Callable[[Progress], None]


# --- the catalog ---------------------------------------------------------------------------

_COLUMNS = """
    SELECT c.relname, a.attname::text,
           CASE WHEN tn.nspname = %(schema)s
                THEN replace(format_type(a.atttypid, a.atttypmod), quote_ident(tn.nspname) || '.', '')
                ELSE format_type(a.atttypid, a.atttypmod) END,
           format_type(a.atttypid, a.atttypmod)
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    JOIN pg_type t ON t.oid = a.atttypid
    JOIN pg_namespace tn ON tn.oid = t.typnamespace
    WHERE n.nspname = %(schema)s AND c.relkind = 'r' AND a.attgenerated = ''
    ORDER BY c.relname, a.attname
"""
_TABLES = """
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY c.relname
"""
_PRIMARY_KEYS = """
    SELECT c.relname, array_agg(a.attname::text ORDER BY k.position)
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
    WHERE n.nspname = %s AND i.indisprimary
    GROUP BY c.relname
"""
_SEQUENCES = """
    SELECT s.relname, t.relname, a.attname::text
    FROM pg_class s
    JOIN pg_namespace n ON n.oid = s.relnamespace
    LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
         AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
    LEFT JOIN pg_class t ON t.oid = d.refobjid
    LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
    WHERE n.nspname = %s AND s.relkind = 'S'
    ORDER BY s.relname
"""


@dataclass(frozen=True)
class Table:
    name: str
    columns: list[Column]
    primary_key: list[str]


@dataclass(frozen=True)
class Sequence:
    key: str  # "table.column" when a column owns it, else its name
    name: str
    table: str | None
    column: str | None


def schema_tables(schema: str) -> list[Table]:
    """Every ordinary table of ``schema`` (partitions included), by name."""
    with connection.cursor() as cursor:
        cursor.execute(_TABLES, [schema])
        names = [name for (name,) in cursor.fetchall()]
        cursor.execute(_COLUMNS, {"schema": schema})
        columns: dict[str, list[Column]] = {}
        for table, name, type_, sql_type in cursor.fetchall():
            columns.setdefault(table, []).append(Column(name, type_, sql_type))
        cursor.execute(_PRIMARY_KEYS, [schema])
        keys = dict(cursor.fetchall())
    return [Table(name, columns.get(name, []), list(keys.get(name) or [])) for name in names]


def schema_sequences(schema: str) -> list[Sequence]:
    with connection.cursor() as cursor:
        cursor.execute(_SEQUENCES, [schema])
        rows = cursor.fetchall()
    return [
        Sequence(f"{table}.{column}" if table else name, name, table, column) for name, table, column in rows
    ]


def ident(*parts: str) -> sql.Composable:
    """A quoted (qualified) identifier. Queries built with it go through Django's cursor,
    so a "%" is doubled: execute them with a parameter list, even an empty one."""
    connection.ensure_connection()
    return sql.SQL(sql.Identifier(*parts).as_string(connection.connection).replace("%", "%%"))


def render(query: sql.Composable) -> str:
    return query.as_string(connection.connection)


@contextmanager
def session_settings() -> Iterator[None]:
    """Apply SESSION_SETTINGS until the end of the block, which must be inside an atomic
    block: on success the old values are put back (the caller's transaction may go on
    after us); on an error the rollback (to the savepoint) reverts them."""
    names = list(SESSION_SETTINGS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["current_setting(%s)"] * len(names)), names)
        previous = dict(zip(names, cursor.fetchone(), strict=True))
        _set_local(cursor, SESSION_SETTINGS)
    yield
    with connection.cursor() as cursor:
        _set_local(cursor, previous)


def _set_local(cursor, settings: dict[str, str]) -> None:
    params = [item for name, value in settings.items() for item in (name, value)]
    cursor.execute("SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(settings)), params)
