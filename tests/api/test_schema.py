"""The OpenAPI schema: valid OpenAPI 3, every operation described (request, response, auth,
errors), and the documentation pages served from local static files."""

from __future__ import annotations

import pytest
import yaml
from drf_spectacular.validation import validate_schema

from tests.api_helpers import api_client

pytestmark = pytest.mark.django_db

ERRORS = {"400", "401", "403", "404", "429"}
PUBLIC = {"/api/schema/"}


@pytest.fixture
def schema(acme):
    response = api_client(acme).get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)


def test_every_operation_documents_auth_success_and_errors(schema):
    operations = list(_operations(schema))
    assert len(operations) >= 3
    for path, method, operation in operations:
        where = f"{method.upper()} {path}"
        assert operation.get("security"), where
        assert {"apiToken": []} in operation["security"], where
        responses = operation["responses"]
        successes = [code for code in responses if code.startswith("2")]
        assert successes, where
        for code in successes:
            if code != "204":
                assert responses[code].get("content"), f"{where} {code} has no response schema"
        assert set(responses) >= ERRORS, f"{where} lacks {ERRORS - set(responses)}"
        for code in ERRORS:
            ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/Error", where
        if method in {"post", "put", "patch"} and "requestBody" in operation:
            assert operation["requestBody"]["content"], where


def test_error_envelope_component(schema):
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"detail", "code", "fields"}


def test_security_scheme_is_a_bearer_token(schema):
    assert schema["components"]["securitySchemes"]["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token of this organisation (scope read or read_write).",
    }


@pytest.mark.parametrize(("url", "asset"), [("/api/docs/", "swagger-ui"), ("/api/redoc/", "redoc")])
def test_documentation_pages_use_local_assets(acme, url, asset):
    response = api_client(acme).get(url)

    assert response.status_code == 200
    page = response.content.decode()
    assert f"/static/drf_spectacular_sidecar/{asset}" in page
    assert "cdn.jsdelivr" not in page
    assert "unpkg.com" not in page


def test_the_sidecar_assets_are_served(acme):
    page = api_client(acme).get("/api/docs/").content.decode()
    src = page.split('src="', 2)[1].split('"', 1)[0]

    response = api_client(acme).get(src)

    assert response.status_code == 200


def test_the_public_host_has_no_api(public_client):
    assert public_client.get("/api/v1/tokens/").status_code == 404
    assert public_client.get("/api/schema/").status_code == 404
