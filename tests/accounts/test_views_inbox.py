"""The inbox: own notifications newest first, unread ones marked in words, due dates in
the person's time zone, mark one read in place (HTMX, badge updated) or all; 25 a page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.inbox import inbox_mark_read
from accounts.models import InboxItem, User
from tests.web import get_counting, htmx, sign_in

pytestmark = pytest.mark.django_db

# Routing (3), session, user, the page's count, the page's entries, the unread badge.
INBOX_QUERIES = 8


def add_items(acme, email: str, count: int, **fields) -> list[InboxItem]:
    with tenant_context(acme):
        user = User.objects.get(email=email)
        start = timezone.now() + timedelta(minutes=1)
        items = [
            InboxItem.objects.create(
                user=user,
                kind="review_due",
                title=f"Item {n}",
                link="/reviews/",
                created_at=start + timedelta(seconds=n),
                **fields,
            )
            for n in range(count)
        ]
    connection.set_schema_to_public()
    return items


def unread_of(acme, email: str) -> list[int]:
    with tenant_context(acme):
        ids = list(
            InboxItem.objects.filter(user__email=email, read_at__isnull=True)
            .order_by("id")
            .values_list("id", flat=True)
        )
    connection.set_schema_to_public()
    return ids


def test_inbox_lists_own_items_newest_first_with_unread_in_words(acme, acme_client):
    sign_in(acme_client, acme, "cto@acme.example")
    with tenant_context(acme):
        mine = list(InboxItem.objects.filter(user__email="cto@acme.example").order_by("-created_at", "-id"))
        others = InboxItem.objects.exclude(user__email="cto@acme.example").first()
    connection.set_schema_to_public()
    response, queries = get_counting(acme_client, "/inbox/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="inbox-item"') == len(mine) == 8
    positions = [html.index(f'id="inbox-item-{item.pk}"') for item in mine]
    assert positions == sorted(positions)
    assert f'id="inbox-item-{others.pk}"' not in html
    unread = sum(1 for item in mine if item.read_at is None)
    assert html.count('data-testid="inbox-item-unread">Unread<') == unread
    assert f'data-testid="inbox-unread">{unread}<' in html  # the navigation badge
    assert 'href="/reviews/' in html
    assert queries == INBOX_QUERIES


def test_inbox_paginates_25_with_constant_queries(acme, acme_client):
    sign_in(acme_client, acme, "sre@acme.example")
    add_items(acme, "sre@acme.example", 3)
    _, few = get_counting(acme_client, "/inbox/")
    add_items(acme, "sre@acme.example", 60)
    response, many = get_counting(acme_client, "/inbox/")
    html = response.content.decode()
    assert html.count('data-testid="inbox-item"') == 25
    assert 'data-testid="inbox-pages"' in html
    assert 'href="?page=2"' in html
    last, on_last = get_counting(acme_client, "/inbox/?page=3")
    assert last.content.decode().count('data-testid="inbox-item"') == 65 - 50
    assert acme_client.get("/inbox/?page=nonsense").status_code == 200
    assert few == many == on_last == INBOX_QUERIES


def test_due_dates_are_in_the_persons_time_zone(acme, acme_client):
    with tenant_context(acme):
        User.objects.filter(email="sre@acme.example").update(timezone="Asia/Tokyo")
    connection.set_schema_to_public()
    add_items(acme, "sre@acme.example", 1, due_at=datetime(2030, 12, 1, 0, 0, tzinfo=UTC))
    sign_in(acme_client, acme, "sre@acme.example")
    html = acme_client.get("/inbox/").content.decode()
    assert "due Dec. 1, 2030, 9 a.m." in html  # 00:00 UTC is 09:00 in Tokyo (01:00 in Berlin)


def test_mark_read_with_htmx_updates_the_item_and_the_badge(acme, acme_client):
    sign_in(acme_client, acme, "cto@acme.example")
    unread = unread_of(acme, "cto@acme.example")
    target = unread[0]
    response = acme_client.post(f"/inbox/{target}/read/", {"page": "1"}, **htmx())
    html = response.content.decode()
    assert response.status_code == 200
    assert unread_of(acme, "cto@acme.example") == unread[1:]
    item_html = html.split(f'id="inbox-item-{target}"')[1].split("</li>")[0]
    assert 'data-unread="false"' in item_html
    assert "inbox-mark-read" not in item_html
    # The badge in the navigation, out of band; and the unread count above the list.
    assert """hx-swap-oob='innerHTML:.mainnav a[href="/inbox/"]'""" in html
    assert f'data-testid="inbox-unread">{len(unread) - 1}<' in html
    assert 'id="inbox-status" class="inbox-status" hx-swap-oob="true"' in html
    # Only what changed comes back: not the page, nor the other entries.
    assert html.count('data-testid="inbox-item"') == 1
    assert 'data-testid="inbox-list"' not in html


def test_mark_read_without_javascript_returns_to_the_page(acme, acme_client):
    sign_in(acme_client, acme, "cto@acme.example")
    target = unread_of(acme, "cto@acme.example")[0]
    response = acme_client.post(f"/inbox/{target}/read/", {"page": "2"})
    assert (response.status_code, response["Location"]) == (302, "/inbox/?page=2")
    assert target not in unread_of(acme, "cto@acme.example")
    assert acme_client.get(f"/inbox/{target}/read/").status_code == 405


def test_someone_elses_item_is_a_404_and_stays_unread(acme, acme_client):
    others = unread_of(acme, "ceo@acme.example")
    sign_in(acme_client, acme, "cto@acme.example")
    assert acme_client.post(f"/inbox/{others[0]}/read/", **htmx()).status_code == 404
    assert acme_client.post("/inbox/999999/read/").status_code == 404
    assert unread_of(acme, "ceo@acme.example") == others


def test_mark_all_read_marks_only_own_items(acme, acme_client):
    others = unread_of(acme, "ceo@acme.example")
    sign_in(acme_client, acme, "cto@acme.example")
    response = acme_client.post("/inbox/read-all/", follow=True)
    assert response.redirect_chain == [("/inbox/", 302)]
    html = response.content.decode()
    assert unread_of(acme, "cto@acme.example") == []
    assert 'data-testid="inbox-unread"' not in html
    assert 'data-testid="inbox-mark-all"' not in html
    assert "All read" in html
    assert unread_of(acme, "ceo@acme.example") == others


def test_mark_read_service_ignores_other_peoples_ids_and_keeps_the_first_read_time(acme):
    with tenant_context(acme):
        cto = User.objects.get(email="cto@acme.example")
        ceo_item = InboxItem.objects.filter(user__email="ceo@acme.example", read_at__isnull=True).first()
        own = InboxItem.objects.filter(user=cto, read_at__isnull=True).first()
        assert inbox_mark_read(user=cto, item_ids=[own.pk, ceo_item.pk]) == 1
        first_read = InboxItem.objects.get(pk=own.pk).read_at
        assert inbox_mark_read(user=cto, item_ids=[own.pk]) == 0
        assert InboxItem.objects.get(pk=own.pk).read_at == first_read
        assert InboxItem.objects.get(pk=ceo_item.pk).read_at is None


def test_links_leave_only_to_pages_of_this_site(acme, acme_client):
    with tenant_context(acme):
        user = User.objects.get(email="sre@acme.example")
        for link in ("javascript:alert(1)", "//evil.example/", "https://evil.example/"):
            InboxItem.objects.create(user=user, kind="digest", title=f"Odd {link}", link=link)
    connection.set_schema_to_public()
    sign_in(acme_client, acme, "sre@acme.example")
    html = acme_client.get("/inbox/").content.decode()
    assert "javascript:" not in html.split("Odd")[0][-200:]
    assert 'href="javascript:' not in html
    assert 'href="//evil' not in html
    assert 'href="https://evil' not in html


def test_empty_inbox_says_what_arrives_here(acme, acme_client):
    sign_in(acme_client, acme, "board@acme.example")
    response, queries = get_counting(acme_client, "/inbox/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="inbox-empty"' in html
    assert 'data-testid="inbox-mark-all"' not in html
    assert queries == INBOX_QUERIES - 1  # nothing to fetch once the count is 0


def test_globex_inbox_renders_in_chinese(globex, globex_client):
    sign_in(globex_client, globex, "cto@globex.example")
    response = globex_client.get("/inbox/")
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    assert 'data-testid="inbox-list"' in response.content.decode()
