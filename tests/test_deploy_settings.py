"""Production settings pass Django's deploy check and refuse weak secrets (fresh processes)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STRONG_KEY = "q8Vt3mZ0pL5xR7cN2bW9yK4hJ6gF1dS3aQ0eT8uI5oP7zX2cV4bN6mL9kJ1hG3fD"

# What a real deployment sets; the check connects to neither service.
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "EMBEDDED_SERVICES": "false",
    "DATABASE_URL": "postgres://okr@db.invalid:5432/okr",
    "REDIS_URL": "redis://redis.invalid:6379/0",
    "ALLOWED_HOSTS": "okr.example.com,.okr.example.com",
    "BASE_DOMAIN": "okr.example.com",
    "SECRET_KEY": STRONG_KEY,
}
# Variables a developer's shell may carry that would change what production settings do.
UNSET = {
    "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE",  # the browser tests set the last one
}  # fmt: skip


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in UNSET and k not in PRODUCTION_ENV}
    environment.update(PRODUCTION_ENV)
    environment.update(env)
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def test_deploy_check_reports_nothing_for_production_settings():
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (1 silenced)."
    assert result.stderr == ""


def test_production_settings_values():
    code = (
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER, s.SECURE_REFERRER_POLICY, "
        "s.SECURE_CONTENT_TYPE_NOSNIFF, s.X_FRAME_OPTIONS, s.DEBUG)"
    )

    result = run("-c", "import django; django.setup(); " + code)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "True 31536000 True False True True ('HTTP_X_FORWARDED_PROTO', 'https') same-origin True DENY False"
    )


@pytest.mark.parametrize(
    "key",
    [
        "",
        "too-short-0123456789",
        "a" * 40 + "bcdefghij",  # 49 characters
        "django-insecure-" + "x1y2z3w4v5" * 5,  # the prefix startproject gives a throwaway key
        "ab" * 40,  # long but only two different characters
    ],
)
def test_production_refuses_to_start_with_a_missing_or_weak_secret_key(key):
    result = run("manage.py", "check", SECRET_KEY=key)

    assert result.returncode == 1
    assert result.stdout == ""
    assert (
        "django.core.exceptions.ImproperlyConfigured: SECRET_KEY is missing or weak: set it to a random "
        "value of at least 50 characters, e.g. the output of "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    ) in result.stderr


def test_health_probes_are_not_redirected_to_https():
    code = (
        "from django.conf import settings as s; from django.test import RequestFactory; "
        "from django.middleware.security import SecurityMiddleware; "
        "m = SecurityMiddleware(lambda r: None); f = RequestFactory(); "
        "print([getattr(m.process_request(f.get(p, HTTP_HOST='okr.example.com')), 'status_code', None) "
        "for p in ('/healthz', '/readyz/', '/', '/portal/')])"
    )

    result = run("-c", "import django; django.setup(); " + code)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[None, None, 301, 301]"
