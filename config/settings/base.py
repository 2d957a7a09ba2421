"""Settings shared by every environment; behaviour is driven by environment variables."""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config import embedded

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

SECRET_KEY = env("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)

# Tenants live at <slug>.<BASE_DOMAIN>; BASE_DOMAIN itself is the public host (D1).
BASE_DOMAIN = env("BASE_DOMAIN", default="localhost")
# How links in e-mails reach this deployment (scheme and optional ":port").
SITE_SCHEME = env("SITE_SCHEME", default="https")
SITE_PORT = env("SITE_PORT", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[BASE_DOMAIN, f".{BASE_DOMAIN}"])

# --- Applications (D1) -------------------------------------------------------------
SHARED_APPS = [
    "django_tenants",
    "tenants",
    "accounts",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
]
# accounts, auth, contenttypes and sessions are in both lists: every schema has its own
# users, permissions and sessions, so nothing tenant-side points into public (D2).
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "accounts",
    "simple_history",
    "axes",  # sign-in failures are counted per schema (docs/security.md)
    "okrs",
    "reviews",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Organization"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
# D3: new organisations clone this migrated template schema instead of replaying
# every migration; provisioning falls back to migrations when it is missing.
TENANT_BASE_SCHEMA = "tenant_template"
# Spare clones of the template kept ready, so provisioning renames one (tenants.schema_pool).
TENANT_SPARE_SCHEMAS = env.int("TENANT_SPARE_SCHEMAS", default=2)
TENANT_CREATION_FAKES_MIGRATIONS = True
TENANT_LIMIT_SET_CALLS = True
TENANT_COLOR_ADMIN_APPS = True
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False

MIDDLEWARE = [
    # Operability (docs/operations.md): the request id for every log line, then /healthz and
    # /readyz answered on any host, before tenant routing (which 404s unknown hosts).
    "config.logging.RequestIdMiddleware",
    "config.health.HealthCheckMiddleware",
    # Database down or restarting: 503 + Retry-After instead of a 500 (config/database_errors.py).
    "config.database_errors.DatabaseUnavailableMiddleware",
    "django_tenants.middleware.main.TenantMainMiddleware",
    "accounts.api.middleware.ApiEnvelopeMiddleware",
    "tenants.middleware.OrganizationStatusMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tenants.middleware.ConsultantAccessMiddleware",
    "accounts.middleware.RequestScopedReportsMiddleware",
    "tenants.middleware.OrganizationLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so the middleware above also sees its lockout response (accounts.lockout).
    "axes.middleware.AxesMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "tenants.context_processors.organization",
                "accounts.context_processors.navigation",
                "okrs.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# --- Database (D4: embedded PostgreSQL when DATABASE_URL is unset) -------------------
# Containers set EMBEDDED_SERVICES=false: a forgotten URL must fail loudly there,
# not quietly start a database inside the container.
EMBEDDED_SERVICES = env.bool("EMBEDDED_SERVICES", default=True)


def _service_url(name: str, start_embedded):
    if env(name, default=""):
        return env(name)
    if not EMBEDDED_SERVICES:
        raise ImproperlyConfigured(f"Set {name} (embedded services are off: EMBEDDED_SERVICES=false).")
    return start_embedded()


_database = (
    env.db_url("DATABASE_URL")
    if env("DATABASE_URL", default="")
    else _service_url("DATABASE_URL", embedded.postgres_settings)
)
_database["ENGINE"] = "django_tenants.postgresql_backend"
_database.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
_database["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _database}
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery (D4, D5) ---------------------------------------------------
REDIS_URL = _service_url("REDIS_URL", embedded.redis_url)
CACHES = {
    "default": {
        "BACKEND": "config.redis_cache.RedisCache",  # Django's, one Redis client per pool
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="okr"),
        # Keys are prefixed with the current schema so tenants never share entries.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        # Redis down must cost a request little (quotas and the portal's refresh let it pass,
        # docs/operations.md): give up connecting after half a second.
        "OPTIONS": {
            "socket_connect_timeout": env.float("CACHE_CONNECT_TIMEOUT", default=0.5),
            "socket_timeout": env.float("CACHE_SOCKET_TIMEOUT", default=1.0),
        },
    }
}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(embedded.DATA_DIR / "celerybeat-schedule")
# --- Celery fault tolerance: Redis down, a worker killed (config/tasks_enqueue.py, docs/operations.md) ---
# A request publishing while Redis is down fails fast (refused: ~5 ms; unreachable: the connect
# timeout) instead of Celery's default ~0.6 s of retries per message; the enqueue helper logs it
# and the sweepers queue the work again later. One immediate retry survives a pooled connection
# that went stale when Redis restarted.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=1.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1,
}  # fmt: skip
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
    "socket_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=5.0),
    # A message taken by a worker that died (SIGKILL, OOM, lost machine) is handed out again
    # after this many seconds. It must exceed the longest countdown/ETA we use (retries back off
    # to 1 h plus 10 % jitter), else every waiting retry is redelivered again and again. Lost
    # work is picked up sooner anyway: reminders are re-dispatched every 15 min, and undelivered
    # notifications / webhooks are swept every 10 min; every task is idempotent.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=7200),
}

# --- Auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# --- Sign-in brute-force protection (django-axes; accounts/lockout.py, docs/security.md) ---
# The lockout backend only refuses locked-out sign-ins; ModelBackend signs people in.
AUTHENTICATION_BACKENDS = [
    "accounts.lockout.LoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "accounts.lockout.LoginLockoutHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_FAILURE_LIMIT = env.int("LOGIN_LOCKOUT_ACCOUNT_LIMIT", default=5)  # per account and network
LOGIN_LOCKOUT_NETWORK_LIMIT = env.int("LOGIN_LOCKOUT_NETWORK_LIMIT", default=30)  # per network
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
# Tries while locked out are refused unchecked and do not extend the lockout.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "accounts.lockout.lockout_username"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
# Reverse proxies in front of the web processes that append to X-Forwarded-For (0: none).
LOGIN_LOCKOUT_PROXY_COUNT = env.int("LOGIN_LOCKOUT_PROXY_COUNT", default=0)
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# No table of every successful sign-in (it would only grow); failures are kept per cool-off.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# Invitation / set-password links stay valid for 7 days.
PASSWORD_RESET_TIMEOUT = 7 * 24 * 3600
# A consultant's "enter the client's workspace" link is single-use and valid this many seconds.
CONSULTANT_ENTRY_MAX_AGE = env.int("CONSULTANT_ENTRY_MAX_AGE", default=60)

# Cookies are host-only (no SESSION_COOKIE_DOMAIN), so a cookie made on one
# organisation's host is never sent to another's; sessions live per schema as well.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- I18n / time ------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static -------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- Organisation archives (exports, offboarding) -----------------------------------------
# Archives hold every row of an organisation (password hashes included): keep the
# directory private and backed up; offboarded organisations are restored from it.
ARCHIVE_DIR = Path(env("ARCHIVE_DIR", default=str(BASE_DIR / ".data" / "archives")))

# --- Uploads (issue 8: CSV imports, organisation logos; accounts/uploads.py, accounts/logos.py) ---
# An uploaded file above this size is spooled to a temporary file while the request is read,
# never held in memory; each form then refuses files above its own limit from the size alone
# (CSV 2 MB, logo 512 KB). Other request bodies (forms, JSON) are capped at 2.5 MB. A proxy in
# front should cap whole requests too (e.g. nginx client_max_body_size 5m).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default=f"OKR platform <no-reply@{BASE_DOMAIN}>")

# The integration API (D8, docs/api.md). Quotas are per token (or per person in the UI).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.api.permissions.IsActiveAndTokenScopeAllows"],
    "DEFAULT_PAGINATION_CLASS": "accounts.api.pagination.ApiCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.api.throttling.ApiReadThrottle",
        "accounts.api.throttling.ApiWriteThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "api_read": env("API_QUOTA_READ", default="1200/min"),
        "api_write": env("API_QUOTA_WRITE", default="120/min"),
    },
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "accounts.api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "accounts.api.exceptions.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": False,
}
# Webhook targets on loopback / private / link-local addresses are refused (SSRF guard);
# development and tests allow them so a local receiver can be used.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=False)
# First webhook retry delay in seconds (doubling up to an hour); a test worker shortens it.
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=30)
# Processes for `migrate_schemas --executor=multiprocessing` (migrate_platform passes --processes);
# each holds one connection and runs DDL: size it to what the database takes (docs/scaling.md).
TENANT_MULTIPROCESSING_MAX_PROCESSES = env.int("TENANT_MULTIPROCESSING_MAX_PROCESSES", default=2)
# The migrate run in each schema: skips schemas with nothing to migrate (tenants/migrate_command.py).
TENANT_BASE_MIGRATE_COMMAND = "tenants.migrate_command.Command"
# My focus, the explorer and the API's objective list are cached until the organisation's data
# changes (tenants/page_cache.py, ADR 0011); what moves with the clock alone is at most this old.
# 0 turns the cache off.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=60)
# The load benchmark (bench/load.py) serves a baseline endpoint, /bench/baseline/; off elsewhere.
BENCH_BASELINE = env.bool("BENCH_BASELINE", default=False)
# The consultant portal shows a platform median only when at least this many organisations
# contribute a value to it (fewer would let a consultant work out a single client's figure).
BENCHMARK_MIN_ORGANIZATIONS = env.int("BENCHMARK_MIN_ORGANIZATIONS", default=5)

SPECTACULAR_SETTINGS = {
    "TITLE": "OKR platform API",
    "DESCRIPTION": (
        "The integration API of one organisation, served on its own host "
        "(https://<organisation>.<domain>/api/v1/). Authenticate with an API token "
        "(Authorization: Bearer okr_…) created under API tokens. Errors share one envelope: "
        "{detail, code, fields}. Lists use cursor pagination (next/previous links). See docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "ReviewStateEnum": "reviews.models.Review.State",
        "ReviewCycleStateEnum": "reviews.models.ReviewCycle.State",
        "ReviewCycleKindEnum": "reviews.models.ReviewCycle.Kind",
        "CycleStateEnum": "okrs.models.Cycle.State",
        "CycleKindEnum": "okrs.models.Cycle.Kind",
        "ObjectiveStateEnum": "okrs.models.Objective.State",
        "ObjectiveKindEnum": "okrs.models.Objective.Kind",
        "KeyResultKindEnum": "okrs.models.KeyResult.Kind",
    },
}

# --- Logging (docs/operations.md) ---------------------------------------------------------
# Every line carries the organisation (schema) and the request id (config/logging.py):
# "text" for people (`[acme 3f2a…]` prefix), "json" (one object per line) for log collectors.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "config.logging.RequestContextFilter"}},
    "formatters": {
        "text": {
            "format": "%(asctime)s %(levelname)s [%(organization)s %(request_id)s] %(name)s: %(message)s"
        },
        "json": {"()": "config.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_context"],
            "formatter": env("LOG_FORMAT", default="text"),
        },
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"pgserver": {"level": "WARNING"}},
}

# --- Content-Security-Policy and clickjacking (docs/security.md) -----------------------------
# No inline scripts or styles (static/js/app.js wires behaviour from data attributes; bars are
# sized with SVG width attributes, not style=). The admin (config/csp.py) and the API docs pages
# (config/urls_api.py) allow inline styles, never inline scripts. form-action allows the tenant
# hosts because the portal's "Enter workspace" form posts to the public host and is redirected to
# the client's host, and browsers apply form-action to that redirect; any port, for runserver and
# the browser tests.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'", f"*.{BASE_DOMAIN}:*"],
        "frame-ancestors": ["'none'"],
    }
}
# First, so that every response gets the header, including the early answers of the tenant and
# organisation-status middleware.
MIDDLEWARE.insert(0, "config.csp.ContentSecurityPolicyMiddleware")
X_FRAME_OPTIONS = "DENY"
# Swagger UI would load a badge from validator.swagger.io (sending it the schema's URL) on any
# host but localhost; the policy blocks it anyway.
SPECTACULAR_SETTINGS["SWAGGER_UI_SETTINGS"] = {"deepLinking": True, "validatorUrl": None}
