"""`make bench`: production-like (DEBUG off) on localhost, plus the ceiling endpoints.

Everything that decides performance is as in production (base.py: persistent
connections with health checks, the full middleware stack, Redis cache and
broker); the differences are only what a benchmark on one machine needs:
the ceiling endpoints, a fast password hasher for the seeded users, e-mail that
goes nowhere (the outbox machinery is measured, not an SMTP server) and quieter
logs (set LOG_LEVEL to override).
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/treasury_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from .base import *  # noqa: E402, F403
from .base import env  # noqa: E402

DEBUG = False
BENCHMARK_ENDPOINTS = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # seeded users only  # noqa: S303
MAILERS = {"default": {"BACKEND": env("EMAIL_BACKEND", default="django.core.mail.backends.dummy.EmailBackend")}}
# CELERY_DB_REUSE_MAX comes from base.py, as in production.
