"""Pay-once under a crash: a real Celery worker (Redis broker, the test
database) is killed with SIGKILL while a payment transaction is open, then a
fresh worker and the sweeper finish the job. Every approved voucher must end
paid exactly once: one payment transfer, one `pay` event, a reconciled ledger.
The batch settler claims its intents inside the payment's transaction (SKIP
LOCKED): the killed batch leaves them pending, untouched, as if never claimed.

The worker runs on its own queues (TASK_QUEUE_PREFIX) of the test's Redis db,
waits inside the payment transaction when PAYMENTS_CRASH_TEST_DELAY is set,
and is always killed at the end, whatever happens.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction

from payments.models import PaymentIntent, PaymentIntentStatus, Transfer, TransferKind
from payments.selectors.reconcile import reconcile
from payments.tests.kit import Kit, seed_money
from tests.postgres import needs_postgres
from treasury_portal.celery import app as celery_app
from vouchers.models import Voucher, VoucherEvent, VoucherStatus
from vouchers.payment.services import payment_intents_sweep
from vouchers.tasks import pay_intents

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
VOUCHERS = 4
DEADLINE = 120  # seconds for the whole run, so a hang fails instead of blocking CI


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Worker:
    def __init__(self, prefix: str, log: Path, *, delay: float) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "treasury_portal.settings.test",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_TASK_ALWAYS_EAGER": "False",
            "TASK_QUEUE_PREFIX": prefix,
            "PAYMENTS_CRASH_TEST_DELAY": str(delay),
            "PAYMENT_INTENT_STALE_SECONDS": "2",
            "PRIVATE_STORAGE_ROOT": str(log.parent / "storage"),
        }
        self.log = log
        self._out = log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable, "-m", "celery", "-A", "treasury_portal", "worker", "-P", "solo",
                "-Q", f"{prefix}payments", "-n", f"{prefix}{uuid.uuid4().hex[:6]}@%h", "--without-gossip",
                "--without-mingle", "--without-heartbeat", "-l", "INFO",
            ],
            cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def kill(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=30)
        self._out.close()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@contextmanager
def publishing_to(queue: str):
    """In this process: tasks are sent to the broker (not run eagerly), and the
    payments side (approval, sweeper) routes pay tasks to the test's queue."""
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False

    def queue_payment() -> None:
        pay_intents.apply_async(queue=queue)

    try:
        with (
            mock.patch("vouchers.payment.services._queue_payment", queue_payment),
            # Deliveries are not this test's business: leave no messages behind.
            mock.patch("payments.services.notifications.notifications_wake"),
        ):
            yield
    finally:
        celery_app.conf.task_always_eager = saved


def _clean_broker(prefix: str) -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(match=f"*{prefix}*"):
        client.delete(key)
    # Messages of the killed worker wait in the transport's shared "unacked" hash.
    for tag, raw in client.hgetall("unacked").items():
        try:
            routing_key = json.loads(raw)[2]
        except (ValueError, IndexError, TypeError):
            continue
        if isinstance(routing_key, str) and routing_key.startswith(prefix):
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


def _wait(predicate, timeout: float, what: str, worker: Worker | None = None) -> None:  # noqa: ANN001
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}\n" + (worker.tail() if worker else ""))


@needs_postgres
def test_worker_killed_mid_payment_then_every_voucher_is_paid_exactly_once(world, tmp_path, settings):
    started = time.monotonic()
    seed_money(world)
    kit = Kit(world, "a")
    prefix = f"crash-{uuid.uuid4().hex[:10]}-"
    queue = f"{prefix}payments"
    log = tmp_path / "worker.log"
    workers: list[Worker] = []
    try:
        with publishing_to(queue):
            # Approval writes the intent and queues its task on commit.
            vouchers = [kit.approved(1_000_000 + 1_000 * i) for i in range(VOUCHERS)]
            intents = PaymentIntent.objects.filter(voucher__in=vouchers)
            assert intents.filter(status=PaymentIntentStatus.PENDING).count() == VOUCHERS

            first = Worker(prefix, log, delay=4.0)
            workers.append(first)
            held: list[int] = []

            def claimed() -> bool:  # the intents a batch holds (locked by its open transaction)
                with transaction.atomic():
                    free = set(intents.select_for_update(skip_locked=True).values_list("pk", flat=True))
                held[:] = sorted(set(intents.values_list("pk", flat=True)) - free)
                return bool(held)

            _wait(claimed, 60, "a claim", first)
            time.sleep(1.5)  # inside the payment transaction: transfers posted, not committed
            first.kill()

            # The open transaction died with the worker: nothing of that batch exists, not even its claim.
            for victim in intents.filter(pk__in=held):
                assert (victim.status, victim.attempts) == (PaymentIntentStatus.PENDING, 0)
                assert Voucher.objects.get(pk=victim.voucher_id).status == VoucherStatus.APPROVED
                assert not Transfer.objects.filter(voucher_id=victim.voucher_id).exists()
            assert reconcile().ok

            # A fresh worker; the sweeper re-queues the lost and the stale.
            second = Worker(prefix, log, delay=0)
            workers.append(second)
            settings.PAYMENT_INTENT_STALE_SECONDS = 2

            def all_paid() -> bool:
                paid = Voucher.objects.filter(pk__in=[v.pk for v in vouchers], status=VoucherStatus.PAID)
                if paid.count() == VOUCHERS:
                    return True
                payment_intents_sweep()
                time.sleep(1.0)
                return False

            _wait(all_paid, DEADLINE - (time.monotonic() - started), "every voucher paid", second)
    finally:
        for worker in workers:
            worker.kill()
        _clean_broker(prefix)

    for voucher in vouchers:
        assert Transfer.objects.filter(voucher=voucher, kind=TransferKind.PAYMENT).count() == 1, voucher.number
        assert VoucherEvent.objects.filter(voucher=voucher, action="pay").count() == 1, voucher.number
    assert set(intents.values_list("status", flat=True)) == {PaymentIntentStatus.SUCCEEDED}
    assert set(intents.filter(pk__in=held).values_list("attempts", flat=True)) == {1}  # the killed one left nothing
    report = reconcile()
    assert report.ok, report.problems
