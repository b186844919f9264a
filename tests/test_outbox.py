"""The notification outbox: written with its cause, delivered by a worker.

- a rolled-back cause leaves no notification and sends nothing;
- with the broker unreachable a submission still succeeds, and its
  notifications are delivered once the sweeper runs with the broker back;
- two deliverers at once never send a row twice (SKIP LOCKED);
- failures are retried later, then given up with the error;
- the webhook SMS backend signs its calls (checked against a local server).
"""

import http.server
import json
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connections, transaction
from django.test import override_settings
from django.utils import timezone

from payments import channels
from payments.models import (
    Channel,
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    NotificationKind,
    NotificationPreference,
)
from payments.services import ledger
from payments.services.notifications import MAX_ATTEMPTS, notifications_deliver
from payments.tasks import sweep_notifications
from payments.tests.kit import Kit, seed_money
from treasury_portal.celery import app as celery_app
from vouchers.models import NOTIFY_PENDING, VoucherEvent, VoucherStatus

pytestmark = pytest.mark.django_db


def deposit_account(world):
    from payments.models import Account

    return Account.objects.get(unit=world.units["a"], kind="deposit")


@pytest.mark.django_db(transaction=True)
def test_rolled_back_cause_writes_and_sends_nothing(world):
    seed_money(world)
    mail.outbox.clear()
    notes_before = Notification.objects.count()
    deliveries_before = NotificationDelivery.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        ledger.deposit_credit(actor=None, account=deposit_account(world), amount=1_000, reference="rb-1")
        assert Notification.objects.count() > notes_before  # written inside the transaction…
        raise RuntimeError("the cause fails after the notification was written")
    assert Notification.objects.count() == notes_before  # …and gone with it
    assert NotificationDelivery.objects.count() == deliveries_before
    assert not [m for m in mail.outbox if "+1.000" in m.subject]
    # The same cause committed is delivered (eager tasks on commit).
    ledger.deposit_credit(actor=None, account=deposit_account(world), amount=1_000, reference="rb-2")
    assert sorted(m.to[0] for m in mail.outbox if "+1.000 " in m.subject) == sorted(
        [world.users["a_holder"].email, world.users["a_chief"].email]
    )


@pytest.fixture
def broker_down():
    """Tasks go to a broker nobody listens on (a closed port of 127.0.0.1)."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url, celery_app._pool
    conf.task_always_eager, conf.broker_url, celery_app._pool = False, "redis://127.0.0.1:1/0", None

    def back() -> None:
        conf.task_always_eager, conf.broker_url, celery_app._pool = saved

    yield back
    back()


@pytest.mark.django_db(transaction=True)
def test_submission_succeeds_with_the_broker_down_and_is_notified_after(world, broker_down):
    seed_money(world)
    kit = Kit(world, "a")
    mail.outbox.clear()
    voucher = kit.submitted(1_234_000)  # voucher_submit commits; queueing the drain fails quietly
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.SUBMITTED and voucher.receipt_number
    # The submission's event is committed with it, pending: it is the outbox.
    event = VoucherEvent.objects.get(voucher=voucher, action="submit")
    assert event.notified_at is None
    assert VoucherEvent.objects.filter(NOTIFY_PENDING, pk=event.pk).exists()
    notes = Notification.objects.filter(voucher=voucher, data__status="submitted")
    assert not notes.exists() and not mail.outbox
    # The broker is back: the periodic sweeper drains the event and delivers.
    broker_down()  # back
    sweep_notifications.delay()
    assert {n.user.username for n in notes} == {"a_preparer", "a_chief", "a_holder"}
    assert NotificationDelivery.objects.filter(notification__in=notes).count() == 6  # e-mail and SMS, three people
    assert not NotificationDelivery.objects.filter(notification__in=notes).exclude(status=DeliveryStatus.SENT).exists()
    submitted_mails = [m for m in mail.outbox if voucher.number in m.subject]
    assert len(submitted_mails) == 3
    # Running the sweeper again sends nothing twice.
    sweep_notifications.delay()
    assert len([m for m in mail.outbox if voucher.number in m.subject]) == 3


@pytest.mark.django_db(transaction=True)
def test_two_deliverers_never_send_a_row_twice(world):
    seed_money(world)
    NotificationDelivery.objects.update(status=DeliveryStatus.SENT)
    from unittest import mock

    with mock.patch("payments.services.notifications.notifications_wake"):  # leave them for the race
        for i in range(40):
            ledger.deposit_credit(actor=None, account=deposit_account(world), amount=1_000 + i, reference=f"race-{i}")
    pending = NotificationDelivery.objects.filter(status=DeliveryStatus.PENDING)
    assert pending.count() == 40 * 2 * 2  # two people, two external channels
    mail.outbox.clear()
    counts: list[int] = []

    def deliver() -> None:
        try:
            counts.append(notifications_deliver(batch_size=7))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 160
    assert NotificationDelivery.objects.filter(status=DeliveryStatus.SENT, channel=Channel.EMAIL).count() >= 80
    assert len(mail.outbox) == 80
    assert len({(m.to[0], m.subject) for m in mail.outbox}) == 80


class FailingSms(channels.BaseSmsBackend):
    def send_messages(self, messages):
        return ["gateway timeout"] * len(messages)


def test_failed_sends_are_retried_later_then_given_up(world):
    seed_money(world)
    NotificationDelivery.objects.update(status=DeliveryStatus.SENT)
    ledger.deposit_credit(actor=None, account=deposit_account(world), amount=77_000, reference="retry-1")
    sms = NotificationDelivery.objects.filter(status=DeliveryStatus.PENDING, channel=Channel.SMS)
    assert sms.count() == 2
    with override_settings(SMS_BACKEND="tests.test_outbox.FailingSms"):
        notifications_deliver()
    row = sms.first()
    assert row.status == DeliveryStatus.PENDING and row.attempts == 1 and row.last_error == "gateway timeout"
    assert row.next_attempt_at > timezone.now()
    assert NotificationDelivery.objects.filter(channel=Channel.EMAIL, status=DeliveryStatus.SENT,
                                               notification=row.notification).exists()
    with override_settings(SMS_BACKEND="tests.test_outbox.FailingSms"):
        assert notifications_deliver() == 0  # not due yet
        for _ in range(MAX_ATTEMPTS):
            due = timezone.now() - timedelta(days=1)
            NotificationDelivery.objects.filter(channel=Channel.SMS).update(next_attempt_at=due)
            notifications_deliver()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED and row.attempts == MAX_ATTEMPTS


def test_preferences_choose_the_channels(world):
    seed_money(world)
    holder, chief = world.users["a_holder"], world.users["a_chief"]
    for channel in (Channel.EMAIL, Channel.SMS):
        NotificationPreference.objects.create(user=holder, kind=NotificationKind.BALANCE_CHANGE, channel=channel,
                                              enabled=False)
    NotificationPreference.objects.create(user=chief, kind=NotificationKind.BALANCE_CHANGE, channel=Channel.PORTAL,
                                          enabled=False)
    transfer = ledger.deposit_credit(actor=None, account=deposit_account(world), amount=5, reference="pref-1")
    notes = Notification.objects.filter(data__transfer_id=transfer.pk)
    holder_note, chief_note = notes.get(user=holder), notes.get(user=chief)
    assert holder_note.read_at is None and not holder_note.deliveries.exists()
    assert chief_note.read_at is not None  # no badge, still on record
    assert set(chief_note.deliveries.values_list("channel", flat=True)) == {"email", "sms"}


def test_webhook_backend_posts_signed_json_to_a_local_gateway():
    received: list[tuple[dict, bytes]] = []

    class Gateway(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            ok = channels.verify("s3cret", self.headers["X-Timestamp"], body, self.headers["X-Signature"])
            self.send_response(200 if ok else 401)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/sms"
        message = channels.SmsMessage(id=1, user_id=2, username="a_holder", phone="0912345678",
                                      kind="balance_change", title="Biến động số dư", text="Số dư mới: 1.000 ₫")
        assert channels.WebhookSmsBackend(url=url, secret="s3cret").send_messages([message]) == [None]
        headers, body = received[0]
        assert json.loads(body)["messages"][0]["text"] == "Số dư mới: 1.000 ₫"
        assert headers["Content-Type"].startswith("application/json")
        assert len(headers["X-Signature"]) == 64
        # A wrong secret is refused by the gateway: the send reports an error (retried later).
        errors = channels.WebhookSmsBackend(url=url, secret="wrong").send_messages([message])
        assert errors[0] and "401" in errors[0]
    finally:
        server.shutdown()
        server.server_close()
    assert not channels.verify("s3cret", "1", b"{}", channels.sign("s3cret", "1", b"{}"))  # too old
    with pytest.raises(ValueError):
        channels.WebhookSmsBackend(url="file:///etc/passwd", secret="x")
