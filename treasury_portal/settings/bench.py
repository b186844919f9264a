"""`make bench`: production-like (DEBUG off) on localhost, plus the ceiling endpoint."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/treasury_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")

from .base import *  # noqa: E402, F403

DEBUG = False
BENCHMARK_ENDPOINTS = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # seeded users only  # noqa: S303
