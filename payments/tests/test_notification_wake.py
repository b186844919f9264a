"""The outbox's wake-up: a transaction that writes notifications asks for one
delivery run when it commits (not one per notification or per transition), and
across processes the deliverer is queued at most once per
NOTIFICATIONS_WAKE_SECONDS; the beat's sweep takes what committed in between."""

import time
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import transaction

from payments.models import DeliveryStatus, Notification, NotificationDelivery, NotificationKind
from payments.services import notifications
from payments.tasks import deliver_notifications

pytestmark = pytest.mark.django_db


def _rows(world, n: int) -> list[Notification]:  # noqa: ANN001
    return [
        Notification(user=world.users["a_holder"], kind=NotificationKind.BALANCE_CHANGE, title=f"N {i}",
                     body="…", unit=world.units["a"], data={})
        for i in range(n)
    ]


def test_one_wake_up_per_transaction(world, django_capture_on_commit_callbacks):  # noqa: ANN001
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        notifications.notifications_write(_rows(world, 2))
        notifications.notifications_write(_rows(world, 3))
        with transaction.atomic():  # a savepoint: still the same transaction's one wake-up
            notifications.notifications_write(_rows(world, 1))
    assert [c for c in callbacks if c is notifications._wake_deliverer] == [notifications._wake_deliverer]


@pytest.fixture
def broker():  # noqa: ANN201
    """Tasks are published (not run eagerly); the publishes are recorded."""
    conf = deliver_notifications.app.conf
    saved = conf.task_always_eager
    conf.task_always_eager = False
    cache.delete("notifications:wake")
    notifications._WAKE.last = 0.0
    with mock.patch("payments.tasks.enqueue") as enqueue:
        yield enqueue
    conf.task_always_eager = saved
    cache.delete("notifications:wake")
    notifications._WAKE.last = 0.0


def test_the_deliverer_is_queued_at_most_once_per_period(broker, settings):  # noqa: ANN001
    settings.NOTIFICATIONS_WAKE_SECONDS = 30
    notifications._wake_deliverer()
    notifications._wake_deliverer()  # this process woke it just now: not even a cache round trip
    assert broker.call_count == 1
    notifications._WAKE.last = 0.0  # another process: the shared gate is still shut
    notifications._wake_deliverer()
    assert broker.call_count == 1
    cache.delete("notifications:wake")  # the period is over
    notifications._WAKE.last = 0.0
    notifications._wake_deliverer()
    assert broker.call_count == 2
    for call in broker.call_args_list:  # the task is told when the gate opens again
        task, gate_until = call.args
        assert task is deliver_notifications and 0 < gate_until - time.time() <= 30


def test_a_process_refused_by_the_gate_wakes_it_once_it_opens(broker, settings):  # noqa: ANN001
    settings.NOTIFICATIONS_WAKE_SECONDS = 30
    cache.add("notifications:wake", 1, timeout=30)  # another process woke it
    notifications._wake_deliverer()
    assert broker.call_count == 0  # that process's trailing run takes this commit
    cache.delete("notifications:wake")  # the gate opens: this process's next commit wakes it
    notifications._wake_deliverer()
    assert broker.call_count == 1


def test_the_woken_run_runs_again_when_the_gate_opens(world, mailoutbox):  # noqa: ANN001
    """What committed while the gate was shut (here: during the run's wait) is
    delivered by the same task about a second later, not at the next sweep."""
    committed_meanwhile = []

    def another_commit(seconds: float) -> None:
        assert 0 < seconds <= 1.5
        committed_meanwhile.extend(notifications.notifications_write(_rows(world, 1), wake=False))

    with mock.patch("time.sleep", side_effect=another_commit) as sleep:
        assert deliver_notifications.apply(args=[time.time() + 0.5]).successful()
    assert sleep.call_count == 1 and committed_meanwhile
    assert not NotificationDelivery.objects.filter(
        notification__in=committed_meanwhile, status=DeliveryStatus.PENDING
    ).exists()
    with mock.patch("time.sleep") as sleep:  # not through the gate (the sweep, eager wake-ups): no wait
        assert deliver_notifications.apply().successful()
    assert sleep.call_count == 0


def test_with_the_cache_unreachable_it_still_wakes_the_deliverer(broker):  # noqa: ANN001
    with mock.patch.object(cache, "add", side_effect=ConnectionError("down")):
        notifications._wake_deliverer()
    assert broker.call_count == 1


def test_the_beat_sweeps_the_outbox_every_few_seconds(settings):  # noqa: ANN001
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-notifications"]
    assert entry["task"] == "payments.tasks.sweep_notifications"
    assert entry["schedule"].total_seconds() <= 10
