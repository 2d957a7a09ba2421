"""Production: secrets and hosts must come from the environment; HTTPS only (docs/security.md)."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

DEBUG = False

# The same rule as Django's deploy check (security.W009), enforced at start-up: a key that
# `check --deploy` would call weak never reaches a running server.
SECRET_KEY = env("SECRET_KEY", default="")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-"):
    raise ImproperlyConfigured(
        "SECRET_KEY is missing or weak: set it to a random value of at least 50 characters, e.g. the "
        "output of python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

# --- HTTPS ---------------------------------------------------------------------------------------
# TLS ends at the proxy / load balancer in front, which must set X-Forwarded-Proto (and strip it
# from clients' requests); that is how Django knows a request came over HTTPS.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Load balancers probe over plain HTTP; a redirect would read as "down".
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$"]
# One year, every subdomain: organisations live at <slug>.<BASE_DOMAIN>. No preload by default:
# the preload list is hard to leave and covers the whole registrable domain, which the operator
# may share with sites that are not ours.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# ...so the deploy check's "not preloaded" warning is a decision, not an oversight.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)

# --- Headers (Django's defaults, stated so a change is deliberate) ----------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Logs: JSON lines by default in production (LOG_FORMAT=text for people reading a terminal).
LOGGING["handlers"]["console"]["formatter"] = env("LOG_FORMAT", default="json")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
