"""The outbox after years of use: the delivery claim reads the pending rows
through the partial index `delivery_pending`, never the delivered history.

2,000,000 delivered rows (1,000,000 notifications × e-mail and SMS, one
INSERT … SELECT generate_series each) and a handful pending; ANALYZE; then the
claim that `notifications_deliver` runs (the sweep's and the deliver task's)
must plan an index scan of the partial index (no Seq Scan of the deliveries)
and take well under 50 ms.
"""

import re
import time

import pytest
from django.db import connection

from payments.models import DeliveryStatus, Notification, NotificationDelivery
from payments.services.notifications import _claim_pending, notifications_deliver
from tests.postgres import needs_postgres

pytestmark = [needs_postgres, pytest.mark.django_db]

HISTORY = 1_000_000  # notifications already delivered, two channels each


def _age_the_outbox(user_id: int) -> None:
    n, d = Notification._meta.db_table, NotificationDelivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {n} (user_id, kind, title, body, data, created_at)
                SELECT %s, 'balance_change', 'Số dư thay đổi', '', '{{}}',
                       now() - interval '3 years' + g * interval '90 seconds'
                FROM generate_series(1, %s) g""",  # noqa: S608 - table names from the models
            [user_id, HISTORY],
        )
        cursor.execute(
            f"""INSERT INTO {d} (notification_id, channel, status, attempts, last_error, created_at, sent_at)
                SELECT n.id, c.channel, 'sent', 1, '', n.created_at, n.created_at
                FROM {n} n CROSS JOIN (VALUES ('email'), ('sms')) c(channel)""",  # noqa: S608
        )
        cursor.execute(f"ANALYZE {n}")
        cursor.execute(f"ANALYZE {d}")


def test_the_claim_reads_the_pending_rows_by_the_partial_index(world):
    user = world.users["a_holder"]
    _age_the_outbox(user.pk)
    fresh = Notification.objects.create(user=user, kind="balance_change", title="Số dư thay đổi", body="")
    for channel in ("email", "sms"):
        NotificationDelivery.objects.create(notification=fresh, channel=channel)
    assert NotificationDelivery.objects.count() == 2 * HISTORY + 2

    sql, params = _claim_pending(batch_size=500).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    table = NotificationDelivery._meta.db_table
    assert re.search(rf"Index Scan using delivery_pending on {table}", plan), plan
    assert not re.search(rf"Seq Scan on {table}\b", plan), plan

    timings = []
    for _ in range(5):
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            timings.append(time.perf_counter() - started)
        assert len(rows) == 2
    assert min(timings) < 0.050, timings  # seconds

    assert notifications_deliver() == 2
    assert not NotificationDelivery.objects.filter(status=DeliveryStatus.PENDING).exists()
