"""PostgreSQL down or restarting (issue 8, faults): requests get a clean 503, never a 500 or a
traceback, and the web processes recover by themselves once the database is back.

The fast tests make the test database fail one kind of query through Django's own
``connection.execute_wrapper``. The last one restarts a real PostgreSQL under load: its own
server (pgserver, in a temporary directory: the suite's shared server is never touched), with the
platform migrated and one organisation, served by a real gunicorn with persistent connections
(CONN_MAX_AGE=60 and CONN_HEALTH_CHECKS, as in production).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

import psutil
import psycopg
import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.test import Client

from tests.api_helpers import make_token
from tests.web import sign_in

ROOT = Path(__file__).resolve().parents[1]
MESSAGE = "The service is briefly unavailable"
API_BODY = {
    "detail": "The service is briefly unavailable. Try again in a few seconds.",
    "code": "service_unavailable",
    "fields": {},
}


def failing(fragment: str):
    """An execute wrapper that fails every query whose SQL mentions ``fragment``, the way
    psycopg fails when the server has gone away."""

    def wrapper(execute, sql, params, many, context):
        if fragment in sql:
            raise OperationalError("consuming input failed: server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    return wrapper


def unavailable_records(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "config.database_errors"]


# --- fast: one kind of query fails ----------------------------------------------------------


def test_tenant_routing_without_a_database_is_a_503_page(db, caplog):
    client = Client(HTTP_HOST="acme.localhost")
    with caplog.at_level(logging.INFO), connection.execute_wrapper(failing('"tenants_domain"')):
        response = client.get("/login/", HTTP_X_REQUEST_ID="req-db-1")

    assert response.status_code == 503
    assert (response["Retry-After"], response["Cache-Control"]) == ("5", "no-store")
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["X-Request-ID"] == "req-db-1"
    html = response.content.decode()
    assert MESSAGE in html
    assert 'data-testid="service-unavailable"' in html
    assert "Traceback" not in html
    assert "OperationalError" not in html
    # One ERROR line, with the cause; Django's own "Service Unavailable" line is left out.
    (record,) = unavailable_records(caplog)
    assert record.levelname == "ERROR"
    assert record.getMessage() == (
        "Database unavailable during GET /login/ (answered 503): "
        "OperationalError: consuming input failed: server closed the connection unexpectedly"
    )
    assert [r for r in caplog.records if r.name == "django.request"] == []


def test_the_page_follows_the_browsers_language(db):
    client = Client(HTTP_HOST="globex.localhost")
    with connection.execute_wrapper(failing('"tenants_domain"')):
        response = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 503
    assert response["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in response.content.decode()


def test_api_request_without_a_database_gets_the_envelope(db):
    client = Client(HTTP_HOST="acme.localhost")
    with connection.execute_wrapper(failing('"tenants_domain"')):
        response = client.get("/api/v1/me/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"] == "application/json"
    assert response.json() == API_BODY


def test_api_view_losing_the_database_gets_the_envelope_from_drf(db, acme, caplog):
    token = make_token(acme, "ceo@acme.example")
    client = Client(HTTP_HOST="acme.localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
    with caplog.at_level(logging.INFO), connection.execute_wrapper(failing('"okrs_objective"')):
        response = client.get("/api/v1/objectives/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    # Answered by the DRF exception handler (a DRF Response), not by the middleware.
    assert response.data == API_BODY
    assert response.json() == API_BODY
    assert len(unavailable_records(caplog)) == 1
    assert [r for r in caplog.records if r.name == "django.request"] == []


def test_web_view_losing_the_database_is_a_503_page(db, acme, acme_client, caplog):
    sign_in(acme_client, acme, "ceo@acme.example")
    with caplog.at_level(logging.INFO), connection.execute_wrapper(failing('"okrs_')):
        response = acme_client.get("/")

    assert response.status_code == 503
    assert MESSAGE in response.content.decode()
    (record,) = unavailable_records(caplog)
    assert record.getMessage().startswith(
        "Database unavailable during GET / (answered 503): OperationalError"
    )


def test_a_later_middleware_losing_the_database_is_a_503_too(db, acme, caplog):
    """The session is first read by a middleware further in (consultant access): Django turns
    that error into a 500 there (and logs it); it leaves as a 503."""
    client = Client(HTTP_HOST="acme.localhost", raise_request_exception=False)
    sign_in(client, acme, "ceo@acme.example")
    with caplog.at_level(logging.INFO), connection.execute_wrapper(failing('"django_session"')):
        response = client.get("/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert MESSAGE in response.content.decode()
    assert unavailable_records(caplog) == []  # Django's "Internal Server Error" line is the one
    assert [r.levelname for r in caplog.records if r.name == "django.request"] == ["ERROR"]


def test_other_errors_keep_their_own_pages(db):
    response = Client(HTTP_HOST="nobody.localhost").get("/login/")
    assert response.status_code == 404
    response = Client(HTTP_HOST="acme.localhost").get("/api/v1/no-such-thing/")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


# --- slow: a real PostgreSQL restarted under load -------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _manage(*args: str, env: dict, timeout: float = 180) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], check=False, cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip
    assert result.returncode == 0, f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


SEED = """
from accounts.models import User
from accounts.services_api_tokens import api_token_create
from django_tenants.utils import tenant_context
from tenants.services import organization_provision

result = organization_provision(
    name="Faults Ltd", slug="faults", admin_email="ceo@faults.example", timezone="UTC",
    language="en", actor=None, send_invitation=False,
)
with tenant_context(result.organization):
    admin = User.objects.get(pk=result.admin.pk)
    admin.is_active = True
    admin.save()
    print("TOKEN=" + api_token_create(actor=admin, name="faults", scope="read").secret)
"""


@dataclass
class Server:
    base: str
    pid: int
    token: str
    pgdata: Path
    pg_user: str | None
    socket_dir: str
    log: Path
    timings: dict


@pytest.fixture(scope="module")
def restartable_server():
    """Own PostgreSQL (pgserver) + migrate_platform + one organisation + gunicorn."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset
        import pgserver
        from pgserver._commands import pg_ctl

    timings = {}
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="okr-faults-"))
    pgdata = workdir / "pg"
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    atexit.unregister(server._cleanup)  # stopped below, not by pgserver's exit hook
    with contextlib.suppress(Exception):
        server.global_process_id_list.get_and_remove(os.getpid())
    socket_dir = str(server.get_postmaster_info().socket_dir)
    with psycopg.connect(host=socket_dir, user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE okr_faults")
    timings["postgres_start_s"] = time.monotonic() - started

    environment = {
        key: value for key, value in os.environ.items() if key not in {"OKR_TEST_DATABASE_NAME", "DEBUG"}
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=f"postgres://postgres@/okr_faults?host={socket_dir}",
        REDIS_URL=settings.REDIS_URL,
        CACHE_KEY_PREFIX=f"okr-faults-{os.getpid()}",
    )
    gunicorn = log = None
    try:
        step = time.monotonic()
        _manage("migrate_platform", env=environment)
        timings["migrate_s"] = time.monotonic() - step
        step = time.monotonic()
        output = _manage("shell", "-c", SEED, env=environment)
        token = next(line[6:] for line in output.splitlines() if line.startswith("TOKEN="))
        timings["seed_s"] = time.monotonic() - step

        # Development settings, not the test ones: those close the connection after every
        # request (CONN_MAX_AGE=0), which would hide stale persistent connections.
        port = _free_port()
        environment.update(
            DJANGO_SETTINGS_MODULE="config.settings.local", DEBUG="false", SITE_PORT=str(port),
            CONN_MAX_AGE="60", API_QUOTA_READ="100000/min", LOG_LEVEL="INFO",
        )  # fmt: skip
        log_path = workdir / "gunicorn.log"
        log = log_path.open("w")
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
             "--threads", "4", "--timeout", "60"],
            cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while _get(f"http://127.0.0.1:{port}/login/", "faults.localhost").status != 200:
            if gunicorn.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start:\n{log_path.read_text()}")
            time.sleep(0.3)
        timings["total_setup_s"] = time.monotonic() - started
        yield Server(
            f"http://127.0.0.1:{port}",
            gunicorn.pid,
            token,
            pgdata,
            server.system_user,
            socket_dir,
            log_path,
            timings,
        )
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
        if log is not None:
            log.close()
        with contextlib.suppress(Exception):
            pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=pgdata, user=server.system_user)
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass
class Answer:
    kind: str  # "web" or "api"
    sent: float
    status: int  # 0: no HTTP answer at all
    body: str
    headers: dict
    done: float = 0.0


def _get(url: str, host: str, headers: dict | None = None, kind: str = "web") -> Answer:
    sent = time.monotonic()
    try:
        with urlopen(Request(url, headers={"Host": host, **(headers or {})}), timeout=15) as response:  # noqa: S310
            answer = Answer(kind, sent, response.status, response.read().decode(), dict(response.headers))
    except HTTPError as error:
        answer = Answer(kind, sent, error.code, error.read().decode(), dict(error.headers))
    except (URLError, ConnectionError, OSError) as error:
        answer = Answer(kind, sent, 0, repr(error), {})
    answer.done = time.monotonic()
    return answer


def _restart_under_load(srv: Server) -> tuple[list[Answer], float, float]:
    """Six threads send web and API requests while PostgreSQL runs (2 s), is stopped (3 s)
    and runs again (4 s); returns the answers, when it was stopped and when it was back."""
    from pgserver._commands import pg_ctl

    answers: list[Answer] = []
    stop = threading.Event()

    def load(index: int) -> None:
        while not stop.is_set():
            if index % 2:
                answers.append(_get(f"{srv.base}/login/", "faults.localhost"))
            else:
                answers.append(
                    _get(f"{srv.base}/api/v1/me/", "faults.localhost",
                         {"Authorization": f"Bearer {srv.token}"}, kind="api")
                )  # fmt: skip
            time.sleep(0.02)

    threads = [threading.Thread(target=load, args=(index,), daemon=True) for index in range(6)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        stopped_at = time.monotonic()
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=srv.pgdata, user=srv.pg_user)
        time.sleep(3)
        # The options pgserver starts it with: no TCP, the socket in the same directory.
        pg_ctl(
            ["-w", "-o", '-h ""', "-o", f"-k {srv.socket_dir}", "-l", str(srv.pgdata / "restart.log"),
             "start"],
            pgdata=srv.pgdata, user=srv.pg_user,
        )  # fmt: skip
        back_at = time.monotonic()
        time.sleep(4)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    return answers, stopped_at, back_at


def test_postgres_restart_under_load_gives_503s_then_recovers_without_a_web_restart(restartable_server):
    srv = restartable_server
    workers_before = {child.pid for child in psutil.Process(srv.pid).children()}
    assert len(workers_before) == 2
    answers, stopped_at, back_at = _restart_under_load(srv)

    by_status: dict[int, int] = {}
    for answer in answers:
        by_status[answer.status] = by_status.get(answer.status, 0) + 1
    unexpected = [a for a in answers if a.status not in (200, 503)][:3]
    assert set(by_status) <= {200, 503}, f"setup {srv.timings}; by status {by_status}; {unexpected}"
    before = [a for a in answers if a.done < stopped_at]
    assert before
    assert [a.status for a in before] == [200] * len(before)

    outage = [a for a in answers if a.status == 503]
    assert {a.kind for a in outage} == {"web", "api"}  # 3 s down: both kinds hit it
    for answer in outage:
        assert answer.headers["Retry-After"] == "5"
        assert "Traceback" not in answer.body
        if answer.kind == "api":
            assert json.loads(answer.body) == API_BODY
        else:
            assert MESSAGE in answer.body
    # Back within a second: every request sent from then on succeeds (a stale persistent
    # connection is replaced by the health check before it is used), in the same processes.
    after = [a for a in answers if a.sent >= back_at + 1]
    assert len(after) >= 20
    assert [a.status for a in after] == [200] * len(after)
    assert {a.kind for a in after} == {"web", "api"}
    assert psutil.Process(srv.pid).is_running()
    assert {child.pid for child in psutil.Process(srv.pid).children()} == workers_before

    log = srv.log.read_text()
    assert "Database unavailable during GET /login/ (answered 503)" in log
    assert "Database unavailable during GET /api/v1/me/ (answered 503)" in log
    assert "Traceback" not in log
