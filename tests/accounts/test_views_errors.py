"""Friendly error pages on an organisation's host: in the person's language, with the
organisation's name, never a traceback."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.web import sign_in

pytestmark = pytest.mark.django_db


def test_unknown_page_is_a_friendly_404(acme, acme_client):
    sign_in(acme_client, acme, "analyst@acme.example")
    response = acme_client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Nothing here" in html
    assert 'data-testid="org-name"' in html


def test_forbidden_page_is_friendly(acme, acme_client):
    sign_in(acme_client, acme, "board@acme.example")
    response = acme_client.get("/key-results/1/check-in/")
    assert response.status_code in {403, 404}
    assert b"Traceback" not in response.content


def test_expired_form_explains_what_to_do(acme):
    client = Client(HTTP_HOST="acme.localhost", enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "x@acme.example", "password": "y"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


def test_chinese_404_on_globex(globex, globex_client):
    response = globex_client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Language"] == "zh-hans"
