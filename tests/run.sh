#!/usr/bin/env bash
# `make test`: the whole suite against PostgreSQL and Redis when reachable.
# In CI (CI=true) nothing may be skipped: a missing service is a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
skipped=()

pg_ok() { $BIN/python -c "import psycopg2; psycopg2.connect(host='127.0.0.1', port=5432, user='postgres', dbname='postgres', connect_timeout=3).close()" 2>/dev/null; }
redis_ok() { $BIN/python -c "import redis; redis.Redis(host='127.0.0.1', port=6379, socket_connect_timeout=2).ping()" 2>/dev/null; }

if [ -z "${DATABASE_URL:-}" ]; then
  if pg_ok; then export DATABASE_URL="postgres://postgres@127.0.0.1:5432/treasury"
  elif [ "${CI:-}" = "true" ]; then echo "PostgreSQL is not reachable on 127.0.0.1:5432: CI needs it." >&2; exit 1
  else export DATABASE_URL="sqlite:///$(pwd)/var/test.sqlite3"; skipped+=("PostgreSQL not reachable: ran on SQLite; PostgreSQL-only tests (races, constraints under concurrency) skipped"); fi
fi
if [ -z "${REDIS_URL+x}" ]; then
  if redis_ok; then export REDIS_URL="redis://127.0.0.1:6379/15"
  elif [ "${CI:-}" = "true" ]; then echo "Redis is not reachable on 127.0.0.1:6379: CI needs it." >&2; exit 1
  else export REDIS_URL=""; skipped+=("Redis not reachable: tests that need a broker or Redis cache skipped"); fi
fi
if [ -z "${CHROMIUM_PATH:-}" ]; then
  for c in /usr/bin/chromium /usr/bin/chromium-browser; do [ -x "$c" ] && export CHROMIUM_PATH="$c" && break; done
fi
if [ -z "${CHROMIUM_PATH:-}" ]; then
  if [ "${CI:-}" = "true" ]; then echo "Chromium is missing (apt-get install chromium): CI runs the browser tests." >&2; exit 1; fi
  skipped+=("Chromium not installed: browser tests skipped (apt-get install -y chromium)")
fi
mkdir -p var/staticfiles

echo "== ruff"
$BIN/ruff check . || exit 1
echo "== lint-imports (the apps' layers, pyproject.toml [tool.importlinter]; docs/architecture.md)"
$BIN/lint-imports --no-cache || { echo "A lower app imports a higher one: see the broken contract above." >&2; exit 1; }
echo "== manage.py check --deploy (production settings) runs inside the suite"
echo "== pytest (database: ${DATABASE_URL%%://*}, redis: ${REDIS_URL:-none}, chromium: ${CHROMIUM_PATH:-none})"
# tests.xdist_groups: makes --dist loadgroup honour xdist_group marks under pytest 9.
$BIN/python -m pytest -p tests.xdist_groups -n "${PYTEST_WORKERS:-2}" --dist loadgroup "$@"
rc=$?
if [ ${#skipped[@]} -gt 0 ]; then
  echo; echo "NOT RUN on this machine:"; for s in "${skipped[@]}"; do echo "  - $s"; done
fi
exit $rc
