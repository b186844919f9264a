"""`make test`: PostgreSQL and Redis on localhost unless told otherwise."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/treasury")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")

from .base import *  # noqa: E402, F403
from .base import CELERY_BEAT_SCHEDULE, DATABASES, REDIS_CACHE_OPTIONS, REDIS_URL, STORAGES, env  # noqa: E402

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only  # noqa: S303
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}  # mail.outbox
# Tests run tasks in-process at commit time; the crash test starts real workers.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_BROKER_URL = REDIS_URL
DATABASES["default"]["CONN_MAX_AGE"] = 0
STORAGES["default"]["OPTIONS"]["location"] = env(
    "PRIVATE_STORAGE_ROOT", default="/tmp/treasury-test-private"  # noqa: S108
)
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
TREASURY_PKI_DIR = env("TREASURY_PKI_DIR", default=STORAGES["default"]["OPTIONS"]["location"] + "/pki")
# xdist workers share one Redis database: each has its own key prefix, and the
# fixtures' cache.clear() deletes only that prefix (RedisCache.clear flushes the db).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "tests.redis_cache.WorkerScopedRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"tp-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}",
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
# The principal cache is exercised by the tests that turn it on (accounts/tests/
# test_principal_cache.py, tests/test_query_counts.py); elsewhere a test sees
# its own writes to memberships at once, whatever way it makes them.
API_PRINCIPAL_CACHE_SECONDS = 0
ACCOUNT_RATE_LIMITS = {"login_failed": "5/5m/ip,5/5m/key", "login": "1000/m/ip"}
CELERY_BEAT_SCHEDULE = CELERY_BEAT_SCHEDULE
# The webhook tests' receiver listens on http://127.0.0.1 (integrations/tests).
WEBHOOKS_ALLOW_HTTP = True
WEBHOOKS_ALLOW_PRIVATE = True
