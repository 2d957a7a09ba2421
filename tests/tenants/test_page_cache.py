"""The page cache (tenants/page_cache.py, ADR 0011), turned on here (the rest of the suite runs
without it): a repeat request is answered from the cache with fewer queries and the same text;
any change — through a service, the API, a bulk update — shows on the next request; each person,
language and address has its own entry; a fragment holding a CSRF token is never kept; a whole
page is served with this request's own CSRF token, follows the inbox badge and the
organisation's name, and never swallows a message; and with Redis down the page is rendered as
if nothing was cached."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import cache
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client, RequestFactory
from django.test.utils import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import InboxItem, User
from okrs.models import KeyResult, Objective
from okrs.selectors.cycles import default_cycle
from okrs.services.objectives import objective_create
from tenants.models import Organization
from tenants.page_cache import cached_text
from tests.api_helpers import count_queries, token_api
from tests.web import get_counting, htmx, sign_in

pytestmark = pytest.mark.django_db

# Routing (3), session, user, data version, inbox badge: what a cached page still costs.
FOCUS_HIT_QUERIES = 7
# Routing (3), token with its user, data version (reporting lines are read when rows are).
API_HIT_QUERIES = 5


@pytest.fixture(autouse=True)
def page_cache_on(settings):
    settings.PAGE_CACHE_SECONDS = 60


def _body(response) -> str:
    return _body_of_html(response.content.decode())


def _body_of_html(html: str) -> str:
    return html.split('<main id="main">', 1)[-1].split("</main>", 1)[0]


def test_my_focus_repeat_is_served_from_the_cache_until_a_change(acme, acme_client):
    user = sign_in(acme_client, acme, "sre@acme.example")
    first, miss = get_counting(acme_client, "/")
    second, hit = get_counting(acme_client, "/")
    assert first.status_code == second.status_code == 200
    assert hit == FOCUS_HIT_QUERIES < miss
    assert _body(second) == _body(first)

    with tenant_context(acme):
        cycle = default_cycle(timezone.localdate())
        objective_create(actor=user, owner=user, cycle=cycle, title="Brand new focus", state="active")
    third, after_change = get_counting(acme_client, "/")
    assert "Brand new focus" in third.content.decode()
    assert after_change == miss  # rendered again


def test_a_bulk_update_shows_on_the_next_request(acme, acme_client):
    sign_in(acme_client, acme, "sre@acme.example")
    acme_client.get("/")
    with tenant_context(acme):
        owned = KeyResult.objects.filter(owner__email="sre@acme.example").order_by("pk").first()
        KeyResult.objects.filter(pk=owned.pk).update(title="Renamed behind the services' back")
    assert "Renamed behind the services&#x27; back" in acme_client.get("/").content.decode()


def test_each_person_and_language_has_their_own_page(acme, acme_client):
    sign_in(acme_client, acme, "sre@acme.example")
    mine = acme_client.get("/").content.decode()
    with tenant_context(acme):
        sre = User.objects.get(email="sre@acme.example")
        lead = User.objects.get(email="platform.lead@acme.example")
    assert f"Hello, {sre.get_short_name()}" in mine
    sign_in(acme_client, acme, lead.email)
    theirs = acme_client.get("/").content.decode()
    assert f"Hello, {lead.get_short_name()}" in theirs
    assert f"Hello, {sre.get_short_name()}" not in theirs

    # Someone without a saved language follows the switcher's cookie: same data, other text.
    assert not lead.language
    acme_client.cookies["django_language"] = "zh-hans"
    chinese = acme_client.get("/")
    assert chinese["Content-Language"] == "zh-hans"
    assert _body(chinese) != _body_of_html(theirs)
    assert "我的目标" in _body(chinese)


def test_explorer_filters_and_htmx_body_have_their_own_entries(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    with tenant_context(acme):
        teams = list(User.objects.exclude(team=None).values_list("team_id", flat=True).distinct()[:2])
    pages = [acme_client.get(f"/okrs/?view=team&team={team}").content.decode() for team in teams]
    assert _body_of_html(pages[0]) != _body_of_html(pages[1])
    again = [acme_client.get(f"/okrs/?view=team&team={team}").content.decode() for team in teams]
    assert [_body_of_html(p) for p in again] == [_body_of_html(p) for p in pages]

    body = acme_client.get(f"/okrs/?view=team&team={teams[0]}", **htmx()).content.decode()
    assert body.startswith('<div id="explorer-body"')
    assert "<html" not in body
    assert acme_client.get(f"/okrs/?view=team&team={teams[0]}", **htmx()).content.decode() == body


def test_api_list_repeat_is_served_from_the_cache_and_sees_a_new_objective(acme):
    client = token_api(acme, "sre@acme.example", scope="read_write")
    url = "/api/v1/objectives/?expand=key_results&page_size=5"
    client.get("/api/v1/objectives/?page_size=1")  # stamps the token's last use
    first, miss = count_queries(lambda: client.get(url))
    second, hit = count_queries(lambda: client.get(url))
    assert first.status_code == second.status_code == 200
    assert hit == API_HIT_QUERIES < miss
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert second.json()["results"][0]["id"] == first.json()["results"][0]["id"]

    with tenant_context(acme):
        cycle = default_cycle(timezone.localdate())
    created = client.post(
        "/api/v1/objectives/", {"cycle": cycle.pk, "title": "Made through the API"}, format="json"
    )
    assert created.status_code == 201
    everything = client.get("/api/v1/objectives/?page_size=500").json()["results"]
    assert created.json()["id"] in {row["id"] for row in everything}


def test_a_fragment_with_a_csrf_token_is_never_kept(acme):
    request = RequestFactory().get("/", HTTP_HOST="acme.localhost")
    with tenant_context(acme):
        request.user = User.objects.get(email="sre@acme.example")
        calls = []

        def render():
            calls.append(1)
            return '<input name="csrfmiddlewaretoken" value="secret">'

        cached_text(request, "csrf-probe", render)
        cached_text(request, "csrf-probe", render)
    assert len(calls) == 2


def test_with_redis_down_the_page_is_rendered_as_if_nothing_was_cached(acme, acme_client, caplog):
    sign_in(acme_client, acme, "sre@acme.example")
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with override_settings(CACHES=unreachable), caplog.at_level(logging.WARNING, "tenants.page_cache"):
        response = acme_client.get("/")
    assert response.status_code == 200
    assert 'data-testid="focus-objective"' in response.content.decode()
    assert "Page cache unavailable" in caplog.text
    cache.close()


def test_private_objective_is_not_leaked_through_another_persons_cached_list(acme):
    # The owner's cached page never answers someone who may not see their private objective.
    owner = token_api(acme, "sre@acme.example")
    with tenant_context(acme):
        cycle = default_cycle(timezone.localdate())
        sre = User.objects.get(email="sre@acme.example")
        private = objective_create(
            actor=sre,
            owner=sre,
            cycle=cycle,
            title="Private and cached",
            visibility=Objective.Visibility.PRIVATE,
        )
    url = "/api/v1/objectives/?page_size=500"
    assert private.pk in {row["id"] for row in owner.get(url).json()["results"]}
    outsider = token_api(acme, "board@acme.example", scope="read")
    assert private.pk not in {row["id"] for row in outsider.get(url).json()["results"]}


@pytest.mark.parametrize(
    ("email", "url"),
    [
        ("sre@acme.example", "/"),
        ("ceo@acme.example", "/okrs/?view=company"),
        ("platform.lead@acme.example", "/okrs/?view=team"),
    ],
)
def test_a_cached_page_is_the_page_rendered_without_the_cache(acme, acme_client, settings, email, url):
    sign_in(acme_client, acme, email)
    settings.PAGE_CACHE_SECONDS = 0
    uncached = _body(acme_client.get(url))
    settings.PAGE_CACHE_SECONDS = 60
    acme_client.get(url)
    assert _body(acme_client.get(url)) == uncached


def test_a_cached_api_page_is_the_page_rendered_without_the_cache(acme, settings):
    client = token_api(acme, "ceo@acme.example", scope="read")
    url = "/api/v1/objectives/?expand=key_results&page_size=20"
    settings.PAGE_CACHE_SECONDS = 0
    uncached = client.get(url)
    settings.PAGE_CACHE_SECONDS = 60
    client.get(url)
    cached = client.get(url)
    assert cached.content == uncached.content
    assert cached["Content-Type"] == uncached["Content-Type"]
    # The browsable API (HTML) is never cached; an indented JSON is its own entry.
    indented = client.get(url, HTTP_ACCEPT="application/json; indent=2")
    assert indented.content.startswith(b"{\n  ")


def _csrf_tokens(html: str) -> list[str]:
    """The masked CSRF tokens of a page: the HTMX header and each form's hidden field."""
    header = html.split('"X-CSRFToken": "', 1)[1].split('"', 1)[0]
    fields = [part.split('"', 1)[0] for part in html.split('name="csrfmiddlewaretoken" value="')[1:]]
    return [header, *fields]


def test_a_whole_page_hit_renders_no_template_and_carries_this_sessions_csrf_token(acme):
    # Two sessions of one person: the second is answered from the page the first filled, with
    # its own token, which its next POST is accepted with (CSRF checks on, as in production).
    first, second = (Client(HTTP_HOST="acme.localhost", enforce_csrf_checks=True) for _ in range(2))
    sign_in(first, acme, "sre@acme.example")
    sign_in(second, acme, "sre@acme.example")
    filled = first.get("/")
    assert filled.templates  # rendered
    hit = second.get("/")
    assert hit.status_code == 200
    assert hit.templates == []  # nothing rendered: the whole page came from the cache
    secret = second.cookies["csrftoken"].value
    assert secret != first.cookies["csrftoken"].value
    tokens = _csrf_tokens(hit.content.decode())
    assert len(tokens) == 3
    assert {_unmask_cipher_token(token) for token in tokens} == {secret}
    assert _body(hit) == _body(filled)

    switched = second.post(
        "/i18n/setlang/", {"language": "en", "next": "/", "csrfmiddlewaretoken": tokens[2]}
    )
    assert switched.status_code == 302


def test_a_new_inbox_item_and_a_renamed_organisation_show_on_a_cached_page(acme, acme_client):
    user = sign_in(acme_client, acme, "sre@acme.example")
    with tenant_context(acme):
        InboxItem.objects.filter(user=user).update(read_at=timezone.now())
    acme_client.get("/")
    assert 'data-testid="inbox-unread"' not in acme_client.get("/").content.decode()

    with tenant_context(acme):  # the inbox is not part of the organisation's data version
        InboxItem.objects.create(user=user, kind="reminder", title="Check in, please")
    badge = acme_client.get("/").content.decode()
    assert 'data-testid="inbox-unread">1<' in badge

    Organization.objects.filter(pk=acme.pk).update(name="Acme Renamed")  # a public-schema row
    assert 'data-testid="org-name">Acme Renamed<' in acme_client.get("/").content.decode()


def test_a_message_is_shown_once_and_never_kept_in_a_cached_page(acme, acme_client):
    user = sign_in(acme_client, acme, "sre@acme.example")
    with tenant_context(acme):
        InboxItem.objects.create(user=user, kind="reminder", title="Check in, please")
    acme_client.get("/")
    acme_client.get("/")  # the page is in the cache now
    acme_client.post("/inbox/read-all/")
    shown = acme_client.get("/").content.decode()
    assert "All notifications are marked read." in shown
    assert "All notifications are marked read." not in acme_client.get("/").content.decode()
    assert "All notifications are marked read." not in acme_client.get("/").content.decode()
