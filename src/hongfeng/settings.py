"""Django settings for hongfeng, read from environment variables.

Every variable is documented with its default in `.env.example` and the README. Two environments:
`development` (the default: SQLite, a development secret key is tolerated) and `production`
(refuses to start with the default secret key, the default audit key or DEBUG on).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

PACKAGE_DIR = Path(__file__).resolve().parent

_DEV_SECRET_KEY = "dev-insecure-hongfeng-secret-key-change-me-0123456789abcdef"  # noqa: S105
_DEV_AUDIT_KEY = "dev-insecure-hongfeng-audit-key"
_DEV_FIELD_KEY = "dev-insecure-hongfeng-field-encryption-key"
_DEV_INDEX_KEY = "dev-insecure-hongfeng-blind-index-key"


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}")
    return value


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


HONGFENG_ENV = env_str("HONGFENG_ENV", "development")
if HONGFENG_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("HONGFENG_ENV must be 'development' or 'production'")
IS_PRODUCTION = HONGFENG_ENV == "production"

DEBUG = env_bool("HONGFENG_DEBUG", False)
SECRET_KEY = env_str("HONGFENG_SECRET_KEY", _DEV_SECRET_KEY)
AUDIT_HMAC_KEY = env_str("HONGFENG_AUDIT_KEY", _DEV_AUDIT_KEY)
# Sensitive personal information (ID numbers, health) is encrypted with a key derived from this
# secret; the blind index (exact lookup, duplicate detection) uses its own secret.
FIELD_ENCRYPTION_KEY = env_str("HONGFENG_FIELD_KEY", _DEV_FIELD_KEY)
BLIND_INDEX_KEY = env_str("HONGFENG_BLIND_INDEX_KEY", _DEV_INDEX_KEY)
FIELD_CIPHER = env_str("HONGFENG_FIELD_CIPHER", "aes-256-gcm")
if FIELD_CIPHER not in {"aes-256-gcm", "sm4-gcm"}:
    raise ImproperlyConfigured("HONGFENG_FIELD_CIPHER must be 'aes-256-gcm' or 'sm4-gcm'")

if IS_PRODUCTION:
    # 等保: a production deployment must not run with well-known keys or the debug page.
    if SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "HONGFENG_SECRET_KEY must be set to a random value of at least 50 characters"
        )
    if AUDIT_HMAC_KEY == _DEV_AUDIT_KEY or len(AUDIT_HMAC_KEY) < 32:
        raise ImproperlyConfigured(
            "HONGFENG_AUDIT_KEY must be set to a random value of at least 32 characters"
        )
    for _name, _value, _default in (
        ("HONGFENG_FIELD_KEY", FIELD_ENCRYPTION_KEY, _DEV_FIELD_KEY),
        ("HONGFENG_BLIND_INDEX_KEY", BLIND_INDEX_KEY, _DEV_INDEX_KEY),
    ):
        if _value == _default or len(_value) < 32:
            raise ImproperlyConfigured(f"{_name} must be set to ≥ 32 random characters")
    if DEBUG:
        raise ImproperlyConfigured("HONGFENG_DEBUG must be off in production")

DATA_DIR = Path(env_str("HONGFENG_DATA_DIR", str(Path.cwd() / "var"))).resolve()

ALLOWED_HOSTS = env_list("HONGFENG_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("HONGFENG_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "django_tasks_db",
    "hongfeng.core",
    "hongfeng.orgs",
    "hongfeng.accounts",
    "hongfeng.audit",
    "hongfeng.members",
    "hongfeng.notices",
    "hongfeng.activities",
    "hongfeng.points",
    "hongfeng.redemption",
    "hongfeng.honours",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "hongfeng.core.middleware.RequestContextMiddleware",
    "hongfeng.core.middleware.RequestSizeLimitMiddleware",
    "hongfeng.core.middleware.RejectNullBytesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "hongfeng.accounts.middleware.SessionTimeoutMiddleware",
    "hongfeng.accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "hongfeng.core.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "hongfeng.urls"
WSGI_APPLICATION = "hongfeng.wsgi.application"

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
                "django.template.context_processors.csp",
                "hongfeng.core.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'hongfeng.sqlite3'}"),
        conn_max_age=env_int("HONGFENG_DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default keeps its file under HONGFENG_DATA_DIR; make sure the folder exists.
    if DATABASES["default"]["NAME"] not in ("", ":memory:"):
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets readers proceed while one writer commits; IMMEDIATE makes a write transaction take
    # the write lock up front instead of failing half-way with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["TEST"] = {"NAME": None}

# A streaming replica for heavy read-only reports and exports (docs/scaling.md). Only code that
# asks for it with hongfeng.core.db_routing.using_replica() reads there, and never inside a
# transaction; without HONGFENG_REPLICA_URL there is no second alias and no router.
REPLICA_URL = env_str("HONGFENG_REPLICA_URL", "")
DATABASE_ROUTERS: list[str] = []
if REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        REPLICA_URL,
        conn_max_age=env_int("HONGFENG_DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
    if DATABASES["replica"]["ENGINE"] != DATABASES["default"]["ENGINE"]:
        raise ImproperlyConfigured("HONGFENG_REPLICA_URL must use the same engine as DATABASE_URL")
    # Tests read the replica alias from the default test database (Django's test mirror).
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["hongfeng.core.db_routing.ReplicaRouter"]

# PgBouncer in transaction pooling mode hands each transaction to whichever server connection is
# free. A server-side cursor (QuerySet.iterator() on PostgreSQL: the broadcast, the totals
# rebuild, the audit verification stream with them) lives in one server session across
# statements, so under transaction pooling its later fetches land on a session that never
# declared it ("cursor does not exist"). Django then fetches in chunks client-side instead.
# Persistent connections stay on: a client connection to PgBouncer holds no server connection
# between transactions, and reusing it saves a connect (and its auth) per request.
DB_POOLER = env_str("HONGFENG_DB_POOLER", "").strip().lower()
if DB_POOLER not in {"", "none", "pgbouncer"}:
    raise ImproperlyConfigured("HONGFENG_DB_POOLER must be 'pgbouncer' or empty")
if DB_POOLER == "pgbouncer":
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("HONGFENG_DB_POOLER=pgbouncer needs a PostgreSQL DATABASE_URL")
    for _alias in DATABASES:
        DATABASES[_alias]["DISABLE_SERVER_SIDE_CURSORS"] = True
else:
    # Prepared statements for the fixed statements of the hottest paths (core.hotpath runs
    # them through server-binding cursors; Django's own queries bind on the client and are
    # never prepared): psycopg prepares one after its fifth run on a connection, and
    # PostgreSQL then skips parsing and planning it (≈ 0.15 ms of its CPU per statement, a
    # third of a check-in's). Not behind PgBouncer: a prepared statement lives in one session.
    for _alias in DATABASES:
        if DATABASES[_alias]["ENGINE"] == "django.db.backends.postgresql":
            DATABASES[_alias].setdefault("OPTIONS", {})["prepare_threshold"] = 5

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = ["hongfeng.accounts.backends.MobilePasswordBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# 等保 2.0 composition profile by default; "asvs" switches to ASVS 5.0 (length only). See
# docs/security.md for why the two differ.
PASSWORD_PROFILE = env_str("HONGFENG_PASSWORD_PROFILE", "dengbao")
if PASSWORD_PROFILE not in {"dengbao", "asvs"}:
    raise ImproperlyConfigured("HONGFENG_PASSWORD_PROFILE must be 'dengbao' or 'asvs'")
PASSWORD_MIN_LENGTH = env_int("HONGFENG_PASSWORD_MIN_LENGTH", 8, minimum=8)
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "hongfeng.accounts.passwords.ProfilePasswordValidator",
        "OPTIONS": {"profile": PASSWORD_PROFILE, "min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Login throttling (docs/security.md, T7). Failures lock the failing source for that account at
# once (LOCKOUT_FAILURES in a row, for LOCKOUT_PERIOD); the account is locked for everyone only
# when those consecutive failures came from at least LOCKOUT_SOURCES distinct sources. A source
# may fail LOGIN_SOURCE_FREE_FAILURES times per LOGIN_THROTTLE_WINDOW on any accounts, then
# waits 1 s, 2 s, 4 s … (at most LOGIN_MAX_DELAY) between attempts; once the whole platform saw
# LOGIN_GLOBAL_FREE_FAILURES failures in the window, every failing source waits from its first.
LOCKOUT_FAILURES = env_int("HONGFENG_LOCKOUT_FAILURES", 5, minimum=1)
LOCKOUT_PERIOD = timedelta(minutes=env_int("HONGFENG_LOCKOUT_MINUTES", 15, minimum=1))
LOCKOUT_SOURCES = env_int("HONGFENG_LOCKOUT_SOURCES", 3, minimum=1)
LOGIN_THROTTLE_WINDOW = timedelta(
    minutes=env_int("HONGFENG_LOGIN_THROTTLE_WINDOW_MINUTES", 60, minimum=1)
)
LOGIN_SOURCE_FREE_FAILURES = env_int("HONGFENG_LOGIN_SOURCE_FAILURES", 10, minimum=0)
LOGIN_GLOBAL_FREE_FAILURES = env_int("HONGFENG_LOGIN_GLOBAL_FAILURES", 300, minimum=0)
LOGIN_MAX_DELAY = timedelta(seconds=env_int("HONGFENG_LOGIN_MAX_DELAY_SECONDS", 900, minimum=1))
# Activation codes (sent by SMS to the holder's own phone when an account is opened or reset,
# or when the holder asks for one): lifetime, wrong tries before the code is spent, and the
# least time between two codes for the same account.
ACTIVATION_CODE_TTL = timedelta(minutes=env_int("HONGFENG_ACTIVATION_MINUTES", 1440, minimum=5))
ACTIVATION_MAX_ATTEMPTS = env_int("HONGFENG_ACTIVATION_ATTEMPTS", 5, minimum=1)
ACTIVATION_RESEND_INTERVAL = timedelta(
    seconds=env_int("HONGFENG_ACTIVATION_RESEND_SECONDS", 60, minimum=0)
)
SESSION_IDLE_TIMEOUT = timedelta(minutes=env_int("HONGFENG_SESSION_IDLE_MINUTES", 30, minimum=1))
SESSION_IDLE_TIMEOUT_PRIVILEGED = timedelta(
    minutes=env_int("HONGFENG_SESSION_IDLE_MINUTES_PRIVILEGED", 15, minimum=1)
)
SESSION_ABSOLUTE_TIMEOUT = timedelta(
    hours=env_int("HONGFENG_SESSION_ABSOLUTE_HOURS", 12, minimum=1)
)
API_TOKEN_TTL = timedelta(hours=env_int("HONGFENG_API_TOKEN_HOURS", 12, minimum=1))

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_TIMEOUT.total_seconds())
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

AUDIT_STRIPES = env_int("HONGFENG_AUDIT_STRIPES", 16, minimum=1)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("HONGFENG_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = Path(env_str("HONGFENG_STATIC_ROOT", str(DATA_DIR / "static")))
# Uploaded files (member photos) are private: never under STATIC_URL, served only through views
# that check access. MEDIA_URL is deliberately unset.
MEDIA_ROOT = Path(env_str("HONGFENG_MEDIA_ROOT", str(DATA_DIR / "media")))
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": "/private-media/"},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Outside production the static files are served straight from the app folders, so the demo and
# the tests need no collectstatic step.
WHITENOISE_USE_FINDERS = not IS_PRODUCTION
if not IS_PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
WHITENOISE_AUTOREFRESH = DEBUG

# Content Security Policy (Django's built-in middleware): only our own scripts run.
from django.utils.csp import CSP  # noqa: E402 — kept beside the policy it builds

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if IS_PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("HONGFENG_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("HONGFENG_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("HONGFENG_HSTS_PRELOAD", False)
    # /healthz is probed over plain HTTP by load balancers on the private network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    if env_bool("HONGFENG_BEHIND_PROXY", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

SILENCED_SYSTEM_CHECKS = [
    # HSTS preload is an operator's decision (HONGFENG_HSTS_PRELOAD), not a code default.
    "security.W021",
]

LOG_LEVEL = env_str("HONGFENG_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # security.md: no personal data in logs — ID numbers and mobiles are masked in every line.
        "mask_personal_data": {"()": "hongfeng.core.logging.MaskPersonalDataFilter"},
        "request_id": {"()": "hongfeng.core.logging.RequestIdFilter"},
        "quiet_client_errors": {"()": "hongfeng.core.logging.QuietClientErrorsFilter"},
    },
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["quiet_client_errors", "request_id", "mask_personal_data"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's own console handlers (DEBUG only) and runserver's request log print
        # unfiltered; their records go to the root handlers above instead.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
    },
}

# Optionally also write the (masked) log to a file — CI scans it for personal data (T4).
LOG_FILE = env_str("HONGFENG_LOG_FILE", "")
if LOG_FILE:
    LOGGING["handlers"]["file"] = {
        "class": "logging.FileHandler",
        "filename": LOG_FILE,
        "encoding": "utf-8",
        "formatter": "plain",
        "filters": ["quiet_client_errors", "request_id", "mask_personal_data"],
    }
    LOGGING["root"]["handlers"].append("file")

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_PER_PAGE_SIZE = 200

# django.tasks: background work (roster imports, broadcasts, notice delivery).
# "database": a queue table in the same database, served by `hongfeng db_worker` (`hongfeng
# demo` starts one itself); "redis": Redis lists at HONGFENG_REDIS_URL, served by `hongfeng
# redis_worker` (hongfeng.core.redis_tasks, for several app servers and workers); "immediate":
# inline, for tests and tiny installs.
TASKS_MODE = env_str("HONGFENG_TASKS", "database")
REDIS_URL = env_str("HONGFENG_REDIS_URL", "redis://127.0.0.1:6379/0")
if TASKS_MODE == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
elif TASKS_MODE == "redis":
    TASKS = {
        "default": {
            "BACKEND": "hongfeng.core.redis_tasks.RedisBackend",
            "OPTIONS": {"URL": REDIS_URL},
        }
    }
elif TASKS_MODE == "immediate":
    TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
else:
    raise ImproperlyConfigured("HONGFENG_TASKS must be 'database', 'redis' or 'immediate'")
# Notice channels: a class with send(notice). The default only logs (no external calls).
# Outside channels an activity broadcast (一呼百应) uses besides the in-app inbox.
# Absolute address of the site, printed into certificate QR codes (5.2.10); empty = the
# address of the request that issued or downloaded the certificate.
PUBLIC_BASE_URL = env_str("HONGFENG_PUBLIC_BASE_URL", "").rstrip("/")
BROADCAST_CHANNELS = env_list("HONGFENG_BROADCAST_CHANNELS", "sms,wechat")
NOTICE_BACKENDS = {
    "sms": env_str("HONGFENG_SMS_BACKEND", "hongfeng.notices.channels.LogChannel"),
    "wechat": env_str("HONGFENG_WECHAT_BACKEND", "hongfeng.notices.channels.LogChannel"),
}
# Request limits (hongfeng.core.uploads; docs/deployment.md sets the proxy's body limit to
# MAX_REQUEST_BYTES). A body without a file (JSON, forms) takes at most 2 MB — the largest
# legitimate one, 5,000 quality ratings, is ~0.3 MB; any body at most 11 MB — the largest file
# we take, a 10 MB roster, with its form fields. Larger requests are refused by their
# Content-Length before they are read. A file above 1 MB is spooled to a temporary file while
# the body is parsed, not held in memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
MAX_REQUEST_BYTES = 11 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
