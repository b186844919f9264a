"""`python -m bench.run --quick|--full`: the whole benchmark, start to finish.

1. reset the benchmark's own PostgreSQL database (its name must contain
   "bench") and Redis database, migrate, seed the demo, seed at scale (bench.seed);
2. start gunicorn (gunicorn.conf.py, bench settings, DEBUG off) and a Celery
   worker (2 prefork processes on the payments, notifications, documents and
   default queues) as subprocesses;
3. run every scenario (bench.scenarios), each reported "not available" while
   the code it needs does not exist; sample peak RSS; count queries per request
   in-process;
4. stop everything it started (always, also on failure or Ctrl-C) and write
   bench/results/<timestamp>-<mode>.json, latest.json and latest.md.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from typing import Any

import psutil

from bench import config, pg_statements

T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[bench {time.perf_counter() - T0:6.1f}s] {msg}", flush=True)


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=config.ROOT, capture_output=True,  # noqa: S607
                             text=True, check=False)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=config.ROOT,  # noqa: S607
                               capture_output=True, text=True, check=False).stdout.strip()
        return out.stdout.strip() + ("+uncommitted changes" if dirty else "")
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small scale: a smoke run in a few minutes (default)")
    size.add_argument("--full", action="store_true", help="95,000 units and 1,000,000 vouchers")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the database seeded by the previous run of the same size (development)")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--profile", default="",
                        help="comma-separated scenario names to profile: py-spy on gunicorn and the Celery worker, "
                             "PostgreSQL's top statements (pg_stat_statements, when the server preloads it)")
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (default: gunicorn.conf.py)")
    parser.add_argument("--duration", type=float, default=0, help="seconds per load scenario (override)")
    parser.add_argument("--no-write", action="store_true", help="print the results, do not write bench/results")
    args = parser.parse_args(argv)
    scale = config.FULL if args.full else config.QUICK
    if args.duration:
        scale = config.Scale(**{**scale.as_dict(), "duration": args.duration})
    database_url, redis_url = config.database_url(), config.redis_url()

    from bench import procs

    env = procs.bench_env(database_url, redis_url)
    os.environ.update(env)
    config.STATE_DIR.mkdir(parents=True, exist_ok=True)
    logs = config.STATE_DIR / "logs"
    logs.mkdir(exist_ok=True)
    state_file = config.STATE_DIR / f"state-{procs.database_name(database_url)}-{scale.name}.json"
    started = datetime.now(UTC).isoformat(timespec="seconds")
    results: dict[str, Any] = {
        "run": {
            "mode": scale.name, "started": started, "commit": _commit(), "machine": procs.describe_machine(),
            "scale": scale.as_dict(), "database": procs.database_name(database_url), "celery_concurrency": 2,
            "load_generator": "aiohttp 3.14.5, closed loop, same machine",
        },
        "scenarios": {},
    }
    log(f"{scale.name} benchmark on {procs.database_name(database_url)} (Redis {redis_url.rsplit('/', 1)[-1]})")

    import django

    django.setup()
    if args.reuse and state_file.exists():
        state = json.loads(state_file.read_text())
        results["seed"] = state.pop("_seed", {})
        results["seed"]["reused"] = True
        log("reusing the seeded database")
    else:
        t = time.perf_counter()
        procs.reset_database(database_url)
        procs.flush_redis(redis_url)
        log("database reset; migrating")
        procs.manage(env, "migrate", "--noinput", "-v0", log=logs / "migrate.log")
        procs.manage(env, "createcachetable", log=logs / "migrate.log")
        procs.manage(env, "seed_demo", log=logs / "migrate.log")
        prepare = round(time.perf_counter() - t, 1)
        log(f"migrated and demo seeded in {prepare} s; seeding at scale")
        from bench.seed import seed

        seeded = seed(scale, database_url, log=log)
        state = seeded.as_dict()
        results["seed"] = {"prepare_s": prepare, "timings": seeded.timings, "counts": seeded.counts,
                           "reconciliation": seeded.reconciliation}
        state_file.write_text(json.dumps({**state, "_seed": results["seed"]}))
        log(f"seeded in {seeded.timings['total']} s; reconciliation {seeded.reconciliation}")
    procs.flush_redis(redis_url)

    from bench.scenarios import Context, all_scenarios

    wanted = {s for s in args.only.split(",") if s}
    profiled = {s for s in args.profile.split(",") if s}
    sampler = procs.RssSampler()
    cpu = procs.CpuSampler()
    servers: list[procs.Managed] = []
    try:
        port = procs.free_port()
        web = procs.start_gunicorn(env, port, logs / "gunicorn.log", workers=args.workers or None)
        servers.append(web)
        worker = procs.start_worker(env, logs / "celery.log")
        servers.append(worker)
        results["run"]["gunicorn_workers"] = len(psutil.Process(web.pid).children())
        sampler.watch("web", web.pid)
        sampler.watch("worker", worker.pid)
        cpu.watch("web", web.pid)
        cpu.watch("worker", worker.pid)
        postmaster = cpu.watch_postgres(database_url)
        results["run"]["postgres_cpu"] = (
            f"sampled every {cpu.interval} s per backend (postmaster {postmaster})" if postmaster
            else "not measured: the PostgreSQL server is not on this machine")
        log(f"gunicorn on 127.0.0.1:{port} ({results['run']['gunicorn_workers']} workers), celery worker up")
        ctx = Context(scale=scale, base_url=f"http://127.0.0.1:{port}", state=state, dsn=database_url, log=log)
        for scenario in all_scenarios():
            if wanted and scenario.name not in wanted:
                continue
            entry: dict[str, Any] = {"title": scenario.title, "target": scenario.target, "kind": scenario.kind}
            results["scenarios"][scenario.name] = entry
            missing = scenario.missing()
            if missing:
                entry.update(status="not available", reason=missing)
                log(f"{scenario.name}: not available ({missing})")
                continue
            log(f"{scenario.name}: running")
            sampler.reset()
            machine0 = procs.load_snapshot()
            own0 = sum(psutil.Process().cpu_times()[:2])
            statements = pg_statements.begin(database_url) if scenario.name in profiled else None
            cpu.begin()
            t = time.perf_counter()
            spies = _profile(scenario.name, {"web": web.pid, "worker": worker.pid}) \
                if scenario.name in profiled else []
            try:
                entry.update(scenario.run(ctx))
                entry["status"] = "measured"
            except Exception as exc:  # noqa: BLE001 - reported, never a made-up figure
                entry.update(status="failed", reason=f"{type(exc).__name__}: {exc}",
                             traceback=traceback.format_exc()[-2000:])
                log(f"{scenario.name}: FAILED {exc}\n{web.tail(10)}\n{worker.tail(10)}")
            finally:
                for spy in spies:  # py-spy writes its profile on SIGINT
                    spy.send_signal(signal.SIGINT)
                    spy.wait(timeout=60)
            entry["seconds_total"] = round(time.perf_counter() - t, 1)
            used = cpu.end()
            entry["loadgen_cpu_s"] = round(sum(psutil.Process().cpu_times()[:2]) - own0, 1)
            entry["cpu_web_s"] = round(used["web"]["total"], 1)
            entry["cpu_worker_s"] = round(used["worker"]["total"], 1)
            entry["cpu_s"] = round(used["web"]["total"] + used["worker"]["total"], 1)
            pg = used.get("postgres")
            if pg:
                # PostgreSQL's share: the backends of the benchmark's database, each
                # from its first sample to its last (procs.CpuSampler).
                entry["db_cpu_s"] = round(pg.get("ours", 0.0), 1)
                entry["db_cpu"] = pg
            entry["machine"] = _machine_load(machine0, procs.load_snapshot(), used, entry["loadgen_cpu_s"])
            if statements is not None:
                entry["pg_statements"] = pg_statements.end(statements, database_url,
                                                           config.STATE_DIR / f"pg-statements-{scenario.name}.txt")
            load = entry.get("load") or {}
            if load.get("requests_sent"):
                # CPU per request (gunicorn, Celery, PostgreSQL): costs that hold even
                # when other processes take a share of the cores; docs/scaling.md sizes from them.
                sent = load["requests_sent"]
                entry["server_cpu_ms_per_request"] = round(1000 * entry["cpu_s"] / sent, 2)
                entry["web_cpu_ms_per_request"] = round(1000 * entry["cpu_web_s"] / sent, 2)
                if entry.get("db_cpu_s") is not None:
                    entry["db_cpu_ms_per_request"] = round(1000 * entry["db_cpu_s"] / sent, 2)
            if entry.get("settled"):
                entry["worker_cpu_ms_per_invoice"] = round(1000 * entry["cpu_worker_s"] / entry["settled"], 3)
                if entry.get("db_cpu_s") is not None:
                    entry["db_cpu_ms_per_invoice"] = round(1000 * entry["db_cpu_s"] / entry["settled"], 3)
            if entry.get("delivered"):
                entry["worker_cpu_ms_per_delivery"] = round(1000 * entry["cpu_worker_s"] / entry["delivered"], 3)
                if entry.get("db_cpu_s") is not None:
                    entry["db_cpu_ms_per_delivery"] = round(1000 * entry["db_cpu_s"] / entry["delivered"], 3)
            if entry.get("approved_in_scenario"):
                n = entry["approved_in_scenario"]
                entry["web_cpu_ms_per_voucher"] = round(1000 * entry["cpu_web_s"] / n, 1)
                entry["worker_cpu_ms_per_voucher"] = round(1000 * entry["cpu_worker_s"] / n, 1)
                if entry.get("db_cpu_s") is not None:
                    entry["db_cpu_ms_per_voucher"] = round(1000 * entry["db_cpu_s"] / n, 1)
            entry["rss"] = sampler.snapshot()
            ctx.results[scenario.name] = entry
            log(f"{scenario.name}: {_one_line(entry)}")
            for server in servers:
                if not server.alive():
                    raise RuntimeError(f"{server.name} died during {scenario.name}:\n{server.tail()}")
        if not wanted or "queries" in wanted:
            log("counting queries per request (in-process)")
            from bench.queries import count_queries

            try:
                results["queries"] = count_queries(state, scale.query_samples)
            except Exception as exc:  # noqa: BLE001
                results["queries"] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
                log(f"query count FAILED: {exc}")
    finally:
        sampler.stop()
        cpu.end_thread()
        for server in reversed(servers):
            server.stop()
        log("servers stopped")
    results["run"]["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["run"]["wall_s"] = round(time.perf_counter() - T0, 1)
    from bench import report

    if args.no_write:
        results["targets"] = report.judge(results)
        results["sizing"] = report.sizing(results)
        results["explanations"] = report.explanations(results)
        print(report.markdown(results))
    else:
        path, md = report.write(results, config.RESULTS)
        print(md.read_text())
        log(f"results: {path.relative_to(config.ROOT)}, {md.relative_to(config.ROOT)}")
    return 0


def _profile(name: str, pids: dict[str, int]) -> list[subprocess.Popen]:
    """py-spy on every gunicorn worker and every Celery pool process for the whole
    scenario, stopped by SIGINT when it ends (collapsed stacks): var/bench/profile-<scenario>.txt for the web,
    profile-<scenario>-worker.txt for the worker."""
    spy = procs_bin("py-spy")
    if not spy:
        return []
    out = []
    for label, pid in pids.items():
        path = config.STATE_DIR / (f"profile-{name}.txt" if label == "web" else f"profile-{name}-{label}.txt")
        out.append(subprocess.Popen(  # noqa: S603
            # --gil: only samples holding the GIL, i.e. Python CPU (time waiting on
            # PostgreSQL shows up as db_cpu_s and in the latencies instead).
            [spy, "record", "--pid", str(pid), "--subprocesses", "--format", "raw", "--rate", "200", "--nonblocking",
             "--gil", "--output", str(path)],  # until the scenario ends (SIGINT)
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))
    return out


def _machine_load(before: dict[str, Any], after: dict[str, Any], used: dict[str, dict[str, float]],
                  loadgen_s: float) -> dict[str, Any]:
    """The machine during the scenario: load averages at its start and end, and
    how many cores were busy — the benchmark's processes (gunicorn, Celery,
    PostgreSQL's backends of this database and its background processes, the
    load generator) and everything else (other databases' connections, other
    programs), so that figures taken on a loaded machine say so."""
    wall = max(after["wall"] - before["wall"], 1e-6)
    busy = after["busy_s"] - before["busy_s"]
    pg = used.get("postgres") or {}
    ours = (used["web"]["total"] + used["worker"]["total"] + loadgen_s
            + sum(pg.get(k, 0.0) for k in ("ours", "background", "root", "unknown")))
    return {
        "loadavg_start": before["loadavg"], "loadavg_end": after["loadavg"],
        "busy_cores": round(busy / wall, 2), "bench_cores": round(ours / wall, 2),
        "other_cores": round(max(busy - ours, 0.0) / wall, 2),
    }


def procs_bin(name: str) -> str | None:
    path = os.path.join(os.path.dirname(sys.executable), name)
    return path if os.path.exists(path) else None


def _one_line(entry: dict[str, Any]) -> str:
    if entry.get("status") != "measured":
        return f"{entry.get('status')}: {entry.get('reason', '')}"
    load = entry.get("load")
    parts = []
    if load:
        for step, s in load["steps"].items():
            parts.append(f"{step} {s['throughput']}/s p95 {s['p95_ms']} ms err {s['errors']}")
    for k in ("vouchers_per_s", "per_s", "ratio", "project_ms_per_page", "bare_weasyprint_ms_per_page"):
        if k in entry:
            parts.append(f"{k}={entry[k]}")
    parts.append(f"server cpu {entry.get('cpu_s')} s (web {entry.get('cpu_web_s')} s, "
                 f"worker {entry.get('cpu_worker_s')} s), "
                 f"db cpu {entry.get('db_cpu_s')} s, "
                 f"load generator cpu {entry.get('loadgen_cpu_s')} s "
                 f"in {entry.get('seconds_total')} s")
    m = entry.get("machine")
    if m:
        parts.append(f"load average {m['loadavg_start'][0]} → {m['loadavg_end'][0]}, cores busy {m['busy_cores']} "
                     f"(benchmark {m['bench_cores']}, others {m['other_cores']})")
    return "; ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
