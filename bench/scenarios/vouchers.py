"""Voucher scenarios through the public API (api-contract.md), with real Bearer
tokens of MFA-enrolled users and real Ed25519 signatures:

- voucher create alone (with and without an Idempotency-Key), as a ratio of the
  insert ceiling;
- the full lifecycle, many units and officers at once: create → sign (chief
  accountant) → sign (account holder) → submit → the officer reads the queue →
  claim → pass → approve, then the Celery worker pays it; vouchers per second
  counted when they are *paid*;
- the unit's voucher list and the officer's (and approver's) review queue, first
  page of 50, against the seeded history.
"""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.load import run_load
from bench.scenarios import Context, Scenario

ACTIONS = ("claim", "pass", "approve")


def action_path(voucher_id: int | str, action: str) -> str:
    """Treasury actions live under the voucher (…/vouchers/{id}/claim); fall back
    to the review queue (…/review-queue/{id}/claim) if that is where they are."""
    from django.urls import Resolver404, resolve

    for template in ("/api/v1/vouchers/{id}/{action}", "/api/v1/review-queue/{id}/{action}"):
        path = template.format(id=voucher_id, action=action)
        try:
            resolve(path)
            return template.replace("{action}", action)
        except Resolver404:
            continue
    return "/api/v1/vouchers/{id}/" + action


def _missing_actions() -> str | None:
    from django.urls import Resolver404, resolve

    for action in ACTIONS:
        try:
            resolve(action_path(1, action).format(id=1))
        except Resolver404:
            return f"route …/{{id}}/{action} does not exist yet"
    return None


def voucher_body(ctx: Context, unit: dict[str, Any], n: int) -> dict[str, Any]:
    return {
        "unit": unit["unit"],
        "procedure": ctx.state["procedure"],
        "mode": "payment",
        "fiscal_year": ctx.state["fiscal_year"],
        "description": f"Thanh toán tiền điện tháng {1 + n % 12} (benchmark)",
        "payee": {"name": "Công ty Điện lực Benchmark", "account_number": f"1020{n % 10**10:010d}",
                  "bank_code": ctx.state["bank_code"]},
        "lines": [{"budget_line": unit["budget_lines"][1], "amount": 1_500_000 + (n % 1000) * 1000,
                   "description": "Tiền điện"}],
    }


def _signer(person: dict[str, Any]) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(person["private_key"]))


def _sign(key: Ed25519PrivateKey, content_hash: str) -> str:
    return base64.b64encode(key.sign(bytes.fromhex(content_hash))).decode()


# --- voucher create -------------------------------------------------------------


def _create(idempotent: bool):  # noqa: ANN202
    def run(ctx: Context) -> dict[str, Any]:
        units = ctx.state["lifecycle"]
        counter = [0]

        async def flow(http: Any, i: int) -> None:
            counter[0] += 1
            unit = units[i % len(units)]
            headers = {"Idempotency-Key": uuid.uuid4().hex} if idempotent else None
            await http.request("create", "POST", "/api/v1/vouchers", token=unit["preparer"]["token"],
                               body=voucher_body(ctx, unit, counter[0]), headers=headers, expect=(201,))

        s = ctx.scale
        load = run_load(ctx.base_url, flow, clients=s.clients, duration=s.duration, warmup=s.warmup)
        return {"load": load, "step": "create"}

    return run


# --- the lifecycle ----------------------------------------------------------------


def lifecycle(ctx: Context) -> dict[str, Any]:
    units = ctx.state["lifecycle"]
    keys = {u["unit"]: (_signer(u["chief"]), _signer(u["holder"])) for u in units}
    paths = {a: action_path("{id}", a) for a in ACTIONS}
    completed: list[int] = []  # approved inside the measured window
    everything: list[int] = []  # approved at any time of the scenario (for CPU per voucher)
    counter = [0]

    async def flow(http: Any, i: int) -> None:
        counter[0] += 1
        n = counter[0]
        unit = units[i % len(units)]
        chief_key, holder_key = keys[unit["unit"]]
        officer = unit["officers"][n % 2]
        v = await http.request("create", "POST", "/api/v1/vouchers", token=unit["preparer"]["token"],
                               body=voucher_body(ctx, unit, n), headers={"Idempotency-Key": uuid.uuid4().hex},
                               expect=(201,))
        vid, content_hash = v["id"], v["content_hash"]
        base = f"/api/v1/vouchers/{vid}"
        signers = (("sign_chief", unit["chief"], chief_key), ("sign_holder", unit["holder"], holder_key))
        for step, person, key in signers:
            await http.request(step, "POST", f"{base}/sign", token=person["token"],
                               body={"key_id": person["key_id"], "signature": _sign(key, content_hash)},
                               expect=(200, 201))
        await http.request("submit", "POST", f"{base}/submit", token=unit["holder"]["token"], body={})
        await http.request("queue", "GET", "/api/v1/review-queue", token=officer["token"], expect=(200,))
        await http.request("claim", "POST", paths["claim"].format(id=vid), token=officer["token"], body={})
        await http.request("pass", "POST", paths["pass"].format(id=vid), token=officer["token"], body={})
        await http.request("approve", "POST", paths["approve"].format(id=vid), token=unit["approver"]["token"],
                           body={})
        everything.append(vid)
        if http.measuring():
            completed.append(vid)

    s = ctx.scale
    # A voucher's life is nine requests: a longer window than the one-request scenarios.
    duration, warmup = 2 * s.duration, 2 * s.warmup
    window_started = time.perf_counter() + warmup
    load = run_load(ctx.base_url, flow, clients=s.clients, duration=duration, warmup=warmup)
    # Paid is when the worker has posted the payment: wait for it (bounded).
    paid, last_paid_at, waited = _wait_paid(ctx, completed, s.drain_timeout)
    # The warm-up's vouchers too, so the CPU of the whole scenario has them all.
    _wait_paid(ctx, everything, max(5.0, s.drain_timeout - waited))
    ctx.shared["lifecycle_vouchers"] = len(everything)
    # Documents render on first download (payments.services.documents), so none
    # should appear; if a deployment renders them behind the payments, let it
    # finish, so its CPU is counted here and does not spill into the next scenario.
    docs_wait = _wait_documents(ctx, everything, s.drain_timeout)
    side_effects = _side_effects(ctx, everything)
    elapsed = max(duration, (last_paid_at or window_started + duration) - window_started)
    ctx.shared["paid_vouchers"] = paid
    return {
        "load": load,
        "approved_in_window": len(completed),
        "approved_in_scenario": len(everything),
        "paid": len(paid),
        "unpaid_after_wait": len(completed) - len(paid),
        "seconds_to_last_payment": round(elapsed, 2),
        "drain_wait_s": round(waited, 2),
        "documents_wait_s": round(docs_wait, 2),
        "vouchers_per_s": round(len(paid) / elapsed, 2) if completed else 0.0,
        **side_effects,
    }


def _wait_documents(ctx: Context, ids: list[int], timeout: float) -> float:
    """Until every paid voucher has its result and advice rendered, or nothing
    new was rendered for 5 s, or the timeout."""
    if not ids:
        return 0.0
    started = time.perf_counter()
    conn = ctx.db()
    conn.autocommit = True
    last, last_change = -1, started
    try:
        with conn.cursor() as cur:
            while True:
                cur.execute(
                    "SELECT COUNT(*) FROM payments_document d LEFT JOIN payments_transfer t ON t.id = d.transfer_id "
                    "WHERE d.rendered_at IS NOT NULL AND (d.voucher_id = ANY(%(ids)s) OR t.voucher_id = ANY(%(ids)s))",
                    {"ids": ids},
                )
                done = cur.fetchone()[0]
                now = time.perf_counter()
                if done != last:
                    last, last_change = done, now
                if done >= 2 * len(ids) or now - last_change > 5 or now - started > timeout:
                    return now - started
                time.sleep(0.25)
    finally:
        conn.close()


def _side_effects(ctx: Context, ids: list[int]) -> dict[str, Any]:
    """What each voucher's life leaves for the workers: outbox deliveries and
    documents (the sizing of the notifications and documents queues)."""
    if not ids:
        return {}
    conn = ctx.db()
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT COUNT(*) FROM payments_notificationdelivery d JOIN payments_notification n "
                "ON n.id = d.notification_id WHERE n.voucher_id = ANY(%s)", [ids],
            )
            deliveries = cur.fetchone()[0]
            cur.execute("SELECT COUNT(*) FROM payments_notification WHERE voucher_id = ANY(%s)", [ids])
            notifications = cur.fetchone()[0]
            cur.execute(
                "SELECT COUNT(*) FROM payments_document d LEFT JOIN payments_transfer t ON t.id = d.transfer_id "
                "WHERE d.voucher_id = ANY(%(ids)s) OR t.voucher_id = ANY(%(ids)s)", {"ids": ids},
            )
            documents = cur.fetchone()[0]
            cur.execute(
                "SELECT COUNT(*) FROM payments_document d LEFT JOIN payments_transfer t ON t.id = d.transfer_id "
                "WHERE d.rendered_at IS NOT NULL AND (d.voucher_id = ANY(%(ids)s) OR t.voucher_id = ANY(%(ids)s))",
                {"ids": ids},
            )
            rendered = cur.fetchone()[0]
    finally:
        conn.close()
    n = len(ids)
    return {
        "notifications_per_voucher": round(notifications / n, 2),
        "deliveries_per_voucher": round(deliveries / n, 2),
        "documents_per_voucher": round(documents / n, 2),
        "documents_rendered_per_voucher": round(rendered / n, 2),
    }


def _wait_paid(ctx: Context, ids: list[int], timeout: float) -> tuple[list[int], float | None, float]:
    if not ids:
        return [], None, 0.0
    started = time.perf_counter()
    last_count, last_change = -1, started
    conn = ctx.db()
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            while True:
                cur.execute("SELECT id FROM vouchers_voucher WHERE id = ANY(%s) AND status = 'paid'", [ids])
                paid = [r[0] for r in cur.fetchall()]
                now = time.perf_counter()
                if len(paid) != last_count:
                    last_count, last_change = len(paid), now
                if len(paid) == len(ids) or now - started > timeout:
                    return paid, last_change, now - started
                time.sleep(0.2)
    finally:
        conn.close()


# --- lists ------------------------------------------------------------------------


def _list(path: str, people_key: str):  # noqa: ANN202
    def run(ctx: Context) -> dict[str, Any]:
        if people_key == "list_units":
            people = [u["preparer"] for u in ctx.state["list_units"]]
        else:
            people = ctx.state[people_key]

        async def flow(http: Any, i: int) -> None:
            await http.request("page", "GET", path, token=people[i % len(people)]["token"], expect=(200,), parse=False)

        s = ctx.scale
        return {"load": run_load(ctx.base_url, flow, clients=s.clients, duration=s.duration, warmup=s.warmup),
                "step": "page", "readers": len(people)}

    return run


SCENARIOS = [
    Scenario(
        name="voucher_create", title="Voucher create (POST /api/v1/vouchers)",
        target="≥ 50% of the insert ceiling", run=_create(False), routes=("/api/v1/vouchers",),
    ),
    Scenario(
        name="voucher_create_idempotent", title="Voucher create with an Idempotency-Key",
        target="≥ 50% of the insert ceiling (informative: the key costs a row and a lock)",
        run=_create(True), routes=("/api/v1/vouchers",),
    ),
    Scenario(
        name="lifecycle", title="Full lifecycle: create → sign ×2 → submit → claim → pass → approve → paid",
        target="≥ 30 vouchers/s", run=lifecycle,
        routes=("/api/v1/vouchers", "/api/v1/vouchers/1/sign", "/api/v1/vouchers/1/submit", "/api/v1/review-queue"),
        code=("vouchers.tasks:pay_intents",), check=_missing_actions,
    ),
    Scenario(
        name="unit_list", title="Unit voucher list, first page of 50 (GET /api/v1/vouchers)",
        target="p95 ≤ 60 ms @16; ≥ 60% of the list ceiling", run=_list("/api/v1/vouchers", "list_units"),
        routes=("/api/v1/vouchers",),
    ),
    Scenario(
        name="officer_queue", title="Officer review queue, first page (GET /api/v1/review-queue)",
        target="p95 ≤ 60 ms @16; ≥ 60% of the list ceiling", run=_list("/api/v1/review-queue", "officers"),
        routes=("/api/v1/review-queue",),
    ),
    Scenario(
        name="approver_queue", title="Approver review queue, first page (GET /api/v1/review-queue)",
        target="p95 ≤ 60 ms @16; ≥ 60% of the list ceiling", run=_list("/api/v1/review-queue", "approvers"),
        routes=("/api/v1/review-queue",),
    ),
]
