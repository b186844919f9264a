"""The processes the benchmark starts and always stops: gunicorn and a Celery
worker, each in its own process group; the peak-RSS sampler that watches them;
and the CPU sampler of their process trees and of PostgreSQL's backends."""

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


def describe_machine() -> dict[str, Any]:
    load1, load5, _ = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "loadavg_1m_at_start": round(load1, 2),
        "loadavg_5m_at_start": round(load5, 2),
        "python": sys.version.split()[0],
    }


# --- CPU of process trees, sampled continuously ------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[float, float, int] | None:
    """(own CPU s, reaped children's CPU s, start time in ticks) of a process from
    /proc/<pid>/stat, or None if it is gone. utime+stime are its own; cutime+cstime
    its children's that it has waited for (exited and reaped)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2:].split()  # after "pid (comm) ": field 3 (state) is index 0
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime) / CLOCK_TICKS, (cutime + cstime) / CLOCK_TICKS, int(fields[19])


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return psutil_children(pid)


def psutil_children(pid: int) -> list[int]:
    try:
        return [c.pid for c in psutil.Process(pid).children()]
    except psutil.Error:
        return []


def _title(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def postgres_kind(title: str, database: str) -> str | None:
    """What a PostgreSQL child process is, from its process title
    (update_process_title, on by default): "ours" — a backend connected to the
    benchmark's database (client or autovacuum worker), "other" — a backend of
    another database, "background" — checkpointer, WAL writer, background
    writer, launchers; None while the title does not say yet (a forked backend
    keeps the postmaster's command line until it has read its startup packet)."""
    if not title.startswith("postgres:"):
        return None
    words = title.split()[1:]
    if words and words[0].endswith(":"):  # cluster_name, e.g. "postgres: 15/main: …"
        words = words[1:]
    if not words:
        return None
    if words[0] == "autovacuum" and len(words) >= 3 and words[1] == "worker":
        return "ours" if words[2] == database else "other"
    if len(words) >= 3 and ("(" in words[2] or words[2] == "[local]"):  # user database host(port) …
        return "ours" if words[1] == database else "other"
    return "background"


class _Tree:
    """One process tree's CPU between begin() and end(): the root's own CPU, every
    child seen (its last sampled value kept after it exits) and the CPU of the
    children the root has reaped (cutime + cstime), which holds whatever the
    samples missed: the last moments of a child that exited, and children that
    started and ended between two samples."""

    def __init__(self, pid: int, classify: Any = None) -> None:
        self.pid = pid
        self.classify = classify  # title -> kind, None for "one kind"
        self.reset()

    def reset(self) -> None:
        root = _stat(self.pid) or (0.0, 0.0, 0)
        self.root0 = root
        self.root1 = root
        # (pid, start time) -> [kind, cpu at begin (0 for a child born since), last cpu, alive]
        self.kids: dict[tuple[int, int], list[Any]] = {}
        self.sample(begin=True)

    def sample(self, begin: bool = False) -> None:
        root = _stat(self.pid)
        if root is not None:
            self.root1 = root
        alive = set()
        for pid in _children(self.pid):
            st = _stat(pid)
            if st is None:
                continue
            own, reaped, start = st
            key = (pid, start)
            alive.add(key)
            kid = self.kids.get(key)
            if kid is None:
                kind = self.classify(_title(pid)) if self.classify else "ours"
                kid = self.kids[key] = [kind, own + reaped if begin else 0.0, own + reaped, True]
            elif kid[0] is None and self.classify:
                kid[0] = self.classify(_title(pid))
            kid[2] = own + reaped
        for key, kid in self.kids.items():
            if kid[3] and key not in alive:
                kid[3] = False

    def breakdown(self) -> dict[str, float]:
        by_kind: dict[str, float] = {}
        exited_last = exited_begin = 0.0
        for kind, first, last, alive in self.kids.values():
            k = kind or "unknown"
            by_kind[k] = by_kind.get(k, 0.0) + (last - first)
            if not alive:
                exited_last += last
                exited_begin += first
        reaped = self.root1[1] - self.root0[1]
        own = self.root1[0] - self.root0[0]
        live = sum(last - first for _k, first, last, alive in self.kids.values() if alive)
        out = {k: round(v, 3) for k, v in by_kind.items()}
        # What the samples did not see: reaped CPU beyond the exited children's last samples.
        out["unattributed"] = round(max(reaped - exited_last, 0.0), 3)
        out["root"] = round(own, 3)
        # Exact whatever the samples missed: root + live children + everything reaped,
        # less what the children that exited since begin had used before it.
        out["total"] = round(own + live + reaped - exited_begin, 3)
        out["children_seen"] = len(self.kids)
        out["children_exited"] = sum(1 for kid in self.kids.values() if not kid[3])
        return out


class CpuSampler:
    """The CPU of the benchmark's processes, sampled every `interval` seconds in a
    thread between begin() and end(): the gunicorn and Celery trees, and
    PostgreSQL's backends, each backend by pid from its first sample to its last,
    so a connection that closes mid-scenario still counts (a snapshot at the start
    and the end of a scenario lost every backend that exited between them). What
    no sample saw (a connection opened and closed between two samples, the last
    moments of one that closed) is in the postmaster's reaped-children CPU
    (cutime + cstime of /proc/<postmaster>/stat): reported as `unattributed`, an
    upper bound on what the benchmark's database used beyond `ours`, since it may
    also hold other databases' short connections on a shared server."""

    def __init__(self, interval: float = 0.15) -> None:
        self.interval = interval
        self.trees: dict[str, _Tree] = {}
        self.roots: dict[str, tuple[int, Any]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.samples = 0

    def watch(self, label: str, pid: int, classify: Any = None) -> None:
        self.roots[label] = (pid, classify)

    def watch_postgres(self, dsn: str) -> int | None:
        """Watch the PostgreSQL server of `dsn` (on this machine): its postmaster
        is the parent of any backend. Returns its pid, None if it is not local."""
        import psycopg2

        conn = psycopg2.connect(dsn)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_backend_pid(), current_database()")
                backend, database = cur.fetchone()
            try:  # while the backend lives: it exits when the connection closes
                postmaster = psutil.Process(backend).ppid()
            except psutil.Error:
                return None
        finally:
            conn.close()
        self.watch("postgres", postmaster, classify=lambda title: postgres_kind(title, database))
        return postmaster

    def begin(self) -> None:
        self.end_thread()
        with self._lock:
            self.trees = {label: _Tree(pid, classify) for label, (pid, classify) in self.roots.items()}
            self.samples = 1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cpu-sampler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                for tree in self.trees.values():
                    tree.sample()
                self.samples += 1

    def end_thread(self) -> None:
        if self._thread:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def end(self) -> dict[str, dict[str, float]]:
        """Stop sampling (after one last sample) and give each tree's CPU seconds
        since begin(): `total` (exact), and for PostgreSQL by kind of process."""
        self.end_thread()
        with self._lock:
            for tree in self.trees.values():
                tree.sample()
            self.samples += 1
            return {label: tree.breakdown() for label, tree in self.trees.items()}


def machine_cpu() -> tuple[float, float]:
    """(busy CPU seconds of the whole machine so far, wall clock): all processes."""
    t = psutil.cpu_times()
    busy = sum(t) - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)
    return busy, time.monotonic()


def load_snapshot() -> dict[str, Any]:
    load1, load5, load15 = os.getloadavg()
    busy, wall = machine_cpu()
    return {"loadavg": [round(load1, 2), round(load5, 2), round(load15, 2)], "busy_s": busy, "wall": wall}
