"""End-to-end tests: a real gunicorn serving the test database, driven by the system's
headless Chromium through Playwright.

They run against their own organisation ("e2e", provisioned and seeded for the run and
dropped afterwards), so nothing they create leaks into the demo data other tests use.
Without a Chromium they skip with a message — except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.error import URLError
from urllib.request import Request, urlopen

import pytest
from django.db import connection

from okrs import demo as okr_demo
from tenants.demo import seed_organization
from tenants.models import Organization
from tenants.services import organization_provision

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
# "in an async context" unless told this is safe (it is: the loop is Playwright's).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
SLUG = "e2e"


def chromium_path() -> str | None:
    candidates = [os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium"),
                  shutil.which("chromium-browser"), shutil.which("google-chrome")]  # fmt: skip
    return next((path for path in candidates if path and Path(path).exists()), None)


@pytest.fixture(scope="session", autouse=True)
def _chromium_required():
    if chromium_path():
        return
    message = "no Chromium found: install Debian's chromium package (.ci/run does), or set CHROMIUM_PATH"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {message}")
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": chromium_path(),
        "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"],
    }  # fmt: skip


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "locale": "en-GB"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def e2e_organization(django_db_setup, django_db_blocker):
    """A committed organisation with the demo people, OKRs and reviews; dropped at the end."""
    with django_db_blocker.unblock():
        stale = Organization.objects.filter(slug=SLUG).first()
        if stale is not None:
            stale.delete(force_drop=True)
        organization = organization_provision(
            name="E2E Works", slug=SLUG, admin_email=f"ceo@{SLUG}.example", timezone="Europe/Berlin",
            language="en", actor=None, send_invitation=False,
        ).organization  # fmt: skip
        seed_organization(organization, objectives=okr_demo.ACME)
        connection.set_schema_to_public()
    yield organization
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        organization.delete(force_drop=True)


@pytest.fixture(scope="session")
def server(e2e_organization):
    """gunicorn on a free loopback port, with the test settings and this run's database."""
    port = _free_port()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "OKR_TEST_DATABASE_NAME": connection.settings_dict["NAME"],
        # Links between hosts (the portal's "Enter workspace") carry the server's port.
        "SITE_PORT": str(port),
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = (ARTIFACTS / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", "4", "--timeout", "60"],
        cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://{SLUG}.localhost:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urlopen(
                Request(f"http://127.0.0.1:{port}/login/", headers={"Host": f"{SLUG}.localhost"}), timeout=2
            )
            break
        except (URLError, ConnectionError, OSError):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"gunicorn did not start; see {ARTIFACTS / 'gunicorn.log'}")
            time.sleep(0.3)
    yield base
    process.terminate()
    process.wait(timeout=30)
    log.close()


@pytest.fixture
def screenshot():
    """Save a full-page screenshot under tests/artifacts/ (git-ignored)."""

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
