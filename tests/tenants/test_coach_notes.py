"""Coach notes: private to the consultants assigned to a client; only the author edits or
deletes a note; clear errors and nothing changed on bad input or a refusal."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tenants.coach_notes import note_add, note_delete, note_update
from tenants.models import CoachNote
from tests.tenants.test_portal import assign, make_client, make_consultant, portal_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def olivia(db):
    return make_consultant("h3.olivia@platform.example", name="Olivia Test")


@pytest.fixture
def bruno(db):
    return make_consultant("h3.bruno@platform.example", name="Bruno Test")


@pytest.fixture
def shared(olivia, bruno):
    """A client both serve."""
    organization = make_client("h3-shared", name="Shared Client")
    assign(organization, olivia)
    assign(organization, bruno)
    return organization


@pytest.fixture
def olivias_own(olivia):
    """A client only Olivia serves."""
    organization = make_client("h3-own", name="Own Client")
    assign(organization, olivia)
    return organization


def _bodies(organization) -> list[str]:
    return list(CoachNote.objects.filter(organization=organization).values_list("body", flat=True))


# --- Services -------------------------------------------------------------------------------


def test_a_note_is_added_trimmed_by_its_author(shared, olivia):
    note = note_add(organization=shared, body="  Wants weekly check-ins.\n", actor=olivia)

    stored = CoachNote.objects.get(pk=note.pk)
    assert (stored.organization, stored.author, stored.body) == (shared, olivia, "Wants weekly check-ins.")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Write something in the note."),
        ("   \n\t ", "Write something in the note."),
        (None, "Write something in the note."),
        ("x" * 10_001, "A note holds at most 10,000 characters (this one has 10,001)."),
        ("nul\x00byte", "The note contains a null character."),
    ],
)
def test_bad_note_bodies_are_refused_and_nothing_is_written(shared, olivia, body, message):
    with pytest.raises(ValidationError) as error:
        note_add(organization=shared, body=body, actor=olivia)

    assert error.value.message_dict == {"body": [message]}
    assert _bodies(shared) == []


def test_the_longest_note_fits(shared, olivia):
    note_add(organization=shared, body="x" * 10_000, actor=olivia)

    assert [len(b) for b in _bodies(shared)] == [10_000]


def test_a_consultant_not_serving_the_client_cannot_add_a_note(olivias_own, bruno):
    with pytest.raises(PermissionDenied, match=r"^You don't serve this client\.$"):
        note_add(organization=olivias_own, body="Sneaky", actor=bruno)

    assert _bodies(olivias_own) == []


def test_only_the_author_updates_or_deletes_a_note(shared, olivia, bruno):
    note = note_add(organization=shared, body="Original", actor=olivia)

    with pytest.raises(PermissionDenied, match=r"^Only the author of a note can change it\.$"):
        note_update(note=note, body="Changed by Bruno", actor=bruno)
    with pytest.raises(PermissionDenied, match=r"^Only the author of a note can delete it\.$"):
        note_delete(note=note, actor=bruno)
    assert _bodies(shared) == ["Original"]

    note_update(note=note, body="Changed", actor=olivia)
    assert _bodies(shared) == ["Changed"]
    note_delete(note=note, actor=olivia)
    assert _bodies(shared) == []


def test_a_bad_update_changes_nothing(shared, olivia):
    note = note_add(organization=shared, body="Original", actor=olivia)

    with pytest.raises(ValidationError):
        note_update(note=note, body=" ", actor=olivia)

    assert _bodies(shared) == ["Original"]


def test_an_author_whose_access_was_revoked_can_no_longer_edit(shared, olivia):
    note = note_add(organization=shared, body="Original", actor=olivia)
    shared.consultant_assignments.filter(consultant=olivia).update(revoked_at=timezone.now())

    with pytest.raises(PermissionDenied):
        note_update(note=note, body="Changed", actor=olivia)
    with pytest.raises(PermissionDenied):
        note_add(organization=shared, body="Another", actor=olivia)

    assert _bodies(shared) == ["Original"]


# --- Pages ----------------------------------------------------------------------------------


def test_notes_on_a_shared_client_are_visible_to_every_consultant_serving_it(
    shared, olivias_own, olivia, bruno
):
    note_add(organization=shared, body="Shared remark", actor=olivia)
    note_add(organization=shared, body="Bruno's remark", actor=bruno)
    note_add(organization=olivias_own, body="Private remark", actor=olivia)

    olivia_page = portal_client(olivia).get("/portal/clients/h3-shared/").content.decode()
    bruno_page = portal_client(bruno).get("/portal/clients/h3-shared/").content.decode()
    bruno_own = portal_client(bruno).get("/portal/clients/h3-own/")

    for html in (olivia_page, bruno_page):
        assert html.count('data-testid="coach-note"') == 2
        assert "Shared remark" in html
        assert "Bruno&#x27;s remark" in html
        assert "Private remark" not in html
    # Each sees edit and delete on their own note only.
    assert olivia_page.count('data-testid="note-edit-form"') == 1
    assert bruno_page.count('data-testid="note-delete-form"') == 1
    assert bruno_own.status_code == 404
    assert b"Private remark" not in bruno_own.content


def test_a_note_is_added_from_the_client_page(shared, olivia):
    response = portal_client(olivia).post(
        "/portal/clients/h3-shared/notes/", {"body": "Met the CEO."}, follow=True
    )

    assert response.redirect_chain == [("/portal/clients/h3-shared/#notes", 302)]
    assert "Note added." in response.content.decode()
    assert _bodies(shared) == ["Met the CEO."]


def test_an_empty_note_shows_the_error_and_keeps_nothing(shared, olivia):
    response = portal_client(olivia).post("/portal/clients/h3-shared/notes/", {"body": "   "})

    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-testid="note-error">Write something in the note.<' in html
    assert 'aria-invalid="true"' in html
    assert _bodies(shared) == []


def test_too_long_a_note_keeps_the_text_for_another_try(shared, olivia):
    response = portal_client(olivia).post("/portal/clients/h3-shared/notes/", {"body": "y" * 10_001})

    assert response.status_code == 422
    assert "y" * 10_001 in response.content.decode()
    assert _bodies(shared) == []


def test_edit_and_delete_from_the_client_page(shared, olivia):
    note = note_add(organization=shared, body="Draft", actor=olivia)
    client = portal_client(olivia)

    edited = client.post(f"/portal/clients/h3-shared/notes/{note.pk}/edit/", {"body": "Final"}, follow=True)
    assert "Note saved." in edited.content.decode()
    assert _bodies(shared) == ["Final"]

    refused = client.post(f"/portal/clients/h3-shared/notes/{note.pk}/edit/", {"body": ""})
    assert refused.status_code == 422
    assert 'data-testid="note-error">Write something in the note.<' in refused.content.decode()
    assert _bodies(shared) == ["Final"]

    deleted = client.post(f"/portal/clients/h3-shared/notes/{note.pk}/delete/", follow=True)
    assert "Note deleted." in deleted.content.decode()
    assert _bodies(shared) == []


def test_someone_elses_note_cannot_be_changed_from_the_page(shared, olivia, bruno):
    note = note_add(organization=shared, body="Olivia's", actor=olivia)
    client = portal_client(bruno)

    assert client.post(f"/portal/clients/h3-shared/notes/{note.pk}/edit/", {"body": "x"}).status_code == 403
    assert client.post(f"/portal/clients/h3-shared/notes/{note.pk}/delete/").status_code == 403

    assert _bodies(shared) == ["Olivia's"]


def test_notes_of_clients_not_mine_are_404s_whatever_the_address(shared, olivias_own, olivia, bruno):
    private = note_add(organization=olivias_own, body="Private", actor=olivia)
    client = portal_client(bruno)

    for url in (
        "/portal/clients/h3-own/notes/",
        f"/portal/clients/h3-own/notes/{private.pk}/edit/",
        f"/portal/clients/h3-own/notes/{private.pk}/delete/",
        # A note named under a client I do serve is still not found there.
        f"/portal/clients/h3-shared/notes/{private.pk}/edit/",
        f"/portal/clients/h3-shared/notes/{private.pk}/delete/",
        "/portal/clients/h3-shared/notes/999999999/delete/",
    ):
        assert client.post(url, {"body": "Changed"}).status_code == 404, url

    assert _bodies(olivias_own) == ["Private"]
    assert _bodies(shared) == []


def test_notes_pages_need_a_post(shared, olivia):
    note = note_add(organization=shared, body="Note", actor=olivia)
    client = portal_client(olivia)

    assert client.get("/portal/clients/h3-shared/notes/").status_code == 405
    assert client.get(f"/portal/clients/h3-shared/notes/{note.pk}/delete/").status_code == 405
    assert _bodies(shared) == ["Note"]
