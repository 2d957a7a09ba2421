"""Full organisation export and import (backup, moving an organisation, offboarding).

    organization_export(schema="acme", out=Path("acme.zip"))   -> Manifest
    organization_import(archive=Path("acme.zip"), slug="acme-copy") -> Organization

The format is described in ``tenants/archive_format.py``, the procedure in docs/backup.md.
"""

from tenants.archive_export import organization_export
from tenants.archive_format import FORMAT, FORMAT_VERSION, Manifest, Progress, TableEntry
from tenants.archive_import import code_migrations, organization_import

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Manifest",
    "Progress",
    "TableEntry",
    "code_migrations",
    "organization_export",
    "organization_import",
]
