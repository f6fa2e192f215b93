"""Gatehouse settings: one file, every deploy value read from the environment.

The defaults are for a first look on a laptop (SQLite, Celery in-process, debug on only when
asked). Production sets ``DJANGO_DEBUG=0``, ``SECRET_KEY``, ``DATABASE_URL`` (PostgreSQL),
``ALLOWED_HOSTS`` and ``CELERY_BROKER_URL`` (Redis).
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
INSECURE_KEY = not SECRET_KEY  # checked against the production settings below, once they are known
if INSECURE_KEY:
    if not DEBUG and not env_bool("GATEHOUSE_ALLOW_INSECURE_KEY", False):
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (or DJANGO_DEBUG=1 for local work)."
        )
    # Local work and tests only: a fixed, obviously unsafe key.
    SECRET_KEY = "insecure-local-key-do-not-use-in-production-" + "x" * 20

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_htmx",
    "django_celery_beat",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "core",
    "registry",
    "approvals",
    "incidents",
    "freshness",
    "webhooks",
    "routing",
    "identity",
    "connectors",
    "compliance",
    "readiness",
    "packs",
    "drills",
    "demo",  # last: it seeds every app above through their services; nothing imports it
]

MIDDLEWARE = [
    "routing.middleware.ResolveFastPathMiddleware",  # first: a resolve answered from memory skips the rest
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    "core.middleware.ApiNoStoreMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the second factor given this session
    "core.middleware.RejectNulMiddleware",  # after auth: the 400 page shows the signed-in navigation
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.middleware.IdleSessionMiddleware",  # after messages: it says why you were signed out
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.middleware.AuditContextMiddleware",
    "core.middleware.LoginRequiredMiddleware",
    "registry.middleware.SecondFactorMiddleware",
    "registry.middleware.PersonTimeZoneMiddleware",  # pages in the person's zone; /api/ stays UTC
    "core.middleware.ConcurrentWriteMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "registry.context_processors.navigation",
                "approvals.context_processors.queue_badge",
                "incidents.context_processors.incident_rights",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'gatehouse.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for the writer instead of failing at once when the demo's worker writes too. IMMEDIATE:
    # a transaction takes the write lock when it begins, so two that read then write wait their turn
    # (the busy timeout) instead of one failing at once with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FORMS_URLFIELD_ASSUME_HTTPS = True

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
    "identity.oidc.OidcBackend",  # single sign-on (OpenID Connect): inert unless OIDC_ISSUER is set
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; anonymous users see nothing.
GUARDIAN_RAISE_403 = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in attempts: after LOGIN_FAILURE_LIMIT failures for one username from one address (or
# LOGIN_FAILURE_LIMIT_PER_ADDRESS from one address, any username) within LOGIN_FAILURE_WINDOW seconds,
# sign-ins from there are refused until the window has passed. Counted in the shared cache.
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_FAILURE_LIMIT_PER_ADDRESS = int(os.environ.get("LOGIN_FAILURE_LIMIT_PER_ADDRESS", "30"))
LOGIN_FAILURE_WINDOW = int(os.environ.get("LOGIN_FAILURE_WINDOW", str(15 * 60)))

# --- Second factor (optional, for local accounts) -----------------------------------------
# A user with a confirmed device (authenticator app, passkey, backup codes) gives it after the password,
# on /accounts/verify/, before anything else counts as signed in. GATEHOUSE_REQUIRE_2FA_FOR makes it
# compulsory: a comma list of usernames and/or "staff" and "superusers"; such a user without a device
# is sent to /account/security/ to add one first. Wrong codes: at most SECOND_FACTOR_FAILURE_LIMIT per
# account within LOGIN_FAILURE_WINDOW, on top of each device's own growing delay (kept in the database).
GATEHOUSE_REQUIRE_2FA_FOR = env_list("GATEHOUSE_REQUIRE_2FA_FOR")
SECOND_FACTOR_FAILURE_LIMIT = int(os.environ.get("SECOND_FACTOR_FAILURE_LIMIT", "5"))
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Gatehouse")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # Django admin never shows a device's secret or backup codes
# Passkeys (django-otp-webauthn, its browser script served from static/): the relying party is the host
# name users reach Gatehouse by: GATEHOUSE_WEBAUTHN_RP_ID, else GATEHOUSE_BASE_URL's host (a domain name:
# browsers refuse passkeys for an IP address, so an IP address there means localhost, for local work).
# Origins allowed: GATEHOUSE_BASE_URL's when it is https (or localhost), plus GATEHOUSE_WEBAUTHN_ORIGINS.
# Passkeys are a second factor only: the password always comes first.
_base_url = urlsplit(os.environ.get("GATEHOUSE_BASE_URL", "http://127.0.0.1:8000"))
_base_host = _base_url.hostname or "localhost"
if _base_host.replace(".", "").isdigit() or ":" in _base_host:
    _base_host = "localhost"
OTP_WEBAUTHN_RP_ID = os.environ.get("GATEHOUSE_WEBAUTHN_RP_ID") or _base_host
OTP_WEBAUTHN_RP_NAME = "Gatehouse"
OTP_WEBAUTHN_ALLOWED_ORIGINS = [
    f"{_base_url.scheme}://{_base_host}" + (f":{_base_url.port}" if _base_url.port else "")
    if _base_url.scheme == "https"
    else f"http://localhost:{_base_url.port or 80}",
    *env_list("GATEHOUSE_WEBAUTHN_ORIGINS"),
]
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False

# Scripts and styles from this origin only: no inline script, no inline style attribute or element (layout
# is in static/css as classes; a static script may still set element.style, which the policy allows).
# CONTENT_SECURITY_POLICY="" turns the header off.
CONTENT_SECURITY_POLICY = os.environ.get(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'",
)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "registry:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and env_bool("GATEHOUSE_MANIFEST_STATIC", True)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "media/"

# --- Security -----------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 60 * 60)))
# Signed out after this many seconds without a request (besides SESSION_COOKIE_AGE from sign-in); 0: never.
SESSION_IDLE_TIMEOUT = int(os.environ.get("SESSION_IDLE_TIMEOUT", str(30 * 60)))
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # htmx reads the token from the page (hx-headers), not the cookie
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# GATEHOUSE_ALLOW_INSECURE_KEY is for tests and benchmarks on this machine. With production's settings (any
# secure cookie, https redirect or HSTS, or a host name beyond loopback) a known key would let anyone forge
# sessions and decision tokens: refuse to start instead.
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]", "testserver"}
if (
    INSECURE_KEY
    and not DEBUG
    and (
        SESSION_COOKIE_SECURE
        or CSRF_COOKIE_SECURE
        or SECURE_SSL_REDIRECT
        or SECURE_HSTS_SECONDS
        or set(ALLOWED_HOSTS) - _LOOPBACK_HOSTS
    )
):
    raise ImproperlyConfigured(
        "GATEHOUSE_ALLOW_INSECURE_KEY cannot be combined with production settings (secure cookies, https "
        "redirect, HSTS or a public host name). Set SECRET_KEY."
    )

# --- Email --------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "gatehouse@localhost")

# --- Cache --------------------------------------------------------------------------------
# CACHE_URL: redis://... in production (shared by every process: resolve's invalidation relies on it);
# file:///path for the demo (the web server and the Celery worker share it without Redis); unset: memory
# of one process (tests).
_cache_url = os.environ.get("CACHE_URL", "")
if _cache_url.startswith("file://"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": _cache_url.removeprefix("file://"),
        }
    }
elif _cache_url:
    # Every cache call gives up after CACHE_TIMEOUT_SECONDS: a Redis that is down or hangs costs a request
    # that long, and each caller falls back (sign-in counts in memory, resolve reads the database).
    # After a failure, calls to that Redis fail at once for CACHE_RETRY_SECONDS (config.cache): one request
    # per process pays the timeout, the others fall back straight away.
    CACHE_TIMEOUT_SECONDS = float(os.environ.get("CACHE_TIMEOUT_SECONDS", "0.5"))
    CACHE_RETRY_SECONDS = float(os.environ.get("CACHE_RETRY_SECONDS", "5"))
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
            "OPTIONS": {
                "pool_class": "config.cache.FailFastConnectionPool",
                "socket_connect_timeout": CACHE_TIMEOUT_SECONDS,
                "socket_timeout": CACHE_TIMEOUT_SECONDS,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Reads of restricted features are recorded once per person, thing and this many seconds (reloads and
# htmx panels do not each add a record).
READ_RECORD_DEDUP_SECONDS = int(os.environ.get("READ_RECORD_DEDUP_SECONDS", "300"))
# How long a process may keep a resolve decision or a machine token's identity (seconds). Changes
# invalidate at once (routing.cache); this bounds what a change made behind the app's back could leave.
ROUTING_CACHE_SECONDS = int(os.environ.get("ROUTING_CACHE_SECONDS", "300"))
# Each process keeps the routing epoch and feature stamps it read while it hears every change announced on
# Redis (routing.mirror): a cached resolve then costs no round trip. 0: read them from Redis on every request.
ROUTING_STAMP_MIRROR = os.environ.get("ROUTING_STAMP_MIRROR", "1").lower() not in ("0", "false", "no", "off")
# How long the readiness inventory may keep what a feature is missing (seconds). Changes and evidence
# going stale invalidate at once (readiness.current); this bounds what a change behind the app's back could leave.
READINESS_CACHE_SECONDS = int(os.environ.get("READINESS_CACHE_SECONDS", "3600"))

# --- Celery -------------------------------------------------------------------------------
# Three set-ups, chosen by CELERY_BROKER_URL:
# - ``memory://`` (the default, and the tests): no worker; every task runs in-process when sent.
# - ``filesystem://`` (``make demo``): kombu's filesystem transport, no Redis. A worker with beat
#   embedded (``celery -A config worker -B``) reads messages from CELERY_FILESYSTEM_DIR (default
#   var/celery/). No result backend: no task's result is read, and file results are never cleaned up.
#   A worker killed mid-task loses that message (the transport cannot redeliver); the next run heals it.
# - ``redis://...`` (production): Redis is the broker and, unless CELERY_RESULT_BACKEND says otherwise,
#   the result backend too (results expire after a day). Run ``celery -A config worker`` and
#   ``celery -A config beat`` as separate processes.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else None
)
if CELERY_RESULT_BACKEND in ("none", "disabled"):
    CELERY_RESULT_BACKEND = None
CELERY_RESULT_EXPIRES = int(os.environ.get("CELERY_RESULT_EXPIRES", str(24 * 60 * 60)))
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_FILESYSTEM_DIR = Path(os.environ.get("CELERY_FILESYSTEM_DIR") or BASE_DIR / "var" / "celery").resolve()
    _queue_dir = CELERY_FILESYSTEM_DIR / "queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # One folder both ways: producers (web, beat) write where the worker reads.
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        # Only used with store_processed=True (off: handled messages are deleted).
        "processed_folder": str(CELERY_FILESYSTEM_DIR / "processed"),
        "control_folder": str(CELERY_FILESYSTEM_DIR / "control"),
        "polling_interval": float(os.environ.get("CELERY_FILESYSTEM_POLL_SECONDS", "0.5")),
    }
    for _folder in ("queue", "processed", "control"):
        (CELERY_FILESYSTEM_DIR / _folder).mkdir(parents=True, exist_ok=True)
# A message a worker took and never acknowledged (killed mid-task) goes back to the queue after this long,
# not Redis's default hour. Every task's time limit is shorter (tests/resilience/test_task_limits.py), so a
# task still running is never handed to a second worker, and every task is safe to run twice.
CELERY_VISIBILITY_TIMEOUT = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "600"))
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A connect to a host that drops packets waits this long, not the OS's two minutes.
        "socket_connect_timeout": float(os.environ.get("CELERY_BROKER_CONNECT_TIMEOUT", "1")),
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    }
# Also what a request waits, at most, to queue a task after its commit (``core.queueing.enqueue``):
# one attempt, then the write answers anyway and a sweep sends what was not queued.
CELERY_BROKER_CONNECTION_TIMEOUT = float(os.environ.get("CELERY_BROKER_CONNECT_TIMEOUT", "1"))
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", CELERY_BROKER_URL.startswith("memory://"))
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Every task ends well before the visibility timeout (10 min) unless it sets shorter limits of its own.
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "registry.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Every endpoint checks the token's scopes (registry.api.scopes); a view that sets its own
    # permission_classes keeps TokenScopePermission (tests/security/test_token_scopes checks it).
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "registry.api.scopes.TokenScopePermission",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Gatehouse API",
    "DESCRIPTION": "Registry, evidence, gates and audit for AI features.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",  # tag operations by resource (features, versions, ...)
    "SWAGGER_UI_DIST": "SIDECAR",  # served from static files: works on a closed network
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The error answers every operation can give (400/401/403/404/409), documented once.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.document_idempotency",
        "core.api.schema.document_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "AuditSourceEnum": "core.audit_context.AuditSource",
        "DataClassificationEnum": "registry.choices.DataClassification",
        "EvaluationKindEnum": "registry.choices.EvaluationKind",
        "DeploymentEventKindEnum": "registry.choices.DeploymentEventKind",
        "RequirementKindEnum": "approvals.choices.RequirementKind",
        "IncidentStatusEnum": "incidents.choices.IncidentStatus",
        "ReportKindEnum": "incidents.choices.ReportKind",
        "ReportDraftKindEnum": [("initial", "initial"), ("complete", "complete")],
        "SnapshotTriggerEnum": "incidents.choices.SnapshotTrigger",
        "RequestStatusEnum": "approvals.choices.RequestStatus",
        "FindingStateEnum": "freshness.choices.FindingState",
        "SweepStatusEnum": "freshness.choices.SweepStatus",
        "WebhookDeliveryStatusEnum": "webhooks.choices.DeliveryStatus",
        "WebhookEventEnum": "webhooks.choices.WebhookEvent",
        "WebhookSubscribableEventEnum": "webhooks.choices.SUBSCRIBABLE_EVENT_CHOICES",
        "AlertStatusEnum": [("firing", "firing"), ("resolved", "resolved")],
        "ReadinessCheckEnum": "readiness.choices.ReadinessCheck",
        "DrillKindEnum": "drills.choices.DrillKind",
        "MembershipSourceEnum": "registry.choices.MembershipSource",
        # Also the status of a feature change request: the same three states (pending, approved, rejected),
        # which drf-spectacular can give only one name.
        "SignOffStatusEnum": "approvals.choices.SignOffStatus",
        "CheckKindEnum": [("evidence", "evidence"), ("readiness", "readiness"), ("compliance", "compliance")],
        "PackKindEnum": "packs.choices.PackKind",
        "RegulatoryRoleEnum": "compliance.choices.Role",
        "RoleEnum": "registry.choices.Role",
        "CheckStateEnum": [(state, state) for state in ("ok", "missing", "failing", "below_minimum", "stale")],
    },
}

# --- Gatehouse ----------------------------------------------------------------------------
# Fernet key(s), comma-separated, newest first, encrypting secrets at rest (webhook secrets): see
# core/encryption.py. Unset: derived from SECRET_KEY (encrypted, but the key is in the settings).
GATEHOUSE_ENCRYPTION_KEY = os.environ.get("GATEHOUSE_ENCRYPTION_KEY", "")
GATEHOUSE_PAGE_SIZE = int(os.environ.get("GATEHOUSE_PAGE_SIZE", "25"))
# Links in emails point here, e.g. https://gatehouse.example.com
GATEHOUSE_BASE_URL = os.environ.get("GATEHOUSE_BASE_URL", "http://127.0.0.1:8000")
# Outbound webhooks go to https targets only, unless this allows plain http (on by default with debug).
WEBHOOKS_ALLOW_HTTP = env_bool("WEBHOOKS_ALLOW_HTTP", DEBUG)
# Networks (comma-separated CIDRs) deliveries never reach, checked on every address the target resolves to:
# loopback, link-local (the cloud metadata address 169.254.169.254) and "this network"; IPv4-mapped IPv6
# addresses count as their IPv4 address. Empty blocks nothing: development only.
WEBHOOKS_BLOCKED_NETWORKS = env_list(
    "WEBHOOKS_BLOCKED_NETWORKS", "127.0.0.0/8,::1/128,169.254.0.0/16,fe80::/10,0.0.0.0/8,::/128"
)
# Private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) and this server's own addresses are refused
# too, at creation and after resolving at delivery, unless this is on (default: on with DJANGO_DEBUG only).
GATEHOUSE_WEBHOOK_ALLOW_PRIVATE = env_bool("GATEHOUSE_WEBHOOK_ALLOW_PRIVATE", DEBUG)

# The audit chain is keyed (HMAC-SHA256). GATEHOUSE_AUDIT_KEY is the key new events are made with, recorded on
# each event under GATEHOUSE_AUDIT_KEY_ID (by default a fingerprint of the key); keys retired by a rotation stay
# in GATEHOUSE_AUDIT_OLD_KEYS ("id:key,id:key") so their events still verify. Unset, a key is derived from
# SECRET_KEY (fine on a laptop; in production set GATEHOUSE_AUDIT_KEY, or a SECRET_KEY change orphans the trail).
GATEHOUSE_AUDIT_KEY = os.environ.get("GATEHOUSE_AUDIT_KEY", "")
GATEHOUSE_AUDIT_KEY_ID = os.environ.get("GATEHOUSE_AUDIT_KEY_ID", "").strip()
GATEHOUSE_AUDIT_OLD_KEYS = os.environ.get("GATEHOUSE_AUDIT_OLD_KEYS", "")
# Where signed checkpoints of the chain are appended (JSON lines), outside the database: put it on write-once
# storage (an object-lock bucket mount, a WORM volume, chattr +a). Verification checks the chain against it.
GATEHOUSE_AUDIT_ANCHOR_FILE = os.environ.get("GATEHOUSE_AUDIT_ANCHOR_FILE", "")

# How long the logs are kept (EU AI Act Art. 12, 19, 26), in days: the decision ledger, and the audit trail
# (purged only in whole spans ending at a signed checkpoint, see docs/audit.md). Never under 183 days (six
# months): a lower value stops the process here, with the reason.
from core.retention import checked_days  # noqa: E402

GATEHOUSE_DECISION_RETENTION_DAYS = checked_days(
    "GATEHOUSE_DECISION_RETENTION_DAYS", os.environ.get("GATEHOUSE_DECISION_RETENTION_DAYS") or "365"
)
GATEHOUSE_AUDIT_RETENTION_DAYS = checked_days(
    "GATEHOUSE_AUDIT_RETENTION_DAYS", os.environ.get("GATEHOUSE_AUDIT_RETENTION_DAYS") or "3650"
)

# --- Single sign-on (OpenID Connect, mozilla-django-oidc; identity/oidc.py, docs/identity.md) ----------
# Off unless OIDC_ISSUER is set. The provider's endpoints come from its discovery document
# (<issuer>/.well-known/openid-configuration), fetched at the first sign-in and kept for
# OIDC_DISCOVERY_CACHE_SECONDS: a provider that is down never stops Gatehouse starting or the password page.
# The redirect URI to register at the provider is <GATEHOUSE_BASE_URL>/oidc/callback/.
OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").strip().rstrip("/")
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "").strip()
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "")
OIDC_RP_SCOPES = os.environ.get("OIDC_SCOPES", "openid email profile groups")
OIDC_GROUPS_CLAIM = os.environ.get("OIDC_GROUPS_CLAIM", "groups").strip()
OIDC_USERNAME_CLAIM = os.environ.get("OIDC_USERNAME_CLAIM", "preferred_username").strip()
OIDC_PROVIDER_NAME = os.environ.get("OIDC_PROVIDER_NAME", "").strip() or "single sign-on"
OIDC_TIMEOUT = float(os.environ.get("OIDC_TIMEOUT_SECONDS", "5"))
OIDC_DISCOVERY_CACHE_SECONDS = int(os.environ.get("OIDC_DISCOVERY_CACHE_SECONDS", "3600"))
# Sign-out also ends the session at the provider when it offers RP-initiated logout (end_session_endpoint).
OIDC_SIGN_OUT_AT_PROVIDER = env_bool("OIDC_SIGN_OUT_AT_PROVIDER", True)
OIDC_RP_SIGN_ALGO = "RS256"  # ID tokens signed by the provider's key (JWKS), never with the client secret
OIDC_USE_PKCE = True
OIDC_AUTHENTICATION_CALLBACK_URL = "identity:oidc_callback"
# PASSWORD_SIGN_IN=off: only the accounts BREAK_GLASS_USERS names may sign in with a password (audited).
PASSWORD_SIGN_IN = env_bool("PASSWORD_SIGN_IN", True)
BREAK_GLASS_USERS = env_list("BREAK_GLASS_USERS")
# OIDC_ACCESS_GROUP: when set, only members of this group at the provider may sign in; someone who has
# left it is refused and their account deactivated at their next sign-in (sessions, tokens, open work).
OIDC_ACCESS_GROUP = os.environ.get("OIDC_ACCESS_GROUP", "").strip()
# --- Access reviews (identity) ------------------------------------------------------------
# Reviewers are reminded daily of their items still pending this many days before a campaign is due.
ACCESS_REVIEW_REMIND_DAYS = int(os.environ.get("ACCESS_REVIEW_REMIND_DAYS", "3"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
