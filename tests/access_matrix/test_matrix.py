"""The access matrix (issue 8): every route × caller × context, with the expectations in
routes.py. Cell ids name route, role and context.

Contexts: own organisation (acme host, acme ids: ``test_web_get_by_role``,
``test_web_refused_writes_change_nothing``, ``test_api_get_by_role``,
``test_api_refused_writes_change_nothing``), other organisation (globex ids on the acme host:
``test_foreign_ids_are_404_and_change_nothing``; acme credentials on the globex host:
``test_acme_credentials_do_not_work_on_globex``), public host
(``test_tenant_routes_do_not_exist_on_the_public_host``, ``test_portal_by_role``,
``test_admin_only_for_platform_staff``) and anonymous (``test_anonymous_*``,
``test_public_pages_answer_anyone_without_500``, ``test_liveness_answers_anyone_on_every_host``).
Every refused write is followed by a check that the request wrote no row at all
(``conftest.fingerprint``; ``test_the_fingerprint_sees_a_write`` is its control). Checks that
do not depend on the role (a 405 for the method, another host's credentials, URL resolution
on the public host, a read-scope token, the session variant of an API read) let the roles take
turns over the routes (``rotating``) instead of repeating every request for every role; the
role-dependent ones (own-organisation reads and refused writes, foreign ids) run every role."""

from __future__ import annotations

import copy

import pytest
from django.test import Client

from tests.access_matrix import routes as table
from tests.access_matrix.conftest import (
    PUBLIC_ROLES,
    TENANT_ROLES,
    api_as,
    changed,
    fingerprint,
    session_api_as,
)
from tests.access_matrix.walk import fill, params, public_routes, tenant_routes

pytestmark = pytest.mark.django_db

API_PATTERNS = [p for p in tenant_routes() if p.startswith("api/v1/")]
WEB_PATTERNS = [p for p, kind in table.TENANT.items() if kind in (table.WEB, table.POST_ONLY)]
ID_PATTERNS = [p for p in WEB_PATTERNS + API_PATTERNS if any(table.kind_of(p, n) for n in params(p))]

# Routes answering GET with 405 for everyone (the method is checked before anything else).
WRITE_ONLY = [p for p in WEB_PATTERNS if table.TENANT[p] == table.POST_ONLY] + [
    p for p in API_PATTERNS if set(table.API_GET[p].values()) == {405}
]


def rotating(patterns: list[str], roles: tuple[str, ...]) -> list[tuple[str, str]]:
    """Each pattern once, with the roles taking turns: for checks that do not depend on the
    role (authentication on another host, URL resolution), so that every route and every role
    is covered without multiplying the requests."""
    return [(pattern, roles[n % len(roles)]) for n, pattern in enumerate(patterns)]


def url_of(pattern: str, ids: dict[str, int]) -> str:
    if pattern in table.REGEX_URLS:
        return table.REGEX_URLS[pattern]
    values = {}
    for name in params(pattern):
        kind = table.kind_of(pattern, name)
        values[name] = ids[kind] if kind else table.LITERALS[name]
    return fill(pattern, values)


def api_post(client, pattern: str, url: str):
    """A write with an empty body: JSON, or multipart for the imports, which take nothing else
    (a JSON body there is a 415 for everyone; the permission check must answer an empty form)."""
    if pattern.startswith("api/v1/imports/"):
        return client.post(url, {}, format="multipart")
    return client.post(url, {}, format="json")


def assert_sent_to_login(response, what: str) -> None:
    assert response.status_code == 302, f"{what}: {response.status_code}"
    assert response["Location"].startswith("/login/"), f"{what}: {response['Location']}"


def assert_nothing_written(before: dict, what: str) -> None:
    assert changed(before, fingerprint()) == [], f"{what} wrote rows"


def own_status(pattern: str, role: str) -> int | None:
    """The status ``role`` gets on ``pattern`` with its own organisation's ids (GET, else the
    refused write)."""
    if pattern.startswith("api/"):
        status = table.API_GET[pattern][role]
        return table.API_WRITES.get(pattern, {}).get(role) if status == 405 else status
    status = table.WEB_GET[pattern][role]
    return table.WEB_WRITES.get(pattern, {}).get(role) if status == 405 else status


def cells_of(writes: dict[str, dict[str, int]]) -> list:
    """(pattern, role) parameters; a known wrong cell is a strict xfail naming the bug."""
    return [
        pytest.param(p, r, marks=pytest.mark.xfail(strict=True, reason=table.KNOWN_WRONG[(p, r)]))
        if (p, r) in table.KNOWN_WRONG
        else (p, r)
        for p, cells in writes.items()
        for r in cells
    ]


def test_every_route_is_classified():
    tenant = set(tenant_routes())
    listed = set(table.TENANT) | set(table.API_GET)
    assert sorted(tenant - listed) == [], "classify these new tenant routes in routes.py"
    assert sorted(listed - tenant) == [], "these routes no longer exist: remove them from routes.py"
    public = {p for p in public_routes() if not p.startswith(table.ADMIN_PREFIX)}
    assert sorted(public - set(table.PUBLIC_HOST)) == [], "classify these new public routes in routes.py"
    assert sorted(set(table.PUBLIC_HOST) - public) == [], "these public routes no longer exist"
    assert set(API_PATTERNS) == set(table.API_GET)
    assert set(WEB_PATTERNS) == set(table.WEB_GET), "give every web route its per-role expectation"
    portal = {p for p, kind in table.PUBLIC_HOST.items() if kind == table.PORTAL}
    assert portal == {p for p, _ in table.PORTAL_CELLS}, "give every portal route its per-role expectation"
    for cells in (*table.WEB_GET.values(), *table.API_GET.values()):
        assert set(cells) == set(TENANT_ROLES)
    for pattern, cells in table.WEB_GET.items():
        assert (table.TENANT[pattern] == table.POST_ONLY) == (set(cells.values()) == {405}), pattern


@pytest.mark.parametrize("pattern", WEB_PATTERNS)
def test_anonymous_web_is_sent_to_login(world, pattern):
    url = url_of(pattern, world.own)
    response = world.web["anonymous"].get(url)
    assert response.status_code != 500
    if table.TENANT[pattern] == table.POST_ONLY:
        assert response.status_code in (302, 405), f"GET {url}: {response.status_code}"
    else:
        assert_sent_to_login(response, url)
    before = fingerprint()
    response = world.web["anonymous"].post(url, {})
    assert_sent_to_login(response, url)
    assert_nothing_written(before, f"anonymous POST {url}")


@pytest.mark.parametrize("pattern", API_PATTERNS)
def test_anonymous_api_is_401(world, pattern):
    url = url_of(pattern, world.own)
    client = api_as(world, "anonymous")
    assert client.get(url).status_code == 401
    before = fingerprint()
    assert api_post(client, pattern, url).status_code == 401
    assert_nothing_written(before, f"anonymous POST {url}")


@pytest.mark.parametrize(
    "pattern", [p for p, k in table.TENANT.items() if k == table.PUBLIC and "logout" not in p]
)
@pytest.mark.parametrize("role", ["anonymous", "member"])
def test_public_pages_answer_anyone_without_500(world, pattern, role):
    url = url_of(pattern, world.own)
    # A copy of the member's client: a public page (sign-in, entry) must not end the shared session.
    client = world.web["anonymous"] if role == "anonymous" else copy.deepcopy(world.web[role])
    response = client.get(url)
    assert response.status_code in table.PUBLIC_STATUSES.get(pattern, (200, 302, 405)), (
        f"{role} GET {url}: {response.status_code}"
    )


@pytest.mark.parametrize("role", PUBLIC_ROLES)
@pytest.mark.parametrize(
    "pattern", [p for p, k in table.PUBLIC_HOST.items() if k == table.PUBLIC and "logout" not in p]
)
def test_public_host_pages_answer_anyone_without_500(world, pattern, role):
    url = fill(pattern, table.LITERALS)
    client = copy.deepcopy(world.public[role])  # a sign-in page must not end the shared session
    response = client.get(url)
    assert response.status_code in (200, 302, 405), (
        f"{role} GET {url} on the public host: {response.status_code}"
    )


@pytest.mark.parametrize("host", ["acme.localhost", "globex.localhost", "localhost"])
def test_liveness_answers_anyone_on_every_host(world, host):
    assert Client(HTTP_HOST=host).get("/healthz").status_code == 200


@pytest.mark.parametrize(("pattern", "role"), rotating(WRITE_ONLY, TENANT_ROLES))
def test_write_only_routes_refuse_get(world, pattern, role):
    """GET on a write-only route is a 405 decided before any lookup or permission check, so
    one role per route (taking turns) shows it."""
    url = url_of(pattern, world.own)
    client = api_as(world, role) if pattern.startswith("api/") else world.web[role]
    before = fingerprint()
    assert client.get(url).status_code == 405, f"{role} GET {url}"
    assert_nothing_written(before, f"{role} GET {url}")


@pytest.mark.parametrize("role", TENANT_ROLES)
@pytest.mark.parametrize("pattern", [p for p in WEB_PATTERNS if p not in WRITE_ONLY])
def test_web_get_by_role(world, pattern, role):
    url = url_of(pattern, world.own)
    expected = table.WEB_GET[pattern][role]
    before = fingerprint()
    response = world.web[role].get(url)
    assert response.status_code == expected, f"{role} GET {url}: {response.status_code}"
    if expected == 302:
        assert not response["Location"].startswith("/login/"), f"{role} GET {url}: sent to sign in"
    assert_nothing_written(before, f"{role} GET {url}")


@pytest.mark.parametrize(("pattern", "role"), cells_of(table.WEB_WRITES))
def test_web_refused_writes_change_nothing(world, pattern, role):
    url = url_of(pattern, world.own)
    expected = table.WEB_WRITES[pattern][role]
    before = fingerprint()
    response = world.web[role].post(url, {})
    assert response.status_code == expected, f"{role} POST {url}: {response.status_code}"
    assert_nothing_written(before, f"{role} POST {url}")


@pytest.mark.parametrize("role", TENANT_ROLES)
@pytest.mark.parametrize("pattern", ID_PATTERNS)
def test_foreign_ids_are_404_and_change_nothing(world, pattern, role):
    """Globex's ids on the acme host: 404. A 403 is accepted only where the role is refused
    the route with its own organisation's ids too (refused before any lookup: it reveals
    nothing about the id), and a 405 where the route does not take the method at all."""
    url = url_of(pattern, world.foreign)
    api = pattern.startswith("api/")
    client = api_as(world, role) if api else world.web[role]
    refused_anyway = {403} if own_status(pattern, role) == 403 else set()
    get_405 = (table.API_GET if api else table.WEB_GET)[pattern][role] == 405
    if not get_405:  # a GET refused as a method (405) is refused before any lookup
        response = client.get(url)
        assert response.status_code in {404} | refused_anyway, f"{role} GET {url}: {response.status_code}"
    before = fingerprint()
    response = api_post(client, pattern, url) if api else client.post(url, {})
    # A read-only (viewer) token is refused every write before the lookup.
    read_only = {403} if api and role == "viewer" else set()
    allowed = {404, 405} | refused_anyway | read_only
    assert response.status_code in allowed, f"{role} POST {url}: {response.status_code}"
    assert_nothing_written(before, f"{role} POST {url}")


@pytest.mark.parametrize(("pattern", "role"), rotating(WEB_PATTERNS + API_PATTERNS, TENANT_ROLES))
def test_acme_credentials_do_not_work_on_globex(world, pattern, role):
    """An acme session or token on the globex host authenticates nobody: sessions and tokens
    are looked up in the host's schema, before any role matters, so each route is tried once
    (the roles take turns: each role's credentials on ~23 routes, web and API)."""
    url = url_of(pattern, world.own)
    before = fingerprint()
    if pattern.startswith("api/v1/"):
        for client in (
            api_as(world, role, host="globex.localhost"),
            session_api_as(world, role, host="globex.localhost"),
        ):
            assert client.get(url).status_code == 401, url
            assert api_post(client, pattern, url).status_code == 401, url
    else:
        client = Client(HTTP_HOST="globex.localhost")
        client.cookies = copy.deepcopy(world.web[role].cookies)
        response = client.get(url)
        assert response.status_code in (302, 405), f"GET {url}: {response.status_code}"
        if response.status_code == 302:
            assert response["Location"].startswith("/login/")
        response = client.post(url, {})
        assert_sent_to_login(response, url)
    assert_nothing_written(before, f"{role}'s acme credentials on globex {url}")


@pytest.mark.parametrize(
    ("pattern", "role"),
    rotating([p for p in [*table.TENANT, *API_PATTERNS] if p not in table.PUBLIC_HOST], PUBLIC_ROLES),
)
def test_tenant_routes_do_not_exist_on_the_public_host(world, pattern, role):
    """The public URLconf has none of the tenant routes: 404 by URL resolution, whoever asks
    (the public roles take turns over the routes)."""
    url = url_of(pattern, world.own)
    client = world.public[role]
    assert client.get(url).status_code == 404, url
    before = fingerprint()
    assert client.post(url, {}).status_code == 404, url
    assert_nothing_written(before, f"{role} POST {url} on the public host")


@pytest.mark.parametrize("role", PUBLIC_ROLES)
@pytest.mark.parametrize(("pattern", "target"), list(table.PORTAL_CELLS))
def test_portal_by_role(world, pattern, target, role):
    """The consultant portal on the public host: consultants only (anonymous → sign in,
    platform staff → 403 except onboarding and packs, which platform admins may use); a
    client the consultant does not serve (globex) is a 404; refused writes write nothing."""
    values = {"slug": world.portal[target] if target else None, "pk": world.portal["note"]}
    url = fill(pattern, values)
    get_status, post_status = table.PORTAL_CELLS[(pattern, target)][role]
    client = world.public[role]
    response = client.get(url)
    assert response.status_code == get_status, f"{role} GET {url}: {response.status_code}"
    if get_status == 302 and role == "anonymous":
        assert response["Location"].startswith("/login/"), response["Location"]
    if post_status is None:  # an allowed write: covered by the portal's feature tests
        return
    before = fingerprint()
    response = client.post(url, {})
    assert response.status_code == post_status, f"{role} POST {url}: {response.status_code}"
    if post_status == 302 and role == "anonymous":
        assert response["Location"].startswith("/login/"), response["Location"]
    assert_nothing_written(before, f"{role} POST {url}")


SESSION_ROLE = dict(rotating([p for p in API_PATTERNS if p not in WRITE_ONLY], TENANT_ROLES))


@pytest.mark.parametrize("role", TENANT_ROLES)
@pytest.mark.parametrize("pattern", [p for p in API_PATTERNS if p not in WRITE_ONLY])
def test_api_get_by_role(world, pattern, role):
    """By token for every role; by session too (the API takes the web session) for one role
    per route, taking turns: the decision depends on the person, not on how they signed in."""
    url = url_of(pattern, world.own)
    expected = table.API_GET[pattern][role]
    clients = [api_as(world, role)]
    if SESSION_ROLE[pattern] == role:
        clients.append(session_api_as(world, role))
    for client in clients:
        response = client.get(url)
        assert response.status_code == expected, f"{role} GET {url}: {response.status_code}"


@pytest.mark.parametrize(("pattern", "role"), cells_of(table.API_WRITES))
def test_api_refused_writes_change_nothing(world, pattern, role):
    url = url_of(pattern, world.own)
    expected = table.API_WRITES[pattern][role]
    before = fingerprint()
    response = api_post(api_as(world, role), pattern, url)
    assert response.status_code == expected, f"{role} POST {url}: {response.status_code}"
    assert_nothing_written(before, f"{role} POST {url}")


WRITE_PATTERNS = sorted(set(table.API_WRITES) | {p for p, c in table.API_GET.items() if 405 in c.values()})


@pytest.mark.parametrize(
    ("pattern", "role"), rotating(WRITE_PATTERNS, tuple(r for r in TENANT_ROLES if r != "viewer"))
)
def test_read_tokens_write_nothing(world, pattern, role):
    """A read-scope token is refused every write (403), whoever holds it: the scope is checked
    before the person's permissions, so the roles take turns over the routes (the viewer's
    only token is read-scoped: its refusals are in the other tests)."""
    url = url_of(pattern, world.own)
    before = fingerprint()
    response = api_post(api_as(world, role, read_only=True), pattern, url)
    assert response.status_code == 403, f"{role} POST {url} (read token): {response.status_code}"
    assert_nothing_written(before, f"{role} POST {url} with a read token")


def test_admin_only_for_platform_staff(world):
    for url in table.ADMIN_PAGES:
        assert world.public["platform_staff"].get(url).status_code == 200, url
        for role in ("anonymous", "public_consultant"):
            response = world.public[role].get(url)
            assert response.status_code == 302, (role, url)
            assert "/admin/login/" in response["Location"], (role, url)
        for role in TENANT_ROLES:
            assert world.web[role].get(url).status_code == 404, (role, url)


def test_the_fingerprint_sees_a_write(world):
    """The control: an allowed write (the member marks their inbox item read) shows up, so an
    unchanged fingerprint means something (the test's savepoint undoes the write)."""
    before = fingerprint()
    response = world.web["member"].post(url_of("inbox/<int:pk>/read/", world.own), {})
    assert response.status_code == 302
    assert "acme.accounts_inboxitem" in changed(before, fingerprint())
