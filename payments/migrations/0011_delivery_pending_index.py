"""The outbox's pending deliveries get a partial index ordered by id: the
delivery claim reads them without touching the delivered history. Building it
scans the table once (about a second per 2 million rows here)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0010_autopay_run_lease'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='notificationdelivery',
            index=models.Index(condition=models.Q(('status', 'pending')), fields=['id'], name='delivery_pending'),
        ),
    ]
