"""Settings shared by every environment; each value comes from the environment.

The embedded default (no DATABASE_URL, no REDIS_URL) runs on SQLite with tasks
executed in-process, so `make run` works on any machine.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="insecure-local-development-key-only-for-make-run")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "accounts",
    "vouchers",
    "payments",
    "autopay",
    "monitoring",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "treasury_portal.parsers.RawUploadNamesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "treasury_portal.headers.PrivateCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.RequireMFAMiddleware",
    "treasury_portal.pages.ApplicationErrorMiddleware",
]

# The portal's base (treasury_portal: pages, admin site, API) asks the accounts
# app by these names, never by importing it (issue 15's layers: accounts sits above).
PORTAL_ROLE_CHECK = "accounts.selectors.has_role"  # (user, *roles) -> bool
PORTAL_ADMIN_CHECK = "accounts.selectors.is_treasury_admin"  # (user) -> bool
PORTAL_IDEMPOTENCY_MODEL = "accounts.IdempotencyRecord"

# Each app's contribution to the home page: what the signed-in user can act on.
PORTAL_HOME_SECTIONS = [
    "accounts.home.home_section",
    "vouchers.home.home_section",
    "payments.home.home_section",
    "autopay.home.unit_section",
    "autopay.home.treasury_section",
    "monitoring.home.treasury_section",
    "monitoring.dashboard_home.followup_section",
]

# Panels on the voucher page above the decision (vouchers.views): dotted paths
# of functions (request, voucher) -> HTML; vouchers/ knows them only by name.
VOUCHER_PAGE_PANELS = ["monitoring.panels.voucher_alerts"]

ROOT_URLCONF = "treasury_portal.urls"
WSGI_APPLICATION = "treasury_portal.wsgi.application"
ASGI_APPLICATION = "treasury_portal.asgi.application"

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
                "accounts.context_processors.portal",
                "payments.context_processors.notifications",
            ],
            # Money and percentages as people read them: every app's templates and code
            # (treasury_portal.money), so no app reaches into another for them.
            "libraries": {"money": "treasury_portal.money"},
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # One writer at a time: wait for the lock instead of failing at once.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
# Reports (and dashboards) may read from a replica (treasury_portal/db_router.py).
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
# The alias the reports (and dashboards) read from (treasury_portal.db_router.reporting_db).
REPORTS_DATABASE = "replica" if "replica" in DATABASES else "default"
DATABASE_ROUTERS = ["treasury_portal.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")

# Redis down is no 500: treasury_portal/cache.py falls back to this process's
# memory (the calendar is read from the database, the rate limits still limit,
# per process) and logs a warning. Short timeouts: a hung Redis costs a second.
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "treasury_portal.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "tp",
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
else:
    # allauth's rate limits need a real shared cache: the database cache is one.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "portal_cache",
        }
    }

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: administrators create users; no public sign-up.
ACCOUNT_ADAPTER = "accounts.adapters.PortalAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_RATE_LIMITS = {
    "login_failed": "5/5m/ip,5/5m/key",
    "login": "30/m/ip",
    "reset_password": "5/m/ip,5/m/key",
    "reauthenticate": "10/m/user",
}
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Kho bạc Nhà nước"
# One 30-second step of clock drift either way (RFC 6238 §5.2): a code typed
# as it turns over still works; allauth refuses a code used once already.
MFA_TOTP_TOLERANCE = 1
MFA_PASSKEY_LOGIN_ENABLED = False
# The activation form keeps the pending secret for the session (a reload after
# scanning still works) and explains a wrong code in a sentence.
MFA_FORMS = {"activate_totp": "accounts.forms.PortalActivateTOTPForm"}

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Tiếng Việt")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "var" / "staticfiles")))
STORAGES = {
    # Attachments and result documents live outside the web root and are served
    # only through permission-checked views, never by URL.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env("PRIVATE_STORAGE_ROOT", default=str(BASE_DIR / "var" / "private")),
            "base_url": None,
        },
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# The treasury's signing PKI (accounts/pki.py, docs/signing.md): the root CA and
# each office's key and certificate, as files outside the database. Keys are
# encrypted with the passphrase when one is set. Outside production a missing
# key is created on first use; production only signs with installed keys.
TREASURY_PKI_DIR = env("TREASURY_PKI_DIR", default=str(Path(STORAGES["default"]["OPTIONS"]["location"]) / "pki"))
TREASURY_PKI_PASSPHRASE = env("TREASURY_PKI_PASSPHRASE", default="")
TREASURY_PKI_AUTOCREATE = env.bool("TREASURY_PKI_AUTOCREATE", default=True)
# Attachments are at most 10 MB; a body must be readable whole for idempotency hashing.
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = ATTACHMENT_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# E-mail goes through MAILERS (Django 6.1 deprecates EMAIL_BACKEND and the other
# EMAIL_* settings; defining both is an error). The environment variables keep
# their old names, so deployments need no change. Local: printed to the console.
MAILERS = {"default": {"BACKEND": env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")}}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Kho bac Nha nuoc <no-reply@treasury.example>")
# The portal's public address, for links read outside a request (e-mails,
# SMS/push webhooks, the result PDF's QR code): treasury_portal.links.site_url.
# SITE_BASE_URL is its former name, still read.
SITE_URL = (env("SITE_URL", default="") or env("SITE_BASE_URL", default="") or "http://127.0.0.1:8000").rstrip("/")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 8
CSRF_COOKIE_HTTPONLY = False  # htmx reads it to send X-CSRFToken
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Every response: scripts and styles only from the portal's own static files —
# no inline <script>, on*= handler, javascript: URL or style attribute (htmx is
# configured for it in base.html; meters get their width from portal.js). The
# admin and /api/docs/ (Swagger UI from drf-spectacular-sidecar) work under it;
# `data:` images are Swagger UI's icons. A view may set its own (attachments:
# "default-src 'none'; sandbox").
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.permissions.MFAEnrolled",
    ],
    "DEFAULT_SCHEMA_CLASS": "treasury_portal.schema.PortalAutoSchema",
    "EXCEPTION_HANDLER": "treasury_portal.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "treasury_portal.api.PortalPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "treasury_portal.parsers.PortalJSONParser",
        "rest_framework.parsers.FormParser",
        "treasury_portal.parsers.PortalMultiPartParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Treasury online services API",
    "DESCRIPTION": "Public API v1 of the state treasury's online services portal.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the drf-spectacular-sidecar package (static files), not a CDN: /api/docs/ works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Request bodies are JSON (api-contract.md): the schema lists that alone, and the
    # multipart upload of attachments, which declares its own media type.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    # Security schemes come from the authenticators (bearerAuth: accounts.authentication).
    "PREPROCESSING_HOOKS": ["treasury_portal.api.drop_slash_duplicates"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "treasury_portal.api.document_error_responses",
        "treasury_portal.schema_titles.drop_field_titles",
    ],
    # PortalAPIView's docstring is not every endpoint's description.
    "GET_LIB_DOC_EXCLUDES": "treasury_portal.api.lib_doc_excludes",
    # One name per choice set shared by several serializers (else "StatusFb5Enum"
    # and a check --deploy warning).
    "ENUM_NAME_OVERRIDES": {
        "VoucherStatusEnum": "vouchers.models.VoucherStatus",
        "SigningKeyStatusEnum": "accounts.models.SigningKeyStatus",
        "SignerRoleEnum": [("chief_accountant", "chief_accountant"), ("account_holder", "account_holder")],
        "AuthorizationStatusEnum": "autopay.models.AuthorizationStatus",
        "InvoiceStatusEnum": "autopay.models.InvoiceStatus",
        "ExceptionCodeEnum": "autopay.models.ExceptionCode",
        "AlertStatusEnum": "monitoring.models.AlertStatus",
        "AbsenceRoleEnum": [("control_officer", "control_officer"), ("approver", "approver")],
        "ReportKindEnum": "monitoring.reports.models.ReportKind",
        "ReportFormatEnum": "monitoring.reports.models.ReportFormat",
        "ReportExportStatusEnum": "monitoring.reports.models.ExportStatus",
        "WebhookEventTypeEnum": "integrations.models.EventType",
        "WebhookEndpointStatusEnum": "integrations.models.EndpointStatus",
        "WebhookDeliveryStatusEnum": "integrations.models.DeliveryState",
        "FiscalYearCloseStateEnum": "payments.models.FiscalYearCloseState",
        "FollowUpStatusEnum": "monitoring.models.FollowUpStatus",
        "BudgetLevelEnum": "payments.models.BudgetLevel",
        "RevenueSourceEnum": "payments.models.RevenueSource",
        "RevenueRowStatusEnum": [("created", "created"), ("existing", "existing")],
    },
}

# Celery: see docs/architecture.md and shared/design/reliability.md.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
# By default Celery's Django fix-up closes the database connection around every
# task (a new PostgreSQL backend per payment or delivery: ~210 trivial tasks/s on
# 2 cores instead of ~700, performance.md). Reuse it, health-checked like the web's.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
# Longer than any task's time limit, so a running task is never delivered twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Queue names may carry a prefix: the pay-once crash test runs its own worker on
# its own queues of the shared broker.
TASK_QUEUE_PREFIX = env("TASK_QUEUE_PREFIX", default="")
CELERY_TASK_DEFAULT_QUEUE = f"{TASK_QUEUE_PREFIX}default"
CELERY_TASK_ROUTES = {
    "payments.tasks.pay_*": {"queue": f"{TASK_QUEUE_PREFIX}payments"},
    "payments.tasks.sweep_*": {"queue": f"{TASK_QUEUE_PREFIX}payments"},
    "payments.tasks.deliver_*": {"queue": f"{TASK_QUEUE_PREFIX}notifications"},
    "payments.tasks.render_*": {"queue": f"{TASK_QUEUE_PREFIX}documents"},
    "monitoring.reports.tasks.*": {"queue": f"{TASK_QUEUE_PREFIX}documents"},
    "integrations.tasks.*": {"queue": f"{TASK_QUEUE_PREFIX}notifications"},
}
# The notification outbox (payments.services.notifications): a committed
# transition wakes the deliverer at most once per NOTIFICATIONS_WAKE_SECONDS
# (across processes); the beat's sweep drains whatever is due every
# NOTIFICATIONS_SWEEP_SECONDS, the longest a delivery waits.
NOTIFICATIONS_WAKE_SECONDS = env.int("NOTIFICATIONS_WAKE_SECONDS", default=1)
NOTIFICATIONS_SWEEP_SECONDS = env.int("NOTIFICATIONS_SWEEP_SECONDS", default=5)
CELERY_BEAT_SCHEDULE = {
    "sweep-payment-intents": {"task": "payments.tasks.sweep_payment_intents", "schedule": timedelta(minutes=1)},
    "sweep-notifications": {
        "task": "payments.tasks.sweep_notifications", "schedule": timedelta(seconds=NOTIFICATIONS_SWEEP_SECONDS),
    },
    # Documents render on first download; the archive's rest is rendered off-peak.
    "sweep-documents": {"task": "payments.tasks.sweep_documents", "schedule": crontab(minute="*/10", hour="0-5")},
    "purge-idempotency-keys": {"task": "accounts.tasks.purge_idempotency_keys", "schedule": timedelta(hours=6)},
    # Autopay: a run every 10 minutes, its batches fanned out to AUTOPAY_WORKERS tasks.
    "sweep-autopay": {"task": "payments.tasks.sweep_autopay", "schedule": timedelta(minutes=10)},
    # Risk monitoring: the rules on the vouchers with new events, then nightly over everything open.
    "monitoring-evaluate": {"task": "monitoring.tasks.evaluate_new_events", "schedule": timedelta(minutes=1)},
    "monitoring-sweep": {"task": "monitoring.tasks.sweep_alerts", "schedule": crontab(minute=15, hour=1)},
    # The leader dashboard's per-day figures (monitoring.daily): the days touched by new voucher events
    # every minute (the dashboard's figures are as of then), the last 35 days again nightly.
    "dashboard-figures-refresh": {
        "task": "monitoring.tasks.refresh_dashboard_figures", "schedule": timedelta(minutes=1),
    },
    "dashboard-figures-recompute": {
        "task": "monitoring.tasks.recompute_dashboard_figures", "schedule": crontab(minute=45, hour=1),
    },
    # Report exports whose task was lost (the broker was down at commit) are queued again.
    "sweep-report-exports": {"task": "monitoring.tasks.sweep_report_exports", "schedule": timedelta(minutes=5)},
    # Integrator webhooks (integrations/, docs/webhooks.md): the event rows after the cursors become
    # deliveries; the deliverer sends what is due (retries on its back-off schedule).
    "webhooks-collect": {"task": "integrations.tasks.collect_webhook_events", "schedule": timedelta(seconds=10)},
    "webhooks-deliver": {"task": "integrations.tasks.deliver_webhooks", "schedule": timedelta(seconds=10)},
    # A "dissatisfied" rating opens a follow-up for the office's leaders.
    "monitoring-satisfaction-followups": {
        "task": "monitoring.tasks.open_satisfaction_followups", "schedule": timedelta(minutes=1),
    },
    # Overdue and near-due vouchers escalate to their offices' leaders (once each).
    "escalate-due-vouchers": {"task": "vouchers.tasks.escalate_due_vouchers", "schedule": timedelta(minutes=15)},
    # Year end: a close whose task was lost is queued again (payments.services.yearend).
    "sweep-fiscal-year-closes": {"task": "payments.tasks.sweep_fiscal_year_closes", "schedule": timedelta(minutes=5)},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

IDEMPOTENCY_KEY_TTL = timedelta(hours=48)
# The API's principal (a Bearer token's user, whether it has TOTP, its
# memberships) is kept this many seconds in the cache, keyed by the token's
# digest, so most calls read neither the token nor the memberships (two
# statements each). Revoking a token, changing a membership, a user, an
# organisation or a second factor deletes the entries at once (and again at
# commit); this is the longest anything else could serve a stale principal
# (accounts.authentication). 0 turns it off; off without Redis (the database
# cache would cost the query it saves).
API_PRINCIPAL_CACHE_SECONDS = env.int("API_PRINCIPAL_CACHE_SECONDS", default=15 if REDIS_URL else 0)
# In front of that shared cache, each process keeps its own copy of a principal
# this many seconds (accounts.services.LocalPrincipals): a token's repeat calls
# cost no Redis round-trip. What deletes an entry (revoking a token, a
# membership…) drops the copy of the process that made the change at once and
# those of the other processes within this time; never longer than
# API_PRINCIPAL_CACHE_SECONDS. 0 turns the copies off.
API_PRINCIPAL_LOCAL_SECONDS = env.float("API_PRINCIPAL_LOCAL_SECONDS", default=1.0)

# Integrator webhooks (docs/webhooks.md). Plain http:// and private-network
# addresses (loopback, RFC 1918, link-local…) are refused unless DEBUG or these
# say otherwise (SSRF); production leaves them off.
WEBHOOKS_ALLOW_HTTP = env.bool("WEBHOOKS_ALLOW_HTTP", default=DEBUG)
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=DEBUG)
WEBHOOKS_TIMEOUT = env.float("WEBHOOKS_TIMEOUT", default=5.0)
WEBHOOKS_DISABLE_AFTER_DELIVERIES = 10  # deliveries failed for good in a row
WEBHOOKS_DISABLE_AFTER = timedelta(hours=24)  # or failing (no success) for this long

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Pluggable SMS/push channel: "log" (default) or "webhook" (HMAC-signed POST).
SMS_BACKEND = env("SMS_BACKEND", default="payments.channels.LoggingSmsBackend")
SMS_WEBHOOK_URL = env("SMS_WEBHOOK_URL", default="")
SMS_WEBHOOK_SECRET = env("SMS_WEBHOOK_SECRET", default="")

# Payments (docs/ledger.md): a claimed intent whose worker has not finished in
# this time is taken again by the sweeper (the payment itself is one
# transaction, so a dead worker left nothing half-done).
PAYMENT_INTENT_STALE_SECONDS = env.int("PAYMENT_INTENT_STALE_SECONDS", default=300)
# An approval wakes the voucher payment batches (payments.tasks.pay_intents) at most once per
# PAYMENTS_WAKE_SECONDS across processes (the intent row is the outbox; the beat's
# sweep-payment-intents settles what is left every minute); PAYMENTS_BATCH_SIZE intents per transaction.
PAYMENTS_WAKE_SECONDS = env.int("PAYMENTS_WAKE_SECONDS", default=1)
PAYMENTS_BATCH_SIZE = env.int("PAYMENTS_BATCH_SIZE", default=100)
# Test hook of the pay-once crash test: seconds the worker waits inside the
# payment transaction before committing. Always 0 outside that test.
PAYMENTS_CRASH_TEST_DELAY = env.float("PAYMENTS_CRASH_TEST_DELAY", default=0.0)

# Autopay (autopay/services.py): invoices per batch transaction, batch
# tasks per scheduled run (one per worker process), seconds a batch task works
# before it queues itself again (below CELERY_TASK_SOFT_TIME_LIMIT).
AUTOPAY_BATCH_SIZE = env.int("AUTOPAY_BATCH_SIZE", default=500)
AUTOPAY_WORKERS = env.int("AUTOPAY_WORKERS", default=2)
AUTOPAY_TASK_SECONDS = env.int("AUTOPAY_TASK_SECONDS", default=180)
# A run's lease: every batch refreshes its heartbeat; a run silent for longer
# (its worker was killed) is finished as `abandoned` by the next scheduled start,
# which then starts a new run. Far above one batch (~0.3 s for 500 invoices).
AUTOPAY_RUN_LEASE = env.int("AUTOPAY_RUN_LEASE", default=300)

DEMO_PASSWORD = env("DEMO_PASSWORD", default="demo-Password-2026")
BENCHMARK_ENDPOINTS = False
