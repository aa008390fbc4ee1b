"""Settings for servicedesk, read from the environment (12-factor).

Two shapes share this one module:

* embedded default (nothing set): SQLite file under ``var/``, no Redis, Celery
  tasks run in-process, e-mail printed to the console, DEBUG on;
* production (``DEBUG=0``, ``SECRET_KEY``, ``ALLOWED_HOSTS``, ``DATABASE_URL``,
  ``REDIS_URL``): PostgreSQL, Redis as broker, result backend and cache, secure
  cookies and HSTS, so that ``manage.py check --deploy`` is clean.

Every setting is read once, here, with one default; README lists them all.
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import csp.constants
import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        return int(raw) if raw else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


_SITE_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_SITE_HOST = re.compile(rf"(?:{_SITE_LABEL}\.)*{_SITE_LABEL}|\[[0-9a-f:.]+\]")


def site_url(name: str, raw: str) -> str:
    """``raw`` as ``scheme://host[:port]`` (lower case, no slash at the end),
    or ImproperlyConfigured: an http(s) origin and nothing else, no path,
    query, fragment, credentials or stray characters, since every link that
    leaves the system is this plus a path."""
    problem = ""
    parts = urlsplit(raw)
    try:
        port = parts.port
    except ValueError:
        problem = "its port is not a number from 1 to 65535"
    else:
        host = parts.netloc.rpartition("@")[2].lower()
        if port is not None:
            host = host.rpartition(":")[0]
        if not raw.isprintable() or raw != raw.strip() or " " in raw:
            problem = "it contains blanks or control characters"
        elif parts.scheme not in {"http", "https"}:
            problem = "it must start with http:// or https://"
        elif "@" in parts.netloc:
            problem = "it must not contain a user name or password"
        elif not _SITE_HOST.fullmatch(host):
            problem = "its host name is not valid"
        elif port == 0:
            problem = "its port is not a number from 1 to 65535"
        elif parts.path not in {"", "/"} or "?" in raw or "#" in raw:
            problem = "it must be the site's origin only, without a path, query or fragment"
    if problem:
        raise ImproperlyConfigured(
            f"{name} must look like https://desk.example.com (or with a :port); {problem}: {raw!r}"
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


DEBUG = env_bool("DEBUG", True)

VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def _embedded_secret_key() -> str:
    """A random key kept under VAR_DIR, so sessions survive a restart of `make run`."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = _embedded_secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "guardian",
    "django_celery_beat",
    "axes",
    "csp",
    "heroicons",
    "servicedesk",
    "servicedesk.search",
    "tickets",
    "catalog",
    "kb",
    "cmdb",
    "slo",
    "automation",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside CommonMiddleware: its Host check answers a bad Host header with
    # a 400 that only the middleware around it sees; these headers go on
    # that page too.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Pages for a signed-in person are not stored by browsers or proxies.
    "servicedesk.middleware.PrivateResponseMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "servicedesk.middleware.TenantMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "servicedesk.wsgi.application"
ASGI_APPLICATION = "servicedesk.asgi.application"

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
                "servicedesk.context_processors.shell",
            ],
        },
    },
]

# Widgets (inputs, selects and their options) built in Python, the same HTML
# as Django's templates: see servicedesk/form_renderer.py.
FORM_RENDERER = "servicedesk.form_renderer.FastWidgets"

# --- Database -----------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # Short OLTP queries: PostgreSQL's JIT compiles plans whose estimated
        # cost (inflated by the row-level security filter) crosses its
        # threshold, spending more time compiling than the query takes.
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "servicedesk.sqlite3"),
            # Several threads (runserver, the embedded beat) share the file:
            # write transactions take the lock up front and wait up to 20 s
            # for it, and the write-ahead log lets readers go on meanwhile
            # (a commit then waits for no fsync of the main file).
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
    # The covering index of the desk's queue counts is a PostgreSQL feature;
    # SQLite builds it without its INCLUDE columns, which is fine for a demo.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker, result backend and cache, or nothing (embedded) -------------
REDIS_URL = os.environ.get("REDIS_URL", "")
EMBEDDED = not REDIS_URL

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "servicedesk",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ----------------------------------------------------------------------
# Embedded mode has no broker: tasks run eagerly in the calling process and the
# beat schedule is ticked by a thread inside `manage.py runembedded` (see
# servicedesk/embedded.py). With REDIS_URL, real workers and `celery beat` run.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = EMBEDDED
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A late-acked task that outlives the visibility timeout is redelivered; keep it
# well above the hard time limit so only a lost worker causes a redelivery.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "deliver-owed-invitations": {
        "task": "servicedesk.deliver_owed_invitations",
        "schedule": timedelta(minutes=1),
    },
    "purge-stale-invitations": {
        "task": "servicedesk.purge_stale_invitations",
        "schedule": timedelta(hours=1),
    },
    "deliver-owed-notifications": {
        "task": "tickets.deliver_owed_notifications",
        "schedule": timedelta(minutes=1),
    },
    "close-resolved-tickets": {
        "task": "tickets.close_resolved_tickets",
        "schedule": timedelta(minutes=15),
    },
    "sweep-sla-clocks": {
        "task": "slo.sweep_clocks",
        "schedule": timedelta(minutes=1),
    },
    "mark-overdue-articles": {
        "task": "kb.mark_overdue_articles",
        "schedule": timedelta(hours=1),
    },
}

# --- Tickets ---------------------------------------------------------------------
TICKET_ATTACHMENT_MAX_BYTES = env_int("TICKET_ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024)
# Uploads above this size spool to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Auth ------------------------------------------------------------------------
AUTH_USER_MODEL = "servicedesk.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses sign-in attempts from a locked-out e-mail + address pair.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 60 * 60 * 24)
# How long an invitation link stays valid.
INVITATION_MAX_AGE = timedelta(days=env_int("INVITATION_MAX_AGE_DAYS", 7))
# Sign-in throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for
# one e-mail from one client address, that pair waits LOGIN_COOLOFF_MINUTES.
# Keyed on the pair, so an attacker cannot lock a person out from elsewhere.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The login form's field is "username" (holding the e-mail); counted in lower
# case so that "Ada@X" and "ada@x" share one counter.
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "servicedesk.access.sign_in_username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# How many proxies in front append to X-Forwarded-For; 0 trusts only REMOTE_ADDR.
AXES_IPWARE_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)
# API token throttling: after API_TOKEN_FAILURE_LIMIT bad Bearer tokens from
# one client address (as above), that address's Bearer calls get 429 until
# API_TOKEN_FAILURE_WINDOW_MINUTES after its first failure. 0 turns it off.
API_TOKEN_FAILURE_LIMIT = env_int("API_TOKEN_FAILURE_LIMIT", 20)
API_TOKEN_FAILURE_WINDOW = timedelta(minutes=env_int("API_TOKEN_FAILURE_WINDOW_MINUTES", 10))
GUARDIAN_RENDER_403 = False
ANONYMOUS_USER_NAME = None

# --- E-mail ----------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
# The public origin of the site. Every absolute link that leaves the system
# (password resets, invitations, ticket mails, the API's page links) is built
# from it, never from the request's Host header: ALLOWED_HOSTS ignores the
# port, so the header could point a reset link at another port of this host.
SITE_URL = site_url("SITE_URL", os.environ.get("SITE_URL") or "http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "servicedesk <servicedesk@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- I18N / static ---------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

# --- REST API ----------------------------------------------------------------------
# Tenant-scoped views subclass servicedesk.api_base.TenantGenericViewSet. The
# classes named here live in servicedesk.api_defaults, not api_base: DRF imports
# them while defining the very classes api_base subclasses.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so that anonymous calls get 401 + "WWW-Authenticate: Bearer".
        "servicedesk.api_defaults.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSON parser with a bound on nesting; a viewset that lists its
    # parsers names servicedesk.parsers.JSONParser too.
    "DEFAULT_PARSER_CLASSES": [
        "servicedesk.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # JSON only: the browsable API's pages need inline script, which the CSP
    # forbids, and /api/docs/ documents the API for people.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # drf-spectacular's, with the error answers and the query parameters
    # the base classes check (servicedesk.api_base).
    "DEFAULT_SCHEMA_CLASS": "servicedesk.api_base.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        # DRF's, refusing terms it does not offer instead of dropping them.
        "servicedesk.api_defaults.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "servicedesk.api_defaults.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "servicedesk.api_defaults.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "servicedesk API",
    "DESCRIPTION": "Multi-tenant ITSM service desk: REST API v1.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # Swagger UI's assets come from the drf-spectacular-sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Impact and urgency share one scale.
    "ENUM_NAME_OVERRIDES": {
        "LevelEnum": "tickets.models.Level",
        "ClockStateEnum": "slo.models.ClockState",
        "StatusEnum": "tickets.models.Status",
        "KindEnum": "tickets.models.TicketKind",
        "ServiceKindEnum": "catalog.models.Service.Kind",
        "ServiceStatusEnum": "catalog.models.ServiceStatus",
        "CatalogItemStatusEnum": "catalog.models.ItemStatus",
    },
}

# --- Security (production values unless DEBUG) ------------------------------------
# Content-Security-Policy (django-csp): only this site's own scripts, styles,
# fonts and connections; no inline script anywhere, no framing. Tickets and
# articles will show text people typed, so markup that slips through the
# sanitiser still cannot run. The API docs relax style-src for Swagger UI
# (config/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.constants.SELF],
        "script-src": [csp.constants.SELF],
        "style-src": [csp.constants.SELF],
        "img-src": [csp.constants.SELF, "data:"],
        "font-src": [csp.constants.SELF],
        "connect-src": [csp.constants.SELF],
        "form-action": [csp.constants.SELF],
        "base-uri": [csp.constants.SELF],
        "frame-ancestors": [csp.constants.NONE],
        "object-src": [csp.constants.NONE],
    },
}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    # The proxy in front (see docker-compose.yml) terminates TLS and says so.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # /healthz and /readyz are probed over plain HTTP from inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
