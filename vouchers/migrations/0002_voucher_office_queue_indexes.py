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
            # A correlated subquery, not UPDATE … FROM: SQLite (`make run`'s
            # embedded default) must run this migration too.
            "UPDATE vouchers_voucher SET office_id = (SELECT u.office_id FROM accounts_organisation u "
            "WHERE u.id = vouchers_voucher.unit_id) WHERE office_id IS NULL",
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
