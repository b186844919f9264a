"""The processes the benchmark starts and always stops: gunicorn and a Celery
worker, each in its own process group; and the peak-RSS sampler that watches them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

from bench.config import ROOT, SETTINGS, STATE_DIR

PYTHON = sys.executable
BIN = Path(PYTHON).parent


def bench_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "LOG_LEVEL": env.get("LOG_LEVEL", "WARNING"),
            "PYTHONUNBUFFERED": "1",
            "PRIVATE_STORAGE_ROOT": str(STATE_DIR / "private"),
        }
    )
    env.update(extra)
    return env


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def reset_database(url: str) -> None:
    """Drop and create the benchmark's own database. Refuses any name without
    "bench" in it, so a mistyped DATABASE_URL never drops someone's data."""
    import psycopg2

    name = database_name(url)
    if "bench" not in name or not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing to reset database {name!r}: the benchmark's database name must contain 'bench'")
    parts = urlsplit(url)
    admin = psycopg2.connect(
        host=parts.hostname or "127.0.0.1", port=parts.port or 5432, user=parts.username or "postgres",
        password=parts.password or None, dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def flush_redis(url: str) -> None:
    import redis

    if urlsplit(url).path.strip("/") in ("", "0"):
        raise SystemExit("refusing to flush Redis database 0: give the benchmark its own REDIS_URL database")
    redis.Redis.from_url(url).flushdb()


def manage(env: dict[str, str], *args: str, log: Path | None = None) -> None:
    out = open(log, "a") if log else None  # noqa: SIM115 - closed below
    try:
        subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=out, stderr=out)  # noqa: S603
    finally:
        if out:
            out.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Managed:
    """A subprocess in its own session; stop() ends its whole process group."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.log_path = log
        self._log = open(log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            args, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(5)
        # Children that outlived their parent (same group) are ended too.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._log.close()

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_gunicorn(env: dict[str, str], port: int, log: Path, workers: int | None = None) -> Managed:
    genv = dict(env, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_LOGLEVEL="warning")
    if workers:
        genv["GUNICORN_WORKERS"] = str(workers)
    server = Managed(
        "web",
        [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "treasury_portal.wsgi:application"],
        genv, log,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"gunicorn exited:\n{server.tail()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:  # noqa: S310
                if resp.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"gunicorn did not answer /healthz within 60 s:\n{server.tail()}")


def start_worker(env: dict[str, str], log: Path, concurrency: int = 2) -> Managed:
    worker = Managed(
        "worker",
        [str(BIN / "celery"), "-A", "treasury_portal", "worker", "-Q", "payments,notifications,documents,default",
         f"--concurrency={concurrency}", "--pool=prefork", "--loglevel=WARNING", "--without-gossip",
         "--without-mingle", "-n", f"bench-{os.getpid()}@%h"],
        env, log,
    )
    from treasury_portal.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not worker.alive():
            raise RuntimeError(f"celery worker exited:\n{worker.tail()}")
        if app.control.ping(destination=[f"bench-{os.getpid()}@{socket.gethostname()}"], timeout=1.0):
            return worker
    worker.stop()
    raise RuntimeError(f"celery worker did not answer a ping within 60 s:\n{worker.tail()}")


class RssSampler:
    """Samples the resident memory of every process of the watched groups (every
    0.25 s, in a thread) and keeps each group's peak per worker process."""

    def __init__(self) -> None:
        self.watched: dict[str, int] = {}
        self.peaks: dict[str, dict[str, float]] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def watch(self, label: str, pid: int) -> None:
        self.watched[label] = pid
        self._thread.is_alive() or self._thread.start()

    def reset(self) -> None:
        with self._lock:
            self.peaks = {}

    def snapshot(self) -> dict[str, dict[str, float]]:
        with self._lock:
            return {k: dict(v) for k, v in self.peaks.items()}

    def _loop(self) -> None:
        while not self._stop.wait(0.25):
            for label, pid in list(self.watched.items()):
                try:
                    parent = psutil.Process(pid)
                    children = parent.children(recursive=True)
                    parent_rss = parent.memory_info().rss
                    child_rss = [c.memory_info().rss for c in children]
                except psutil.Error:
                    continue
                with self._lock:
                    peak = self.peaks.setdefault(label, {"parent_mb": 0.0, "child_mb": 0.0, "children": 0})
                    peak["parent_mb"] = max(peak["parent_mb"], round(parent_rss / 2**20, 1))
                    if child_rss:
                        peak["child_mb"] = max(peak["child_mb"], round(max(child_rss) / 2**20, 1))
                    peak["children"] = max(peak["children"], len(child_rss))

    def stop(self) -> None:
        self._stop.set()


def cpu_times(pids: list[int]) -> float:
    """User+system CPU seconds of these processes and their children so far,
    the children that have exited included: gunicorn recycles a worker after
    `max_requests` and the Celery pool may replace a process, and a live-only
    sum would then fall (negative CPU per request). A reaped child's time is
    in its parent's children_user/children_system."""
    total = 0.0
    for pid in pids:
        try:
            p = psutil.Process(pid)
            for q in [p, *p.children(recursive=True)]:
                t = q.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            continue
    return total


def db_backend_cpu(dsn: str) -> dict[int, float]:
    """CPU seconds so far of every PostgreSQL backend connected to the benchmark's
    database (the servers' persistent connections), by pid."""
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            pids = [r[0] for r in cur.fetchall()]
    finally:
        conn.close()
    out = {}
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            out[pid] = t.user + t.system
        except psutil.Error:
            continue
    return out


def describe_machine() -> dict[str, Any]:
    load1, load5, _ = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "loadavg_1m_at_start": round(load1, 2),
        "loadavg_5m_at_start": round(load5, 2),
        "python": sys.version.split()[0],
    }
