"""The leader dashboard (issue 12): GET /api/v1/dashboard as the approvers of
the busiest provinces (each province: its office and the 11 transaction offices
below), over the last 366 days, the widest period it answers — every figure
group of the page and the API at once. Target: a dashboard answers in under
1 s at the full run's 1,000,000 vouchers (p95, 4 clients: leaders open it, they
do not hammer it).

Set-up as in production: the dashboard reads the per-office, per-day figures
of monitoring.daily, filled at installation by `manage.py dashboard_figures`
(the whole history) and kept by the minute task; the command is run once over
the seeded vouchers before the load, and its duration is in the results
(`summary_refresh_s`)."""

from __future__ import annotations

import subprocess
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench import procs
from bench.config import ROOT, redis_url
from bench.load import run_load
from bench.scenarios import Context, Scenario

CLIENTS = 4


def refresh_summaries(ctx: Context) -> float:
    """The installation's fill of the summaries over the seeded vouchers; its wall time in seconds."""
    t = time.perf_counter()
    env = procs.bench_env(ctx.dsn, redis_url())
    out = subprocess.run([procs.PYTHON, "manage.py", "dashboard_figures"], cwd=ROOT, env=env,  # noqa: S603
                         check=True, capture_output=True, text=True)
    ctx.log(f"dashboard summaries: {out.stdout.strip()}")
    return round(time.perf_counter() - t, 1)


def dashboard(ctx: Context) -> dict[str, Any]:
    refresh_s = refresh_summaries(ctx)
    leaders = ctx.state["approvers"]
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    path = f"/api/v1/dashboard?from={(today - timedelta(days=365)).isoformat()}&to={today.isoformat()}"

    async def flow(http: Any, i: int) -> None:
        await http.request("dashboard", "GET", path, token=leaders[i % len(leaders)]["token"], expect=(200,),
                           parse=False)

    s = ctx.scale
    return {"load": run_load(ctx.base_url, flow, clients=min(CLIENTS, s.clients), duration=s.duration,
                             warmup=s.warmup),
            "step": "dashboard", "readers": len(leaders), "path": path, "summary_refresh_s": refresh_s}


SCENARIOS = [
    Scenario(
        name="dashboard", title="Leader dashboard of a province, 366 days (GET /api/v1/dashboard)",
        target="p95 < 1 s @4", run=dashboard, routes=("/api/v1/dashboard",),
    ),
]
