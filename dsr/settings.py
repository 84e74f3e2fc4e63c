"""DSR Hub settings. Everything comes from the environment.

With nothing set (``DSR_ENV=development``, the default) the app runs on an embedded default:
SQLite, a filesystem Celery broker that needs no server, e-mail printed to the console, and
development keys generated once into ``var/dev-secrets.json``. With ``DSR_ENV=production`` every
secret must be set explicitly and the process refuses to start otherwise.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import secrets
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _shipped(name: str) -> Path:
    """``templates/`` or ``locale/`` of the checkout, or their copy inside an installed wheel (setup.py)."""
    checkout = BASE_DIR / name
    return checkout if checkout.is_dir() else Path(__file__).resolve().parent / f"_{name}"


env = environ.Env()

DSR_ENV = env.str("DSR_ENV", default="development")
if DSR_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("DSR_ENV must be 'development' or 'production'")
PRODUCTION = DSR_ENV == "production"
VAR_DIR = Path(env.str("DSR_VAR_DIR", default=str(BASE_DIR / "var")))


def _dev_secrets() -> dict[str, str]:
    """Development-only keys, generated once per checkout and kept out of git (var/ is ignored)."""
    path = VAR_DIR / "dev-secrets.json"
    values: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    wanted = {
        "SECRET_KEY": lambda: secrets.token_urlsafe(50),
        "DSR_ENCRYPTION_KEYS": lambda: "dev1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "DSR_BLIND_INDEX_KEY": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
        "DSR_AUDIT_KEY": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    missing = {name: make() for name, make in wanted.items() if name not in values}
    if missing:  # a checkout from before a key existed gets the new one added, the old ones kept
        values.update(missing)
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
        path.chmod(0o600)
    return values


def _secret(name: str) -> str:
    value = env.str(name, default="")
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set when DSR_ENV=production")
    return _dev_secrets()[name]


SECRET_KEY = _secret("SECRET_KEY")
# AES-256-GCM keys for identity values at rest: "id:base64key,id2:base64key2". The first encrypts;
# all of them decrypt, so a new key can be put first and `manage.py rotate_keys` re-encrypts.
DSR_ENCRYPTION_KEYS = _secret("DSR_ENCRYPTION_KEYS")
# HMAC key of the blind index used to find a request by e-mail without decrypting every row.
DSR_BLIND_INDEX_KEY = _secret("DSR_BLIND_INDEX_KEY")
# HMAC key of the audit chain: without it, someone who can write to the database cannot recompute
# a forged chain that verifies. Keep it stable (old events verify only under the key they used).
DSR_AUDIT_KEY = _secret("DSR_AUDIT_KEY")

DEBUG = env.bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DSR_ENV=production")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("DSR_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",  # staff API tokens, stored as a hash, with expiry (dsr/staff/tokens.py)
    "django_otp",
    "django_otp.plugins.otp_static",  # backup codes; the TOTP device is dsr.staff.StaffTOTPDevice
    "drf_spectacular",
    "drf_spectacular_sidecar",  # ReDoc served from our static files (/api/docs/ works offline)
    "django_prometheus",
    "dsr.audit",
    "dsr.identity",
    "dsr.systems",
    "dsr.workflow",
    "dsr.exports",
    "dsr.staff",
    "dsr.notifications",
    "dsr.api",
    "dsr.portal",
    "dsr.dashboard",
    "dsr.tasks",
    "dsr.demo",
    "dsr.ratelimit",
    "dsr.ops",  # /healthz, /readyz, /metrics (docs/operations.md)
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",  # first: times the whole request
    "django.middleware.security.SecurityMiddleware",
    "dsr.security.SecurityHeadersMiddleware",  # CSP, Permissions-Policy, COOP/CORP (dsr/security.py)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "dsr.api.errors.ApiJsonErrorsMiddleware",  # /api/ errors are JSON in every mode (dsr/api/errors.py)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # 413 before a byte of an oversized body is read; after Locale, so its page is translated.
    "dsr.bodylimit.BodyLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the session passed 2FA
    "dsr.staff.sessions.StaffSessionTimeoutMiddleware",  # idle and absolute session limits
    "dsr.security.AdminLoginThrottleMiddleware",  # the admin's login shares the DSR_LOGIN_* throttle
    "django.contrib.messages.middleware.MessageMiddleware",
    "dsr.staff.middleware.StaffTimeZoneMiddleware",  # dashboard times in the staff member's zone
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",  # last: sees the final status
]

# Request bodies (dsr/bodylimit.py, README "Request size limits"). A body without files (JSON, a
# plain form): at most DATA_UPLOAD_MAX_MEMORY_SIZE (default 2.5 MB, as Django's). A multipart body
# with files: at most DSR_MAX_REQUEST_BYTES, which must hold the largest upload (a manual task's
# 10 MB data file). Uploaded files above FILE_UPLOAD_MAX_MEMORY_SIZE spool to a temporary file.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
DSR_MAX_REQUEST_BYTES = env.int("DSR_MAX_REQUEST_BYTES", default=12 * 1024 * 1024)

ROOT_URLCONF = "dsr.urls"
WSGI_APPLICATION = "dsr.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [_shipped("templates")],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dsr.portal.context.portal",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'dsr.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the worker share the file: wait for locks instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [_shipped("locale")]
TIME_ZONE = "UTC"
USE_I18N = True
# Our locale formats (dsr/formats/<lang>/formats.py) override Django's where the product wants
# another style: English dates read "15 January 2027", not "Jan. 15, 2027".
FORMAT_MODULE_PATH = ["dsr.formats"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request without it
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    # Access packages go through this storage; point it at S3-compatible storage with
    # django-storages by setting DSR_STORAGE_BACKEND and its own options.
    "default": {
        "BACKEND": env.str("DSR_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"),
        # The backend's options as JSON, e.g. for django-storages' S3Storage:
        # {"bucket_name": "dsr-packages", "region_name": "eu-central-1"} (README, "Access package").
        "OPTIONS": env.json("DSR_STORAGE_OPTIONS", default={}),
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
    if PRODUCTION
    else {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- E-mail -----------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="DSR Hub <privacy@localhost>")
EMAIL_TIMEOUT = 10
# The outbox (dsr/notifications/outbox.py): attempts per e-mail before it is marked failed (shown on
# the request in the dashboard and audited), exponential backoff between them (30 s, 1 min, 2 min
# ... up to an hour: about 4 hours in all), the lease of one send, and how long a pending e-mail
# handed to the broker may wait before the reconciler enqueues it again.
DSR_EMAIL_MAX_ATTEMPTS = env.int("DSR_EMAIL_MAX_ATTEMPTS", default=10)
DSR_EMAIL_BACKOFF_BASE = env.float("DSR_EMAIL_BACKOFF_BASE_SECONDS", default=30.0)
DSR_EMAIL_BACKOFF_MAX = env.float("DSR_EMAIL_BACKOFF_MAX_SECONDS", default=3600.0)
DSR_EMAIL_LEASE = timedelta(seconds=env.int("DSR_EMAIL_LEASE_SECONDS", default=5 * 60))
DSR_EMAIL_REQUEUE_AFTER = timedelta(seconds=env.int("DSR_EMAIL_REQUEUE_AFTER_SECONDS", default=5 * 60))

# --- Celery -------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("queue", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        # Polls the folder often, so a task starts soon after it is queued and Ctrl-C on `make run`
        # stops the worker within a second or two (the worker checks for a stop between polls).
        "polling_interval": 0.2,
    }
elif CELERY_BROKER_URL.startswith("redis"):
    # A message not acknowledged within this time is redelivered; longer than any task runs.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("DSR_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "dsr"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Periodic jobs, all declared here. Each processes a bounded batch per run.
CELERY_BEAT_SCHEDULE = {
    # Re-enqueue jobs whose lease expired (worker died) or whose message was lost, and finish
    # requests whose last job ended while its worker died. Every minute keeps the delay short.
    # DSR_RECONCILE_INTERVAL_SECONDS shortens it (the reliability tests use one second).
    "reconcile-jobs": {
        "task": "dsr.workflow.tasks.reconcile",
        "schedule": timedelta(seconds=env.float("DSR_RECONCILE_INTERVAL_SECONDS", default=60.0)),
    },
    # E-mails to data subjects left pending by a broker outage, a dead worker or an SMTP failure
    # (dsr/notifications/outbox.py) are sent again once due; as often as the job reconciler.
    "reconcile-emails": {
        "task": "dsr.notifications.tasks.reconcile_emails",
        "schedule": timedelta(seconds=env.float("DSR_RECONCILE_INTERVAL_SECONDS", default=60.0)),
    },
    # Unverified requests expire and their identity data is purged. Hourly is precise enough for
    # an expiry counted in days.
    "expire-unverified": {"task": "dsr.workflow.tasks.expire_unverified", "schedule": crontab(minute=7)},
    # The privacy team's digest of requests due soon or overdue: once a day at 06:00 UTC, before
    # the working day starts in Europe and the night before in the Americas.
    "staff-digest": {"task": "dsr.dashboard.tasks.send_digest", "schedule": crontab(hour=6, minute=0)},
    # Expired access packages are deleted from storage (100 per run). Hourly keeps a package at most
    # an hour past its expiry; minute 37 keeps it apart from the other hourly job.
    "purge-expired-packages": {
        "task": "dsr.exports.tasks.purge_expired_packages",
        "schedule": crontab(minute=37),
    },
    # Data minimisation of our own records (dsr/workflow/retention.py): used or stale verification
    # challenges are deleted, a closed request's identity is purged after DSR_IDENTITY_RETENTION_DAYS
    # and its pseudonymised 11 CCR §7101 record deleted after DSR_RECORD_RETENTION_DAYS. Hourly at
    # minute 47 (apart from the other hourly jobs); each run handles bounded batches.
    "purge-personal-data": {"task": "dsr.identity.tasks.purge_personal_data", "schedule": crontab(minute=47)},
    # Alerts for open requests due within DSR_DEADLINE_ALERT_HOURS (dsr/notifications/alerts.py), each
    # once. Hourly at minute 17 (apart from the other hourly jobs) is early enough for a 48-hour window.
    "alert-deadline-risk": {
        "task": "dsr.notifications.tasks.alert_deadline_risk",
        "schedule": crontab(minute=17),
    },
}

# --- Connectors' outbound requests (security findings 3 and 4, docs/connectors.md) -------------
# Hosts a connector may call beyond the vendor hosts it declares: "host", "host:port" or a CIDR
# range, comma-separated. Loopback and private addresses are refused unless listed. Empty by default;
# local fakes (tests, the demo) set "127.0.0.1,localhost".
DSR_OUTBOUND_ALLOW_HOSTS = env.list("DSR_OUTBOUND_ALLOW_HOSTS", default=[])
try:
    from connectors.outbound import parse_allow_hosts

    parse_allow_hosts(DSR_OUTBOUND_ALLOW_HOSTS)
except ValueError as _exc:
    raise ImproperlyConfigured(str(_exc)) from None
# `{env: NAME}` secrets resolve DSR_SECRET_* names and these (never DSR Hub's own settings).
DSR_SECRET_ENV_ALLOW = env.list("DSR_SECRET_ENV_ALLOW", default=[])

# --- Workflow -----------------------------------------------------------------------------------
# Request types that skip the approval step once verified (e.g. "access,erasure").
DSR_AUTO_APPROVE = env.list("DSR_AUTO_APPROVE", default=[])
DSR_UNVERIFIED_EXPIRY = timedelta(days=env.int("DSR_UNVERIFIED_EXPIRY_DAYS", default=7))
DSR_CODE_TTL = timedelta(minutes=env.int("DSR_CODE_TTL_MINUTES", default=15))
DSR_CODE_MAX_ATTEMPTS = 5
DSR_CODE_MAX_RESENDS = env.int("DSR_CODE_MAX_RESENDS", default=5)
DSR_CODE_RESEND_INTERVAL = timedelta(seconds=env.int("DSR_CODE_RESEND_INTERVAL_SECONDS", default=60))
DSR_JOB_LEASE = timedelta(seconds=env.int("DSR_JOB_LEASE_SECONDS", default=15 * 60))
DSR_JOB_MAX_ATTEMPTS = env.int("DSR_JOB_MAX_ATTEMPTS", default=6)
DSR_JOB_BACKOFF_BASE = env.float("DSR_JOB_BACKOFF_BASE_SECONDS", default=10.0)
DSR_JOB_BACKOFF_MAX = env.float("DSR_JOB_BACKOFF_MAX_SECONDS", default=15 * 60.0)
# A pending job whose message has not been picked up for this long is enqueued again.
DSR_JOB_REQUEUE_AFTER = timedelta(seconds=env.int("DSR_JOB_REQUEUE_AFTER_SECONDS", default=5 * 60))
# Optional queue per connector, e.g. "hubspot=crm,mailchimp=email"; unlisted connectors use "dsr".
DSR_JOB_QUEUES = env.dict("DSR_JOB_QUEUES", default={})
# One run of a job must end inside its lease: the pool stops the process running it before another
# worker may take the job over, so two workers never run the same job at the same time (the global
# CELERY_TASK_TIME_LIMIT is longer than the default lease). Read by the worker, from its own lease.
_JOB_HARD_LIMIT = max(2, min(CELERY_TASK_TIME_LIMIT, int(DSR_JOB_LEASE.total_seconds() * 0.9)))
CELERY_TASK_ANNOTATIONS = {
    "dsr.workflow.tasks.run_job": {
        "time_limit": _JOB_HARD_LIMIT,
        "soft_time_limit": _JOB_HARD_LIMIT - max(1, min(60, _JOB_HARD_LIMIT // 10)),
    }
}
# Data minimisation of our own records (dsr/workflow/retention.py). A closed request's identity
# (e-mail, name, phone, details, agent) is purged this long after it closed; what 11 CCR §7101(a)
# requires to be kept (date, type, manner of submission, date and nature of the response, basis of
# a denial) stays, keyed to the pseudonymous blind index, until DSR_RECORD_RETENTION_DAYS (24
# months, §7101(a)) after closing, when the row itself is deleted. The audit chain keeps only ids.
DSR_IDENTITY_RETENTION = timedelta(days=env.int("DSR_IDENTITY_RETENTION_DAYS", default=90))
DSR_RECORD_RETENTION = timedelta(days=env.int("DSR_RECORD_RETENTION_DAYS", default=730))
DSR_PACKAGE_TTL = timedelta(days=env.int("DSR_PACKAGE_TTL_DAYS", default=7))
# Who answers access requests: named in the access package's cover letter (GDPR Art. 13(1)(a)).
DSR_CONTROLLER_NAME = env.str("DSR_CONTROLLER_NAME", default="DSR Hub")

# --- Dashboard ----------------------------------------------------------------------------------
# "Due soon" in the queue's badges and the daily digest.
DSR_DUE_SOON = timedelta(days=env.int("DSR_DUE_SOON_DAYS", default=7))
# Time zone the dashboard shows times in (received, audit events) for staff who chose none in their
# preferences. Legal dates (due, acknowledgement, extension) always use the jurisdiction's calendar.
DSR_STAFF_TIME_ZONE = env.str("DSR_STAFF_TIME_ZONE", default="UTC")
try:
    ZoneInfo(DSR_STAFF_TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError) as _exc:
    raise ImproperlyConfigured(
        f"DSR_STAFF_TIME_ZONE: unknown IANA time zone {DSR_STAFF_TIME_ZONE!r}"
    ) from _exc
# Staff login throttle (password and two-factor steps): failures allowed per window, per username
# and per client IP, counted in the cache (use a shared cache such as Redis in production).
DSR_LOGIN_MAX_FAILURES_PER_USER = env.int("DSR_LOGIN_MAX_FAILURES_PER_USER", default=5)
DSR_LOGIN_MAX_FAILURES_PER_IP = env.int("DSR_LOGIN_MAX_FAILURES_PER_IP", default=20)
DSR_LOGIN_WINDOW = timedelta(minutes=env.int("DSR_LOGIN_WINDOW_MINUTES", default=15))
# Signed-in sessions end after this much inactivity, and in any case this long after sign-in
# (dsr/staff/sessions.py). The cookie itself lasts no longer than the absolute limit.
DSR_SESSION_IDLE = timedelta(minutes=env.int("DSR_SESSION_IDLE_MINUTES", default=30))
DSR_SESSION_MAX_AGE = timedelta(hours=env.int("DSR_SESSION_MAX_HOURS", default=12))
SESSION_COOKIE_AGE = int(DSR_SESSION_MAX_AGE.total_seconds())
# Staff API tokens expire this many days after they were issued (dsr/staff/tokens.py).
DSR_API_TOKEN_TTL_DAYS = env.int("DSR_API_TOKEN_TTL_DAYS", default=90)
REST_KNOX = {"TOKEN_TTL": timedelta(days=DSR_API_TOKEN_TTL_DAYS), "AUTH_HEADER_PREFIX": "Token"}
# The Django admin (/admin/): on in development, off in production unless turned on. It is an
# OTPAdminSite: only a session that passed the second factor gets in (dsr/staff/apps.py).
DSR_ADMIN_ENABLED = env.bool("DSR_ADMIN_ENABLED", default=not PRODUCTION)
OTP_TOTP_ISSUER = "DSR Hub"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never lists anyone's backup codes

# --- Inbound rate limits (dsr/ratelimit: API, portal, download page, staff and admin sign-in) -----
# Proxies in front of the app that append to X-Forwarded-For. 0 (the default): the client IP is
# REMOTE_ADDR, because a client can send any X-Forwarded-For it likes.
DSR_NUM_PROXIES = env.int("DSR_NUM_PROXIES", default=0)
# "count/period" per client IP (IPv6 per /64) and per e-mail address (its blind index), shared by
# the API and the portal: "create" is a new request, "verify" sending or checking a code and
# downloading a package. Counted in the cache: production needs a shared one (CACHE_URL=redis://...).
DSR_RATE_LIMITS = {
    "create:ip": env.str("DSR_THROTTLE_CREATE", default="20/hour"),
    "create:email": env.str("DSR_THROTTLE_CREATE_PER_EMAIL", default="5/hour"),
    "verify:ip": env.str("DSR_THROTTLE_VERIFY", default="60/hour"),
    "verify:email": env.str("DSR_THROTTLE_VERIFY_PER_EMAIL", default="30/hour"),
}

# --- API ----------------------------------------------------------------------------------------
DSR_API_MAX_PAGE_SIZE = env.int("DSR_API_MAX_PAGE_SIZE", default=100)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        # A session counts only once it passed the second factor (dsr/api/authentication.py).
        "dsr.api.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Every status each operation can answer, with the one Error body (dsr/api/schema.py).
    "DEFAULT_SCHEMA_CLASS": "dsr.api.schema.ApiAutoSchema",
    # Every list pages with a validated, capped ?limit (DSR_API_MAX_PAGE_SIZE): one call cannot dump a
    # table, and limit/offset outside bigint answer 400 (dsr/api/pagination.py).
    "DEFAULT_PAGINATION_CLASS": "dsr.api.pagination.StaffPagination",
    # JSON only (task completion also takes multipart for its file), without NaN/Infinity and at
    # most 64 levels deep; 400 otherwise, 415 for another content type (dsr/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["dsr.api.parsers.StrictJSONParser"],
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "dsr.api.errors.exception_handler",
    # The public API's throttles are adapters to the product's one limiter (dsr/ratelimit).
    "NUM_PROXIES": DSR_NUM_PROXIES,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "DSR Hub API",
    "DESCRIPTION": "Data-subject requests (GDPR, CCPA/CPRA): intake, verification, fulfilment, audit.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "dsr.api.schema.postprocess_strings",  # NUL and whitespace rules of CharField
    ],
    "ENUM_NAME_OVERRIDES": {
        "RequestStatusEnum": "dsr.workflow.models.Status",
        "JobStatusEnum": "dsr.workflow.models.JobStatus",
        "DenyReasonEnum": "dsr.workflow.models.DenyReason",
        "RequestTypeEnum": "dsr.workflow.models.RequestType",
    },
}

# --- Security -----------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}


# --- Portal (the data subject's web pages) ----------------------------------------------------------
DSR_BRAND_NAME = env.str("DSR_BRAND_NAME", default="DSR Hub")
DSR_BRAND_LOGO_URL = env.str("DSR_BRAND_LOGO_URL", default="")  # an image URL; the name is shown if empty
# The main colour of buttons and links; choose one with at least 4.5:1 contrast on white (WCAG 1.4.3).
DSR_BRAND_PRIMARY_COLOR = env.str("DSR_BRAND_PRIMARY_COLOR", default="#0b5394")
# The portal's forms are limited by DSR_RATE_LIMITS, together with the API.


# --- Operations (docs/operations.md) -------------------------------------------------------------
# /metrics is open in development; in production it answers only a bearer token or these addresses
# (IPs or CIDR networks of the Prometheus server, or of the proxy in front of the app).
DSR_METRICS_TOKEN = env.str("DSR_METRICS_TOKEN", default="")
DSR_METRICS_ALLOW_IPS = env.list("DSR_METRICS_ALLOW_IPS", default=[])
# Alerts (job failed for good, system check failed, deadline at risk) are e-mailed to these addresses
# and listed in the staff digest; an open request due within DSR_DEADLINE_ALERT_HOURS is "at risk".
DSR_ALERT_EMAILS = env.list("DSR_ALERT_EMAILS", default=[])
DSR_DEADLINE_ALERT_WINDOW = timedelta(hours=env.int("DSR_DEADLINE_ALERT_HOURS", default=48))
# django-prometheus would query the database for unapplied migrations when the app loads.
PROMETHEUS_EXPORT_MIGRATIONS = False
for _net in DSR_METRICS_ALLOW_IPS:
    try:
        ipaddress.ip_network(_net, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"DSR_METRICS_ALLOW_IPS: {_net!r} is not an IP or network") from None


def _contact_setting(name: str, *, kind: str) -> str:
    """Where people reach the privacy team: shown in the portal's footer and "Write to us" links and in
    the access package's cover letter (GDPR Art. 13(1)(b), 12(1)). Required in production."""
    value = env.str(name, default="").strip()
    if not value:
        if PRODUCTION:
            raise ImproperlyConfigured(f"{name} must be set when DSR_ENV=production ({kind})")
        return value
    if kind == "url" and not value.startswith(("https://", "http://")):
        raise ImproperlyConfigured(f"{name} must be an http(s) URL, got {value!r}")
    if kind == "e-mail address" and ("@" not in value or any(c in value for c in " <>")):
        raise ImproperlyConfigured(f"{name} must be a bare e-mail address, got {value!r}")
    return value


DSR_PRIVACY_POLICY_URL = _contact_setting("DSR_PRIVACY_POLICY_URL", kind="url")
DSR_PRIVACY_CONTACT_EMAIL = _contact_setting("DSR_PRIVACY_CONTACT_EMAIL", kind="e-mail address")
# The postal address of the privacy team or the data protection officer (optional, one line).
DSR_PRIVACY_CONTACT_ADDRESS = env.str("DSR_PRIVACY_CONTACT_ADDRESS", default="").strip()
