"""Production gunicorn settings (`gunicorn -c gunicorn.conf.py treasury_portal.wsgi`).

The portal is CPU-bound Python (DRF serialization, the ORM): PostgreSQL and Redis
take a small share of the CPU next to it (shared/design/performance.md). So:
sync workers, about two per core, each holding one persistent database
connection (CONN_MAX_AGE); slow clients are buffered by the reverse proxy in
front, never by a worker. Every value can be overridden from the environment.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# 2 × cores + 1: one worker waiting on the database while the others compute.
# Measured on 2 cores: 4–5 sync workers saturate both cores (docs/scaling.md).
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))  # >1 switches to gthread
# Must stay below the load balancer's idle timeout; uploads are at most 10 MB.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))  # gthread only; sync closes each connection
# Recycle workers now and then so a slow leak never reaches the 200 MB budget;
# the jitter keeps them from restarting all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "500"))
# Import the application once in the master: faster (re)starts, pages shared
# copy-on-write between workers. Django opens no connection at import time.
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() in ("1", "true", "yes")
# The heartbeat file on tmpfs: a worker never blocks on a slow disk (containers).
_SHM = "/dev/shm"  # noqa: S108 - gunicorn's documented choice; only its heartbeat file lives there
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR", _SHM if os.path.isdir(_SHM) else None)
# Behind a TLS-terminating proxy: trust its X-Forwarded-* headers (production.py
# sets SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None  # the proxy logs requests
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
limit_request_line = 8190
limit_request_fields = 100
proc_name = "treasury-portal"


def when_ready(server):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    # With preload_app, finish loading in the master what Django loads lazily
    # on a worker's first request (every app's URL modules, views, serializers,
    # allauth's MFA stack): forked workers share it and a worker recycled by
    # max_requests answers at once instead of spending a second importing.
    if server.cfg.preload_app:
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018 - the import is the point


def post_fork(server, worker):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    # With preload_app the master imported Django: make sure no connection made
    # there (none is expected) is shared with a forked worker.
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.close()
