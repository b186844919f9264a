"""Notification delivery from the outbox: N pending NotificationDelivery rows
(e-mail and SMS/push, half each) are seeded, then the real Celery worker drains
them through payments.tasks.deliver_notifications (the batch task the outbox
queues on commit). Deliveries per second = N / time until none is pending and
due. The outbox is not empty before: the seed gave it the history a running
portal has (bench.seed, "the outbox's history": every paid voucher's
notification delivered, a few failed, the newest few waiting for a retry), so
the claim scans what it would scan in production.

The channels are the configured ones: e-mail through Django's dummy backend and
SMS/push through the logging backend (bench settings), so what is measured is the
outbox machinery — claiming, rendering, marking — not an SMTP server."""

from __future__ import annotations

import time
from typing import Any

from bench.scenarios import Context, Scenario


def _seed_outbox(ctx: Context, count: int) -> int:
    from django.utils import timezone

    from bench.seed import copy_rows, next_id
    from bench.tables import model

    Notification = model("payments_notification")  # noqa: N806
    NotificationDelivery = model("payments_notificationdelivery")  # noqa: N806

    users = [u[role]["user_id"] for u in ctx.state["lifecycle"] for role in ("chief", "holder")]
    notifications = (count + 1) // 2
    now = timezone.now()
    conn = ctx.db()
    try:
        cur = conn.cursor()
        first = next_id(cur, Notification)
        copy_rows(
            cur, Notification, ["id", "user_id", "kind", "title", "body", "data", "created_at"],
            (
                (first + i, users[i % len(users)], "balance_change", f"Biến động số dư #{i}",
                 f"Tài khoản 9523.2.x tăng 1.500.000 ₫ (benchmark {i}).", {"benchmark": i}, now)
                for i in range(notifications)
            ),
            now,
        )
        rows = copy_rows(
            cur, NotificationDelivery, ["notification_id", "channel", "status", "created_at"],
            (
                (first + i // 2, ("email", "sms")[i % 2], "pending", now)
                for i in range(count)
            ),
            now,
        )
        from bench.seed import reset_sequences

        reset_sequences(cur, [Notification, NotificationDelivery])
        cur.execute("ANALYZE payments_notificationdelivery")
        conn.commit()
    finally:
        conn.close()
    return rows


DUE = "status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= now())"


def _pending(cur: Any) -> int:
    """Deliveries the worker may send now. The seeded backlog's retries wait for
    their next attempt (bench.seed: the outbox's history) and are not counted."""
    cur.execute(f"SELECT COUNT(*) FROM payments_notificationdelivery WHERE {DUE}")  # noqa: S608
    return cur.fetchone()[0]


def _backlog(cur: Any) -> dict[str, int]:
    cur.execute(
        "SELECT COUNT(*), COUNT(*) FILTER (WHERE status = 'pending' AND next_attempt_at > now()) "
        "FROM payments_notificationdelivery"
    )
    rows, waiting = cur.fetchone()
    return {"outbox_rows": rows, "outbox_retries_waiting": waiting}


def delivery(ctx: Context) -> dict[str, Any]:
    from treasury_portal.celery import app

    conn = ctx.db()
    conn.autocommit = True
    cur = conn.cursor()
    # Start from an empty outbox (the lifecycle's own notifications drain first).
    _drain(ctx, cur, app, timeout=ctx.scale.drain_timeout)
    backlog = _backlog(cur)
    count = _seed_outbox(ctx, ctx.scale.notifications)
    cur.execute("SELECT status, COUNT(*) FROM payments_notificationdelivery GROUP BY status")
    before = dict(cur.fetchall())
    initial = _pending(cur)  # a task queued earlier may already have taken a few
    started = time.perf_counter()
    waited, kicks = _drain(ctx, cur, app, timeout=ctx.scale.drain_timeout)
    elapsed = time.perf_counter() - started
    left = _pending(cur)
    cur.execute("SELECT status, COUNT(*) FROM payments_notificationdelivery GROUP BY status")
    after = dict(cur.fetchall())
    conn.close()
    done = initial - left
    return {
        **backlog,
        "seeded": count,
        "pending_at_start": initial,
        "delivered": done,
        "still_pending": left,
        "failed": after.get("failed", 0) - before.get("failed", 0),
        "seconds": round(elapsed, 2),
        "tasks_sent": kicks,
        "per_s": round(done / elapsed, 1) if elapsed > 0 else 0.0,
    }


def _drain(ctx: Context, cur: Any, app: Any, *, timeout: float) -> tuple[float, int]:
    """Queue the batch task on both worker processes, and again whenever the
    count stops falling while rows are pending (a task ends after 50 batches)."""
    started = time.perf_counter()
    kicks = 0
    last, last_change = None, started
    while True:
        pending = _pending(cur)
        now = time.perf_counter()
        if pending == 0 or now - started > timeout:
            return now - started, kicks
        if pending != last:
            last, last_change = pending, now
        if kicks == 0 or now - last_change > 1.0:
            for _i in range(2):
                app.send_task("payments.tasks.deliver_notifications", queue="notifications")
            kicks += 2
            last_change = now
        time.sleep(0.05)


def _missing() -> str | None:
    from bench.tables import missing, task_missing

    return (missing("payments_notification", "payments_notificationdelivery")
            or task_missing("payments.tasks.deliver_notifications"))


SCENARIOS = [
    Scenario(
        name="notifications", title="Notification delivery from the outbox (Celery worker, 2 processes)",
        target="≥ 1,000 deliveries/s", run=delivery, kind="worker",
        check=_missing,
    ),
]
