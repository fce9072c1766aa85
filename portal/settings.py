"""OneCard settings, read from the environment.

The embedded default (no environment at all) runs on SQLite with eager Celery
and keys generated under ``var/``. Production mode (``DJANGO_DEBUG=0``) has no
defaults for secrets or services: a missing value stops the process at start.
See docs/settings.md for the table of variables.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from portal.keys import KeyRing

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("ONECARD_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=True)
PRODUCTION = not DEBUG

if PRODUCTION:
    _missing = [
        name
        for name in (
            "DJANGO_SECRET_KEY",
            "DJANGO_ALLOWED_HOSTS",
            "DATABASE_URL",
            "REDIS_URL",
            "EMAIL_URL",
            "ONECARD_CREDENTIAL_ISSUER_URL",
        )
        if not env.str(name, default="")
    ]
    if _missing:
        raise ImproperlyConfigured(
            "Production mode (DJANGO_DEBUG=0) needs these environment variables: "
            + ", ".join(_missing)
            + ". See docs/settings.md."
        )
    if not env.str("DATABASE_URL").startswith(("postgres://", "postgresql://", "pgsql://")):
        raise ImproperlyConfigured("Production mode needs DATABASE_URL to point at PostgreSQL.")

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="onecard-embedded-development-only-secret-key-0123456789")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Key material: supplied as NAME or NAME_FILE in production, generated under
# var/keys/ on first run in the embedded default. See docs/operations.md.
KEYS = KeyRing(directory=VAR_DIR / "keys", generate=not PRODUCTION, environ=env)
ONECARD_NATIONAL_ID_KEY = KEYS.secret("ONECARD_NATIONAL_ID_KEY")
ONECARD_LOOKUP_KEY = KEYS.secret("ONECARD_LOOKUP_KEY")
# Ledger subject pseudonyms: {version: key}. The highest version signs new
# entries; older versions stay so a resident's older entries can be found.
ONECARD_LEDGER_SUBJECT_KEYS = {1: KEYS.secret("ONECARD_LEDGER_SUBJECT_KEY")}
# Seals the card signing keys stored in the database (cards.CardSigningKey).
ONECARD_CARD_KEY_ENCRYPTION_KEY = KEYS.secret("ONECARD_CARD_KEY_ENCRYPTION_KEY")
# The "iss" claim of card credentials and the status list.
ONECARD_CARD_ISSUER = env.str("ONECARD_CARD_ISSUER", default="onecard")
# The public https URL of OneCard: the "iss" of SD-JWT VCs and mdocs, and the base of the Token Status List URI.
ONECARD_CREDENTIAL_ISSUER_URL = env.str("ONECARD_CREDENTIAL_ISSUER_URL", default="http://127.0.0.1:8000")
_issuer = urlsplit(ONECARD_CREDENTIAL_ISSUER_URL)
# SD-JWT VC verifiers find the keys at <origin>/.well-known/jwt-vc-issuer<path>; OneCard serves them at the root.
if not (
    _issuer.scheme in ("http", "https")
    and _issuer.netloc
    and _issuer.path in ("", "/")
    and not (_issuer.query or _issuer.fragment)
):
    raise ImproperlyConfigured(
        f"ONECARD_CREDENTIAL_ISSUER_URL must be an origin such as https://onecard.example.gov, not "
        f"{ONECARD_CREDENTIAL_ISSUER_URL!r}: SD-JWT VC verifiers find the issuer's keys at "
        "<origin>/.well-known/jwt-vc-issuer, which OneCard serves at the root of its host only."
    )
# The mdoc chain (ISO/IEC 18013-5): the document signer's key and certificate, and the IACA certificate
# readers trust. Generated under var/keys/ in the embedded default; see `manage.py mdoc_certificates`.
ONECARD_MDOC_SIGNER = KEYS.mdoc_document_signer(issuer_url=ONECARD_CREDENTIAL_ISSUER_URL)
# A TrueType/OpenType font with CJK glyphs for printable cards; Pillow's default font has none.
ONECARD_CARD_FONT = env.str("ONECARD_CARD_FONT", default="")
# Ledger checkpoints: an Ed25519 seed and the log's origin line (also the key name).
ONECARD_LEDGER_SIGNING_KEY = KEYS.secret("ONECARD_LEDGER_SIGNING_KEY")
# Log format v2 (public leaves are commitments) runs under a new origin: the format v1 log was
# "onecard.example/ledger", and a witness never cosigns two trees under one origin (docs/ledger.md).
ONECARD_LEDGER_ORIGIN = env.str("ONECARD_LEDGER_ORIGIN", default="onecard.example/ledger/v2")
ONECARD_AUDITOR_GROUP = env.str("ONECARD_AUDITOR_GROUP", default="auditor")
ONECARD_LEDGER_STAFF_DEFAULT_PURPOSE = env.str("ONECARD_LEDGER_STAFF_DEFAULT_PURPOSE", default="staff-duty")
# With a broker, beat sweeps the pending table into the log this often: an access is in a
# signed checkpoint within about this long (docs/ledger.md). Requests publish nothing.
# At most 10 s: /healthz calls a sequencer lag of 30 s (ONECARD_HEALTH_MAX_SEQUENCER_LAG_SECONDS) a failure.
ONECARD_LEDGER_SWEEP_SECONDS = env.float("ONECARD_LEDGER_SWEEP_SECONDS", default=0.5)
if not 0 < ONECARD_LEDGER_SWEEP_SECONDS <= 10:
    raise ImproperlyConfigured(
        f"ONECARD_LEDGER_SWEEP_SECONDS must be more than 0 and at most 10, not {ONECARD_LEDGER_SWEEP_SECONDS}"
    )

# The witness policy (c2sp.org/tlog-policy, docs/ledger.md): which witnesses cosign checkpoints
# and how many must before one is published. Required in production; the embedded default runs
# one in-process witness with its state under ONECARD_LEDGER_LOCAL_WITNESS_DIR instead.
ONECARD_LEDGER_WITNESS_POLICY_FILE = env.str("ONECARD_LEDGER_WITNESS_POLICY_FILE", default="")
if PRODUCTION and not ONECARD_LEDGER_WITNESS_POLICY_FILE:
    raise ImproperlyConfigured("Production mode needs ONECARD_LEDGER_WITNESS_POLICY_FILE (docs/ledger.md).")
ONECARD_LEDGER_WITNESS_POLICY = (
    Path(ONECARD_LEDGER_WITNESS_POLICY_FILE).read_text(encoding="utf-8") if ONECARD_LEDGER_WITNESS_POLICY_FILE else ""
)
ONECARD_LEDGER_LOCAL_WITNESS_DIR = VAR_DIR / "witness" / "in-process"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # Django's own form and widget templates, for the project's form renderer below.
    "django.forms",
    "rest_framework",
    # django-otp's own device plugins (otp_totp, otp_static) store secrets in clear: the
    # portal's TOTPDevice and BackupCodeDevice replace them (docs/operations.md).
    "django_otp",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "ledger",
    "cards",
    "services.core",
    "portal",
    "services.social_security",
    "services.health",
    "services.checks",
    "services.pharmacy",
    "services.grants",
    "services.matching",
    "services.statistics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Public tiles next, like static files: no session, locale, CSRF, auth or CSP work for them.
    "ledger.middleware.LogTileMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.SessionRefreshMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "portal.middleware.AccessContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
AUTH_USER_MODEL = "portal.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Forms render with GOV.UK Frontend's markup (portal/web/rendering.py, templates/portal/forms/).
FORM_RENDERER = "portal.web.rendering.GovukFormRenderer"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# The sequencer writes the log through its own database role in production (docs/operations.md):
# the web and worker role may only add pending rows. Unset, it shares the default connection.
if env.str("DATABASE_SEQUENCER_URL", default=""):
    DATABASES["sequencer"] = env.db("DATABASE_SEQUENCER_URL")
    DATABASES["sequencer"]["ATOMIC_REQUESTS"] = False
    DATABASES["sequencer"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["sequencer"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["sequencer"]["TEST"] = {"MIRROR": "default"}
    ONECARD_LEDGER_SEQUENCER_DATABASE = "sequencer"
else:
    ONECARD_LEDGER_SEQUENCER_DATABASE = "default"
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Persistent connections only where a fixed number of processes and threads hold them:
    # portal/gunicorn.py and the Celery worker's command set DATABASE_CONN_MAX_AGE. runserver
    # serves each request on a new thread, and each thread kept its own connection open for
    # CONN_MAX_AGE, until PostgreSQL ran out of connections.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "services.core.cache.RedisCache", "LOCATION": REDIS_URL}}
    # Every signed-in page reads the session: from Redis, not PostgreSQL. Writes and logout still go
    # to both. While Redis is down, pages that need the session answer 503 with a readable page
    # (portal.api.views.handler500): falling back to the database alone would let a logout made
    # during the outage be undone by the stale copy Redis still holds when it returns. Not with
    # locmem: one process's logout would not reach another's cache.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: eager without a broker, real workers on Redis with one.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {}
# Sequencing runs only on the workers of the "sequencer" queue: the processes given DATABASE_SEQUENCER_URL.
# The release of sealed accesses too: only the sequencer's role may publish an opening (docs/operations.md).
CELERY_TASK_ROUTES = {
    "ledger.tasks.sequence_pending": {"queue": "sequencer"},
    "ledger.sealing.sealed_release": {"queue": "sequencer"},
}
CELERY_BEAT_SCHEDULE["cards-expire-daily"] = {"task": "cards.tasks.cards_expire_sweep", "schedule": 24 * 60 * 60}
CELERY_BEAT_SCHEDULE["cards-retention-daily"] = {
    "task": "cards.tasks.cards_retention_sweep",
    "schedule": 24 * 60 * 60,
}
# A rejected or superseded card photo's image is erased this many days after the decision (docs/cards.md).
ONECARD_PHOTO_RETENTION_DAYS = env.int("ONECARD_PHOTO_RETENTION_DAYS", default=90)
# Entries of the Token Status List, the space each card's random index is drawn from (docs/cards.md).
ONECARD_STATUS_LIST_SIZE = env.int("ONECARD_STATUS_LIST_SIZE", default=2**24)
# At most 2**26 entries: 16 MiB at 2 bits each, the most the offline verifier inflates (STATUS_LIST_MAX_BYTES).
if not 4 <= ONECARD_STATUS_LIST_SIZE <= 2**26:
    raise ImproperlyConfigured(
        f"ONECARD_STATUS_LIST_SIZE must be from 4 to {2**26} (16 MiB of 2-bit entries, the most a verifier "
        f"reads), not {ONECARD_STATUS_LIST_SIZE}"
    )
CELERY_BEAT_SCHEDULE["ledger-sequence-sweep"] = {
    "task": "ledger.tasks.sequence_pending",
    "schedule": ONECARD_LEDGER_SWEEP_SECONDS,
    # A sweep that waited long behind another task is dropped, not run late, so sweeps never
    # pile up. Generous: expiry is beat's clock against the worker's, which may differ a little.
    "options": {"expires": max(20 * ONECARD_LEDGER_SWEEP_SECONDS, 10.0)},
}
# New checkpoints are pushed as they are signed; this catches up a witness that was down.
CELERY_BEAT_SCHEDULE["ledger-witness-push"] = {
    "task": "ledger.tasks.checkpoints_push",
    "schedule": 30.0,
    "options": {"expires": 30.0},
}
CELERY_BEAT_SCHEDULE["ledger-verify-hourly"] = {"task": "ledger.tasks.verify_log", "schedule": 3600.0}
# Sealed accesses are disclosed within the hour their date begins (ledger.sealing).
CELERY_BEAT_SCHEDULE["ledger-sealed-release"] = {"task": "ledger.sealing.sealed_release", "schedule": 3600.0}
# Official statistics: every day at 03:00 in Asia/Shanghai (19:00 UTC) publish the latest closed month, which
# closes once the month and the ISO week holding its last Thursday (up to 3 days into the next month) have
# both ended. A month already released is left as it is, so the daily run publishes each month once, on the
# first night it has closed, and a night the beat missed is made up the next.
CELERY_BEAT_SCHEDULE["statistics-publish-monthly"] = {
    "task": "services.statistics.tasks.statistics_publish_last_closed",
    "schedule": crontab(minute=0, hour=19),
}
CELERY_BEAT_SCHEDULE["idempotency-keys-purge"] = {
    "task": "services.core.tasks.idempotency_keys_purge",
    "schedule": 3600.0,
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# "ledger_tiles" holds the ledger's tlog-tiles (ledger/tiles.py): var/tiles/ by default, or any Django
# storage backend given as a JSON STORAGES entry in ONECARD_LEDGER_TILES_STORAGE (docs/operations.md).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "ledger_tiles": env.json("ONECARD_LEDGER_TILES_STORAGE", default={})
    or {"BACKEND": "ledger.tiles.TileFileSystemStorage", "OPTIONS": {"location": str(VAR_DIR / "tiles")}},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

if not isinstance(STORAGES["ledger_tiles"], dict) or not STORAGES["ledger_tiles"].get("BACKEND"):
    raise ImproperlyConfigured('ONECARD_LEDGER_TILES_STORAGE must be a JSON object with a "BACKEND" key')

# E-mail carries password-reset links and activation codes. The embedded default prints it to the
# console; production needs EMAIL_URL naming a backend that sends (smtp://, smtp+tls://, smtps://)
# or one explicitly chosen to write files (filemail:///absolute/directory), never the process log.
EMAIL_URL = env.str("EMAIL_URL", default="consolemail://")
_EMAIL_SCHEME = EMAIL_URL.partition("://")[0]
if PRODUCTION and _EMAIL_SCHEME not in ("smtp", "smtps", "smtp+tls", "smtp+ssl", "filemail"):
    raise ImproperlyConfigured(
        f"Production mode refuses EMAIL_URL={_EMAIL_SCHEME}://: it would print or drop password-reset links and"
        " activation codes. Use smtp://, smtp+tls:// or smtps:// (or filemail:///a/directory). See docs/settings.md."
    )
vars().update({name: value for name, value in env.email_url_config(EMAIL_URL).items() if value is not None})
if _EMAIL_SCHEME == "filemail":
    # django-environ drops the leading slash of an absolute path.
    EMAIL_FILE_PATH = EMAIL_URL.partition("://")[2] or str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="OneCard <no-reply@onecard.invalid>")

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "portal.api.views.csrf_failure"  # problem+json under /api/
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
}

# The partner API gateway (services/core/api/ enforces, portal/api/ mounts; docs/api.md).
REST_FRAMEWORK |= {
    "DEFAULT_AUTHENTICATION_CLASSES": ["services.core.api.authentication.AgencyKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["services.core.api.permissions.AgencyCallPermission"],
    "DEFAULT_THROTTLE_CLASSES": ["services.core.api.throttling.AgencyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"agency": env.str("ONECARD_API_RATE", default="600/min")},
    "DEFAULT_PAGINATION_CLASS": "services.core.api.pagination.GatewayCursorPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["services.core.api.parsers.GatewayJSONParser"],
    "EXCEPTION_HANDLER": "services.core.api.problems.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "services.core.api.schema.GatewayAutoSchema",
    "PAGE_SIZE": 50,
}
# Idempotency-Key (docs/api.md): how long a key's first response is replayed, and how long an
# unfinished claim (its process died mid-request) holds the key. Both longer than GUNICORN_TIMEOUT.
ONECARD_IDEMPOTENCY_KEY_HOURS = env.float("ONECARD_IDEMPOTENCY_KEY_HOURS", default=24.0)
ONECARD_IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS = env.float("ONECARD_IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS", default=300.0)
if not ONECARD_IDEMPOTENCY_KEY_HOURS > 0 or not 0 < ONECARD_IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS <= (
    ONECARD_IDEMPOTENCY_KEY_HOURS * 3600
):
    raise ImproperlyConfigured(
        "ONECARD_IDEMPOTENCY_KEY_HOURS must be more than 0, and ONECARD_IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS"
        " more than 0 and at most that many hours"
    )
SPECTACULAR_SETTINGS = {
    "TITLE": "OneCard partner API",
    "DESCRIPTION": "Purpose-bound, consented access for partner agencies. Integration guide: docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="WARNING")},
}

# Employer batches (services/social_security) carry up to 20,000 items in one JSON body (~8 MB).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("ONECARD_MAX_REQUEST_BYTES", default=10 * 1024 * 1024)
# The resident portal (docs/portal.md).
# django-axes first: it refuses a locked-out login before any backend checks the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "portal.web.backends.NationalIdBackend",
]
AXES_FAILURE_LIMIT = env.int("ONECARD_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.int("ONECARD_LOGIN_COOLOFF_MINUTES", default=15) / 60  # hours
# Per account and address: a stranger cannot lock a resident out from elsewhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "portal/accounts/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
# Failures count per account, whichever identifier was typed, and a typed national ID is never stored.
AXES_USERNAME_CALLABLE = "portal.web.lockout.login_failure_key"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]
AXES_IPWARE_PROXY_COUNT = env.int("ONECARD_PROXY_COUNT", default=0) or None
# Inactivity timeout: portal.middleware.SessionRefreshMiddleware restarts the session's age at most
# once per ONECARD_SESSION_REFRESH_SECONDS, so an idle session ends after about this.
SESSION_COOKIE_AGE = env.int("ONECARD_SESSION_IDLE_SECONDS", default=15 * 60)
SESSION_SAVE_EVERY_REQUEST = False
ONECARD_SESSION_REFRESH_SECONDS = env.int("ONECARD_SESSION_REFRESH_SECONDS", default=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Activation attempts (right or wrong code) allowed per client address and per national ID.
ONECARD_ACTIVATION_RATE_PER_CLIENT = env.str("ONECARD_ACTIVATION_RATE_PER_CLIENT", default="20/hour")
ONECARD_ACTIVATION_RATE_PER_NATIONAL_ID = env.str("ONECARD_ACTIVATION_RATE_PER_NATIONAL_ID", default="10/hour")
# Family invitation codes tried (right or wrong) per client address and per signed-in resident.
ONECARD_PROXY_ACCEPT_RATE_PER_CLIENT = env.str("ONECARD_PROXY_ACCEPT_RATE_PER_CLIENT", default="20/hour")
ONECARD_PROXY_ACCEPT_RATE_PER_RESIDENT = env.str("ONECARD_PROXY_ACCEPT_RATE_PER_RESIDENT", default="10/hour")
# A sensitive action needs a one-time password entered within this many seconds.
ONECARD_STEP_UP_SECONDS = env.int("ONECARD_STEP_UP_SECONDS", default=5 * 60)
OTP_TOTP_ISSUER = "OneCard"
# Mirrors of the ledger (ledger/tools/onecard_mirror.py --listen) whose tlog-tiles a resident's
# browser may check an access against instead of this site's /log/: their base URLs, comma-separated.
ONECARD_LEDGER_MIRROR_URLS = [url.rstrip("/") for url in env.list("ONECARD_LEDGER_MIRROR_URLS", default=[])]
ONECARD_LEDGER_MIRROR_ORIGINS = sorted(
    {f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" for url in ONECARD_LEDGER_MIRROR_URLS}
)
if any(not origin.startswith(("https://", "http://")) for origin in ONECARD_LEDGER_MIRROR_ORIGINS):
    raise ImproperlyConfigured("ONECARD_LEDGER_MIRROR_URLS must be http(s) URLs")

# No inline script or style anywhere; every asset is served from this origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        # The access history's Verify reads the published log from this site or a mirror (docs/ledger.md).
        "connect-src": ["'self'", *ONECARD_LEDGER_MIRROR_ORIGINS],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# Drug purchase: yesterday's settlement reports each night (17:00 UTC is 01:00 in Asia/Shanghai),
# pharmacy-hopping flags every hour.
CELERY_BEAT_SCHEDULE["pharmacy-settlement-daily"] = {
    "task": "services.pharmacy.tasks.settlement_reports_daily",
    "schedule": crontab(hour=17, minute=0),
}
CELERY_BEAT_SCHEDULE["pharmacy-flags-hourly"] = {
    "task": "services.pharmacy.tasks.suspicious_patterns_flag",
    "schedule": 3600.0,
}
# Private matching: a session left unanswered keeps the partner's blinded list no longer than its expiry.
CELERY_BEAT_SCHEDULE["matching-sessions-end-expired"] = {
    "task": "services.matching.tasks.matching_sessions_end_expired_task",
    "schedule": 300.0,
}
# Official statistics (docs/statistics.md): the zCDP budget (rho) of each month, each table's share of it,
# and the most one resident's grant payments can add to a month's total, in fen.
ONECARD_STATISTICS_RHO_PER_PERIOD = env.float("ONECARD_STATISTICS_RHO_PER_PERIOD", default=0.5)
ONECARD_STATISTICS_TABLE_SHARES = env.json(
    "ONECARD_STATISTICS_TABLE_SHARES",
    default={"residents": 0.2, "card-uses": 0.2, "grant-payments": 0.2, "prescriptions": 0.2, "partner-accesses": 0.2},
)
ONECARD_STATISTICS_GRANT_AMOUNT_CAP_FEN = env.int("ONECARD_STATISTICS_GRANT_AMOUNT_CAP_FEN", default=500_000)
if not ONECARD_STATISTICS_RHO_PER_PERIOD > 0 or not all(
    isinstance(share, int | float) and share > 0 for share in ONECARD_STATISTICS_TABLE_SHARES.values()
):
    raise ImproperlyConfigured(
        "ONECARD_STATISTICS_RHO_PER_PERIOD and every share in ONECARD_STATISTICS_TABLE_SHARES must be more than 0"
    )
# Benchmark baseline only (bench/http_bench.py): ONECARD_LEDGER_RECORDING=off turns record() into a
# no-op so the cost of recording can be measured. Production mode refuses it.
ONECARD_LEDGER_RECORDING = env.bool("ONECARD_LEDGER_RECORDING", default=True)
if PRODUCTION and not ONECARD_LEDGER_RECORDING:
    raise ImproperlyConfigured("ONECARD_LEDGER_RECORDING=off is for benchmarks only; production always records.")
# /healthz (docs/operations.md): the limits past which a load balancer sees 503.
ONECARD_HEALTH_MAX_SEQUENCER_LAG_SECONDS = env.float("ONECARD_HEALTH_MAX_SEQUENCER_LAG_SECONDS", default=30.0)
# How long a signed checkpoint may wait for the witness quorum before /healthz fails.
ONECARD_HEALTH_MAX_PUBLICATION_LAG_SECONDS = env.float("ONECARD_HEALTH_MAX_PUBLICATION_LAG_SECONDS", default=120.0)
ONECARD_HEALTH_MAX_VERIFICATION_AGE_SECONDS = env.float(
    "ONECARD_HEALTH_MAX_VERIFICATION_AGE_SECONDS", default=2 * 3600.0
)
# Load balancers probe over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Celery's Django fixup closes the database connection around every task unless this is set, so each
# sequencer run paid a new PostgreSQL connection; portal.celery checks connections as Django does per request.
CELERY_DB_REUSE_MAX = 1_000_000
# Access notifications (docs/portal.md): the text-message backend by dotted path (portal.sms), the
# portal's public address for the links in messages, and when beat sends the digests
# (00:30 UTC is 08:30 in Asia/Shanghai; the weekly one on Mondays).
# Empty means no text messages: residents are offered e-mail only, the default in production, which
# refuses the console backend (it would print who accessed a resident's data into the process log).
ONECARD_SMS_BACKEND = env.str("ONECARD_SMS_BACKEND", default="" if PRODUCTION else "portal.sms.ConsoleSmsBackend")
if PRODUCTION and ONECARD_SMS_BACKEND == "portal.sms.ConsoleSmsBackend":
    raise ImproperlyConfigured(
        "Production mode refuses ONECARD_SMS_BACKEND=portal.sms.ConsoleSmsBackend: it would print who accessed"
        " residents' data into the process log. Name a gateway backend, or leave it empty to offer e-mail only."
        " See docs/settings.md."
    )
ONECARD_PORTAL_URL = env.str("ONECARD_PORTAL_URL", default=ONECARD_CREDENTIAL_ISSUER_URL).rstrip("/")
CELERY_BEAT_SCHEDULE["access-digests-daily"] = {
    "task": "portal.tasks.access_digests_send",
    "schedule": crontab(hour=0, minute=30),
    "args": ("daily",),
}
CELERY_BEAT_SCHEDULE["access-digests-weekly"] = {
    "task": "portal.tasks.access_digests_send",
    "schedule": crontab(hour=0, minute=30, day_of_week="mon"),
    "args": ("weekly",),
}
