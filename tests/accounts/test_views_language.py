"""The language switcher is remembered per person (profile), not only per browser."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from accounts.models import User
from tests.web import sign_in

pytestmark = pytest.mark.django_db


def language_of(acme, email: str) -> str:
    with tenant_context(acme):
        language = User.objects.get(email=email).language
    connection.set_schema_to_public()
    return language


def test_switching_saves_the_choice_to_the_profile(acme, acme_client):
    sign_in(acme_client, acme, "analyst@acme.example")
    response = acme_client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    assert language_of(acme, "analyst@acme.example") == "zh-hans"
    # Another browser (no cookie): the saved choice still applies.
    other = Client(HTTP_HOST="acme.localhost")
    sign_in(other, acme, "analyst@acme.example")
    page = other.get("/")
    assert page["Content-Language"] == "zh-hans"


def test_profile_choice_beats_a_stale_cookie_on_a_shared_browser(acme, acme_client):
    with tenant_context(acme):
        User.objects.filter(email="analyst@acme.example").update(language="en")
    acme_client.cookies["django_language"] = "zh-hans"
    sign_in(acme_client, acme, "analyst@acme.example")
    assert acme_client.get("/")["Content-Language"] == "en"


def test_anonymous_switch_uses_the_cookie_and_saves_nothing(acme, acme_client):
    response = acme_client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"})
    assert response.status_code == 302
    assert acme_client.get("/login/")["Content-Language"] == "zh-hans"


def test_unknown_language_changes_nothing(acme, acme_client):
    sign_in(acme_client, acme, "analyst@acme.example")
    before = language_of(acme, "analyst@acme.example")
    response = acme_client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert language_of(acme, "analyst@acme.example") == before


def test_pages_use_the_persons_time_zone(acme, acme_client):
    with tenant_context(acme):
        User.objects.filter(email="analyst@acme.example").update(timezone="Asia/Tokyo")
    sign_in(acme_client, acme, "analyst@acme.example")
    response = acme_client.get("/")
    assert response.context["TIME_ZONE"] == "Asia/Tokyo"
