"""pytest: the same embedded PostgreSQL (a separate test database) and Redis db 15."""

import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from .base import *  # noqa: F403
from .base import REDIS_URL, REST_FRAMEWORK, env

SECRET_KEY = "test-only-key-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
DEBUG = False
SITE_SCHEME = "http"
SITE_PORT = env("SITE_PORT", default="")  # the browser tests set their server's port
BASE_DOMAIN = "localhost"
ALLOWED_HOSTS = ["localhost", ".localhost", "testserver"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Tests never share a broker queue or cache with a `make run` on the same machine.
REDIS_URL = env("TEST_REDIS_URL", default=urlsplit(REDIS_URL)._replace(path="/15").geturl())
CELERY_BROKER_URL = REDIS_URL
CACHES["default"]["LOCATION"] = REDIS_URL
# Per process: two runs on one machine never share cache entries (API quota counters).
CACHES["default"]["KEY_PREFIX"] = f"okr-test-{os.getpid()}"
# Quotas far above what a test sends; tests of the quota itself set their own rates.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"api_read": "100000/min", "api_write": "100000/min"}
# Off: a page cached by one test would answer another test that sees the same data version
# (each test's changes are rolled back) and would change query counts; the cache has its own
# tests (tests/tenants/test_page_cache.py), which turn it on.
PAGE_CACHE_SECONDS = int(os.environ.get("TEST_PAGE_CACHE_SECONDS", "0"))
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Losing the last commits of a test database on a crash is fine; waiting on fsync isn't.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"
LOGGING["root"]["level"] = "WARNING"

# Static files come from the finders (no collectstatic needed outside production).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True

# A Celery worker started by a test (tests/test_celery_worker.py) must use the
# test database that pytest-django created, not the development one.
if env("OKR_TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["NAME"] = env("OKR_TEST_DATABASE_NAME")

# One test database per pytest process, so two runs on one machine (say, `make test`
# while another is still going) never drop each other's database.
DATABASES["default"]["TEST"] = {"NAME": f"test_okr_{os.getpid()}"}

# No warm pool by default in tests (the pool's own tests turn it on): a refill would clone
# schemas in the background of unrelated tests.
TENANT_SPARE_SCHEMAS = 0
# Archives written by tests never land in the development directory (tests that write
# one point ARCHIVE_DIR at their own tmp_path).
ARCHIVE_DIR = Path(tempfile.gettempdir()) / f"okr-test-archives-{os.getpid()}"

WEBHOOKS_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=True)
