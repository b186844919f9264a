"""The ceilings, measured in the same run as everything else: bare DRF
validate-and-insert, and a bare DRF keyset page of 50 rows over the voucher table
built as the API builds its list rows (the same columns, joins and row dicts:
vouchers/bench_views.py), so the lists' ratio is what the portal adds to the
same bytes — authentication, scope, cursor — not a cheaper row."""

from __future__ import annotations

from typing import Any

from bench.load import run_load
from bench.scenarios import Context, Scenario


def insert_ceiling(ctx: Context) -> dict[str, Any]:
    async def flow(http: Any, i: int) -> None:
        await http.request("insert", "POST", "/bench/insert", body={"name": f"client {i}", "amount": 1500000},
                           expect=(201,))

    s = ctx.scale
    return {"load": run_load(ctx.base_url, flow, clients=s.clients, duration=s.duration, warmup=s.warmup),
            "step": "insert"}


def list_ceiling(ctx: Context) -> dict[str, Any]:
    top = max(int(ctx.state["max_voucher_id"]), 100)
    rng = ctx.rng

    async def flow(http: Any, i: int) -> None:
        before = rng.randint(top // 10, top + 1)
        await http.request("list", "GET", f"/bench/list?before={before}", expect=(200,), parse=False)

    s = ctx.scale
    return {"load": run_load(ctx.base_url, flow, clients=s.clients, duration=s.duration, warmup=s.warmup),
            "step": "list"}


SCENARIOS = [
    Scenario(
        name="ceiling_insert", title="Ceiling: bare DRF validate + insert one row",
        target="reference (performance.md: ~600–800 req/s on a quiet 2-core machine)",
        run=insert_ceiling, routes=("/bench/insert",),
    ),
    Scenario(
        name="ceiling_list", title="Ceiling: bare DRF keyset page of 50 vouchers, the API's rows",
        target="reference (performance.md: ~350–490 req/s, p95 50–57 ms @16, for a plainer row)",
        run=list_ceiling, routes=("/bench/list",),
        code=("vouchers.serializers:LIST_COLUMNS", "vouchers.serializers:voucher_list_rows"),
    ),
]
