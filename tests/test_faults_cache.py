"""Redis, as the cache, down: the API keeps answering (quotas are not counted meanwhile) and the
portal's "Refresh now" says it cannot refresh, instead of a 500. A port nobody listens on stands
in for the stopped Redis; tests/test_faults_celery.py stops a real one for the broker."""

from __future__ import annotations

import socket
import time

import pytest
from django.test import override_settings

from tests.api_helpers import token_api


def _dead_redis() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"  # closed again: connections are refused


@pytest.fixture
def cache_down(settings):
    caches = {"default": {**settings.CACHES["default"], "LOCATION": _dead_redis()}}
    with override_settings(CACHES=caches):
        yield


def test_the_api_answers_while_the_cache_is_down(acme, cache_down, caplog):
    client = token_api(acme, "sre@acme.example")
    started = time.monotonic()
    read = client.get("/api/v1/objectives/")
    me = client.get("/api/v1/me/")
    assert read.status_code == 200
    assert me.status_code == 200
    assert time.monotonic() - started < 5
    assert "API quota not checked, cache unavailable" in caplog.text
