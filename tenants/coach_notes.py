"""Coach notes: a consultant's private notes about a client (public schema). Every
consultant assigned to the client reads them; only the author edits or deletes a note.

They are not recorded as ``PlatformEvent``: the event log is what the client's org admins
read (the access log), and these notes are private to the consultants.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from accounts.permissions import require
from tenants.models import CoachNote, Organization
from tenants.permissions import can_edit_coach_note, can_write_coach_note

NOTE_MAX_LENGTH = 10_000


def _clean_body(body) -> str:
    """The note's text, trimmed; a ``ValidationError`` keyed ``body`` when empty, too long
    or holding characters PostgreSQL cannot store."""
    body = (body if isinstance(body, str) else "").strip()
    if not body:
        raise ValidationError({"body": _("Write something in the note.")})
    if len(body) > NOTE_MAX_LENGTH:
        raise ValidationError(
            {
                "body": _("A note holds at most %(limit)s characters (this one has %(count)s).")
                % {
                    "limit": number_format(NOTE_MAX_LENGTH, force_grouping=True),
                    "count": number_format(len(body), force_grouping=True),
                }
            }
        )
    if "\x00" in body:
        raise ValidationError({"body": _("The note contains a null character.")})
    return body


@transaction.atomic
def note_add(*, organization: Organization, body: str, actor) -> CoachNote:
    require(can_write_coach_note(actor, organization), _("You don't serve this client."))
    note = CoachNote(organization=organization, author=actor, body=_clean_body(body))
    note.full_clean(exclude=["organization", "author"])
    note.save()
    return note


@transaction.atomic
def note_update(*, note: CoachNote, body: str, actor) -> CoachNote:
    require(can_edit_coach_note(actor, note), _("Only the author of a note can change it."))
    body = _clean_body(body)
    # Lock the row: two tabs saving at once keep the last save, never a half of each.
    note = CoachNote.objects.select_for_update().get(pk=note.pk)
    if note.body != body:
        note.body = body
        note.save(update_fields=["body", "updated_at"])
    return note


@transaction.atomic
def note_delete(*, note: CoachNote, actor) -> None:
    require(can_edit_coach_note(actor, note), _("Only the author of a note can delete it."))
    CoachNote.objects.filter(pk=note.pk).delete()
