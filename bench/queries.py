"""Queries per request, counted in-process (Django's test client through the full
middleware stack, CaptureQueriesContext) against the same seeded database: every
list endpoint at page sizes 5 and 50 (the count must not depend on the page
size), voucher create, each lifecycle step, and the ceilings."""

from __future__ import annotations

import base64
import contextlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve

LISTS = {
    "unit_list": ("/api/v1/vouchers", "list_units"),
    "officer_queue": ("/api/v1/review-queue", "officers"),
    "approver_queue": ("/api/v1/review-queue", "approvers"),
    "budget_lines": ("/api/v1/budget-lines", "list_units"),
    "notifications": ("/api/v1/notifications", "holders"),
}


def _exists(path: str) -> bool:
    try:
        resolve(path.split("?")[0])
        return True
    except Resolver404:
        return False


def _person(state: dict[str, Any], key: str) -> dict[str, Any]:
    if key == "list_units":
        return state["list_units"][0]["preparer"]
    if key == "holders":
        return state["lifecycle"][0]["holder"]
    return state[key][0]


CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def _control(queries: list[dict[str, Any]]) -> int:
    """How many of the statements are transaction control (BEGIN, COMMIT,
    SAVEPOINT, RELEASE): round trips, but no data read or written."""
    return sum(1 for q in queries if q["sql"].lstrip().split(" ", 1)[0].upper() in CONTROL)


class _Counter:
    def __init__(self) -> None:
        self.client = Client()
        self.control = 0  # of the last call's statements

    def call(self, method: str, path: str, token: str, body: Any = None, headers: dict | None = None) -> tuple:
        extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        for k, v in (headers or {}).items():
            extra["HTTP_" + k.upper().replace("-", "_")] = v
        with CaptureQueriesContext(connection) as ctx:
            if method == "GET":
                resp = self.client.get(path, **extra)
            else:
                resp = self.client.post(path, data=json.dumps(body or {}), content_type="application/json", **extra)
        data = None
        if resp.get("Content-Type", "").startswith("application/json") and resp.content:
            data = json.loads(resp.content)
        self.control = _control(ctx.captured_queries)
        return resp.status_code, len(ctx.captured_queries), data


def count_queries(state: dict[str, Any], samples: int = 3) -> dict[str, Any]:
    out: dict[str, Any] = {"lists": {}, "steps": {}}
    c = _Counter()
    for name, (path, who) in LISTS.items():
        if not _exists(path):
            out["lists"][name] = {"available": False, "reason": f"route {path} does not exist yet"}
            continue
        token = _person(state, who)["token"]
        row: dict[str, Any] = {"available": True}
        for size in (5, 50):
            counts, statuses, rows = [], [], None
            for _i in range(samples):
                status, n, data = c.call("GET", f"{path}?page_size={size}", token)
                counts.append(n)
                statuses.append(status)
                if isinstance(data, dict) and isinstance(data.get("results"), list):
                    rows = len(data["results"])
                elif isinstance(data, list):
                    rows = len(data)
            row[f"queries_{size}"] = min(counts)  # the first call may warm per-process caches
            row[f"rows_{size}"] = rows
            row[f"status_{size}"] = statuses[-1]
        row["independent_of_page_size"] = row["queries_5"] == row["queries_50"]
        out["lists"][name] = row
    _, n, _ = c.call("GET", "/bench/list", "")
    out["lists"]["ceiling_list"] = {
        "available": True, "queries_50": n, "queries_5": n, "independent_of_page_size": True,
    }
    _, n, _ = c.call("POST", "/bench/insert", "", {"name": "q", "amount": 1})
    out["steps"]["ceiling_insert"] = n
    if _exists("/api/v1/vouchers"):
        with _no_publish():
            out["steps"].update(_lifecycle_queries(c, state))
    return out


@contextlib.contextmanager
def _no_publish() -> Iterator[None]:
    """No Celery message leaves this process while the lifecycle is counted: the
    running worker must not settle these vouchers before the in-process pass
    counts what the worker's beat entries do for them (_worker_queries)."""
    from celery.app.task import Task

    def dropped(self, *args: Any, **kwargs: Any) -> None:  # noqa: ANN001, ARG001
        return None

    original = Task.apply_async
    Task.apply_async = dropped  # type: ignore[method-assign]
    try:
        yield
    finally:
        Task.apply_async = original  # type: ignore[method-assign]


def _lifecycle_queries(c: _Counter, state: dict[str, Any]) -> dict[str, Any]:
    """Each step of a voucher's life (as the lifecycle scenario sends it: the
    create with an Idempotency-Key) counted for WORKER_BATCH vouchers of one
    unit: the median of each step's counts (the first voucher meets cold
    per-process copies, the principals and the catalogue, as a server's first
    requests do; the live run's are warm), the first voucher's counts kept as
    `cold`. Then the worker's share for all of them (_worker_queries)."""
    import statistics

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from bench.scenarios.vouchers import action_path, voucher_body

    class _Ctx:  # what voucher_body reads
        pass

    ctx = _Ctx()
    ctx.state = state  # type: ignore[attr-defined]
    unit = state["lifecycle"][-1]
    officer = unit["officers"][0]
    steps: dict[str, Any] = {}
    plain = []
    for n in range(3):
        status, count, _ = c.call("POST", "/api/v1/vouchers", unit["preparer"]["token"], voucher_body(ctx, unit, n))
        if status != 201:
            return {"create": f"HTTP {status}"}
        plain.append(count)
    steps["create"] = statistics.median_low(plain)
    if not (_exists("/api/v1/vouchers/1/sign") and _exists("/api/v1/review-queue")):
        return steps
    counts: dict[str, list[int]] = {}
    control: dict[str, list[int]] = {}
    approved: list[int] = []

    def count(step: str, method: str, path: str, token: str, body: Any = None, **kw: Any) -> Any:
        status, n, data = c.call(method, path, token, body, **kw)
        if status not in (200, 201):
            raise RuntimeError(f"{step}: HTTP {status}")
        counts.setdefault(step, []).append(n)
        control.setdefault(step, []).append(c.control)
        return data

    for n in range(3, 3 + WORKER_BATCH):
        v = count("create_idempotent", "POST", "/api/v1/vouchers", unit["preparer"]["token"],
                  voucher_body(ctx, unit, n), headers={"Idempotency-Key": uuid.uuid4().hex})
        vid = v["id"]
        for role in ("chief", "holder"):
            person = unit[role]
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(person["private_key"]))
            sig = base64.b64encode(key.sign(bytes.fromhex(v["content_hash"]))).decode()
            count(f"sign_{role}", "POST", f"/api/v1/vouchers/{vid}/sign", person["token"],
                  {"key_id": person["key_id"], "signature": sig})
        count("submit", "POST", f"/api/v1/vouchers/{vid}/submit", unit["holder"]["token"], {})
        count("queue", "GET", "/api/v1/review-queue", officer["token"])
        for action, person in (("claim", officer), ("pass", officer), ("approve", unit["approver"])):
            count(action, "POST", action_path(vid, action).format(id=vid), person["token"], {})
        approved.append(vid)
    steps.update({step: statistics.median_low(ns) for step, ns in counts.items()})
    steps["cold"] = {step: ns[0] for step, ns in counts.items()}
    steps["control"] = {step: statistics.median_low(ns) for step, ns in control.items()}
    steps["worker"] = _worker_queries(approved)
    return steps


# The worker's share of a voucher's statements: WORKER_BATCH vouchers approved
# (the lifecycle's 16 clients), then what the beat's entries do for them run
# in-process, once each, in order: settle the payments, tell the people, deliver
# the notifications. Statements per voucher = the total / WORKER_BATCH.
WORKER_BATCH = 16
WORKER_TASKS = (
    "payments.tasks.pay_intents",
    "payments.tasks.sweep_notifications",
)


def _worker_queries(ids: list[int]) -> dict[str, Any]:
    """Run the beat's worker entries in-process for the approved vouchers and
    count their statements; every voucher must end paid."""
    from celery import current_app

    from vouchers.models import Voucher

    out: dict[str, Any] = {"vouchers": len(ids), "tasks": {}}
    total = control = 0
    for name in WORKER_TASKS:
        task = current_app.tasks.get(name)
        if task is None:
            out["tasks"][name] = "not available"
            continue
        with CaptureQueriesContext(connection) as ctx:
            task.run()
        out["tasks"][name] = len(ctx.captured_queries)
        total += len(ctx.captured_queries)
        control += _control(ctx.captured_queries)
    paid = Voucher.objects.filter(pk__in=ids, status="paid").count()
    out["paid"] = paid
    out["total"] = total
    out["control_per_voucher"] = round(control / len(ids), 2)
    out["per_voucher"] = round(total / len(ids), 2) if paid == len(ids) else None
    return out
