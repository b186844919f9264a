"""A voucher's change of status is told through its event row (the outbox),
drained by the worker (vouchers.notifications), not written by the transition.

- a transition writes no notification and reads no recipient: its event is
  pending, and it asks for one wake-up of the deliverer on commit;
- the drain writes the notifications the transition used to write: the
  preparer and the signers, the title and body in the portal's language, the
  data the reader's text is made from, the channels of each user's preferences;
- it takes every status-changing event however it was inserted (bulk_create
  too), and the year-end carry, never the others; run again it finds nothing.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from payments.models import Channel, Notification, NotificationDelivery, NotificationKind, NotificationPreference
from payments.selectors.notifications import notification_text
from payments.services import notifications as outbox
from vouchers import services
from vouchers.models import NOTIFY_PENDING, Signature, Voucher, VoucherEvent, VoucherStatus
from vouchers.notifications import voucher_events_drain

pytestmark = pytest.mark.django_db

TOLD = {"a_preparer", "a_chief", "a_holder"}  # the preparer and both signers


def _pending() -> list[VoucherEvent]:
    return list(VoucherEvent.objects.filter(NOTIFY_PENDING).order_by("id"))


def _expected(voucher: Voucher, event: VoucherEvent) -> tuple[str, str, dict]:
    """The title, body and data the transition wrote in its own transaction
    before the outbox (payments' notify_voucher_status), in Vietnamese."""
    with translation.override("vi"):
        label = str(VoucherStatus(event.to_status).label)
    title = f"Chứng từ {voucher.number}: {label}"
    body = title + (f" — {event.note}" if event.note else "")
    data = {
        "voucher_id": voucher.pk, "voucher_number": voucher.number, "status": event.to_status,
        "from_status": event.from_status, "action": event.action, "note": event.note[:500],
        "url": f"/vouchers/{voucher.pk}/",
    }
    return title, body, data


def _assert_told(voucher: Voucher, event: VoucherEvent, users: set[str] = TOLD) -> None:
    title, body, data = _expected(voucher, event)
    notes = list(Notification.objects.filter(voucher=voucher, data__action=event.action,
                                             created_at=event.created_at).select_related("user"))
    assert sorted(n.user.username for n in notes) == sorted(users), event.action
    for n in notes:
        assert (n.kind, n.title, n.body, n.data, n.unit_id) == (
            NotificationKind.VOUCHER_STATUS, title, body, data, voucher.unit_id
        )
        assert n.created_at == event.created_at  # the time of the change, not of the drain
        assert n.read_at is None
        assert sorted(NotificationDelivery.objects.filter(notification=n).values_list("channel", flat=True)) == [
            Channel.EMAIL, Channel.SMS
        ]
    event.refresh_from_db()
    assert event.notified_at is not None


def test_each_change_of_status_is_told_by_the_drain_as_the_transition_told_it(kit):
    officer, approver = kit.user("officer"), kit.user("approver")
    voucher = kit.draft()
    kit.sign_both(voucher)
    assert not _pending()  # creation and signatures tell nobody
    steps = [
        lambda v: services.voucher_submit(actor=kit.user("a_holder"), voucher=v),
        lambda v: services.voucher_claim(actor=officer, voucher=v),
        lambda v: services.voucher_return_for_supplement(
            actor=officer, voucher=v, deficiencies=[{"code": "TL03", "note": "Thiếu hóa đơn"}]),
        lambda v: services.voucher_submit(actor=kit.user("a_holder"), voucher=v),
        lambda v: services.voucher_claim(actor=officer, voucher=v),
        lambda v: services.voucher_pass(actor=officer, voucher=v, note="Đủ hồ sơ"),
        lambda v: services.voucher_send_back(actor=approver, voucher=v, note="Xem lại dòng 1"),
        lambda v: services.voucher_pass(actor=officer, voucher=v),
        lambda v: services.voucher_approve(actor=approver, voucher=v),
        lambda v: services.voucher_mark_payment_failed(voucher=v, error="bank timeout"),
        lambda v: services.voucher_retry_payment(voucher=v, note="Thử lại"),
        lambda v: services.voucher_mark_paid(voucher=v),
    ]
    for step in steps:
        notes_before = Notification.objects.count()
        step(voucher)
        assert Notification.objects.count() == notes_before  # the transition wrote none
        (event,) = _pending()
        assert event.voucher_id == voucher.pk and event.from_status != event.to_status
        assert outbox.notifications_drain() == 1
        voucher.refresh_from_db()
        _assert_told(voucher, event)
        assert outbox.notifications_drain() == 0  # told once
    assert voucher.status == VoucherStatus.PAID


def test_refusal_and_withdrawal_are_told_with_their_reason(kit, drain_notifications):
    refused = kit.refused()
    withdrawn = kit.withdrawn()
    assert drain_notifications() == 3 + 2  # submit, claim, refuse; submit, withdraw
    refuse = VoucherEvent.objects.get(voucher=refused, action="refuse")
    assert "TC01" in refuse.note
    _assert_told(refused, refuse)
    _assert_told(withdrawn, VoucherEvent.objects.get(voucher=withdrawn, action="withdraw"))


def test_the_preferences_choose_the_channels_and_the_portal_record(kit, drain_notifications):
    chief = kit.user("a_chief")
    for channel in (Channel.PORTAL, Channel.EMAIL):
        NotificationPreference.objects.create(user=chief, kind=NotificationKind.VOUCHER_STATUS, channel=channel,
                                              enabled=False)
    holder = kit.user("a_holder")
    holder.email = ""  # no address: no e-mail
    holder.save(update_fields=["email"])
    preparer = kit.user("a_preparer")
    preparer.is_active = False  # deactivated: the portal record only
    preparer.save(update_fields=["is_active"])
    voucher = kit.submitted()
    drain_notifications()
    notes = {n.user.username: n for n in Notification.objects.filter(voucher=voucher).select_related("user")}
    assert set(notes) == TOLD

    def channels(name: str) -> list[str]:
        return sorted(NotificationDelivery.objects.filter(notification=notes[name]).values_list("channel", flat=True))

    assert notes["a_chief"].read_at is not None and channels("a_chief") == [Channel.SMS]
    assert notes["a_holder"].read_at is None and channels("a_holder") == [Channel.SMS]
    assert channels("a_preparer") == []


def test_the_texts_are_in_the_portal_language_and_read_in_the_readers(kit, drain_notifications):
    voucher = kit.submitted()
    with translation.override("en"):  # a worker whose active language is not the portal's
        drain_notifications()
    note = Notification.objects.filter(voucher=voucher, user=kit.user("a_holder")).get()
    assert note.title == f"Chứng từ {voucher.number}: Đã gửi"
    with translation.override("en"):
        english = str(VoucherStatus.SUBMITTED.label)
        assert english != "Đã gửi"
        assert notification_text(note)["title"].endswith(f"{voucher.number}: {english}")


def test_a_signer_who_signed_after_the_change_is_not_told_of_it(kit, drain_notifications):
    voucher = kit.submitted()
    assert drain_notifications() == 1
    services.voucher_claim(actor=kit.user("officer"), voucher=voucher)
    # Between a change and its drain (the worker down), someone else signs.
    later = timezone.now()
    Signature.objects.create(voucher=voucher, key=kit.keys["a_holder"][1], signer=kit.user("officer_b"),
                             role="witness", content_hash="0" * 64, signature="x", signed_at=later, voided_at=later)
    assert drain_notifications() == 1
    told = Notification.objects.filter(voucher=voucher, data__action="claim")
    assert {n.user.username for n in told} == TOLD


def test_events_inserted_in_bulk_and_the_year_end_carry_are_drained_the_others_never(kit, drain_notifications):
    voucher = kit.approved()
    drain_notifications()
    VoucherEvent.objects.bulk_create([
        VoucherEvent(voucher=voucher, action="pay", from_status="approved", to_status="paid", data={}),
        VoucherEvent(voucher=voucher, action="note", from_status="approved", to_status="approved", data={}),
    ])
    carried = services.voucher_year_end_carry(voucher=voucher, actor=None, year=voucher.fiscal_year)
    assert [e.action for e in _pending()] == ["pay", "year_end_carry"]
    assert drain_notifications() == 2
    assert not _pending()
    paid = Notification.objects.filter(voucher=voucher, data__action="pay")
    assert {n.user.username for n in paid} == TOLD
    carry = Notification.objects.filter(voucher=voucher, data__action="year_end_carry")
    assert {n.user.username for n in carry} == TOLD
    assert carry.first().title == (
        f"Chứng từ {voucher.number}: năm ngân sách {voucher.fiscal_year} đã khóa sổ, chứng từ được chuyển sang năm sau"
    )
    assert carry.first().data["year"] == voucher.fiscal_year
    assert carry.first().created_at == carried.created_at
    assert not Notification.objects.filter(voucher=voucher, data__action="note").exists()


def test_a_transition_writes_no_notification_and_asks_for_one_wake_up(kit, django_capture_on_commit_callbacks):
    voucher = kit.submitted()
    with django_capture_on_commit_callbacks() as callbacks, CaptureQueriesContext(connection) as ctx:
        services.voucher_claim(actor=kit.user("officer"), voucher=voucher)
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    for table in ("payments_notification", "payments_notificationpreference", "vouchers_signature", "accounts_user"):
        assert table not in sql, f"the claim read or wrote {table}"
    assert [c for c in callbacks if c is outbox._wake_deliverer] == [outbox._wake_deliverer]
    # Run at commit, the wake-up drains the claim's event (the embedded default: tasks in-process).
    for callback in callbacks:
        callback()
    assert not _pending()
    assert Notification.objects.filter(voucher=voucher, data__action="claim").count() == 3


def test_the_drain_writes_a_batch_in_a_fixed_number_of_statements(kit, drain_notifications):
    vouchers = [kit.submitted() for _ in range(2)]
    drain_notifications()
    for v in vouchers:
        services.voucher_claim(actor=kit.user("officer"), voucher=v)
    with CaptureQueriesContext(connection) as small:
        assert voucher_events_drain() == 2
    for v in vouchers:
        services.voucher_pass(actor=kit.user("officer"), voucher=v)
        services.voucher_send_back(actor=kit.user("approver"), voucher=v, note="Xem lại")
        services.voucher_pass(actor=kit.user("officer"), voucher=v)
    with CaptureQueriesContext(connection) as large:
        assert voucher_events_drain() == 6
    # savepoint, claim, signers, recipients with their preferences, notifications + deliveries, mark, release
    assert len(small.captured_queries) == len(large.captured_queries) == 7, [
        q["sql"][:120] for q in large.captured_queries
    ]
