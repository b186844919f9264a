"""Voucher.office (the unit's transaction office, copied) and the two partial
indexes of the review queues: (due_at, id) INCLUDE (office) for the vouchers
awaiting control and those awaiting approval."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("vouchers", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="voucher",
            name="office",
            field=models.ForeignKey(
                null=True, editable=False, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                to="accounts.organisation",
            ),
        ),
        migrations.RunSQL(
            "UPDATE vouchers_voucher v SET office_id = u.office_id FROM accounts_organisation u "
            "WHERE u.id = v.unit_id AND v.office_id IS NULL",
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="voucher",
            name="office",
            field=models.ForeignKey(
                editable=False, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                to="accounts.organisation",
            ),
        ),
        migrations.AddIndex(
            model_name="voucher",
            index=models.Index(
                condition=models.Q(("status__in", ["submitted", "in_control"])), fields=["due_at", "id"],
                include=["office"], name="voucher_control_queue",
            ),
        ),
        migrations.AddIndex(
            model_name="voucher",
            index=models.Index(
                condition=models.Q(("status", "pending_approval")), fields=["due_at", "id"], include=["office"],
                name="voucher_approval_queue",
            ),
        ),
    ]
