"""The one settings module. Everything that differs between machines comes from the
environment; nothing here branches on "production" or "CI" (see docs/ARCHITECTURE.md).

Environment variables:
  DATABASE_URL     postgres://user@host:port/name; default: SQLite in the data folder
  DATABASE_REPLICA_URL  a streaming replica of DATABASE_URL for reads that tolerate lag
  TINHSO_CACHE_URL redis://host:6379/0 (or REDIS_URL); default: a table in the database
  SECRET_KEY       required unless DEBUG; with DEBUG a random one is made (with a warning)
  SECRET_KEY_FILE  a file holding the secret key, read when SECRET_KEY is not set
  DEBUG            "1"/"true" to enable debug pages (default off)
  ALLOWED_HOSTS    comma-separated host names (default: localhost names)
  TINHSO_DATA_DIR  the data folder: SQLite database, uploaded and issued files (default var/)
  TINHSO_DEMO      "1" for the demo: demo e-ID with on-screen codes, simulated bank, banner
  TINHSO_HTTPS     "1" when served over HTTPS behind a TLS proxy (see DEPLOY.md)
The README's settings table lists the rest.
"""

from __future__ import annotations

import json
import os
import secrets
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

# Lets admin/forms classes be written with their generic parameters (ModelAdmin[Agency]).
django_stubs_ext.monkeypatch()


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("TINHSO_DATA_DIR", "var")).resolve()
# Made readable by its owner only (the SQLite database, citizens' files, keys), whatever the
# umask; a folder the operator made is left as they made it.
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)

DEBUG = _env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    # A file keeps the key out of the process list and of shell history. Without
    # SECRET_KEY_FILE, the key `make run` keeps in the data folder, so that any
    # `tinhso <command>` run beside it finds it.
    _key_file = Path(os.environ.get("SECRET_KEY_FILE") or DATA_DIR / "secret_key")
    if os.environ.get("SECRET_KEY_FILE") or _key_file.is_file():
        SECRET_KEY = _key_file.read_text(encoding="utf-8").strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set in the environment, or SECRET_KEY_FILE, or a key kept in "
            f"{DATA_DIR / 'secret_key'} (or set DEBUG=1 for a throw-away key)."
        )
    SECRET_KEY = secrets.token_urlsafe(50)
    warnings.warn(
        "SECRET_KEY is not set: using a random key; sessions end when the process restarts.",
        stacklevel=1,
    )

ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "tinhso.core",
    "tinhso.agencies",
    "tinhso.accounts",
    "tinhso.cases",
    "tinhso.catalog",
    "tinhso.signing",
    "tinhso.dossiers",
    "tinhso.payments",
    "tinhso.opendata",
    "tinhso.feedback",
    "tinhso.products",
    "tinhso.documents",
]

MIDDLEWARE = [
    # First, so it compresses what every other middleware produced (pages are light on a
    # 3G phone; static files are compressed ahead by whitenoise). CSRF tokens are masked
    # per response, which is Django's answer to BREACH.
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before whitenoise, so the policy is on static files' responses too.
    "tinhso.core.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Around everything that may write (the session too): which reads may go to the
    # replica, and the cookie that keeps a client that has just written on the primary.
    "tinhso.core.replica.ReplicaMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # After the language is known (its refusal is translated), before any view.
    "tinhso.core.input.NulCharacterMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: the first to see a view's empty 405 and to give it a page.
    "tinhso.core.errors.MethodNotAllowedPageMiddleware",
]

ROOT_URLCONF = "tinhso.urls"
WSGI_APPLICATION = "tinhso.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tinhso.core.context_processors.site",
                "tinhso.payments.context_processors.accountant",
                "tinhso.dossiers.context_processors.dossier_work",
                "tinhso.feedback.context_processors.report_work",
                "tinhso.products.context_processors.products_work",
                "tinhso.documents.context_processors.documents_work",
            ],
        },
    },
]


def _postgresql(config: dict[str, object]) -> None:
    """PostgreSQL through Django's backend whose check of a kept connection before each
    request reads its socket instead of sending SELECT 1 (tinhso.core.postgresql, ADR 0036),
    with parameters bound on the server and a statement a connection has run
    TINHSO_DB_PREPARE_THRESHOLD times (5) kept prepared there (ADR 0037); "off" prepares
    nothing, for a pooler in transaction mode that cannot keep prepared statements."""
    if config.get("ENGINE") != "django.db.backends.postgresql":
        return
    config["ENGINE"] = "tinhso.core.postgresql"
    threshold = os.environ.get("TINHSO_DB_PREPARE_THRESHOLD", "").strip().lower() or "5"
    if threshold == "off":
        prepare = None
    elif threshold.isascii() and threshold.isdigit():
        prepare = int(threshold)
    else:
        raise ImproperlyConfigured("TINHSO_DB_PREPARE_THRESHOLD: a whole number or 'off'.")
    options = dict(config.get("OPTIONS") or {})  # type: ignore[call-overload]
    config["OPTIONS"] = {**options, "server_side_binding": True, "prepare_threshold": prepare}


def _database_settings() -> dict[str, object]:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60))
        config["CONN_HEALTH_CHECKS"] = True
        _postgresql(config)
        return config
    return {  # in DATA_DIR, made above
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "tinhso.sqlite3",
        "OPTIONS": {
            # IMMEDIATE: a write transaction takes the write lock when it starts, so two
            # writers queue on busy_timeout instead of one failing on lock upgrade.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
            ),
        },
        "TEST": {"NAME": DATA_DIR / "test-tinhso.sqlite3"},
    }


DATABASES = {"default": _database_settings()}
# A PostgreSQL streaming replica (ADR 0027): the catalogue, open data, tracking and figures
# may read there (core.replica, DATABASE_ROUTERS); writes, read-your-writes, officials' work
# and everything inside a transaction stay on "default". Tests point it at "default" (MIRROR).
_replica_url = os.environ.get("DATABASE_REPLICA_URL", "").strip()
if _replica_url:
    if not str(DATABASES["default"]["ENGINE"]).endswith("postgresql"):
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs DATABASE_URL on PostgreSQL.")
    _replica: dict[str, object] = dict(dj_database_url.parse(_replica_url, conn_max_age=60))
    _replica["CONN_HEALTH_CHECKS"] = True
    _postgresql(_replica)
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
DATABASE_ROUTERS = ["tinhso.core.replica.ReplicaRouter"]
# The pages and API operations whose GET reads may lag a few seconds behind (URL names;
# "namespace:*" for all of a namespace). Officials' work pages are never listed.
TINHSO_REPLICA_VIEWS = [
    "catalog:search",
    "catalog:detail",
    "catalog:blank_form",
    "agencies:*",
    "opendata:home",
    "opendata:search",
    "opendata:dataset",
    "opendata:resource",
    "opendata:download",
    "opendata:catalog",
    "opendata:dataset_rdf",
    "opendata:ckan_action",
    "opendata:ckan_action_unversioned",
    "dossiers:track",
    "api-v1:track",
    "api-v1:figures",
    "api-v1:indicators_list",
    "api-v1:procedures_list",
    "api-v1:procedures_get",
    "api-v1:agencies_list",
    "api-v1:agencies_get",
]
# After a request that wrote, the same client reads from the primary for this long, longer
# than the replica's usual lag (the bench measures it).
TINHSO_REPLICA_PIN_SECONDS = int(os.environ.get("TINHSO_REPLICA_PIN_SECONDS", "15"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:account"
LOGOUT_REDIRECT_URL = "home"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 8  # one working day
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Served over HTTPS behind a TLS-terminating proxy (DEPLOY.md): the one switch for
# production transport security. The proxy must set X-Forwarded-Proto (and overwrite any
# value a client sent); the app servers must be reachable only through it.
if "SECURE_COOKIES" in os.environ:
    raise ImproperlyConfigured("SECURE_COOKIES was replaced by TINHSO_HTTPS=1 (see DEPLOY.md).")
TINHSO_HTTPS = _env_bool("TINHSO_HTTPS")
SESSION_COOKIE_SECURE = TINHSO_HTTPS
CSRF_COOKIE_SECURE = TINHSO_HTTPS
SECURE_SSL_REDIRECT = TINHSO_HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TINHSO_HTTPS else None
# HSTS: a year by default. includeSubDomains and preload are what `check --deploy` asks
# for; the preload directive only makes the name eligible, listing it is a separate,
# deliberate submission (DEPLOY.md). TINHSO_HSTS_SECONDS=300 for a cautious first rollout.
SECURE_HSTS_SECONDS = int(os.environ.get("TINHSO_HSTS_SECONDS", "31536000")) if TINHSO_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = TINHSO_HTTPS
SECURE_HSTS_PRELOAD = TINHSO_HTTPS
# Health probes reach each app server directly over plain HTTP; they must not be redirected.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Addresses of the reverse proxies in front of the app servers: from them, the client's
# address is read from X-Forwarded-For (accounts.services.client_ip), for per-address limits.
TINHSO_TRUSTED_PROXIES = _env_list("TINHSO_TRUSTED_PROXIES", "")

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise indexes it at start-up
MEDIA_ROOT = DATA_DIR / "files"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
# Files served at the site's root: /favicon.ico, /robots.txt.
WHITENOISE_ROOT = PACKAGE_DIR / "root"

# Where stored files live (core.filestore, ADR 0020): MEDIA_ROOT on this machine, or a bucket
# of an S3-compatible store (MinIO, Ceph, a cloud) shared by every app server and worker;
# its keys come from the standard AWS variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
TINHSO_FILE_STORE = os.environ.get("TINHSO_FILE_STORE", "local").strip() or "local"
TINHSO_S3_BUCKET = os.environ.get("TINHSO_S3_BUCKET", "").strip()
TINHSO_S3_ENDPOINT_URL = os.environ.get("TINHSO_S3_ENDPOINT_URL", "").strip()
TINHSO_S3_REGION = os.environ.get("TINHSO_S3_REGION", "").strip()
TINHSO_S3_ADDRESSING_STYLE = os.environ.get("TINHSO_S3_ADDRESSING_STYLE", "").strip()
if TINHSO_FILE_STORE not in ("local", "s3"):
    raise ImproperlyConfigured(f"TINHSO_FILE_STORE is {TINHSO_FILE_STORE!r}: use local or s3.")
if TINHSO_FILE_STORE == "s3" and not TINHSO_S3_BUCKET:
    raise ImproperlyConfigured("TINHSO_FILE_STORE=s3 needs TINHSO_S3_BUCKET.")
if TINHSO_S3_ADDRESSING_STYLE not in ("", "auto", "path", "virtual"):
    raise ImproperlyConfigured("TINHSO_S3_ADDRESSING_STYLE is one of auto, path, virtual.")

# Background work: django-tasks with its database backend (`tinhso db_worker` runs it).
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TINHSO_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}


def _cache_settings() -> dict[str, object]:
    """One cache shared by every app server and worker (ADR 0027): Redis when
    TINHSO_CACHE_URL (or REDIS_URL) names one, otherwise a table in the database
    (made by `migrate`: core migration 0010), so that nothing cached is per-process."""
    url = (os.environ.get("TINHSO_CACHE_URL") or os.environ.get("REDIS_URL") or "").strip()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": os.environ.get("TINHSO_CACHE_PREFIX", "tinhso"),
        }
    if url not in ("", "db://"):
        raise ImproperlyConfigured(
            f"TINHSO_CACHE_URL is {url!r}: use redis://host:port/db, or db:// (the default)."
        )
    return {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "tinhso_cache"}


CACHES = {"default": _cache_settings()}
# How long a public figures answer (GET /api/v1/figures) may be kept by browsers, proxies
# and the server's cache (ADR 0026); 0 keeps none.
FIGURES_CACHE_SECONDS = int(os.environ.get("TINHSO_FIGURES_CACHE_SECONDS", "60"))
# Answers of GET /api/v1/figures computed for one anonymous client (its address, an IPv6
# /64) in a minute; answers served from the cache do not count; 0: no limit.
TINHSO_FIGURES_RATE = int(os.environ.get("TINHSO_FIGURES_RATE", "120"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "mask_pii": {"()": "tinhso.core.privacy.PersonalDataLogFilter"},
        "expected_outcome": {"()": "tinhso.core.privacy.ExpectedOutcomeLogFilter"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["mask_pii"],
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Django's own loggers go through the same (masking) handler, once.
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # Font subsetting for PDFs reports every table at INFO.
        "fontTools": {"level": "WARNING"},
        # pyHanko subsets the stamp font and notes every table it drops.
        "fontTools.subset": {"level": "ERROR"},
        # A revoked or untrusted certificate met while verifying is an answer, not a crash.
        "pyhanko.sign.validation.generic_cms": {"filters": ["expected_outcome"]},
        "pyhanko.sign.validation.pdf_embedded": {"filters": ["expected_outcome"]},
        "pyhanko_certvalidator": {"filters": ["expected_outcome"]},
    },
}

# --- Tỉnh Số settings -----------------------------------------------------------------
TINHSO_PROVINCE_CODE = int(os.environ.get("TINHSO_PROVINCE_CODE", "38"))
TINHSO_DEMO_PASSWORD = os.environ.get("TINHSO_DEMO_PASSWORD", "demo")
# The installation's identity on every page (README "Your province"): the province's name
# comes from its official code; the rest is the portal's own, empty ones are not shown.
TINHSO_PROVINCE_NAME = os.environ.get("TINHSO_PROVINCE_NAME", "").strip()  # "tỉnh Thanh Hóa"
TINHSO_PORTAL_AGENCY = os.environ.get("TINHSO_PORTAL_AGENCY", "").strip()
TINHSO_PORTAL_ADDRESS = os.environ.get("TINHSO_PORTAL_ADDRESS", "").strip()
TINHSO_PORTAL_HOTLINE = os.environ.get("TINHSO_PORTAL_HOTLINE", "").strip()
TINHSO_PORTAL_EMAIL = os.environ.get("TINHSO_PORTAL_EMAIL", "").strip()
# The emblem or logo: a static file path or an absolute URL (default: the platform's mark).
TINHSO_PORTAL_LOGO = os.environ.get("TINHSO_PORTAL_LOGO", "img/logo.svg").strip()
# The e-receipts' form number and series (mẫu số, ký hiệu), as the province registered its
# electronic receipts of fees and charges with the tax authority; "{yy}" in the series is
# the year's last two digits. Receipts are numbered from 1 in each series, per agency.
TINHSO_RECEIPT_FORM = os.environ.get("TINHSO_RECEIPT_FORM", "01BLP0-001").strip()
TINHSO_RECEIPT_SERIES = os.environ.get("TINHSO_RECEIPT_SERIES", "TS-{yy}E").strip()
if len(TINHSO_RECEIPT_FORM) > 20 or len(TINHSO_RECEIPT_SERIES.replace("{yy}", "00")) > 20:
    raise ImproperlyConfigured(
        "TINHSO_RECEIPT_FORM and TINHSO_RECEIPT_SERIES: at most 20 characters."
    )
# Repeated wrong passwords lock the account name for a while (accounts.services): for the
# client that sent them after TINHSO_LOGIN_MAX_FAILURES, for every client after
# TINHSO_LOGIN_MAX_FAILURES_PER_NAME from all clients together, within the window.
TINHSO_LOGIN_MAX_FAILURES = int(os.environ.get("TINHSO_LOGIN_MAX_FAILURES", "5"))
TINHSO_LOGIN_MAX_FAILURES_PER_NAME = int(os.environ.get("TINHSO_LOGIN_MAX_FAILURES_PER_NAME", "50"))
TINHSO_LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
TINHSO_LOGIN_LOCK_DURATION = timedelta(
    minutes=int(os.environ.get("TINHSO_LOGIN_LOCK_MINUTES", "15"))
)
# One-time sign-in codes (accounts.eid): how many may be asked for per personal ID and per
# client address in an hour, and how many wrong codes within an hour lock the ID (and for
# how long). A commune's service centre may share one address, hence the larger figure.
TINHSO_EID_CODES_PER_ID_HOUR = int(os.environ.get("TINHSO_EID_CODES_PER_ID_HOUR", "5"))
TINHSO_EID_CODES_PER_ADDRESS_HOUR = int(os.environ.get("TINHSO_EID_CODES_PER_ADDRESS_HOUR", "30"))
TINHSO_EID_MAX_WRONG_CODES = int(os.environ.get("TINHSO_EID_MAX_WRONG_CODES", "5"))
TINHSO_EID_LOCK_DURATION = timedelta(minutes=int(os.environ.get("TINHSO_EID_LOCK_MINUTES", "15")))
# A real identity provider (VNeID or another OpenID Connect provider); off when unset.
TINHSO_OIDC_ISSUER = os.environ.get("TINHSO_OIDC_ISSUER", "")
TINHSO_OIDC_CLIENT_ID = os.environ.get("TINHSO_OIDC_CLIENT_ID", "")
TINHSO_OIDC_CLIENT_SECRET = os.environ.get("TINHSO_OIDC_CLIENT_SECRET", "")
TINHSO_OIDC_SCOPES = os.environ.get("TINHSO_OIDC_SCOPES", "openid profile")
TINHSO_OIDC_PERSONAL_ID_CLAIM = os.environ.get("TINHSO_OIDC_PERSONAL_ID_CLAIM", "personal_id")
TINHSO_OIDC_LABEL = os.environ.get("TINHSO_OIDC_LABEL", "VNeID")
# Notifications: SMS through an HTTP gateway when TINHSO_SMS_URL is set; e-mail through
# Django's e-mail backend (EMAIL_HOST, …) when TINHSO_EMAIL_ENABLED; otherwise recorded only.
TINHSO_SMS_URL = os.environ.get("TINHSO_SMS_URL", "")
TINHSO_SMS_TOKEN = os.environ.get("TINHSO_SMS_TOKEN", "")
TINHSO_EMAIL_ENABLED = _env_bool("TINHSO_EMAIL_ENABLED")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Tỉnh Số <no-reply@localhost>")
# Uploaded papers: PDF, JPEG or PNG, checked from their content.
TINHSO_UPLOAD_MAX_BYTES = int(os.environ.get("TINHSO_UPLOAD_MAX_MB", "10")) * 1024 * 1024
# Photos people send (reports, products): each at most this before it is cleaned
# (core.photos); at most 5 to a report or a product.
TINHSO_FEEDBACK_PHOTO_MAX_BYTES = (
    int(os.environ.get("TINHSO_FEEDBACK_PHOTO_MAX_MB", "10")) * 1024 * 1024
)
# Open311 GeoReport v2: the one jurisdiction this installation answers for.
TINHSO_OPEN311_JURISDICTION = os.environ.get("TINHSO_OPEN311_JURISDICTION", "thanhhoa.gov.vn")
# Open data: a resource file may be larger than a dossier's paper (a year of records).
TINHSO_OPENDATA_UPLOAD_MAX_BYTES = (
    int(os.environ.get("TINHSO_OPENDATA_UPLOAD_MAX_MB", "100")) * 1024 * 1024
)
DATA_UPLOAD_MAX_MEMORY_SIZE = 40 * 1024 * 1024  # API bodies carry base64 attachments
TINHSO_API_TOKEN_DEFAULT_DAYS = 30
TINHSO_API_TOKEN_MAX_DAYS = 365

# Signatures (tinhso.signing, ADR 0012, 0024). Keys live in the database (below); key files
# made before ADR 0024 live under TINHSO_PKI_DIR, encrypted with the signing passphrase
# (from the environment or a file; derived from SECRET_KEY when neither is set).
TINHSO_PKI_DIR = Path(os.environ.get("TINHSO_PKI_DIR", str(DATA_DIR / "pki"))).resolve()
TINHSO_SIGNING_PASSPHRASE = os.environ.get("TINHSO_SIGNING_PASSPHRASE", "")
if not TINHSO_SIGNING_PASSPHRASE and os.environ.get("TINHSO_SIGNING_PASSPHRASE_FILE"):
    TINHSO_SIGNING_PASSPHRASE = (
        Path(os.environ["TINHSO_SIGNING_PASSPHRASE_FILE"]).read_text(encoding="utf-8").strip()
    )
# The key-encryption key of the signing keys kept in the database (signing.keystore,
# ADR 0024): the same on every app server and worker; required in production (below),
# derived from SECRET_KEY only in a demo or on a developer's machine.
TINHSO_KEY_ENCRYPTION_KEY = os.environ.get("TINHSO_KEY_ENCRYPTION_KEY", "")
if not TINHSO_KEY_ENCRYPTION_KEY and os.environ.get("TINHSO_KEY_ENCRYPTION_KEY_FILE"):
    TINHSO_KEY_ENCRYPTION_KEY = (
        Path(os.environ["TINHSO_KEY_ENCRYPTION_KEY_FILE"]).read_text(encoding="utf-8").strip()
    )
# The address printed in QR codes and CRL distribution points.
TINHSO_PUBLIC_URL = os.environ.get("TINHSO_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# RFC 3161 time-stamping authority: signatures are PAdES B-T when set, B-B otherwise.
TINHSO_TSA_URL = os.environ.get("TINHSO_TSA_URL", "")
# Embed the validation data (certificates, CRLs) in every signed PDF: PAdES B-LT.
TINHSO_SIGNING_LTV = _env_bool("TINHSO_SIGNING_LTV")
# Extra trust roots (a PEM bundle) beside the ones in the database, and whether the
# validator may fetch revocation data over the network.
TINHSO_TRUST_ROOTS_FILE = os.environ.get("TINHSO_TRUST_ROOTS_FILE", "")
TINHSO_SIGNING_FETCH_REVOCATION = _env_bool("TINHSO_SIGNING_FETCH_REVOCATION")
# A PKCS#11 token or HSM (keys named pkcs11:…) and a remote signing service (remote:…).
TINHSO_PKCS11_MODULE = os.environ.get("TINHSO_PKCS11_MODULE", "")
TINHSO_PKCS11_PIN = os.environ.get("TINHSO_PKCS11_PIN", "")
TINHSO_REMOTE_SIGNER_URL = os.environ.get("TINHSO_REMOTE_SIGNER_URL", "")
TINHSO_REMOTE_SIGNER_TOKEN = os.environ.get("TINHSO_REMOTE_SIGNER_TOKEN", "")

# Fees (tinhso.payments). The bank signs its notifications with HMAC-SHA256 under this
# secret (derived from SECRET_KEY when unset); a VietQR is valid this many hours.
TINHSO_BANK_WEBHOOK_SECRET = os.environ.get("TINHSO_BANK_WEBHOOK_SECRET", "")
TINHSO_PAYMENT_EXPIRY_HOURS = int(os.environ.get("TINHSO_PAYMENT_EXPIRY_HOURS", "72"))

# OCOP products and traceability stamps (tinhso.products). The province's GS1 company prefix
# (from GS1 Vietnam; 893 is Viet Nam's) for products without a GTIN of their own; the
# department (short name) that runs the OCOP council, and the one whose market inspectors
# handle counterfeit signals; a stamp scanned more than this many times raises a signal;
# scans one client may make per minute; the request header a trusted proxy sets to the
# client's country or region from its address (GeoIP), if any ("" when none does).
TINHSO_GS1_PREFIX = os.environ.get("TINHSO_GS1_PREFIX", "8930000")
TINHSO_OCOP_AGENCY = os.environ.get("TINHSO_OCOP_AGENCY", "SNNMT")
TINHSO_MARKET_AGENCY = os.environ.get("TINHSO_MARKET_AGENCY", "SCT")
TINHSO_STAMP_SCAN_LIMIT = int(os.environ.get("TINHSO_STAMP_SCAN_LIMIT", "20"))
TINHSO_SCAN_RATE = int(os.environ.get("TINHSO_SCAN_RATE", "30"))
TINHSO_CLIENT_REGION_HEADER = os.environ.get("TINHSO_CLIENT_REGION_HEADER", "")

# Official documents (tinhso.documents). An attachment may be at most this many MB (PDF,
# DOCX, XLSX, scans); an edXML message at most this many. The other installations this one
# exchanges documents with (edXML over HTTP), as JSON from the environment:
#   [{"code": "tinh-b", "name": "Tỉnh B", "url": "https://b.example.vn", "secret": "…",
#     "organs": [{"id": "000.00.00.H38", "name": "UBND tỉnh B"}, …]}]
# `secret` is shared by both ends (HMAC-SHA256 of every request, both ways); `organs` are
# the agencies of that installation this one may send to, and the only senders it accepts
# from it. A request's time may differ from ours by at most this many seconds.
TINHSO_DOCUMENT_MAX_BYTES = int(os.environ.get("TINHSO_DOCUMENT_MAX_MB", "20")) * 1024 * 1024
TINHSO_EDXML_MAX_BYTES = int(os.environ.get("TINHSO_EDXML_MAX_MB", "40")) * 1024 * 1024
TINHSO_EDXML_PEERS = json.loads(os.environ.get("TINHSO_EDXML_PEERS", "[]") or "[]")
# This installation's name in its peers' TINHSO_EDXML_PEERS.
TINHSO_EDXML_SELF = os.environ.get("TINHSO_EDXML_SELF", "tinhso")
TINHSO_EDXML_CLOCK_SKEW = int(os.environ.get("TINHSO_EDXML_CLOCK_SKEW", "300"))

# The demo (`make run` turns it on): the demo e-ID shows one-time codes on the page and the
# simulated bank "pays" any VietQR, so anyone can sign in as a registry citizen and mark
# fees paid. Never next to a real identity provider or in production over HTTPS; every
# page says it is on (base.html).
if "TINHSO_SIMULATED_BANK" in os.environ:
    raise ImproperlyConfigured("TINHSO_SIMULATED_BANK was replaced by TINHSO_DEMO=1.")
TINHSO_DEMO = _env_bool("TINHSO_DEMO")

# --- Combinations refused at start-up ------------------------------------------------------
if TINHSO_DEMO and TINHSO_OIDC_ISSUER:
    raise ImproperlyConfigured(
        "TINHSO_DEMO is on next to a real identity provider (TINHSO_OIDC_ISSUER): the demo "
        "e-ID would let anyone sign in as a registry citizen. Turn TINHSO_DEMO off."
    )
if TINHSO_DEMO and TINHSO_HTTPS:
    raise ImproperlyConfigured(
        "TINHSO_DEMO is on in production (TINHSO_HTTPS): the demo e-ID and the simulated bank "
        "must never be served there. Turn TINHSO_DEMO off."
    )
if TINHSO_HTTPS and len(TINHSO_KEY_ENCRYPTION_KEY) < 32:
    raise ImproperlyConfigured(
        "TINHSO_HTTPS is on but TINHSO_KEY_ENCRYPTION_KEY (or _FILE), which encrypts the signing "
        "keys kept in the database, is missing or shorter than 32 characters: set it, the same "
        "on every server (DEPLOY.md)."
    )
if TINHSO_HTTPS and not TINHSO_PUBLIC_URL.startswith("https://"):
    raise ImproperlyConfigured(
        "TINHSO_HTTPS is on but TINHSO_PUBLIC_URL, printed in the QR codes of signed papers, "
        f"is {TINHSO_PUBLIC_URL!r}: set it to the site's https:// address."
    )

# The background-task worker (`tinhso worker`, core.worker) writes a heartbeat every
# TINHSO_WORKER_HEARTBEAT_SECONDS; a worker silent for TINHSO_WORKER_STALE_SECONDS counts as
# dead: the tasks it left running are recovered and /healthz says "degraded". An
# undelivered outbox message older than TINHSO_OUTBOX_MAX_AGE_SECONDS makes it say so too.
TINHSO_WORKER_HEARTBEAT_SECONDS = int(os.environ.get("TINHSO_WORKER_HEARTBEAT_SECONDS", "10"))
TINHSO_WORKER_STALE_SECONDS = int(os.environ.get("TINHSO_WORKER_STALE_SECONDS", "60"))
TINHSO_OUTBOX_MAX_AGE_SECONDS = int(os.environ.get("TINHSO_OUTBOX_MAX_AGE_SECONDS", "900"))
# Every worker chains the audit entries appended since its last run every
# TINHSO_AUDIT_SEAL_SECONDS (core.audit.audit_seal, ADR 0025); one sealer at a time, the
# others skip the run.
TINHSO_AUDIT_SEAL_SECONDS = float(os.environ.get("TINHSO_AUDIT_SEAL_SECONDS", "1"))
# Numbers of registers that allow gaps (dossier codes) are taken on PostgreSQL in a short
# transaction of their own (core.numbering, ADR 0025). Off: in the caller's transaction,
# as gap-free registers are (the test suite turns it off so that its rolled-back tests
# leave no committed numbers behind; the tests of numbering turn it on).
TINHSO_NUMBERING_ASIDE = os.environ.get("TINHSO_NUMBERING_ASIDE", "1") == "1"
# A form, result or receipt not issued this long after its action (ADR 0023) makes it say
# "degraded" too, as does one that failed for good (the admin's "documents to issue").
TINHSO_DOCUMENTS_MAX_AGE_SECONDS = int(os.environ.get("TINHSO_DOCUMENTS_MAX_AGE_SECONDS", "300"))
