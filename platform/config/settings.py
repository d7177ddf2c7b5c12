"""Django settings for the Crowd Data Platform, read from the environment (see .env.example, docs/deployment.md)."""

import math
import os
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

from config import envfile

PROJECT_DIR = Path(__file__).resolve().parents[2]
PLATFORM_DIR = PROJECT_DIR / "platform"

# A developer's `.env` (written by scripts/run) fills in what the environment does not set; production sets
# real environment variables (see docs/deployment.md).
ENV_FILE_VALUES = envfile.load(PROJECT_DIR)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}")
    return number


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# The data folder holds the embedded SQLite database, collected static files and the demo
# credentials; it is git-ignored.
DATA_DIR = Path(os.environ.get("DJANGO_DATA_DIR", PROJECT_DIR / "var"))

DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
# Placeholders people copy from examples; production refuses them like any other weak key.
PLACEHOLDER_SECRET_KEYS = {"change-me-to-50-or-more-random-characters"}


def secret_key_problem(key: str) -> str | None:
    """Why `key` is no secret key for production, or None. Django's own rules (check --deploy, security.W009)."""
    if not key:
        return "is not set"
    if key in PLACEHOLDER_SECRET_KEYS or "change-me" in key:
        return "is the placeholder from .env.example"
    if key.startswith(SECRET_KEY_INSECURE_PREFIX):
        return f"starts with {SECRET_KEY_INSECURE_PREFIX!r}"
    if len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return f"is weak: use at least {SECRET_KEY_MIN_LENGTH} random characters"
    return None


if not DEBUG and (problem := secret_key_problem(SECRET_KEY)):
    raise ImproperlyConfigured(
        f"DJANGO_SECRET_KEY {problem}. Production (DJANGO_DEBUG off) refuses to start without a real secret "
        "key: set DJANGO_SECRET_KEY to the output of "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`. On a developer's machine, run scripts/run "
        "once: it writes a .env (DJANGO_DEBUG=true, a generated key) that every manage.py command reads."
    )
if not SECRET_KEY:
    SECRET_KEY = "development-only-key-never-used-with-debug-off-" + "x" * 20  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "accounts",
    "api",
    "web",
    "sensors",
    "datasets",
    "purposes",
]

MIDDLEWARE = [
    # First: /healthz and /readyz answer before host checks, TLS redirect, sessions and throttling (api.health).
    "api.health.HealthProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "api.middleware.NulCharacterMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "api.middleware.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

# Sign-in by a person is locked for a while after repeated wrong passwords (django-axes). The lock is per
# user name *and* address, so that nobody can lock another person out from elsewhere.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("DJANGO_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("DJANGO_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Embedded SQLite by default so that the first run needs no server; PostgreSQL in production
# and in the test suite (DATABASE_URL=postgres://...).
DEFAULT_DATABASE_URL = f"sqlite:///{DATA_DIR / 'db.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        conn_max_age=env_int("DJANGO_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"

# A PostgreSQL streaming replica for the reads of the data endpoints (api.replica, docs/scaling.md): only while
# it lags the primary by at most DATABASE_REPLICA_MAX_LAG seconds; otherwise, or when it is down, the primary
# answers. Under the test runner the alias mirrors the primary (no test database is created on a replica).
if REPLICA_URL := os.environ.get("DATABASE_REPLICA_URL", ""):
    DATABASES["replica"] = dj_database_url.parse(
        REPLICA_URL, conn_max_age=env_int("DJANGO_CONN_MAX_AGE", 60), conn_health_checks=True
    )
    if DATABASES["replica"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must be a postgres:// URL (a streaming replica).")
    # A replica that does not answer must not hold a request up for long (the primary answers instead).
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_REPLICA_MAX_LAG = env_int("DATABASE_REPLICA_MAX_LAG", 5)
if DATABASE_REPLICA_MAX_LAG < 0:
    raise ImproperlyConfigured("DATABASE_REPLICA_MAX_LAG must be 0 or more seconds.")
DATABASE_ROUTERS = ["api.replica.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Throttling counts live in the cache. The production entry point (scripts/serve, several gunicorn workers)
# shares them through a database table it creates; one process (runserver, tests) keeps them in memory.
SERVED_BY_ENTRY_POINT = os.environ.get("DJANGO_ENTRY_POINT", "") == "serve"
CACHES = {
    "default": {
        "BACKEND": os.environ.get(
            "DJANGO_CACHE_BACKEND",
            "django.core.cache.backends.db.DatabaseCache"
            if SERVED_BY_ENTRY_POINT
            else "django.core.cache.backends.locmem.LocMemCache",
        ),
        "LOCATION": os.environ.get(
            "DJANGO_CACHE_LOCATION", "cdp_cache" if SERVED_BY_ENTRY_POINT else "crowd-data-platform"
        ),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
LOCALE_PATHS = [PLATFORM_DIR / "web" / "locale"]
LANGUAGES = [("en", "English"), ("nl", "Nederlands")]
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # collectstatic fills it; WhiteNoise wants it to exist
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names (long cache lifetimes) and compressed copies, written by `collectstatic` (scripts/serve) and
    # served by WhiteNoise with DEBUG off. The test suite, which never collects, uses the plain storage.
    "staticfiles": {"BACKEND": "config.storage.StaticFilesStorage"},
}

# Security: secure by default whenever DEBUG is off; each can be relaxed through the environment
# (e.g. DJANGO_SECURE_SSL_REDIRECT=false behind a proxy that already redirects).
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", not DEBUG)
BEHIND_TLS_PROXY = env_bool("DJANGO_BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies of ours append to X-Forwarded-For. 0: the header is the client's own and is ignored (the
# address is REMOTE_ADDR); N: the client is the N-th address from the right, the one our nearest proxy saw.
# Throttling and the sign-in lock both count per address, so a spoofed header must not count.
TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", 1 if BEHIND_TLS_PROXY else 0)
# The sign-in lock takes the client's address by the same rule as throttling (DRF's NUM_PROXIES).
AXES_CLIENT_IP_CALLABLE = "api.throttling.client_address"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Background map tiles for the pages' maps (docs/deployment.md, ADR 0012). Unset: OpenStreetMap's standard
# tiles with their attribution; set to another template to override (with DJANGO_MAP_TILE_ATTRIBUTION); set
# empty: no tiles, no request to another host. Without tiles (or when they fail) Natural Earth land shows.
OSM_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_TILE_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
MAP_TILE_URL = os.environ.get("DJANGO_MAP_TILE_URL", OSM_TILE_URL).strip()
MAP_TILE_ATTRIBUTION = os.environ.get(
    "DJANGO_MAP_TILE_ATTRIBUTION", OSM_TILE_ATTRIBUTION if MAP_TILE_URL == OSM_TILE_URL else ""
)
# The public purpose the open dashboard (/dashboard/) reads under: it shows what that purpose opens to anyone.
DASHBOARD_PURPOSE = os.environ.get("DJANGO_DASHBOARD_PURPOSE", "vbs-open-dashboard")


def tile_origin(url: str) -> list[str]:
    """The origin the map tiles come from, for the Content-Security-Policy ({s}.tile.example -> *.tile.example)."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return []
    return [f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"]


# Content-Security-Policy (django-csp): pages load scripts, styles and fonts from this site only, and no
# inline script at all; images may also come from the map's tile server. The API documentation pages
# relax style-src for the inline styles their viewers inject (config.urls.docs_csp).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *tile_origin(MAP_TILE_URL)],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# The DCAT-AP catalogue's own description.
CATALOG_TITLE = os.environ.get("DJANGO_CATALOG_TITLE", "Crowd Data Platform catalogue")
CATALOG_PUBLISHER = os.environ.get("DJANGO_CATALOG_PUBLISHER", "Crowd Data Platform")

# Largest request body accepted, in bytes (413 problem+json above it).
# Purpose binding: cells of fewer than k contributions are suppressed; k is never below PURPOSE_MIN_K.
PURPOSE_MIN_K = max(5, env_int("DJANGO_PURPOSE_MIN_K", 5))
PURPOSE_DEFAULT_K = max(PURPOSE_MIN_K, env_int("DJANGO_PURPOSE_DEFAULT_K", 10))
# Noise on open grants: the epsilon a dataset's readers may spend all told until its owner sets a total of its
# own (docs/privacy-of-aggregates.md). Each noisy answer charges epsilon x the counts it releases.
PRIVACY_BUDGET_DEFAULT_EPSILON = env_float("DJANGO_PRIVACY_BUDGET_DEFAULT_EPSILON", 100.0)
if PRIVACY_BUDGET_DEFAULT_EPSILON < 0:
    raise ImproperlyConfigured("DJANGO_PRIVACY_BUDGET_DEFAULT_EPSILON must not be negative")
# The access log is sharded into this many hash chains, so that appends do not serialise the platform.
ACCESS_LOG_CHAINS = max(1, env_int("DJANGO_ACCESS_LOG_CHAINS", 8))

# Records are plausible only between this day (UTC) and five minutes from now, planned events up to three years
# from now (docs/errors.md, out_of_range).
try:
    RECORDS_EARLIEST = date.fromisoformat(os.environ.get("DJANGO_RECORDS_EARLIEST", "1990-01-01")).isoformat()
except ValueError:
    raise ImproperlyConfigured("DJANGO_RECORDS_EARLIEST must be a day, YYYY-MM-DD (e.g. 1990-01-01).") from None

REQUEST_BODY_MAX_BYTES = env_int("DJANGO_REQUEST_BODY_MAX_BYTES", 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_BODY_MAX_BYTES

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.HasOrganisationRole"],
    # Every body is checked for what no endpoint can use (NUL, deep nesting): see api.parsers. JSON only:
    # multipart and form bodies cannot carry the nested fields (geometry, thresholds, lists) most writes
    # have; endpoints that read CSV or NDJSON declare their own parsers.
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "api.negotiation.ContentNegotiation",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.CallerRateThrottle"],
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "api_key": os.environ.get("DJANGO_THROTTLE_API_KEY", "1200/min"),
        "user": os.environ.get("DJANGO_THROTTLE_USER", "600/min"),
        "anon": os.environ.get("DJANGO_THROTTLE_ANON", "120/min"),
    },
    # The browsable API (HTML) is a developer's aid: only with DEBUG on. In production the API speaks JSON.
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        *(["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    ],
    "DEFAULT_VERSIONING_CLASS": None,
    "EXCEPTION_HANDLER": "api.problems.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Crowd Data Platform API",
    "DESCRIPTION": (
        "Open data-platform API for crowd data. Metadata (sensor register, schemas, catalogue, "
        "purposes) is public; data is only read for a declared, approved purpose. Errors are "
        "problem+json (RFC 9457)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Deep links put a link inside each operation's summary button: an interactive element nested in another,
    # which screen readers cannot reach (axe nested-interactive, serious). Operations still open by their button.
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "SensorStatusEnum": "sensors.models.SensorStatus",
        "DatasetStatusEnum": "datasets.models.DatasetStatus",
        "IngestBatchStatusEnum": "datasets.models.IngestBatch.Status",
        "AccessLevelEnum": "purposes.models.AccessLevel",
        "PurposeStatusEnum": "purposes.models.PurposeStatus",
        "DpiaStatusEnum": "purposes.models.DpiaStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.document_representations",
        "api.schema.add_problem_responses",
        "api.schema.require_tags_and_summaries",
    ],
    "TAGS": [
        {"name": "accounts", "description": "Who am I, organisations and their API keys."},
        {
            "name": "sensors",
            "description": "Sensor types, sensors (register, confirm, history, import) and areas.",
        },
        {
            "name": "register",
            "description": "The public sensor register: no login, metadata is public by design.",
        },
        {"name": "schemas", "description": "The standard dataset schemas (no login)."},
        {"name": "datasets", "description": "Datasets, their metadata and bulk ingest."},
        {"name": "catalogue", "description": "The public dataset catalogue, also as DCAT-AP (no login)."},
        {
            "name": "purposes",
            "description": "Purposes (doelbinding), approvals, compatibility assessments, grants and the access log.",
        },
        {
            "name": "records",
            "description": "Data, read only for a declared purpose (`X-Purpose`); every request is logged.",
        },
        {
            "name": "indicators",
            "description": "Crowd indicators: definitions (no login) and values per area or sensor, for a declared "
            "purpose; small cells suppressed.",
        },
        {"name": "public", "description": "Purposes in force and access statistics: public by design."},
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}
