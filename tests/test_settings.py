"""Settings behaviour that only shows in a fresh process."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_settings(**env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('ok')"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_production_without_urls_and_without_embedded_services_refuses_to_start():
    result = run_settings(
        DJANGO_SETTINGS_MODULE="config.settings.production", EMBEDDED_SERVICES="false",
        SECRET_KEY="x" * 50, ALLOWED_HOSTS="example.com",
    )  # fmt: skip

    assert result.returncode != 0
    assert "Set DATABASE_URL (embedded services are off: EMBEDDED_SERVICES=false)." in result.stderr


def test_production_requires_a_secret_key():
    result = run_settings(
        DJANGO_SETTINGS_MODULE="config.settings.production", EMBEDDED_SERVICES="false",
        DATABASE_URL="postgres://u@db.invalid/okr", REDIS_URL="redis://redis.invalid:6379/0",
        ALLOWED_HOSTS="example.com", SECRET_KEY="",
    )  # fmt: skip

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_urls_from_the_environment_are_used_as_given():
    result = subprocess.run(
        [sys.executable, "-c",
         "import django; django.setup(); from django.conf import settings as s; "
         "d = s.DATABASES['default']; print(d['HOST'], d['NAME'], d['ENGINE'], s.CELERY_BROKER_URL)"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "EMBEDDED_SERVICES": "false",
             "DATABASE_URL": "postgres://u:p@db.example:5432/okr", "REDIS_URL": "redis://cache.example:6379/2"},
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "db.example", "okr", "django_tenants.postgresql_backend", "redis://cache.example:6379/2",
    ]  # fmt: skip


def test_dockerfile_collectstatic_step_has_enough_settings_to_start():
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    (run_line,) = [
        line for line in dockerfile.splitlines() if line.startswith("RUN") and "collectstatic" in line
    ]
    assignments = dict(re.findall(r"(\w+)=(\S+)", run_line.removeprefix("RUN")))

    result = run_settings(
        DJANGO_SETTINGS_MODULE="config.settings.production", EMBEDDED_SERVICES="false", **assignments
    )

    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= set(assignments)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
