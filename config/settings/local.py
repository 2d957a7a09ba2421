"""Development: `make run`. Embedded services, console e-mail, http://<slug>.localhost:8000."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-change-me-0123456789abcdef")
SITE_SCHEME = env("SITE_SCHEME", default="http")
SITE_PORT = env("SITE_PORT", default="8000")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", ".localhost", "127.0.0.1"])
# Invitation links are printed to the terminal in development.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")

# Static files come from the finders (no collectstatic needed outside production).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True

WEBHOOKS_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=True)
