"""Autopay runs get a lease: a status (running / finished / abandoned) and a
heartbeat the batches refresh; a run event row for the abandonment.

Existing runs: finished ones are `finished`, their heartbeat is their last
known moment (finished_at, else started_at), so an old run left unfinished by
a killed worker is abandoned at the next scheduled start."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def statuses(apps, schema_editor):  # noqa: ANN001, ANN201
    from django.db.models import F
    from django.db.models.functions import Coalesce

    run = apps.get_model("payments", "AutopayRun")
    run.objects.filter(finished_at__isnull=False).update(status="finished")
    run.objects.update(heartbeat_at=Coalesce(F("finished_at"), F("started_at")))


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0009_invoice_exception_params'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='autopayevent',
            name='autopay_event_has_subject',
        ),
        migrations.AddField(
            model_name='autopayevent',
            name='run',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='payments.autopayrun'),
        ),
        migrations.AddField(
            model_name='autopayrun',
            name='heartbeat_at',
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name='autopayrun',
            name='status',
            field=models.CharField(choices=[('running', 'Đang chạy'), ('finished', 'Đã xong'), ('abandoned', 'Bị bỏ dở')], default='running', max_length=20),
        ),
        migrations.RunPython(statuses, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='autopayrun',
            index=models.Index(condition=models.Q(('status', 'running')), fields=['heartbeat_at'], name='autopay_run_running'),
        ),
        migrations.AddConstraint(
            model_name='autopayevent',
            constraint=models.CheckConstraint(condition=models.Q(('authorization__isnull', False), ('invoice__isnull', False), ('run__isnull', False), _connector='OR'), name='autopay_event_has_subject'),
        ),
        migrations.AddConstraint(
            model_name='autopayrun',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('finished_at__isnull', True), ('status', 'running')), models.Q(('finished_at__isnull', False), ('status__in', ['finished', 'abandoned'])), _connector='OR'), name='autopay_run_finished_with_its_status'),
        ),
    ]
