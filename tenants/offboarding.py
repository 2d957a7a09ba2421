"""Archives kept by the platform, offboarding and restoring (public side).

    organization_export_archive(organization=acme, actor=admin)           -> OrganizationArchive
    organization_offboard(organization=acme, confirmation="acme", actor=admin) -> OrganizationArchive
    organization_restore(archive=archive, actor=admin)                    -> Organization
    archive_delete(archive=archive, actor=admin)

Archives are the step-5 format (``tenants.archive``), written to ``settings.ARCHIVE_DIR`` as
``<slug>-<UTC timestamp>.zip`` and recorded as ``OrganizationArchive`` rows with their size
and SHA-256. Offboarding writes an archive and drops the schema in one transaction; the
organisation's row and domains stay (its host answers with the "unavailable" page), so it
can be restored from the archive into the same schema name until the file is deleted.
Every step is a ``PlatformEvent``. See docs/backup.md.
"""

from __future__ import annotations

import hashlib
import logging
import os
from datetime import UTC
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_exists
from psycopg import sql

from accounts.models import User
from tenants.archive_export import organization_export
from tenants.archive_format import ident, render, schema_tables
from tenants.archive_import import _deferrable_constraints, organization_import_into
from tenants.events import event_record
from tenants.models import ConsultantEntry, Organization, OrganizationArchive, PlatformEvent

logger = logging.getLogger(__name__)

# How long offboarding waits for requests that are still using the organisation's tables.
LOCK_TIMEOUT = "15s"
CHUNK = 1024 * 1024


def archive_directory() -> Path:
    """``settings.ARCHIVE_DIR``, created (private to this user) when missing."""
    directory = Path(settings.ARCHIVE_DIR)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def file_sha256(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _archive_path(organization: Organization) -> Path:
    directory = archive_directory()
    stamp = timezone.now().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    path, n = directory / f"{organization.slug}-{stamp}.zip", 2
    while path.exists():  # two exports within the same second
        path, n = directory / f"{organization.slug}-{stamp}-{n}.zip", n + 1
    return path


def _check_client(organization: Organization) -> None:
    if organization.is_template or organization.schema_name == get_public_schema_name():
        raise ValidationError(_("Only client organisations have archives."))


def _check_has_schema(organization: Organization) -> None:
    if organization.status == Organization.Status.OFFBOARDED or not schema_exists(organization.schema_name):
        raise ValidationError(
            _(
                "%(org)s is offboarded: its data is only in its archives. Restore it from an archive "
                "first; nothing was changed."
            )
            % {"org": organization.name}
        )


def _write_archive(organization: Organization, *, actor: User | None, reason: str) -> OrganizationArchive:
    """Export the schema to a new file and record it (row and EXPORTED event). Uses the
    caller's transaction when there is one; a failure leaves no file behind."""
    path = _archive_path(organization)
    try:
        organization_export(schema=organization.schema_name, out=path)
        os.chmod(path, 0o600)  # every row, password hashes included
        size, sha256 = path.stat().st_size, file_sha256(path)
        with transaction.atomic():
            archive = OrganizationArchive.objects.create(
                organization=organization, organization_slug=organization.slug, reason=reason,
                path=str(path), size=size, sha256=sha256, created_by=_label(actor),
            )  # fmt: skip
            event_record(
                PlatformEvent.Action.EXPORTED, organization=organization, actor=actor,
                archive_id=archive.pk, reason=reason, file=path.name, size=size, sha256=sha256,
            )  # fmt: skip
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return archive


def _label(actor) -> str:
    return getattr(actor, "email", "") or "system"


def organization_export_archive(
    *, organization: Organization, actor: User | None, reason: str = OrganizationArchive.Reason.EXPORT
) -> OrganizationArchive:
    """Write the organisation's archive to ``ARCHIVE_DIR`` (one consistent snapshot, read
    while people keep working) and record it. Raises ``ValidationError``; then no file and
    no row are left."""
    _check_client(organization)
    if reason not in OrganizationArchive.Reason.values:
        raise ValidationError({"reason": _("Unknown archive reason “%(r)s”.") % {"r": reason}})
    _check_has_schema(organization)
    archive = _write_archive(organization, actor=actor, reason=reason)
    logger.info("organisation %s archived to %s by %s", organization.slug, archive.path, _label(actor))
    return archive


def organization_offboard(
    *, organization: Organization, confirmation: str, actor: User | None
) -> OrganizationArchive:
    """Archive the organisation, then drop its schema, all in one transaction: its tables
    are locked first, so nothing written after the export can be lost, and if the export
    fails nothing is dropped. The row and its domains stay (status offboarded: the host
    answers with the "unavailable" page), as do its consultant assignments; unused entry
    tokens are deleted. ``confirmation`` must be the organisation's subdomain, exactly."""
    _check_client(organization)
    if confirmation != organization.slug:
        raise ValidationError(
            {
                "confirmation": _(
                    "To offboard %(org)s, type its subdomain “%(slug)s” exactly. Nothing was changed."
                )
                % {"org": organization.name, "slug": organization.slug}
            }
        )
    archive = None
    try:
        with transaction.atomic():
            locked = Organization.objects.select_for_update().get(pk=organization.pk)
            _check_has_schema(locked)
            previous = locked.status
            _lock_tables(locked)
            archive = _write_archive(locked, actor=actor, reason=OrganizationArchive.Reason.OFFBOARD)
            _drop_schema(locked.schema_name)
            locked.status = Organization.Status.OFFBOARDED
            locked.save(update_fields=["status", "updated_at"])
            ConsultantEntry.objects.filter(organization=locked).delete()
            event_record(
                PlatformEvent.Action.OFFBOARDED, organization=locked, actor=actor, archive_id=archive.pk,
                previous_status=previous, file=Path(archive.path).name,
            )  # fmt: skip
    except BaseException:
        if archive is not None:
            Path(archive.path).unlink(missing_ok=True)
        raise
    finally:
        connection.set_schema_to_public()
    organization.status = Organization.Status.OFFBOARDED
    logger.info(
        "organisation %s offboarded by %s; archive %s", organization.slug, _label(actor), archive.path
    )
    return archive


def _lock_tables(organization: Organization) -> None:
    """Keep everyone out of the organisation's tables until the schema is dropped."""
    tables = [
        ident(organization.schema_name, table.name) for table in schema_tables(organization.schema_name)
    ]
    if not tables:
        return
    statement = sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.SQL(", ").join(tables))
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout')")
        (previous,) = cursor.fetchone()
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [LOCK_TIMEOUT])
        try:
            with transaction.atomic():
                cursor.execute(render(statement), [])
        except OperationalError as exc:
            raise ValidationError(
                _(
                    "%(org)s is busy (its tables stayed in use for %(t)s); try again in a moment. "
                    "Nothing was changed."
                )
                % {"org": organization.name, "t": LOCK_TIMEOUT}
            ) from exc
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])


def _drop_schema(schema: str) -> None:
    with connection.cursor() as cursor:
        # Run the schema's own deferred checks now: PostgreSQL refuses to drop a table with
        # trigger events still pending in this transaction (rows written earlier in it).
        constraints = [name for name, _initially_deferred in _deferrable_constraints(schema)]
        if constraints:
            cursor.execute(f"SET CONSTRAINTS {', '.join(constraints)} IMMEDIATE", [])
        cursor.execute(render(sql.SQL("DROP SCHEMA {} CASCADE").format(ident(schema))), [])


def _status_before_offboarding(organization: Organization) -> str:
    event = (
        PlatformEvent.objects.filter(organization=organization, action=PlatformEvent.Action.OFFBOARDED)
        .order_by("-at", "-id")
        .first()
    )
    status = (event.detail or {}).get("previous_status") if event else None
    # Without the record, come back suspended: a platform admin reactivates on purpose.
    return status if status in Organization.SERVING_STATUSES else Organization.Status.SUSPENDED


def restore_problems(archive: OrganizationArchive) -> list[str]:
    """Why this archive cannot restore its organisation now (empty when it can). Checks
    the file against its recorded SHA-256, so it reads the whole file."""
    organization = archive.organization
    if archive.deleted_at is not None:
        return [
            _("The archive file was deleted on %(date)s: %(slug)s can no longer be restored from it.")
            % {"date": archive.deleted_at.date().isoformat(), "slug": archive.organization_slug}
        ]
    if organization is None:
        return [
            _(
                "The organisation of this archive no longer exists. Import the file as a new "
                "organisation instead (manage.py import_org)."
            )
        ]
    if organization.status != Organization.Status.OFFBOARDED:
        return [
            _("%(org)s is %(status)s, not offboarded: only an offboarded organisation is restored.")
            % {"org": organization.name, "status": organization.get_status_display().lower()}
        ]
    path = Path(archive.path)
    if not path.is_file():
        return [_("The archive file %(path)s is missing.") % {"path": path}]
    if file_sha256(path) != archive.sha256:
        return [
            _("The archive file %(path)s does not match the checksum recorded when it was written.")
            % {"path": path}
        ]
    return []


def organization_restore(*, archive: OrganizationArchive, actor: User | None) -> Organization:
    """Bring an offboarded organisation back from one of its archives: its schema (same
    name) is created and filled (without the old sessions), and its status is what it was
    before offboarding. All or nothing; refused once the archive file is deleted, missing
    or changed."""
    archive = OrganizationArchive.objects.select_related("organization").get(pk=archive.pk)
    if problems := restore_problems(archive):
        raise ValidationError([*problems, _("Nothing was restored.")])
    try:
        with transaction.atomic():
            organization = Organization.objects.select_for_update().get(pk=archive.organization_id)
            if organization.status != Organization.Status.OFFBOARDED:
                raise ValidationError(
                    _("%(org)s was restored meanwhile; nothing was changed.") % {"org": organization.name}
                )
            status = _status_before_offboarding(organization)
            organization_import_into(archive=archive.path, organization=organization)
            # Sessions from before offboarding do not come back: everyone signs in again.
            with connection.cursor() as cursor:
                cursor.execute(
                    render(
                        sql.SQL("DELETE FROM {}").format(ident(organization.schema_name, "django_session"))
                    ),
                    [],
                )
            organization.status = status
            organization.save(update_fields=["status", "updated_at"])
            event_record(
                PlatformEvent.Action.RESTORED, organization=organization, actor=actor,
                archive_id=archive.pk, status=status, file=Path(archive.path).name,
            )  # fmt: skip
    finally:
        connection.set_schema_to_public()
    logger.info("organisation %s restored from %s by %s", organization.slug, archive.path, _label(actor))
    return organization


def archive_delete(*, archive: OrganizationArchive, actor: User | None) -> OrganizationArchive:
    """Delete the archive's file for good (the row stays, with when). An offboarded
    organisation whose archives are all deleted can no longer be restored."""
    with transaction.atomic():
        locked = OrganizationArchive.objects.select_for_update().get(pk=archive.pk)
        if locked.deleted_at is not None:
            raise ValidationError(
                _("This archive's file was already deleted on %(date)s.")
                % {"date": locked.deleted_at.date().isoformat()}
            )
        path = Path(locked.path)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise ValidationError(
                _("Cannot delete %(path)s: %(error)s. Nothing was changed.")
                % {"path": path, "error": exc.strerror or exc}
            ) from exc
        locked.deleted_at = timezone.now()
        locked.save(update_fields=["deleted_at"])
        event_record(
            PlatformEvent.Action.ARCHIVE_DELETED, organization=locked.organization, actor=actor,
            archive_id=locked.pk, slug=locked.organization_slug, file=path.name,
        )  # fmt: skip
    archive.deleted_at = locked.deleted_at
    logger.info("archive %s of %s deleted by %s", path, locked.organization_slug, _label(actor))
    return locked
