"""Agora's settings, read from the environment (twelve-factor).

Every setting an operator may change is listed in the README. Defaults give a working
marketplace on a laptop: SQLite under ./var/, the sandbox payment gateway, console e-mail.
"""

import os
import secrets
from pathlib import Path

import dj_database_url


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env_str("AGORA_VAR_DIR", "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in ./var/.

    Keeping it on disk means `make run` needs no configuration and sessions survive a
    restart; a deployment sets SECRET_KEY explicitly.
    """
    if key := env_str("SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # The admin site that asks operators for two-factor sign-in (agora.accounts.admin_site).
    "agora.accounts.admin_apps.AgoraAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    # Two-factor sign-in: TOTP devices and single-use recovery codes (agora.accounts.two_factor).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "agora.core",
    "agora.accounts",
    "agora.payments",
    "agora.vendors",
    "agora.catalog",
    "agora.bookings",
    "agora.orders",
    "agora.reviews",
    "agora.search",
    "agora.notifications",
    "agora.messaging",
    "agora.quotes",
    "agora.verticals.automotive",
    "agora.web",
    "agora.demo",
]

MIDDLEWARE = [
    "agora.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "agora.core.middleware.SecurityHeadersMiddleware",
    # Outside CommonMiddleware, so even its refusals (a disallowed host) become problem+json.
    "agora.core.middleware.ApiProblemMiddleware",
    # NUL in the address, oversized API bodies: refused before a session or a body is read.
    "agora.core.middleware.RequestGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "agora.accounts.middleware.BearerTokenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "agora.web.errors.PageErrorMiddleware",
    "agora.core.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "agora.urls"
WSGI_APPLICATION = "agora.wsgi.application"
ASGI_APPLICATION = "agora.asgi.application"

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
                "agora.web.context.portals",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------

SQLITE_PATH = VAR_DIR / "agora.sqlite3"
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{SQLITE_PATH}"

DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("AGORA_DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Tuned for a web server: WAL lets readers run beside the one writer; IMMEDIATE
    # takes the write lock when a transaction begins, so two writers queue on the busy
    # timeout instead of failing with "database is locked" when one upgrades a read
    # lock. IMMEDIATE must not be combined with ATOMIC_REQUESTS: every request, even a
    # read, would then take the write lock. Writers queue on a kernel lock before BEGIN
    # IMMEDIATE (agora.core.sqlite_backend) instead of polling in SQLite's busy handler.
    DATABASES["default"]["ENGINE"] = "agora.core.sqlite_backend"
    DATABASES["default"]["CONN_MAX_AGE"] = 0 if DATABASE_URL.endswith(":memory:") else 600
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA busy_timeout=30000;"
            "PRAGMA foreign_keys=ON;"
            "PRAGMA cache_size=-20000;"
            "PRAGMA temp_store=MEMORY;"
            "PRAGMA mmap_size=134217728"
        ),
    }
    # Tests need a file (not :memory:) so that real threads and processes share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    DATABASES["default"].setdefault("OPTIONS", {})

# How long a PostgreSQL statement waits for a row lock before it fails with a lock timeout,
# which agora.core.locking retries a few times and then answers 503 `busy`: set on every
# connection, so nothing (a request, a task, a migration) queues behind a lock unbounded.
AGORA_LOCK_TIMEOUT_MS = env_int("AGORA_LOCK_TIMEOUT_MS", 5000)
if "postgresql" in DATABASES["default"]["ENGINE"]:
    _pg_options = DATABASES["default"]["OPTIONS"].get("options", "")
    if "lock_timeout" not in _pg_options:
        DATABASES["default"]["OPTIONS"]["options"] = (
            f"{_pg_options} -c lock_timeout={AGORA_LOCK_TIMEOUT_MS}".strip()
        )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- accounts ---------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

AGORA_TOKEN_TTL_SECONDS = env_int("AGORA_TOKEN_TTL_SECONDS", 12 * 3600)
AGORA_SIGNIN_MAX_FAILURES = env_int("AGORA_SIGNIN_MAX_FAILURES", 10)
AGORA_SIGNIN_WINDOW_SECONDS = env_int("AGORA_SIGNIN_WINDOW_SECONDS", 900)
AGORA_SIGNIN_MAX_PER_IP = env_int("AGORA_SIGNIN_MAX_PER_IP", 100)
# Two-factor sign-in: wrong codes allowed per account in a sign-in window (then 429, even
# for the right code); operators must turn it on before they may act as operators.
AGORA_OTP_MAX_FAILURES = env_int("AGORA_OTP_MAX_FAILURES", 5)
AGORA_REQUIRE_OPERATOR_2FA = env_bool("AGORA_REQUIRE_OPERATOR_2FA", True)
# The issuer shown by authenticator apps next to the account's e-mail address.
OTP_TOTP_ISSUER = env_str("AGORA_SITE_NAME", "Agora")

# --- marketplace ------------------------------------------------------------------------

AGORA_HOLD_MINUTES = env_int("AGORA_HOLD_MINUTES", 10)
AGORA_STOCK_HOLD_MINUTES = env_int("AGORA_STOCK_HOLD_MINUTES", 15)
AGORA_ESCROW_RELEASE_HOURS = env_int("AGORA_ESCROW_RELEASE_HOURS", 48)
AGORA_PAYMENT_GATEWAY = env_str("AGORA_PAYMENT_GATEWAY", "sandbox")
AGORA_STRIPE_SECRET_KEY = env_str("AGORA_STRIPE_SECRET_KEY")
AGORA_STRIPE_WEBHOOK_SECRET = env_str("AGORA_STRIPE_WEBHOOK_SECRET")
AGORA_IDEMPOTENCY_TTL_HOURS = 24

# --- reviews and trust --------------------------------------------------------------------

AGORA_REVIEW_WINDOW_DAYS = env_int("AGORA_REVIEW_WINDOW_DAYS", 30)
AGORA_REVIEW_EDIT_HOURS = env_int("AGORA_REVIEW_EDIT_HOURS", 48)
AGORA_REVIEW_TEXT_MIN_LENGTH = env_int("AGORA_REVIEW_TEXT_MIN_LENGTH", 3)
AGORA_REVIEW_TEXT_MAX_LENGTH = env_int("AGORA_REVIEW_TEXT_MAX_LENGTH", 5000)
# Bayesian average = (weight × prior mean + sum of ratings) / (weight + count).
AGORA_REVIEW_PRIOR_MEAN = float(env_str("AGORA_REVIEW_PRIOR_MEAN", "3.5"))
AGORA_REVIEW_PRIOR_WEIGHT = env_int("AGORA_REVIEW_PRIOR_WEIGHT", 10)
AGORA_REVIEW_SHARED_NETWORK_DAYS = env_int("AGORA_REVIEW_SHARED_NETWORK_DAYS", 90)
AGORA_REVIEW_BURST_COUNT = env_int("AGORA_REVIEW_BURST_COUNT", 5)
AGORA_REVIEW_BURST_MINUTES = env_int("AGORA_REVIEW_BURST_MINUTES", 60)
AGORA_REVIEW_DUPLICATE_SCORE = env_int("AGORA_REVIEW_DUPLICATE_SCORE", 90)
AGORA_REVIEW_DUPLICATE_MIN_LENGTH = env_int("AGORA_REVIEW_DUPLICATE_MIN_LENGTH", 40)
AGORA_REVIEW_QUALITY_MIN_RATING = float(env_str("AGORA_REVIEW_QUALITY_MIN_RATING", "3.0"))
AGORA_REVIEW_QUALITY_MIN_REVIEWS = env_int("AGORA_REVIEW_QUALITY_MIN_REVIEWS", 10)
AGORA_REVIEW_QUALITY_MIN_COMPLETION = float(env_str("AGORA_REVIEW_QUALITY_MIN_COMPLETION", "0.8"))
AGORA_REVIEW_QUALITY_MIN_OUTCOMES = env_int("AGORA_REVIEW_QUALITY_MIN_OUTCOMES", 10)
AGORA_REVIEW_QUALITY_WINDOW_DAYS = env_int("AGORA_REVIEW_QUALITY_WINDOW_DAYS", 180)
AGORA_REVIEW_AUTO_SUSPEND = env_bool("AGORA_REVIEW_AUTO_SUSPEND", False)

# --- background tasks -------------------------------------------------------------------

TASKS = {
    "default": {
        "BACKEND": env_str("AGORA_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# --- cache ------------------------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- i18n, time -------------------------------------------------------------------------

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- static and media -------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "agora.core.staticfiles.StaticFilesStorage"},
}
# Serve straight from the apps' static folders when collectstatic has not run (tests).
WHITENOISE_USE_FINDERS = env_bool("AGORA_STATIC_FINDERS", True)
WHITENOISE_MAX_AGE = 3600

# --- e-mail -----------------------------------------------------------------------------

# Every Django e-mail setting of API.md comes from the environment: SMTP (with STARTTLS
# or implicit TLS), the file backend (EMAIL_FILE_PATH) or the console (the default).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Agora <noreply@agora.test>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
# Absolute links in e-mails and webhooks; the marketplace's name in their words.
AGORA_BASE_URL = env_str("AGORA_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
AGORA_SITE_NAME = env_str("AGORA_SITE_NAME", "Agora")
# The outbox: attempts per e-mail before it is shown to operators as failed, and how
# long a worker may hold a delivery it is sending before another worker takes it over.
AGORA_EMAIL_MAX_ATTEMPTS = env_int("AGORA_EMAIL_MAX_ATTEMPTS", 8)
AGORA_OUTBOX_LEASE_SECONDS = env_int("AGORA_OUTBOX_LEASE_SECONDS", 120)
# Stream events are kept this long for `Last-Event-ID` replay, then pruned.
AGORA_EVENT_RETENTION_DAYS = env_int("AGORA_EVENT_RETENTION_DAYS", 30)
# Live streams: how often each server process looks for new events, in milliseconds —
# without Redis, and with Redis while idle (every commit anywhere wakes it at once then).
AGORA_LIVE_POLL_MS = env_int("AGORA_LIVE_POLL_MS", 150)
AGORA_LIVE_REDIS_POLL_MS = env_int("AGORA_LIVE_REDIS_POLL_MS", 1000)
# Webhook URLs must be https on public addresses; 1 also accepts http and loopback or
# private addresses (local testing only: it lets vendors reach the server's own network).
AGORA_WEBHOOK_ALLOW_PRIVATE = env_bool("AGORA_WEBHOOK_ALLOW_PRIVATE", False)

# --- vehicles (automotive) --------------------------------------------------------------

# Where vehicle data comes from: `offline` (the shipped fixture, no key) or `dvla_dvsa`
# (DVLA's Vehicle Enquiry Service and DVSA's MOT History API, with the keys below).
AGORA_VEHICLE_PROVIDER = env_str(
    "AGORA_VEHICLE_PROVIDER", env_str("AGORA_VEHICLE_DATA_PROVIDER", "offline")
)
DVLA_API_KEY = env_str("DVLA_API_KEY")
DVLA_API_URL = env_str(
    "DVLA_API_URL", "https://driver-vehicle-licensing.api.gov.uk/vehicle-enquiry"
)
DVSA_CLIENT_ID = env_str("DVSA_CLIENT_ID")
DVSA_CLIENT_SECRET = env_str("DVSA_CLIENT_SECRET")
DVSA_API_KEY = env_str("DVSA_API_KEY")
DVSA_TOKEN_URL = env_str("DVSA_TOKEN_URL")
DVSA_SCOPE = env_str("DVSA_SCOPE", "https://tapi.dvsa.gov.uk/.default")
DVSA_API_URL = env_str("DVSA_API_URL", "https://history.mot.api.gov.uk")
AGORA_VEHICLE_HTTP_TIMEOUT_SECONDS = float(env_str("AGORA_VEHICLE_HTTP_TIMEOUT_SECONDS", "5"))
AGORA_VEHICLE_HTTP_RETRIES = env_int("AGORA_VEHICLE_HTTP_RETRIES", 2)
# A looked-up profile (with its MOT history) is kept an hour; DVLA's register entry a day.
AGORA_VEHICLE_CACHE_SECONDS = env_int("AGORA_VEHICLE_CACHE_SECONDS", 3600)
AGORA_VEHICLE_REGISTER_CACHE_SECONDS = env_int("AGORA_VEHICLE_REGISTER_CACHE_SECONDS", 86400)
# Public lookups per client address per minute.
AGORA_VEHICLE_LOOKUPS_PER_MINUTE = env_int("AGORA_VEHICLE_LOOKUPS_PER_MINUTE", 30)

# --- security ---------------------------------------------------------------------------

# Behind TLS (a reverse proxy terminating HTTPS), set AGORA_HTTPS=1: secure cookies,
# HSTS and the HTTPS redirect follow. `make run` serves plain HTTP on loopback.
AGORA_HTTPS = env_bool("AGORA_HTTPS", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = AGORA_HTTPS
CSRF_COOKIE_SECURE = AGORA_HTTPS
SECURE_SSL_REDIRECT = AGORA_HTTPS
SECURE_HSTS_SECONDS = 31536000 if AGORA_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = AGORA_HTTPS
SECURE_HSTS_PRELOAD = AGORA_HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if AGORA_HTTPS else None
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- logging ----------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "agora.core.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}
