"""Every API route, enumerated from the OpenAPI schema, for two organisations:

- anonymous callers get 401;
- acme's token or session on globex's host gets 401 (the credentials do not exist there);
- on acme's host, ids that exist only in globex are 404, and nothing changes anywhere;
- a viewer's writes are 403 and change nothing (except on their own tokens and inbox).

A new endpoint is covered without editing this file; a new kind of path parameter must be
named in PARAM_MODELS (the test says so)."""

from __future__ import annotations

import re

import pytest
import yaml
from django.apps import apps
from django.db import connection
from django.urls import resolve
from django_tenants.utils import schema_context, tenant_context

from tests.api_helpers import api_client, make_token, session_api

pytestmark = pytest.mark.django_db

WRITE_METHODS = {"post", "put", "patch", "delete"}
# Path parameters other than {id}: the model whose ids they take.
PARAM_MODELS = {
    "kpi_pk": "okrs.Kpi",
    "kpi_id": "okrs.Kpi",
    "endpoint_pk": "accounts.WebhookEndpoint",
    "webhook_pk": "accounts.WebhookEndpoint",
    "cycle_pk": "okrs.Cycle",
}
# Tables whose rows legitimately change on any authenticated request.
VOLATILE_TABLES = {"django_session", "accounts_apitoken"}


def _operations(organization) -> list[tuple[str, str]]:
    schema = yaml.safe_load(api_client(organization).get("/api/schema/").content)
    return [
        (path, method)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", *WRITE_METHODS}
    ]


def _params(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def _model_for(path: str, param: str):
    if param in PARAM_MODELS:
        return apps.get_model(PARAM_MODELS[param])
    assert param in {"id", "pk"}, f"name the model of path parameter {{{param}}} in PARAM_MODELS ({path})"
    probe = re.sub(r"{\w+}", "1", path)
    view = resolve(probe, urlconf="config.urls_tenant").func
    model = view.cls.queryset.model
    return model


def _fill(path: str, ids: dict[str, int]) -> str:
    return re.sub(r"{(\w+)}", lambda m: str(ids[m.group(1)]), path)


def _max_id(schema: str, model) -> int:
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute(f'SELECT coalesce(max(id), 0) FROM "{model._meta.db_table}"')
        return cursor.fetchone()[0]


def _globex_only_id(model, renumbered: list) -> int:
    """An id of a globex row that acme does not have. If there is none, globex's last row is
    renumbered for the test (put back by the caller before the test ends, so the deferred
    foreign keys hold again)."""
    acme_max = _max_id("acme", model)
    table = model._meta.db_table
    with schema_context("globex"), connection.cursor() as cursor:
        cursor.execute(f'SELECT id FROM "{table}" WHERE id > %s ORDER BY id LIMIT 1', [acme_max])
        row = cursor.fetchone()
        if row:
            return row[0]
        cursor.execute(f'SELECT max(id) FROM "{table}"')
        (last,) = cursor.fetchone()
        if last is None:
            return acme_max + 1_000_000
        cursor.execute(f'UPDATE "{table}" SET id = %s WHERE id = %s', [acme_max + 1_000_000, last])
    renumbered.append((table, last, acme_max + 1_000_000))
    return acme_max + 1_000_000


def _put_back(renumbered: list) -> None:
    with schema_context("globex"), connection.cursor() as cursor:
        for table, old, new in reversed(renumbered):
            cursor.execute(f'UPDATE "{table}" SET id = %s WHERE id = %s', [old, new])
    connection.set_schema_to_public()


def _fingerprint(schema: str) -> dict[str, str]:
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "AND table_type = 'BASE TABLE' ORDER BY 1",
            [schema],
        )
        tables = [name for (name,) in cursor.fetchall() if name not in VOLATILE_TABLES]
        prints = {}
        for table in tables:
            cursor.execute(
                f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{table}\" t"
            )
            prints[table] = cursor.fetchone()[0]
    connection.set_schema_to_public()
    return prints


def _call(client, method: str, url: str):
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, {}, format="json")


def test_anonymous_gets_401_on_every_route(acme):
    client = api_client(acme)
    for path, method in _operations(acme):
        url = _fill(path, dict.fromkeys(_params(path), 1))
        response = _call(client, method, url)
        assert response.status_code == 401, f"{method.upper()} {url}: {response.status_code}"
        assert response.json()["code"] == "not_authenticated"


def test_acme_credentials_are_401_on_globex_on_every_route(acme, globex):
    by_token = api_client(globex)
    by_token.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(acme, 'ceo@acme.example')}")
    by_session = session_api(acme, "ceo@acme.example")
    by_session.defaults["HTTP_HOST"] = "globex.localhost"
    before = _fingerprint("globex")
    for path, method in _operations(acme):
        url = _fill(path, dict.fromkeys(_params(path), 1))
        for client in (by_token, by_session):
            response = _call(client, method, url)
            assert response.status_code == 401, f"{method.upper()} {url}: {response.status_code}"
    assert _fingerprint("globex") == before


def test_ids_of_the_other_organisation_are_404_and_change_nothing(acme, globex):
    client = api_client(acme)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(acme, 'ceo@acme.example')}")
    client.get("/api/v1/tokens/")  # the token's first use is recorded now, not during the checks
    operations = [(path, method) for path, method in _operations(acme) if _params(path)]
    assert operations
    ids, by_model, renumbered = {}, {}, []
    for path, _method in operations:
        for name in _params(path):
            model = _model_for(path, name)
            if model not in by_model:
                by_model[model] = _globex_only_id(model, renumbered)
            ids[(path, name)] = by_model[model]
    before = {"acme": _fingerprint("acme"), "globex": _fingerprint("globex")}
    try:
        for path, method in operations:
            url = _fill(path, {name: ids[(path, name)] for name in _params(path)})
            response = _call(client, method, url)
            assert response.status_code == 404, f"{method.upper()} {url}: {response.status_code}"
            assert response.json()["code"] == "not_found"
        assert _fingerprint("acme") == before["acme"]
        assert _fingerprint("globex") == before["globex"]
    finally:
        _put_back(renumbered)


def test_a_viewers_writes_are_403_and_change_nothing(acme):
    client = session_api(acme, "board@acme.example")
    writes = []
    for path, method in _operations(acme):
        if method not in WRITE_METHODS:
            continue
        view = resolve(re.sub(r"{\w+}", "1", path), urlconf="config.urls_tenant").func
        if getattr(view.cls, "allow_viewer_writes", False):
            continue
        writes.append((path, method))
    assert writes
    with tenant_context(acme):
        ids = {}
        for path, _method in writes:
            for name in _params(path):
                model = _model_for(path, name)
                ids[(path, name)] = model.objects.order_by("id").values_list("id", flat=True).first() or 1
    connection.set_schema_to_public()
    before = _fingerprint("acme")
    for path, method in writes:
        url = _fill(path, {name: ids[(path, name)] for name in _params(path)})
        response = _call(client, method, url)
        assert response.status_code == 403, f"{method.upper()} {url}: {response.status_code}"
    assert _fingerprint("acme") == before
