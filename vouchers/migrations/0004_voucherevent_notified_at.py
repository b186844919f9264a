"""The voucher event row is the notification outbox (issue 15): `notified_at`
NULL on a change of status means its people are still to be told (drained by
vouchers.notifications). Every event written before was told in its own
transaction: it is marked notified at its own time, so the drain never tells
the history again."""

from django.db import migrations, models
from django.db.models import F, Q

PENDING = Q(notified_at__isnull=True) & (
    (~Q(from_status="") & ~Q(from_status=F("to_status"))) | Q(action__in=("year_end_carry",))
)


def mark_history_notified(apps, schema_editor) -> None:  # noqa: ANN001, ARG001
    VoucherEvent = apps.get_model("vouchers", "VoucherEvent")  # noqa: N806
    VoucherEvent.objects.filter(PENDING).update(notified_at=F("created_at"))


class Migration(migrations.Migration):

    dependencies = [
        ("vouchers", "0003_verbose_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="voucherevent",
            name="notified_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="thời điểm thông báo"),
        ),
        migrations.RunPython(mark_history_notified, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="voucherevent",
            index=models.Index(condition=PENDING, fields=["id"], name="voucherevent_notify_pending"),
        ),
    ]
