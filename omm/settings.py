"""OMM settings: one file, every knob read from the environment through typed helpers.

With no DATABASE_URL / REDIS_URL the platform runs embedded (SQLite, a file cache and an
on-disk Celery broker under OMM_DATA_DIR). With them it runs on PostgreSQL and Redis.
A malformed variable stops start-up with a message that names it.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false/1/0), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be >= {minimum}, got {value}")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be >= {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_url(name: str, schemes: set[str]) -> str:
    raw = env_str(name)
    if raw and urlparse(raw).scheme not in schemes:
        allowed = ", ".join(sorted(schemes))
        raise ImproperlyConfigured(f"{name} must be a URL with scheme {allowed}; got {raw!r}")
    return raw


# --- Paths ------------------------------------------------------------------------------
# Everything the platform writes on its own disk lives under DATA_DIR (git-ignored).
DATA_DIR = Path(env_str("OMM_DATA_DIR") or BASE_DIR / "var").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

# --- Core -------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
DATABASE_URL = env_url("DATABASE_URL", {"postgres", "postgresql", "sqlite"})
REDIS_URL = env_url("REDIS_URL", {"redis", "rediss"})


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        if len(key) < 50:
            raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long")
        return key
    # Embedded/local use: a random key generated once and kept beside the data.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()


def _secrets_keys() -> list[str]:
    """Fernet keys of the secret settings at rest: OMM_SECRETS_KEY, comma-separated (the first
    encrypts, every one decrypts), else one generated once beside the data, as SECRET_KEY."""
    from cryptography.fernet import Fernet

    keys = env_list("OMM_SECRETS_KEY", [])
    if not keys:
        path = DATA_DIR / "secrets_key"
        if not path.exists():
            # Written whole under a private name, then linked in: a concurrent start-up either
            # wins or reads the winner's key, never a half-written file.
            part = DATA_DIR / f"secrets_key.{os.getpid()}.part"
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(Fernet.generate_key().decode())
            try:
                os.link(part, path)
            except FileExistsError:
                pass
            except OSError:  # a file system without hard links
                os.replace(part, path)
            finally:
                part.unlink(missing_ok=True)
        keys = [path.read_text().strip()]
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ImproperlyConfigured(
                f"OMM_SECRETS_KEY: key {number} is not a Fernet key (32 url-safe base64-encoded bytes; "
                "make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from None
    return keys


OMM_SECRETS_KEYS = _secrets_keys()
# Model artifacts are HMAC-signed with this key (derived from SECRET_KEY when unset).
OMM_ARTIFACT_KEY = env_str("OMM_ARTIFACT_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# HTTPS hardening: on for any deployment that terminates TLS in front of OMM.
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Take the client IP from X-Forwarded-For only behind a proxy we trust.
TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_FOR", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_prometheus",
    "axes",
    "auditlog",  # the governance trail's rows (apps.core.trail)
    "apps.core",
    "apps.users",
    "apps.datasets",
    "apps.features",
    "apps.models",
    "apps.tasks",
    "apps.evaluations",
    "apps.alerts",
    "apps.monitoring",
    "apps.qa",
    "apps.overview",  # gathers from the domains above: the dashboard and the demo
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Language: the cookie set by the top bar's switch, then Accept-Language, then LANGUAGE_CODE.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in user's remembered language wins over the browser's on the web pages.
    "apps.users.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.middleware.ApiAuditMiddleware",
    "apps.core.middleware.TrailMiddleware",
    "apps.core.middleware.ApplicationErrorMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "omm.urls"
WSGI_APPLICATION = "omm.wsgi.application"
AUTH_USER_MODEL = "users.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

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
                "apps.core.context_processors.navigation",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
_SQLITE_OPTIONS = {
    # WAL lets the web, worker and beat processes read while one of them writes.
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
}


def _database() -> dict:
    if not DATABASE_URL:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "omm.sqlite3",
            "OPTIONS": _SQLITE_OPTIONS,
            "TEST": {"NAME": str(DATA_DIR / "test.sqlite3")},
        }
    import dj_database_url

    try:
        config = dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
            conn_health_checks=True,
        )
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = _SQLITE_OPTIONS
        config["CONN_MAX_AGE"] = 0
    elif not config.get("NAME"):
        raise ImproperlyConfigured("DATABASE_URL must name a database, e.g. postgres://host/omm")
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------------------
# Redis is an optimisation on the request paths (cached answers, counters, throttles):
# when it stops answering, a request pays at most these timeouts once, then the cache is
# skipped for OMM_CACHE_BREAKER_SECONDS in that process (apps.core.breaker) and answers
# come from the database and the process.
REDIS_CONNECT_TIMEOUT = env_float("REDIS_CONNECT_TIMEOUT", 0.05, minimum=0.001)
REDIS_SOCKET_TIMEOUT = env_float("REDIS_SOCKET_TIMEOUT", 0.1, minimum=0.001)
OMM_CACHE_BREAKER_SECONDS = env_float("OMM_CACHE_BREAKER_SECONDS", 5.0, minimum=0.0)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "apps.core.cache_backend.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "omm"),
            "OPTIONS": {
                "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
            },
        }
    }
else:
    # A file cache is shared by the web, worker and beat processes; a memory cache is not.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": DATA_DIR / "cache",
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "omm"),
        }
    }

# --- Files ------------------------------------------------------------------------------
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or DATA_DIR / "media")
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where uploads, artifacts and prediction files live: "filesystem" (MEDIA_ROOT; share it
# between hosts with a network mount) or "s3", a bucket every host reaches (apps.core.storage).
OMM_STORAGE = env_str("OMM_STORAGE", "filesystem").lower()


def _media_storage() -> dict:
    if OMM_STORAGE == "filesystem":
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if OMM_STORAGE != "s3":
        raise ImproperlyConfigured(f"OMM_STORAGE must be filesystem or s3, got {OMM_STORAGE!r}")
    bucket = env_str("OMM_S3_BUCKET")
    if not bucket:
        raise ImproperlyConfigured("OMM_STORAGE=s3 needs OMM_S3_BUCKET (the bucket's name)")
    endpoint = env_url("OMM_S3_ENDPOINT_URL", {"http", "https"})
    style = env_str("OMM_S3_ADDRESSING_STYLE", "path" if endpoint else "auto")
    if style not in {"auto", "path", "virtual"}:
        raise ImproperlyConfigured(f"OMM_S3_ADDRESSING_STYLE must be auto, path or virtual, got {style!r}")
    acl = env_str("OMM_S3_ACL")
    if acl not in {"", "private", "bucket-owner-full-control"}:
        raise ImproperlyConfigured(
            "OMM_S3_ACL must be empty (the bucket's default), private or bucket-owner-full-control; "
            f"got {acl!r}"
        )
    # Credentials only from the environment (else boto3's own chain: instance role, ~/.aws).
    return {
        "BACKEND": "apps.core.storage.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint or None,
            "region_name": env_str("OMM_S3_REGION") or None,
            "access_key": env_str("OMM_S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("OMM_S3_SECRET_ACCESS_KEY") or None,
            "location": env_str("OMM_S3_PREFIX").strip("/"),
            "addressing_style": style,
            "default_acl": acl or None,
            "connect_timeout": env_float("OMM_S3_CONNECT_TIMEOUT", 5.0, minimum=0.1),
            "max_attempts": env_int("OMM_S3_MAX_ATTEMPTS", 3, minimum=1),
        },
    }


STORAGES = {
    "default": _media_storage(),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024, minimum=1024)
# Largest file accepted by any upload endpoint (datasets, model artifacts).
OMM_MAX_UPLOAD_BYTES = env_int("OMM_MAX_UPLOAD_BYTES", 512 * 1024 * 1024, minimum=1024)

# --- Auth -------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lock an account+IP pair out after repeated failures (admin, web login and API tokens).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "apps.users.lockout.lockout_response"
AXES_IPWARE_PROXY_COUNT = 1 if TRUST_X_FORWARDED_FOR else None
AXES_VERBOSE = False

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7, minimum=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": SECRET_KEY,
    "TOKEN_OBTAIN_SERIALIZER": "apps.users.authentication.RoleTokenObtainPairSerializer",
}

# --- API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Deny by default: every endpoint needs a user holding the model permission.
    "DEFAULT_PERMISSION_CLASSES": ["apps.users.permissions.RoleModelPermissions"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.StandardPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "apps.core.api.filters.StrictFilterBackend",
        "rest_framework.filters.SearchFilter",
        "apps.core.api.filters.StrictOrderingFilter",
    ],
    "ORDERING_PARAM": "ordering",
    "DEFAULT_RENDERER_CLASSES": ["apps.core.api.renderers.OMMJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "djangorestframework_camel_case.parser.CamelCaseJSONParser",
        "djangorestframework_camel_case.parser.CamelCaseFormParser",
        "djangorestframework_camel_case.parser.CamelCaseMultiPartParser",
    ],
    "EXCEPTION_HANDLER": "apps.core.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"login": env_str("LOGIN_THROTTLE_RATE", "20/min")},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Values under these keys are data keyed by feature names: never re-cased.
    "JSON_UNDERSCOREIZE": {
        "no_underscore_before_number": True,
        "ignore_fields": (
            *("records", "record", "inputs", "categorical_levels", "categoricalLevels"),
            # Keyed by bank-record issue kinds and field names (machine codes, as ?kind= takes them).
            *("problemsByKind", "warningsByKind", "fieldColumns"),
            # The governance trail's values before and after a change: data, as stored.
            *("before", "after"),
        ),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "OMM API",
    "DESCRIPTION": (
        "Offline model platform: datasets, features, training tasks, model registry, "
        "evaluations and bank clearing-code QA. JSON is camelCase; lists answer "
        "{data, total, page, pageSize}; writes answer {success, data, message}; every "
        "failure answers the Error schema."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "drf_spectacular.contrib.djangorestframework_camel_case.camelize_serializer_fields",
        "apps.core.api.schema.envelope_hook",
    ],
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "apps.users.models.Role",
        "ValueTypeEnum": "apps.core.models.ValueType",
        "ProcessKindEnum": "apps.core.models.ProcessKind",
        "DatasetKindEnum": "apps.datasets.models.DatasetKind",
        "DatasetStatusEnum": "apps.datasets.models.DatasetStatus",
        "FeatureTypeEnum": "apps.features.models.FeatureType",
        "TaskTypeEnum": "apps.tasks.models.TaskType",
        "TaskStatusEnum": "apps.tasks.models.TaskStatus",
        "EngineEnum": "apps.tasks.engines.ENGINES",
        "ModelTypeEnum": "apps.models.models.ModelType",
        "ModelStatusEnum": "apps.models.models.ModelStatus",
        "ModelVersionStatusEnum": "apps.models.models.VersionStatus",
        "EvaluationStatusEnum": "apps.evaluations.models.EvaluationStatus",
        "EvaluationObjectiveEnum": "apps.evaluations.models.Objective",
        "ObjectiveEnum": "apps.models.training.OBJECTIVES",
    },
}

# --- Celery -----------------------------------------------------------------------------
QUEUES = ("default", "training", "evaluation", "prediction", "ingestion")
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 3300, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 3600, minimum=1)
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 4200, minimum=1)
if not CELERY_TASK_SOFT_TIME_LIMIT < CELERY_TASK_TIME_LIMIT < CELERY_VISIBILITY_TIMEOUT:
    # A task outliving the visibility timeout would be delivered to a second worker.
    raise ImproperlyConfigured(
        "CELERY_TASK_SOFT_TIME_LIMIT < CELERY_TASK_TIME_LIMIT < CELERY_VISIBILITY_TIMEOUT must "
        f"hold; got {CELERY_TASK_SOFT_TIME_LIMIT}, {CELERY_TASK_TIME_LIMIT}, "
        f"{CELERY_VISIBILITY_TIMEOUT}"
    )

# How long a publish may wait on the broker before the request answers queue_unavailable
# (workers keep reconnecting on their own, with Celery's defaults).
CELERY_BROKER_CONNECT_TIMEOUT = env_float("CELERY_BROKER_CONNECT_TIMEOUT", 0.5, minimum=0.01)
CELERY_BROKER_SOCKET_TIMEOUT = env_float("CELERY_BROKER_SOCKET_TIMEOUT", 2.0, minimum=0.01)
CELERY_BROKER_CONNECTION_TIMEOUT = CELERY_BROKER_CONNECT_TIMEOUT
# One quick retry of a failed publish (Celery's default is three, each after reconnecting).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": env_int("CELERY_PUBLISH_MAX_RETRIES", 1, minimum=0),
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        # Ten priority levels, served highest first (task priorities map onto them).
        "queue_order_strategy": "priority",
        "priority_steps": list(range(10)),
        "sep": ":",
        # A publish to a dead broker fails fast, so a request that queues work answers 503
        # queue_unavailable in about a second instead of holding a web worker.
        "socket_connect_timeout": CELERY_BROKER_CONNECT_TIMEOUT,
        "socket_timeout": CELERY_BROKER_SOCKET_TIMEOUT,
    }
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = CELERY_BROKER_CONNECT_TIMEOUT
    CELERY_REDIS_SOCKET_TIMEOUT = CELERY_BROKER_SOCKET_TIMEOUT
else:
    _broker_dir = DATA_DIR / "broker"
    for _sub in ("queue", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    (DATA_DIR / "celery-results").mkdir(exist_ok=True)
    CELERY_RESULT_BACKEND = f"file://{DATA_DIR / 'celery-results'}"

CELERY_TASK_QUEUES = [Queue(name, routing_key=name) for name in QUEUES]
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_DEFAULT_PRIORITY = 5
# Each domain's work goes to its own queue so a long training never starves ingestion.
CELERY_TASK_ROUTES = {
    "apps.datasets.tasks.*": {"queue": "ingestion"},
    "apps.models.tasks.run_training": {"queue": "training"},
    "apps.qa.tasks.run_build": {"queue": "training"},
    "apps.qa.tasks.run_evaluation": {"queue": "evaluation"},
    "apps.evaluations.tasks.*": {"queue": "evaluation"},
    "apps.models.tasks.*": {"queue": "prediction"},
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Seconds between liveness rows written by each worker and beat; /health reads them.
OMM_HEARTBEAT_SECONDS = env_int("OMM_HEARTBEAT_SECONDS", 10, minimum=1)
# API audit rows are buffered per process and written in batches by a background thread
# every this many seconds (and at exit); 0 writes each row in its request (apps.core.audit).
OMM_AUDIT_BUFFER_SECONDS = env_int("OMM_AUDIT_BUFFER_SECONDS", 1, minimum=0)

# The governance trail (apps.core.trail): before/after kept as JSON values, fixtures loaded
# raw (loaddata) recorded as nothing.
AUDITLOG_STORE_JSON_CHANGES = True
AUDITLOG_DISABLE_ON_RAW_SAVE = True

# --- Scaling out (apps.tasks.engines) --------------------------------------------------
# The Dask scheduler the dask engine uses (tcp://host:8786); unset: a LocalCluster per task.
DASK_SCHEDULER_ADDRESS = env_str("DASK_SCHEDULER_ADDRESS")
DASK_CONNECT_TIMEOUT = env_float("DASK_CONNECT_TIMEOUT", 10.0, minimum=0.1)
DASK_LOCAL_WORKERS = env_int("DASK_LOCAL_WORKERS", 2, minimum=1)
# Minutes a LightGBM worker waits on a silent peer before giving up (LightGBM's time_out):
# a Dask worker that dies mid-training fails the training instead of hanging it.
DASK_LIGHTGBM_TIMEOUT_MINUTES = env_int("DASK_LIGHTGBM_TIMEOUT_MINUTES", 2, minimum=1)

# --- Platform ---------------------------------------------------------------------------
# Networks allowed to scrape /metrics without logging in (staff users always may).
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", ["127.0.0.1/32", "::1/128"])

# --- I18N -------------------------------------------------------------------------------
# Chinese first: the users are the risk and data teams of Chinese banks; English is one
# click away (the top bar), and API clients choose with Accept-Language.
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
if LANGUAGE_CODE not in dict(LANGUAGES):
    _choices = ", ".join(dict(LANGUAGES))
    raise ImproperlyConfigured(f"LANGUAGE_CODE must be one of {_choices}, not {LANGUAGE_CODE!r}")
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "omm_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
CELERY_TIMEZONE = TIME_ZONE
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    "loggers": {"axes": {"level": "WARNING"}},
}
CSRF_FAILURE_VIEW = "apps.core.views.csrf_failure"
