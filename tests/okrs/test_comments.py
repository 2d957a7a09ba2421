"""Comments on an objective: who may add and delete them (okrs.services.comments and
okrs.permissions), the "Comments" section of the objective page (HTMX and plain POST),
times in the reader's time zone, and a page whose queries do not grow with comments."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_tenants.utils import tenant_context

from accounts.models import User
from okrs import permissions
from okrs.models import Cycle, Objective
from okrs.models_comments import ObjectiveComment
from okrs.services.comments import comment_add, comment_delete
from tests.api_helpers import tenant
from tests.factories import UserFactory
from tests.okrs.test_views_objective import QUERIES_AS_ADMIN
from tests.web import get_counting, htmx, sign_in

pytestmark = pytest.mark.django_db

DEPLOYS = "Ship changes safely every day"  # the platform lead's, visible to everyone
CEO, LEAD, SRE, ANALYST, VIEWER = (
    "ceo@acme.example", "platform.lead@acme.example", "sre@acme.example", "analyst@acme.example",
    "board@acme.example",
)  # fmt: skip
COACH = "coach@acme.example"
TOO_LONG = "x" * 5001


def person(email: str) -> User:
    return User.objects.get(email=email)


@pytest.fixture
def coach(acme) -> User:
    return tenant(acme, lambda: UserFactory(email=COACH, full_name="Casey Coach", role=User.Role.CONSULTANT))


@pytest.fixture
def deploys(acme) -> Objective:
    return tenant(acme, lambda: Objective.objects.select_related("cycle", "owner").get(title=DEPLOYS))


@pytest.fixture
def private(acme) -> Objective:
    """The SRE's private objective: the analyst (another team) may not see it."""

    def make():
        sre = person(SRE)
        return Objective.objects.create(
            title="Quietly fix the pager rota", cycle=Cycle.objects.get(kind=Cycle.Kind.QUARTER), owner=sre,
            team=sre.team, visibility=Objective.Visibility.PRIVATE, state=Objective.State.ACTIVE,
        )  # fmt: skip

    return tenant(acme, make)


def comments(objective: Objective) -> list[tuple[str, str]]:
    return list(
        ObjectiveComment.objects.filter(objective=objective)
        .order_by("created_at", "id")
        .values_list("author__email", "body")
    )


def add(acme, objective: Objective, email: str, body: str, **kwargs) -> ObjectiveComment:
    return tenant(acme, lambda: ObjectiveComment.objects.create(objective=objective, author=person(email),
                                                                body=body, **kwargs))  # fmt: skip


# --- Services ------------------------------------------------------------------------------------------


def test_people_who_see_the_objective_and_write_may_comment_consultants_included(acme, coach, deploys):
    with tenant_context(acme):
        comment_add(objective=deploys, actor=person(ANALYST), body="  How do we count a safe deploy?  ")
        comment_add(objective=deploys, actor=coach, body="Make the second KR an outcome, not an activity.")

        assert comments(deploys) == [
            (ANALYST, "How do we count a safe deploy?"),
            (COACH, "Make the second KR an outcome, not an activity."),
        ]


def test_viewers_and_people_who_cannot_see_the_objective_are_refused(acme, deploys, private):
    with tenant_context(acme):
        viewer, analyst = person(VIEWER), person(ANALYST)

        assert permissions.can_comment_on_objective(viewer, deploys) is False
        assert permissions.can_comment_on_objective(analyst, private) is False
        with pytest.raises(PermissionDenied):
            comment_add(objective=deploys, actor=viewer, body="Looks good")
        with pytest.raises(PermissionDenied):
            comment_add(objective=private, actor=analyst, body="Peeking")

        assert ObjectiveComment.objects.count() == 0


def test_a_comment_needs_text_and_at_most_5000_characters(acme, deploys):
    with tenant_context(acme):
        sre = person(SRE)

        with pytest.raises(ValidationError) as empty:
            comment_add(objective=deploys, actor=sre, body="   ")
        with pytest.raises(ValidationError) as long:
            comment_add(objective=deploys, actor=sre, body=TOO_LONG)
        with pytest.raises(ValidationError) as nul:
            comment_add(objective=deploys, actor=sre, body="a\x00b")
        comment_add(objective=deploys, actor=sre, body="y" * 5000)

        assert empty.value.message_dict == {"body": ["Write a comment first."]}
        assert long.value.message_dict == {
            "body": ["A comment can be at most 5000 characters long (this one has 5001)."]
        }
        assert list(nul.value.message_dict) == ["body"]
        assert comments(deploys) == [(SRE, "y" * 5000)]


def test_the_author_or_an_org_admin_deletes_a_comment(acme, coach, deploys):
    with tenant_context(acme):
        by_coach = comment_add(objective=deploys, actor=coach, body="Coach's note")
        by_sre = comment_add(objective=deploys, actor=person(SRE), body="SRE's note")

        for stranger in (person(LEAD), person(ANALYST), person(VIEWER)):  # the lead owns the objective
            with pytest.raises(PermissionDenied):
                comment_delete(comment=by_coach, actor=stranger)
        assert comments(deploys) == [(COACH, "Coach's note"), (SRE, "SRE's note")]

        comment_delete(comment=by_coach, actor=coach)
        comment_delete(comment=by_sre, actor=person(CEO))

        assert comments(deploys) == []


# --- The objective page -------------------------------------------------------------------------------


def test_the_page_shows_comments_newest_last_with_author_and_local_time(acme, acme_client, deploys):
    add(acme, deploys, SRE, "Second", created_at=datetime(2026, 11, 15, 11, 0, tzinfo=UTC))
    add(acme, deploys, ANALYST, "First\nwith two lines", created_at=datetime(2026, 11, 14, 9, 30, tzinfo=UTC))
    tenant(acme, lambda: User.objects.filter(email=LEAD).update(timezone="Asia/Shanghai"))
    sign_in(acme_client, acme, LEAD)

    html = acme_client.get(f"/objectives/{deploys.pk}/").content.decode()

    section = html[html.index('data-testid="comments"') :]
    assert section.index("First<br>with two lines") < section.index("Second")
    assert section.count('data-testid="comment"') == 2
    # Times in the reader's own time zone (UTC+8 here).
    assert 'datetime="2026-11-14T17:30:00+08:00"' in section
    assert 'datetime="2026-11-15T19:00:00+08:00"' in section
    assert 'data-testid="comment-form"' in section
    # The owner of the objective may delete neither comment: they are not theirs.
    assert 'data-testid="comment-delete"' not in section


def test_delete_buttons_show_for_the_author_and_org_admins(acme, acme_client, deploys):
    add(acme, deploys, SRE, "Mine")
    add(acme, deploys, ANALYST, "Theirs")

    def delete_buttons(email):
        sign_in(acme_client, acme, email)
        return (
            acme_client.get(f"/objectives/{deploys.pk}/")
            .content.decode()
            .count('data-testid="comment-delete"')
        )

    assert (delete_buttons(SRE), delete_buttons(CEO), delete_buttons(LEAD)) == (1, 2, 0)


def test_viewers_see_comments_without_the_form(acme, acme_client, deploys):
    add(acme, deploys, SRE, "Visible to all")
    sign_in(acme_client, acme, VIEWER)

    html = acme_client.get(f"/objectives/{deploys.pk}/").content.decode()

    assert "Visible to all" in html
    assert 'data-testid="comment-form"' not in html
    assert 'data-testid="comment-delete"' not in html


def test_add_with_htmx_swaps_the_section(acme, acme_client, coach, deploys):
    sign_in(acme_client, acme, COACH)

    response = acme_client.post(
        f"/objectives/{deploys.pk}/comments/", {"body": "Is 'safely' measurable?"}, **htmx()
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="card" id="comments"')
    assert "Is &#x27;safely&#x27; measurable?" in html
    assert 'data-testid="comment-delete"' in html  # the author's own
    assert '<textarea name="body"' in html
    assert "measurable?</textarea>" not in html  # a blank form again
    assert "Comment added." in response["HX-Trigger"]
    assert tenant(acme, lambda: comments(deploys)) == [(COACH, "Is 'safely' measurable?")]


def test_add_without_javascript_comes_back_to_the_comments(acme, acme_client, deploys):
    sign_in(acme_client, acme, ANALYST)

    response = acme_client.post(f"/objectives/{deploys.pk}/comments/", {"body": "Plain POST"})

    assert response.status_code == 302
    assert response["Location"] == f"/objectives/{deploys.pk}/#comments"
    assert tenant(acme, lambda: comments(deploys)) == [(ANALYST, "Plain POST")]


def test_a_too_long_comment_is_a_clear_error_and_nothing_is_saved(acme, acme_client, deploys):
    sign_in(acme_client, acme, ANALYST)
    url = f"/objectives/{deploys.pk}/comments/"
    message = "A comment can be at most 5000 characters long (this one has 5001)."

    with_htmx = acme_client.post(url, {"body": TOO_LONG}, **htmx())
    plain = acme_client.post(url, {"body": TOO_LONG})
    empty = acme_client.post(url, {"body": " "}, **htmx())

    assert with_htmx.status_code == 422
    assert message in with_htmx.content.decode()
    assert 'aria-invalid="true"' in with_htmx.content.decode()
    assert plain.status_code == 422
    assert 'data-testid="objective-title"' in plain.content.decode()  # the whole page, text kept
    assert message in plain.content.decode()
    assert f"{TOO_LONG}</textarea>" in plain.content.decode()
    assert empty.status_code == 422
    assert "Write a comment first." in empty.content.decode()
    assert tenant(acme, lambda: comments(deploys)) == []


def test_refused_and_hidden_comment_requests_change_nothing(acme, acme_client, deploys, private):
    mine = add(acme, deploys, SRE, "Keep me")

    sign_in(acme_client, acme, VIEWER)
    viewer_add = acme_client.post(f"/objectives/{deploys.pk}/comments/", {"body": "Viewer"})
    sign_in(acme_client, acme, ANALYST)
    hidden_add = acme_client.post(f"/objectives/{private.pk}/comments/", {"body": "Peek"})
    other_delete = acme_client.post(f"/comments/{mine.pk}/delete/", **htmx())
    missing = acme_client.post("/comments/999999/delete/")
    as_get = acme_client.get(f"/objectives/{deploys.pk}/comments/")

    assert (viewer_add.status_code, hidden_add.status_code, other_delete.status_code) == (403, 404, 403)
    assert (missing.status_code, as_get.status_code) == (404, 405)
    assert tenant(acme, lambda: comments(deploys)) == [(SRE, "Keep me")]
    assert tenant(acme, lambda: comments(private)) == []


def test_comments_on_a_hidden_objective_cannot_be_deleted_by_who_cannot_see_it(acme, acme_client, private):
    theirs = add(acme, private, SRE, "Private note")
    sign_in(acme_client, acme, ANALYST)

    assert acme_client.post(f"/comments/{theirs.pk}/delete/").status_code == 404
    assert tenant(acme, lambda: comments(private)) == [(SRE, "Private note")]


def test_delete_with_htmx_and_without(acme, acme_client, deploys):
    first = add(acme, deploys, ANALYST, "One")
    second = add(acme, deploys, ANALYST, "Two")
    sign_in(acme_client, acme, ANALYST)

    swapped = acme_client.post(f"/comments/{first.pk}/delete/", **htmx())
    plain = acme_client.post(f"/comments/{second.pk}/delete/")

    assert swapped.status_code == 200
    assert 'data-testid="comment-body">One<' not in swapped.content.decode()
    assert 'data-testid="comment-body">Two<' in swapped.content.decode()
    assert "Comment deleted." in swapped["HX-Trigger"]
    assert plain.status_code == 302
    assert plain["Location"] == f"/objectives/{deploys.pk}/#comments"
    assert tenant(acme, lambda: comments(deploys)) == []


def test_page_queries_do_not_grow_with_comments(acme, acme_client, deploys):
    people = [SRE, ANALYST, LEAD, CEO]
    add(acme, deploys, SRE, "The only one")
    sign_in(acme_client, acme, CEO)

    _response, with_one = get_counting(acme_client, f"/objectives/{deploys.pk}/")
    for number in range(19):
        add(acme, deploys, people[number % len(people)], f"Comment {number}")
    response, with_twenty = get_counting(acme_client, f"/objectives/{deploys.pk}/")

    assert response.content.decode().count('data-testid="comment"') == 20
    assert with_one == with_twenty == QUERIES_AS_ADMIN
