"""My inbox over the API: only my entries, unread filter, marking read (one or all);
someone else's entry is a 404 and stays as it is; the list takes a fixed number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import ApiToken, InboxItem, User
from tests.api_helpers import api_client, session_api, token_api

pytestmark = pytest.mark.django_db

ME = "analyst@acme.example"
ITEM_FIELDS = {"id", "kind", "title", "body", "link", "due_at", "created_at", "read_at", "unread"}
# Routing (3), session, user, the page.
INBOX_QUERIES = 6


def add_items(organization, email: str, count: int, **fields) -> list[InboxItem]:
    with tenant_context(organization):
        user = User.objects.get(email=email)
        items = InboxItem.objects.bulk_create(
            InboxItem(user=user, kind="digest", title=f"Digest {n}", **fields) for n in range(count)
        )
    connection.set_schema_to_public()
    return items


def stored_inbox(organization) -> list[dict]:
    with tenant_context(organization):
        rows = list(InboxItem.objects.order_by("pk").values())
    connection.set_schema_to_public()
    return rows


def test_lists_only_my_entries_newest_first(acme):
    with tenant_context(acme):
        mine = set(InboxItem.objects.filter(user__email=ME).values_list("pk", flat=True))
    connection.set_schema_to_public()
    assert mine  # the demo asked the analyst for feedback

    response = session_api(acme, ME).get("/api/v1/inbox/")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert {r["id"] for r in rows} == mine
    assert [r["id"] for r in rows] == sorted(mine, reverse=True)
    assert all(set(r) == ITEM_FIELDS for r in rows)
    assert rows[0]["kind"] == "feedback_requested"
    assert rows[0]["link"].startswith("/reviews/")


def test_links_leaving_the_site_are_not_shown(acme):
    (item,) = add_items(acme, ME, 1, link="//evil.example/x")

    body = session_api(acme, ME).get(f"/api/v1/inbox/{item.pk}/").json()

    assert body["link"] == ""


def test_unread_filter_and_marking_one_read(acme):
    client = session_api(acme, ME)
    read_item, unread_item = add_items(acme, ME, 2)

    marked = client.post(f"/api/v1/inbox/{read_item.pk}/read/")
    first_read_at = marked.json()["read_at"]
    again = client.post(f"/api/v1/inbox/{read_item.pk}/read/")

    assert marked.status_code == 200
    assert (marked.json()["unread"], again.json()["read_at"]) == (False, first_read_at)
    unread = {r["id"] for r in client.get("/api/v1/inbox/?unread=true").json()["results"]}
    read = {r["id"] for r in client.get("/api/v1/inbox/?unread=false").json()["results"]}
    assert unread_item.pk in unread
    assert read_item.pk not in unread
    assert read == {read_item.pk}


def test_read_all_marks_only_my_unread_entries(acme):
    add_items(acme, ME, 3)
    others = add_items(acme, "sre@acme.example", 2)
    client = session_api(acme, ME)

    response = client.post("/api/v1/inbox/read-all/")

    assert response.status_code == 200
    assert response.json()["marked_read"] >= 3
    assert client.get("/api/v1/inbox/?unread=true").json()["results"] == []
    assert client.post("/api/v1/inbox/read-all/").json() == {"marked_read": 0}
    with tenant_context(acme):
        assert InboxItem.objects.filter(pk__in=[o.pk for o in others], read_at__isnull=True).count() == 2


def test_someone_elses_entry_is_404_and_stays_unread(acme):
    (theirs,) = add_items(acme, "sre@acme.example", 1)
    client = session_api(acme, ME)
    before = stored_inbox(acme)

    assert client.get(f"/api/v1/inbox/{theirs.pk}/").status_code == 404
    assert client.post(f"/api/v1/inbox/{theirs.pk}/read/").status_code == 404
    assert stored_inbox(acme) == before


def test_another_organisations_entry_is_404(acme, globex):
    with tenant_context(acme):
        top = InboxItem.objects.order_by("-pk").values_list("pk", flat=True).first()
    (outside,) = add_items(globex, "analyst@globex.example", 1)
    connection.set_schema_to_public()
    if outside.pk <= top:  # make sure the id names nothing in acme
        with tenant_context(globex):
            outside = InboxItem.objects.create(user=outside.user, kind="digest", title="x", id=top + 1)
        connection.set_schema_to_public()

    response = session_api(acme, ME).post(f"/api/v1/inbox/{outside.pk}/read/")

    assert response.status_code == 404
    with tenant_context(globex):
        assert InboxItem.objects.get(pk=outside.pk).read_at is None


def test_a_viewer_marks_their_own_entries_read(acme):
    (item,) = add_items(acme, "board@acme.example", 1)

    response = session_api(acme, "board@acme.example").post(f"/api/v1/inbox/{item.pk}/read/")

    assert response.status_code == 200
    assert response.json()["unread"] is False


def test_read_only_token_cannot_mark_read(acme):
    client = token_api(acme, ME, scope=ApiToken.Scope.READ)
    (item,) = add_items(acme, ME, 1)
    before = stored_inbox(acme)

    one = client.post(f"/api/v1/inbox/{item.pk}/read/")
    every = client.post("/api/v1/inbox/read-all/")

    assert (one.status_code, every.status_code) == (403, 403)
    assert stored_inbox(acme) == before


def test_actions_take_no_input_and_filters_check_their_values(acme):
    (item,) = add_items(acme, ME, 1)
    client = session_api(acme, ME)
    before = stored_inbox(acme)

    with_body = client.post(
        f"/api/v1/inbox/{item.pk}/read/", {"read_at": "2020-01-01T00:00:00Z"}, format="json"
    )
    all_with_body = client.post("/api/v1/inbox/read-all/", {"user": 1}, format="json")

    assert (with_body.status_code, set(with_body.json()["fields"])) == (400, {"read_at"})
    assert (all_with_body.status_code, set(all_with_body.json()["fields"])) == (400, {"user"})
    assert stored_inbox(acme) == before


def test_anonymous_is_401(acme):
    assert api_client(acme).get("/api/v1/inbox/").status_code == 401
    assert api_client(acme).post("/api/v1/inbox/read-all/").status_code == 401


def test_inbox_queries_do_not_grow(acme, django_assert_num_queries):
    add_items(acme, ME, 120, read_at=None, due_at=timezone.now())
    client = session_api(acme, ME)

    with django_assert_num_queries(INBOX_QUERIES):
        small = client.get("/api/v1/inbox/?page_size=10")
    with django_assert_num_queries(INBOX_QUERIES):
        large = client.get("/api/v1/inbox/?page_size=100&unread=true")

    assert len(small.json()["results"]) == 10
    assert len(large.json()["results"]) == 100
