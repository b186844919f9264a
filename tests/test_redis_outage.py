"""Redis stops in the middle of the day: nobody gets a 500, no submission is lost.

A real redis-server of the test's own (not a dead URL) backs the cache and the
Celery broker. A request works; the server is killed; then sign-in (password
and TOTP), the preflight and the submission (API and page) still succeed, the
rate limits still limit (per process), the submissions are stored with their
notification rows pending, and /healthz says Redis is down (503, not 500).
Redis comes back: the cache uses it again, tasks queue again, and the beat's
sweep delivers what waited.
"""

import os
import shutil
import socket
import subprocess
import time
import uuid

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from conftest import api_client_for, enrol_totp, totp_code
from payments.models import DeliveryStatus, NotificationDelivery
from payments.tasks import deliver_notifications, enqueue, sweep_notifications
from payments.tests.kit import Kit, seed_money
from treasury_portal.cache import ResilientRedisCache
from treasury_portal.celery import app as celery_app
from vouchers.models import NOTIFY_PENDING, Voucher, VoucherEvent, VoucherStatus
from vouchers.selectors import CALENDAR_CACHE_KEY

REDIS_SERVER = shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnRedis:
    """A redis-server of this test's own, which the test stops and starts."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1, socket_timeout=1)

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own binary, fixed arguments
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client().ping()
                return
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def own_redis(monkeypatch):  # noqa: ANN201
    if not REDIS_SERVER:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed: CI must run the Redis outage test")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = OwnRedis()
    server.start()
    # Retry Redis at once after a failure, so the test sees it come back.
    monkeypatch.setattr(ResilientRedisCache, "RETRY_SECONDS", 0.0)
    caches = {
        "default": {
            "BACKEND": "treasury_portal.cache.ResilientRedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "outage",
            "OPTIONS": settings.REDIS_CACHE_OPTIONS,
        }
    }
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url, celery_app._pool
    conf.task_always_eager, conf.broker_url, celery_app._pool = False, server.url, None
    try:
        with override_settings(CACHES=caches, REDIS_URL=server.url):
            yield server
    finally:
        conf.task_always_eager, conf.broker_url, celery_app._pool = saved
        server.kill()


def _signed(kit: Kit) -> Voucher:
    voucher = kit.draft(1_250_000)
    kit.sign(voucher, "a_chief")
    kit.sign(voucher, "a_holder")
    return voucher


def _pending_deliveries(voucher: Voucher):  # noqa: ANN202
    return NotificationDelivery.objects.filter(
        notification__voucher=voucher, notification__data__status="submitted", status=DeliveryStatus.PENDING
    )


@pytest.mark.django_db(transaction=True)
def test_with_redis_stopped_sign_in_preflight_and_submit_succeed(world, own_redis, caplog):
    seed_money(world)
    kit = Kit(world, "a")
    holder = world.users["a_holder"]
    secret = enrol_totp(holder)
    by_api, by_page = _signed(kit), _signed(kit)
    api = api_client_for(holder)
    queue = f"{settings.TASK_QUEUE_PREFIX}notifications"

    # Redis answers: the calendar is cached there.
    assert api.get(f"/api/v1/vouchers/{by_api.pk}/preflight").status_code == 200
    assert own_redis.client().exists(f"outage:1:{CALENDAR_CACHE_KEY}")

    own_redis.kill()

    # Sign-in: password, then the TOTP code (allauth's rate limits and its
    # "code used" marker are in the cache).
    client = Client(REMOTE_ADDR="10.9.0.1")
    response = client.post(reverse("account_login"), {"login": "a_holder", "password": settings.DEMO_PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(holder.pk)
    outage_warnings = [r for r in caplog.records if r.name == "treasury_portal.cache" and "unreachable" in r.message]
    assert len(outage_warnings) == 1 and outage_warnings[0].levelname == "WARNING"  # once per outage

    # Preflight: the calendar comes from the database.
    assert api.get(f"/api/v1/vouchers/{by_api.pk}/preflight").status_code == 200
    assert client.get(reverse("voucher-preflight", kwargs={"pk": by_page.pk})).status_code == 200

    # Submit by the API and by the page's button: stored, their events (the
    # notifications' outbox) pending for the worker's drain.
    response = api.post(f"/api/v1/vouchers/{by_api.pk}/submit", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert response.status_code == 200, response.content
    response = client.post(reverse("voucher-submit", kwargs={"pk": by_page.pk}))
    assert response.status_code == 302 and response["Location"] == reverse("voucher-detail", kwargs={"pk": by_page.pk})
    for voucher in (by_api, by_page):
        voucher.refresh_from_db()
        assert voucher.status == VoucherStatus.SUBMITTED and voucher.receipt_number
        assert VoucherEvent.objects.filter(NOTIFY_PENDING, voucher=voucher, action="submit").exists()

    # The rate limits still limit (in this process's memory): the 6th attempt
    # after 5 failures for one login is refused even with the right password.
    for i in range(5):
        failed = Client(REMOTE_ADDR=f"10.9.1.{i}").post(
            reverse("account_login"), {"login": "a_preparer", "password": "wrong-password-123"}
        )
        assert failed.status_code == 200
    limited = Client(REMOTE_ADDR="10.9.1.99")
    response = limited.post(reverse("account_login"), {"login": "a_preparer", "password": settings.DEMO_PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in limited.session

    # /healthz tells the truth without a 500.
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["redis"].startswith("error") and response.json()["database"] == "ok"

    # Redis is back: the cache writes there again, a task reaches the broker,
    # and the beat's sweep (run here as the worker would) drains and delivers
    # what waited: e-mail and SMS for the preparer, chief and holder.
    own_redis.start()
    cache.set("outage-over", 1)
    assert own_redis.client().exists("outage:1:outage-over")
    enqueue(deliver_notifications)
    assert own_redis.client().llen(queue) == 1
    sweep_notifications()
    for voucher in (by_api, by_page):
        assert not _pending_deliveries(voucher).exists()
        assert NotificationDelivery.objects.filter(
            notification__voucher=voucher, notification__data__status="submitted", status=DeliveryStatus.SENT
        ).count() == 6
    assert Client().get("/healthz").status_code == 200
