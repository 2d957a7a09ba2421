"""Every log line carries the organisation and the request id; secrets never reach the log."""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from kombu import Queue

from accounts.tasks import clear_expired_sessions
from config.celery import REQUEST_ID_HEADER as TASK_HEADER
from config.celery import app as celery_app
from config.logging import JsonFormatter, RequestContextFilter, request_id_var
from tests.api_helpers import make_token

HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def log_output():
    """What the configured console handler (settings.LOGGING) writes, as a StringIO."""
    (handler,) = [
        h for h in logging.getLogger().handlers if any(isinstance(f, RequestContextFilter) for f in h.filters)
    ]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


@pytest.fixture(autouse=True)
def _no_request_id_left():
    request_id_var.set(None)
    yield
    request_id_var.set(None)


def test_request_log_lines_carry_the_organisation_and_request_id(db, log_output):
    response = Client(HTTP_HOST="acme.localhost").get("/api/v1/no-such-thing/", HTTP_X_REQUEST_ID="lb-7.a_b")

    assert response.status_code == 404
    assert response["X-Request-ID"] == "lb-7.a_b"
    (line,) = [
        line for line in log_output.getvalue().splitlines() if "Not Found: /api/v1/no-such-thing/" in line
    ]
    # Django writes this line after the whole middleware chain has returned: the id outlives it.
    assert " WARNING [acme lb-7.a_b] django.request: Not Found: /api/v1/no-such-thing/" in line


def test_a_request_id_is_generated_when_none_is_sent(db):
    first = Client(HTTP_HOST="localhost").get("/healthz")
    second = Client(HTTP_HOST="localhost").get("/healthz")

    assert HEX_ID.fullmatch(first["X-Request-ID"])
    assert HEX_ID.fullmatch(second["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.parametrize("sent", ["has space", "a" * 65, 'x"y', "semi;colon", "ünïcode", ""])
def test_a_bad_incoming_request_id_is_replaced(db, sent):
    response = Client(HTTP_HOST="acme.localhost").get("/login/", HTTP_X_REQUEST_ID=sent)

    assert response.status_code == 200
    assert HEX_ID.fullmatch(response["X-Request-ID"])


def test_the_request_id_is_cleared_after_the_request(db):
    Client(HTTP_HOST="acme.localhost").get("/login/", HTTP_X_REQUEST_ID="done-1")

    assert request_id_var.get() is None


def test_json_lines_parse_with_organisation_and_request_id(acme):
    record = logging.LogRecord("okrs.tasks", logging.INFO, __file__, 1, "scored %s", ("ok",), None)
    request_id_var.set("req-42")
    from django_tenants.utils import tenant_context

    with tenant_context(acme):
        RequestContextFilter().filter(record)
    line = JsonFormatter().format(record)

    parsed = json.loads(line)
    assert parsed.keys() == {"timestamp", "level", "logger", "message", "organization", "request_id"}
    assert parsed["level"] == "INFO"
    assert parsed["logger"] == "okrs.tasks"
    assert parsed["message"] == "scored ok"
    assert parsed["organization"] == "acme"
    assert parsed["request_id"] == "req-42"
    assert parsed["timestamp"].endswith("+00:00")


def test_json_lines_keep_extra_fields_and_drop_the_request_object(db):
    record = logging.makeLogRecord(
        {"name": "django.request", "levelname": "WARNING", "msg": "Not Found: /x",
         "status_code": 404, "request": object()}
    )  # fmt: skip
    RequestContextFilter().filter(record)

    parsed = json.loads(JsonFormatter().format(record))

    assert parsed["status_code"] == 404
    assert "request" not in parsed
    assert parsed["organization"] == "public"
    assert parsed["request_id"] == "-"


def test_an_eager_task_logs_with_its_schema_and_the_callers_request_id(acme, log_output, caplog):
    caplog.set_level(logging.INFO, logger="accounts.tasks")
    request_id_var.set("req-from-web")

    clear_expired_sessions.apply(headers={"_schema_name": "acme"})

    (line,) = [line for line in log_output.getvalue().splitlines() if "expired sessions removed" in line]
    assert " INFO [acme req-from-web] accounts.tasks: acme: 0 expired sessions removed" in line
    assert request_id_var.get() == "req-from-web"


def test_a_task_sent_by_a_request_carries_its_id_to_the_worker(acme, log_output, caplog):
    caplog.set_level(logging.INFO, logger="accounts.tasks")
    queue = Queue(f"test-logging-{os.getpid()}")
    request_id_var.set("req-enqueue-1")
    from django_tenants.utils import tenant_context

    with tenant_context(acme):
        clear_expired_sessions.apply_async(queue=queue.name)
    request_id_var.set(None)
    with celery_app.connection_for_read() as conn:
        message = conn.SimpleQueue(queue).get(timeout=5)
        message.ack()
        conn.SimpleQueue(queue).queue.delete()

    assert message.headers[TASK_HEADER] == "req-enqueue-1"
    assert message.headers["_schema_name"] == "acme"

    # What the worker does with that message: the schema and the request id are restored.
    clear_expired_sessions.apply(headers=message.headers)

    (line,) = [line for line in log_output.getvalue().splitlines() if "expired sessions removed" in line]
    assert " INFO [acme req-enqueue-1] accounts.tasks: " in line


def test_a_task_with_no_request_uses_its_own_id(acme, log_output, caplog):
    caplog.set_level(logging.INFO, logger="accounts.tasks")

    result = clear_expired_sessions.apply(headers={"_schema_name": "acme"})

    (line,) = [line for line in log_output.getvalue().splitlines() if "expired sessions removed" in line]
    assert f" INFO [acme {result.id}] accounts.tasks: " in line
    assert request_id_var.get() is None


def test_failed_sign_ins_and_tokens_are_never_logged(acme, log_output, caplog, demo_password):
    caplog.set_level(logging.DEBUG)
    wrong_password = "Wr0ng-Pa55word-for-the-log-test"
    bogus_token = "okr_bogus0123456789abcdefghijklmnopqrstuv"
    real_token = make_token(acme, "ceo@acme.example")
    acme_host = Client(HTTP_HOST="acme.localhost")
    basic = base64.b64encode(f"ceo@acme.example:{wrong_password}".encode()).decode()

    acme_host.post("/login/", {"username": "ceo@acme.example", "password": wrong_password})
    Client(HTTP_HOST="localhost").post(
        "/login/", {"username": "admin@platform.example", "password": wrong_password}
    )
    acme_host.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {bogus_token}")
    acme_host.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {real_token}")
    acme_host.post(
        "/api/v1/tokens/", {"name": "x"}, content_type="application/json", HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    Client(HTTP_HOST="globex.localhost").get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {real_token}")

    written = log_output.getvalue()
    records = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert "Unauthorized: /api/v1/me/" in written  # the requests were logged...
    for secret in (wrong_password, bogus_token, real_token, basic, demo_password):
        assert secret not in written  # ...but no secret, in the lines or in any field
        assert secret not in records


def test_production_writes_json_lines_by_default():
    environment = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "LOG_FORMAT"}
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings.production", EMBEDDED_SERVICES="false",
        DATABASE_URL="postgres://u@db.invalid/okr", REDIS_URL="redis://redis.invalid:6379/0",
        ALLOWED_HOSTS="example.com", SECRET_KEY="k-" + "0123456789abcdefghijklmnopqrstuvwxyz" * 2,
    )  # fmt: skip
    code = "import django, logging; django.setup(); logging.getLogger('okrs').warning('hi')"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parent.parent, env=environment, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    (line,) = result.stderr.splitlines()
    parsed = json.loads(line)
    assert {k: parsed[k] for k in ("level", "logger", "message", "organization", "request_id")} == {
        "level": "WARNING", "logger": "okrs", "message": "hi", "organization": "public", "request_id": "-",
    }  # fmt: skip
