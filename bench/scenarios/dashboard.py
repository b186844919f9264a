"""The leader dashboard (issue 12): GET /api/v1/dashboard as the approvers of
the busiest provinces (each province: its office and the 11 transaction offices
below), over the last 366 days, the widest period it answers — every figure
group of the page and the API at once. Target: a dashboard answers in under
1 s at the full run's 1,000,000 vouchers (p95, 4 clients: leaders open it, they
do not hammer it)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench.load import run_load
from bench.scenarios import Context, Scenario

CLIENTS = 4


def dashboard(ctx: Context) -> dict[str, Any]:
    leaders = ctx.state["approvers"]
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    path = f"/api/v1/dashboard?from={(today - timedelta(days=365)).isoformat()}&to={today.isoformat()}"

    async def flow(http: Any, i: int) -> None:
        await http.request("dashboard", "GET", path, token=leaders[i % len(leaders)]["token"], expect=(200,),
                           parse=False)

    s = ctx.scale
    return {"load": run_load(ctx.base_url, flow, clients=min(CLIENTS, s.clients), duration=s.duration,
                             warmup=s.warmup),
            "step": "dashboard", "readers": len(leaders), "path": path}


SCENARIOS = [
    Scenario(
        name="dashboard", title="Leader dashboard of a province, 366 days (GET /api/v1/dashboard)",
        target="p95 < 1 s @4", run=dashboard, routes=("/api/v1/dashboard",),
    ),
]
