"""The five rules with their starting thresholds (an administrator tunes them
in the admin), the evaluation cursor at the newest voucher event (the nightly
sweep looks back; the minute task watches from now), and an index for the
duplicate-payment rule's lookup (same account and amount) on the vouchers'
table, made here so that vouchers/ does not know about the rule."""

from django.db import migrations
from django.db.models import Max

from monitoring.rules import SEEDS as RULES


def seed(apps, schema_editor):  # noqa: ANN001, ANN201
    RiskRule = apps.get_model("monitoring", "RiskRule")
    for code, name_vi, name_en, severity, monitored, params in RULES:
        RiskRule.objects.update_or_create(
            code=code,
            defaults={"name_vi": name_vi, "name_en": name_en, "severity": severity, "monitored": monitored,
                      "params": params},
        )
    VoucherEvent = apps.get_model("vouchers", "VoucherEvent")
    EvaluationCursor = apps.get_model("monitoring", "EvaluationCursor")
    last = VoucherEvent.objects.aggregate(m=Max("pk"))["m"] or 0
    EvaluationCursor.objects.get_or_create(name="voucher_events", defaults={"last_event_id": last})


def unseed(apps, schema_editor):  # noqa: ANN001, ANN201
    apps.get_model("monitoring", "RiskRule").objects.all().delete()
    apps.get_model("monitoring", "EvaluationCursor").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_initial")]

    operations = [
        migrations.RunPython(seed, unseed),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS monitoring_voucher_payee_amount "
            "ON vouchers_voucher (payee_account, total_amount)",
            "DROP INDEX IF EXISTS monitoring_voucher_payee_amount",
        ),
    ]
