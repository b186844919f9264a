"""The load generator: a small closed-loop asyncio client on aiohttp (see README).

`run_load` starts N clients; each runs `flow(http, client_index)` again and again
until the time is up (warm-up first, not recorded). A flow is one request (the
ceiling, a list page) or a sequence of them (the voucher lifecycle). Every request
is timed by step name; a status the step does not expect is an error and ends the
flow's current iteration. Bounded in time (warm-up + duration, then a grace period
for requests in flight) and in count (`max_requests`), and only ever aimed at the
local server the benchmark started.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class FlowAborted(Exception):
    """A step got an unexpected answer: the flow's iteration stops there."""


@dataclass
class StepStats:
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests only
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)  # a few error bodies, for the report

    def summary(self, window: float) -> dict[str, Any]:
        lat = sorted(self.latencies)
        return {
            "count": len(lat),
            "errors": self.errors,
            "throughput": round(len(lat) / window, 1) if window > 0 else 0.0,
            "p50_ms": pct(lat, 50),
            "p95_ms": pct(lat, 95),
            "p99_ms": pct(lat, 99),
            "mean_ms": round(1000 * sum(lat) / len(lat), 1) if lat else None,
            "statuses": self.statuses,
            "error_samples": self.samples,
        }


def pct(sorted_seconds: list[float], p: float) -> float | None:
    if not sorted_seconds:
        return None
    k = min(len(sorted_seconds) - 1, max(0, round(p / 100 * len(sorted_seconds) + 0.5) - 1))
    return round(1000 * sorted_seconds[k], 1)


class Http:
    """One client's view of the server: timed requests recorded by step name."""

    def __init__(self, run: _Run, session: aiohttp.ClientSession) -> None:
        self._run = run
        self._session = session

    def measuring(self) -> bool:
        """Whether now is inside the measured window (after the warm-up)."""
        return self._run.measuring(time.perf_counter())

    async def request(
        self,
        step: str,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200, 201),
        parse: bool = True,
    ) -> Any:
        """The response's JSON (or bytes). `parse=False`: the body is read in full
        but not decoded — the read-only scenarios, where decoding a page costs
        the load generator (on the measured machine's cores) more for a richer
        page than the server's own work differs."""
        run = self._run
        if run.requests >= run.max_requests:
            raise FlowAborted("request budget spent")
        run.requests += 1
        hdrs = {"Accept": "application/json"}
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        if headers:
            hdrs.update(headers)
        data = None
        if body is not None:
            data = json.dumps(body)
            hdrs["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            async with self._session.request(method, run.base_url + path, data=data, headers=hdrs) as resp:
                raw = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            run.record(step, started, time.perf_counter(), ok=False, status=type(exc).__name__, sample=str(exc))
            raise FlowAborted(f"{step}: {exc!r}") from exc
        ended = time.perf_counter()
        ok = status in expect
        sample = "" if ok else raw[:300].decode("utf-8", "replace")
        run.record(step, started, ended, ok=ok, status=str(status), sample=sample)
        if not ok:
            raise FlowAborted(f"{step}: HTTP {status} {sample}")
        if parse and raw and raw[:1] in (b"{", b"["):
            return json.loads(raw)
        return raw


class _Run:
    def __init__(self, base_url: str, max_requests: int) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_requests = max_requests
        self.requests = 0
        self.window_start = float("inf")
        self.window_end = float("inf")
        self.steps: dict[str, StepStats] = {}
        self.flows_done = 0
        self.flows_failed = 0

    def measuring(self, t: float) -> bool:
        return self.window_start <= t < self.window_end

    def record(self, step: str, started: float, ended: float, *, ok: bool, status: str, sample: str = "") -> None:
        if not self.measuring(ended):
            return
        stats = self.steps.setdefault(step, StepStats())
        stats.statuses[status] = stats.statuses.get(status, 0) + 1
        if ok:
            stats.latencies.append(ended - started)
        else:
            stats.errors += 1
            if len(stats.samples) < 3:
                stats.samples.append(f"{status}: {sample}"[:300])


Flow = Callable[[Http, int], Awaitable[Any]]


async def _client(run: _Run, session: aiohttp.ClientSession, index: int, flow: Flow, stop_at: float) -> None:
    http = Http(run, session)
    while time.perf_counter() < stop_at and run.requests < run.max_requests:
        try:
            await flow(http, index)
        except FlowAborted:
            if run.measuring(time.perf_counter()):
                run.flows_failed += 1
            await asyncio.sleep(0.05)  # an erroring server is not hammered in a tight loop
            continue
        if run.measuring(time.perf_counter()):
            run.flows_done += 1


async def _run_load(
    base_url: str, clients: int, duration: float, warmup: float, flow: Flow, max_requests: int, timeout: float
) -> dict[str, Any]:
    host = urlsplit(base_url).hostname
    if host not in LOCAL_HOSTS:
        raise ValueError(f"the load generator only targets this machine, not {host!r}")
    run = _Run(base_url, max_requests)
    begin = time.perf_counter()
    run.window_start = begin + warmup
    run.window_end = run.window_start + duration
    connector = aiohttp.TCPConnector(limit=clients, limit_per_host=clients)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        tasks = [asyncio.create_task(_client(run, session, i, flow, run.window_end)) for i in range(clients)]
        # Hard bound: whatever happens, stop a little after the window.
        done, pending = await asyncio.wait(tasks, timeout=warmup + duration + timeout + 5)
        for task in pending:
            task.cancel()
        for task in done:
            if task.exception() is not None:
                raise task.exception()
    window = duration
    return {
        "clients": clients,
        "duration_s": duration,
        "warmup_s": warmup,
        "requests_sent": run.requests,
        "flows_completed": run.flows_done,
        "flows_failed": run.flows_failed,
        "flows_per_s": round(run.flows_done / window, 2),
        "steps": {name: stats.summary(window) for name, stats in run.steps.items()},
    }


def run_load(
    base_url: str,
    flow: Flow,
    *,
    clients: int,
    duration: float,
    warmup: float,
    max_requests: int = 2_000_000,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Run `flow` on `clients` concurrent clients; per-step stats of the measured window."""
    return asyncio.run(_run_load(base_url, clients, duration, warmup, flow, max_requests, timeout))


def totals(result: dict[str, Any]) -> dict[str, Any]:
    """All steps of a load result as one: requests/s, errors, the latency of the slowest step's p95."""
    steps = result["steps"].values()
    count = sum(s["count"] for s in steps)
    errors = sum(s["errors"] for s in steps)
    return {"requests": count, "errors": errors, "requests_per_s": round(count / result["duration_s"], 1)}
