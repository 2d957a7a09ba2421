"""Real Celery workers for the tests that need one (D5: the Celery paths that matter are tested
with a real worker and broker), and the helpers those tests share.

``CeleryWorker`` starts ``celery worker`` (solo pool) in a subprocess on this run's test database,
optionally on a queue of its own (so that no worker of another test run on the machine takes our
messages), waits until it answers a ping and stops it again. ``committed`` lets a test write data
the worker can see, and ``wait_until`` polls with a deadline instead of sleeping."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from config.celery import app

ROOT = Path(__file__).resolve().parent.parent


class CeleryWorker:
    """A `celery worker` process on the test database. ``queue`` limits it to that queue;
    ``argv`` replaces ``-m celery -A config`` (e.g. ``-c <script>`` that configures more first);
    ``env`` adds environment variables."""

    count = 0

    def __init__(self, *, queue: str | None = None, argv: list[str] | None = None, **env: str):
        assert connection.settings_dict["NAME"].startswith("test_okr"), (
            "never run a worker on the dev database"
        )
        CeleryWorker.count += 1
        self.name = f"{queue or 'tests'}-{os.getpid()}-{CeleryWorker.count}@localhost"
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "OKR_TEST_DATABASE_NAME": connection.settings_dict["NAME"],
            **env,
        }
        command = [sys.executable, *(argv or ["-m", "celery", "-A", "config"]), "worker", "--pool=solo",
                   "--loglevel=WARNING", "-n", self.name, *(["-Q", queue] if queue else []),
                   "--without-heartbeat", "--without-gossip", "--without-mingle"]  # fmt: skip
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[self.name], timeout=0.5):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                pytest.fail(f"Celery worker did not start:\n{self.process.stdout.read()}")

    def kill(self) -> None:
        """SIGKILL: the worker dies mid-task, acknowledging nothing."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture
def committed(django_db_blocker):
    """Data the worker must see has to be committed, so no test transaction here; each test
    removes what it made."""
    with django_db_blocker.unblock():
        yield
        connection.set_schema_to_public()


def wait_until(predicate, seconds: float = 30.0, every: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


def send_to_queue(monkeypatch, task, queue: str) -> None:
    """Publish ``task`` to ``queue`` (a worker started with that queue), for this test only."""
    send = task.apply_async
    monkeypatch.setattr(task, "apply_async", lambda *args, **options: send(*args, queue=queue, **options))
