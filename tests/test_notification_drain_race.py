"""The voucher events' drain on PostgreSQL with real threads and commits: two
drainers at once (two worker processes) tell every pending change exactly once
(FOR UPDATE SKIP LOCKED, written and marked in one transaction); the task
delivered twice finds nothing left; a drain that fails leaves its batch pending;
a committed transition is told by its wake-up in-process (eager tasks, the
embedded default) without anyone calling the drain."""

from collections import Counter
from unittest import mock

import pytest

from payments.models import Notification, NotificationDelivery
from payments.services import notifications as outbox
from payments.tasks import deliver_notifications, sweep_notifications
from tests.postgres import needs_postgres
from tests.test_voucher_races import run_at_once
from vouchers import services
from vouchers.models import NOTIFY_PENDING, VoucherEvent
from vouchers.notifications import voucher_events_drain
from vouchers.tests.kit import Kit, seed

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgres]


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    seed(world)
    return Kit(world)


def _pending_changes(kit: Kit, vouchers: int, events_each: int) -> list[int]:
    """Committed status-changing events nobody has drained yet: a few submitted
    vouchers (their wake-ups held back) and many events inserted in bulk, as a
    batched worker would."""
    with mock.patch.object(outbox, "notifications_wake"):
        submitted = [kit.submitted() for _ in range(vouchers)]
    VoucherEvent.objects.bulk_create([
        VoucherEvent(voucher=v, action="claim", from_status="submitted", to_status="in_control", note=f"{v.pk}:{i}")
        for v in submitted for i in range(events_each)
    ])
    return list(VoucherEvent.objects.filter(NOTIFY_PENDING).values_list("pk", flat=True))


def _told_once(pending: list[int]) -> None:
    assert not VoucherEvent.objects.filter(NOTIFY_PENDING).exists()
    vouchers = set(VoucherEvent.objects.filter(pk__in=pending).values_list("voucher_id", flat=True))
    notes = Notification.objects.filter(voucher_id__in=vouchers).values_list(
        "voucher_id", "data__action", "data__note", "created_at", "user_id"
    )
    per_change = Counter(notes)
    assert per_change and set(per_change.values()) == {1}, "a change told twice"
    changes = {(v, a, n, at) for v, a, n, at, _u in per_change}
    assert len(changes) == len(pending)  # every change told
    assert len(per_change) == 3 * len(pending)  # to the preparer and the two signers


def test_two_drainers_at_once_tell_every_change_exactly_once(kit):
    pending = _pending_changes(kit, vouchers=2, events_each=40)
    assert len(pending) == 2 + 80
    results = run_at_once([lambda: voucher_events_drain(batch_size=7), lambda: voucher_events_drain(batch_size=7)])
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == len(pending)
    _told_once(pending)
    assert NotificationDelivery.objects.filter(notification__voucher__events__pk=pending[0]).exists()


def test_the_task_delivered_twice_and_the_sweep_find_nothing_left(kit):
    pending = _pending_changes(kit, vouchers=1, events_each=10)
    results = run_at_once([deliver_notifications.apply, deliver_notifications.apply, sweep_notifications.apply])
    assert all(r.successful() for r in results), results
    _told_once(pending)
    assert sweep_notifications() == 0


def test_a_failed_drain_leaves_its_batch_pending_for_the_next(kit):
    pending = _pending_changes(kit, vouchers=1, events_each=3)
    with mock.patch("vouchers.notifications.notifications_write", side_effect=RuntimeError("disk full")):
        assert outbox.notifications_drain() == 0  # logged; the delivery still runs after it
    assert VoucherEvent.objects.filter(NOTIFY_PENDING).count() == len(pending)
    assert not Notification.objects.filter(voucher__events__pk=pending[0]).exists()
    assert outbox.notifications_drain() == len(pending)
    _told_once(pending)


def test_a_committed_transition_is_told_by_its_wake_up_in_process(kit):
    voucher = kit.submitted()  # commits; the wake-up runs the deliverer eagerly, which drains
    assert not VoucherEvent.objects.filter(NOTIFY_PENDING).exists()
    services.voucher_claim(actor=kit.user("officer"), voucher=voucher)
    assert not VoucherEvent.objects.filter(NOTIFY_PENDING).exists()
    told = Notification.objects.filter(voucher=voucher, data__action="claim")
    assert {n.user.username for n in told} == {"a_preparer", "a_chief", "a_holder"}
