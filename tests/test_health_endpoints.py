"""/healthz (liveness) and /readyz (database + broker) answer on any host, before tenant routing."""

from __future__ import annotations

import socket

import pytest
from django.db import connections
from django.test import Client, override_settings

from config.health import check_database


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free once closed: nothing listens there


@pytest.mark.parametrize("host", ["acme.localhost", "localhost", "unknown.example", "10.0.0.5"])
def test_healthz_answers_on_every_host(db, host):
    response = Client(HTTP_HOST=host).get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"] == "application/json"


def test_healthz_needs_no_database(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client(HTTP_HOST="10.0.0.5").get("/healthz")

    assert response.status_code == 200


def test_head_is_answered_without_a_body(db):
    response = Client(HTTP_HOST="10.0.0.5").head("/healthz")

    assert response.status_code == 200
    assert response.content == b""


def test_other_methods_go_through_normal_routing(db):
    # An IP host is unknown to tenant routing: a POST is not a health probe.
    response = Client(HTTP_HOST="unknown.example").post("/healthz")

    assert response.status_code == 404


@pytest.mark.parametrize("host", ["acme.localhost", "localhost", "unknown.example", "10.0.0.5"])
def test_readyz_reports_database_and_broker(db, host):
    response = Client(HTTP_HOST=host).get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}
    assert response["Cache-Control"] == "no-store"


def test_readyz_is_503_when_the_broker_is_down(db):
    port = _closed_port()
    with override_settings(CELERY_BROKER_URL=f"redis://:s3cret-broker-pw@127.0.0.1:{port}/0"):
        response = Client(HTTP_HOST="10.0.0.5").get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "unavailable: ConnectionError (connection refused)"},
    }
    assert b"s3cret-broker-pw" not in response.content
    assert str(port).encode() not in response.content
    assert b"Traceback" not in response.content


def test_database_check_names_the_failure_without_the_dsn(db):
    # A second connection to a closed port stands in for a database that is down (the
    # test's own connection must stay usable); the endpoint runs the same function.
    port = _closed_port()
    broken = connections.create_connection("default")
    broken.settings_dict = {**broken.settings_dict, "HOST": "127.0.0.1", "PORT": str(port)}
    broken.settings_dict["PASSWORD"] = "s3cret-db-pw"  # must never be echoed

    result = check_database(broken)

    assert result == "unavailable: OperationalError (connection refused)"
    assert check_database() == "ok"
