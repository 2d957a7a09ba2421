"""Reading an uploaded CSV for the imports (people here, OKRs in ``okrs.imports``).

What a file must look like, and what is refused with a clear message (nothing is ever
half-read):

- **Encoding**: UTF-8, with or without the byte order mark Excel writes ("CSV UTF-8").
  Anything else (a legacy code page, UTF-16, an .xlsx workbook) is refused with a hint.
- **Size**: at most ``MAX_FILE_BYTES`` (2 MB), and a number of rows below the header that each
  import sets (``max_rows``): an import runs in the request, through the same services as the
  UI, and must finish well within the web server's 30-second timeout.
- **Separator**: a comma; a semicolon or a tab when the header row uses one of them more
  than commas (Excel writes semicolons in locales with a decimal comma).
- **Header**: the first row names the columns, in any order and any case; spaces and
  hyphens count as underscores ("Manager e-mail" is ``manager_e_mail``, an accepted alias).
  Unknown, repeated and missing required columns are errors of row 1. A column with no name
  is ignored when it is empty all the way down (spreadsheets add such columns).
- **Row numbers** are the spreadsheet's: the header is row 1, the first data row is row 2
  (a quoted cell spanning several lines still counts as one row). Blank rows are skipped
  but keep their number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from accounts.uploads import binary_problem

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000  # default; the imports set their own (accounts.imports, okrs.imports)
MAX_CELL_CHARS = 5000


@dataclass(frozen=True)
class RowError:
    """One problem: ``row`` as in the spreadsheet (header = 1; None: the whole file),
    ``column`` as named in the header ("" when the problem is not one cell's)."""

    row: int | None
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass(kw_only=True)
class ImportOutcome:
    """What an import did (or, in a dry run, would do). Nothing was written when ``errors``
    is not empty or ``dry_run`` is true; ``applied`` says the changes were saved."""

    dry_run: bool
    rows_read: int = 0
    errors: list[RowError] = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run, "applied": self.applied, "rows_read": self.rows_read,
            **self.plan(), "errors": [error.as_dict() for error in self.errors],
        }  # fmt: skip

    def plan(self) -> dict:
        """What the import creates or changes, as plain data (each kind of import says)."""
        return {}


@dataclass(frozen=True)
class Column:
    """A column an import accepts; ``help`` is shown on the import page."""

    name: str
    help: str
    required: bool = False
    example: str = ""


@dataclass
class CsvTable:
    columns: list[str] = field(default_factory=list)  # the known columns the header names
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (row number, cells)
    errors: list[RowError] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return len(self.rows)


def _normalise_header(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", "_").split())


def _delimiter(first_line: str) -> str:
    counts = {sep: first_line.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > counts[","] else ","


def _file_error(table: CsvTable, message: str) -> CsvTable:
    table.errors.append(RowError(None, "", message))
    return table


def _read_bytes(file) -> bytes | None:
    """The upload's bytes, or None when it is larger than the limit (read no further)."""
    size = getattr(file, "size", None)
    if size is not None and size > MAX_FILE_BYTES:
        return None
    if isinstance(file, bytes | bytearray):
        data = bytes(file)
    else:
        if hasattr(file, "seek"):
            file.seek(0)
        data = file.read(MAX_FILE_BYTES + 1)
        if isinstance(data, str):
            data = data.encode("utf-8")
    return None if len(data) > MAX_FILE_BYTES else data


def decode_upload(file) -> tuple[str | None, str]:
    """(text, "") for an acceptable upload, else (None, the reason)."""
    data = _read_bytes(file)
    if data is None:
        return None, _("The file is larger than %(mb)d MB; split it into several files.") % {
            "mb": MAX_FILE_BYTES // (1024 * 1024)
        }
    binary = binary_problem(data)  # a workbook, an image, a PDF, NUL bytes (UTF-16): accounts.uploads
    if binary:
        return None, binary
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return None, _(
            "The file is not UTF-8 text (line %(line)d has a character in another encoding). In Excel, "
            "save it as “CSV UTF-8 (comma delimited)”; in other programs choose the UTF-8 encoding."
        ) % {"line": data.count(b"\n", 0, error.start) + 1}
    if not text.strip():
        return None, _("The file is empty; its first row must name the columns.")
    return text, ""


def read_csv(
    file,
    *,
    columns: Sequence[Column],
    aliases: Mapping[str, str] | None = None,
    max_rows: int = MAX_ROWS,
) -> CsvTable:
    """Read and check the shape of ``file`` (an upload, a file object or bytes). Cells
    are stripped; the row dicts have every known column of the header."""
    table = CsvTable()
    text, problem = decode_upload(file)
    if text is None:
        return _file_error(table, problem)
    known = {column.name for column in columns}
    aliases = aliases or {}
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_delimiter(text.split("\n", 1)[0]), strict=True
    )
    try:
        records = list(_records(reader, max_rows))
    except csv.Error as error:
        return _file_error(
            table,
            _("The file is not valid CSV near line %(line)d (%(error)s).")
            % {"line": reader.line_num, "error": error},
        )
    except TooManyRowsError:
        return _file_error(
            table,
            _("The file has more than %(max)s rows below the header; split it into several files.")
            % {"max": f"{max_rows:,}"},
        )
    header, body = records[0][1], records[1:]
    names = _check_header(table, header, body, known=known, aliases=aliases, columns=columns)
    if table.errors:
        return table
    table.columns = [name for name in names if name]
    for number, cells in body:
        if all(not cell.strip() for cell in cells):
            continue
        row = dict.fromkeys(table.columns, "")
        extra = [cell for cell in cells[len(names) :] if cell.strip()]
        if extra:
            table.errors.append(
                RowError(
                    number,
                    "",
                    _("This row has %(cells)d cells but the header names %(columns)d columns.")
                    % {"cells": len(cells), "columns": len(names)},
                )
            )
        for name, cell in zip(names, cells, strict=False):
            if not name:
                continue
            value = cell.strip()
            if "\x00" in value:
                table.errors.append(RowError(number, name, _("The cell contains a NUL character.")))
                value = value.replace("\x00", "")
            elif len(value) > MAX_CELL_CHARS:
                table.errors.append(
                    RowError(number, name, _("At most %(n)d characters.") % {"n": MAX_CELL_CHARS})
                )
            row[name] = value
        table.rows.append((number, row))
    return table


class TooManyRowsError(Exception):
    pass


def _records(reader, max_rows: int) -> Iterable[tuple[int, list[str]]]:
    """(row number, cells) for each record; header = row 1. Stops past the row limit."""
    for number, cells in enumerate(reader, start=1):
        if number > max_rows + 1:
            raise TooManyRowsError
        yield number, cells


def _check_header(table, header, body, *, known, aliases, columns) -> list[str]:
    """The known column name of each header cell ("" for an ignored empty column)."""
    names: list[str] = []
    seen: dict[str, str] = {}
    for index, raw in enumerate(header):
        name = _normalise_header(raw.replace("\x00", ""))
        name = aliases.get(name, name)
        if not name:
            if any(len(cells) > index and cells[index].strip() for _, cells in body):
                table.errors.append(
                    RowError(
                        1,
                        "",
                        _("Column %(n)d has values but no name in the header row.") % {"n": index + 1},
                    )
                )
            names.append("")
            continue
        if name not in known:
            table.errors.append(
                RowError(
                    1,
                    raw.strip()[:100],
                    _("Unknown column “%(name)s”. The columns are: %(known)s.")
                    % {"name": raw.strip()[:100], "known": ", ".join(c.name for c in columns)},
                )
            )
        elif name in seen:
            table.errors.append(RowError(1, name, _("The column “%(name)s” appears twice.") % {"name": name}))
        seen[name] = raw
        names.append(name if name in known else "")
    for column in columns:
        if column.required and column.name not in seen:
            table.errors.append(
                RowError(
                    1, column.name, _("The required column “%(name)s” is missing.") % {"name": column.name}
                )
            )
    return names


def template_csv(columns: Sequence[Column], examples: Iterable[Sequence[str]]) -> bytes:
    """A downloadable template: UTF-8 with BOM (Excel opens it right), the header row and
    the example rows."""
    stream = io.StringIO()
    writer = csv.writer(stream)
    writer.writerow([column.name for column in columns])
    for row in examples:
        writer.writerow(row)
    return ("\ufeff" + stream.getvalue()).encode("utf-8")
