"""The check every CSV upload passes before an import reads it: the people and OKR imports
(web pages and API) and the onboarding wizard's people file.

In this order, each refusal with a message that says what to do:

1. **Size** from the upload's own size, before reading it (Django has already spooled a
   large upload to a temporary file, not memory: ``FILE_UPLOAD_MAX_MEMORY_SIZE``); at most
   ``accounts.imports_csv.MAX_FILE_BYTES`` + 1 bytes are ever read.
2. **Not a binary file**: a known binary signature (an image, a PDF, a workbook, an
   archive) or a NUL byte anywhere (binary data, or UTF-16 text) is refused whatever the
   file is named or the browser says it is.
3. **Text**: UTF-8 (a byte order mark is fine) and not empty.

``accounts.imports_csv.decode_upload`` runs all three, so the import services refuse such a
file whoever calls them (the API reports it as a problem of the whole file, row null); the
upload forms also run it as a field validator (``csv_upload_validate``), so the web pages
show the reason on the file field.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# The first bytes of formats people upload by mistake (the name is shown in the message).
BINARY_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"%PDF-", "PDF"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Excel 97-2003 (.xls)"),
    (b"\x1f\x8b", "gzip"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip"),
    (b"Rar!\x1a\x07", "RAR"),
)


def binary_problem(data: bytes) -> str:
    """ "" for bytes that may be CSV text, else why not (a known binary format, NUL bytes).
    ``accounts.imports_csv.decode_upload`` asks this of every upload."""
    if data.startswith(b"PK\x03\x04"):  # a ZIP: what Excel, Numbers and LibreOffice save
        return _(
            "This looks like an Excel workbook. Save it as “CSV UTF-8 (comma delimited)” and upload that."
        )
    for signature, kind in BINARY_SIGNATURES:
        if data.startswith(signature):
            return _(
                "This file is in %(kind)s format, not CSV. Export your spreadsheet as "
                "“CSV UTF-8 (comma delimited)” and upload that."
            ) % {"kind": kind}
    if b"\x00" in data:
        return _(
            "The file contains NUL bytes, so it is not a UTF-8 text CSV file (it may be binary or "
            "saved as UTF-16). Save it as “CSV UTF-8 (comma delimited)” and upload that."
        )
    return ""


def csv_upload_problem(file) -> str:
    """ "" when ``file`` (an upload, a file object or bytes) may be read as a CSV file,
    else the reason it is refused (size, binary content, encoding, empty)."""
    from accounts.imports_csv import decode_upload  # it asks binary_problem in turn

    text, problem = decode_upload(file)
    if hasattr(file, "seek"):
        file.seek(0)
    return "" if text is not None else problem


def csv_upload_validate(file) -> None:
    """A validator for form and serializer file fields: raises ``ValidationError`` with the
    reason when ``file`` is not an acceptable CSV upload."""
    problem = csv_upload_problem(file)
    if problem:
        raise ValidationError(problem, code="invalid_file")
