"""Evaluation (the minute task after its cursor, the nightly sweep) and the
life of an alert, through the real voucher services."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from monitoring import selectors, services, tasks
from monitoring.models import Alert, AlertEvent, EvaluationCursor, RiskRule
from payments.models import BudgetLine
from treasury_portal.errors import ApplicationError
from vouchers import services as voucher_services
from vouchers.models import Voucher, VoucherEvent

pytestmark = pytest.mark.django_db


def _alerts(code: str) -> list[Alert]:
    return list(Alert.objects.filter(rule__code=code).order_by("id"))


def test_a_duplicate_across_units_raises_one_alert_on_the_later_voucher(kit, kit_b):
    first = kit.submitted(2_500_000)  # unit A
    later = kit_b.submitted(2_500_000)  # unit B pays the same account the same amount
    assert tasks.evaluate_new_events.apply().get() == 2
    (alert,) = _alerts("duplicate_payment")
    assert (alert.voucher_id, alert.unit_id, alert.severity, alert.status) == (later.pk, later.unit_id, "high", "open")
    assert alert.evidence["other_voucher"] == first.number
    assert alert.evidence["amount"] == 2_500_000
    assert list(alert.events.values_list("action", "to_status")) == [("raise", "open")]
    # The cursor moved past every event: a second run reads nothing and raises nothing.
    assert EvaluationCursor.objects.get().last_event_id == VoucherEvent.objects.order_by("-pk").first().pk
    assert tasks.evaluate_new_events.apply().get() == 0
    services.evaluate_voucher(later.pk)
    services.evaluate_voucher(first.pk)
    assert len(_alerts("duplicate_payment")) == 1


def test_no_duplicate_for_another_amount_or_a_withdrawn_voucher(kit):
    kit.submitted(1_000_000)
    kit.submitted(1_000_001)
    withdrawn = kit.withdrawn(amount=3_000_000)
    kit.submitted(3_000_000)
    services.evaluate_new_events()
    assert _alerts("duplicate_payment") == []
    assert withdrawn.status == "withdrawn"


def test_the_window_is_the_rules_row(kit):
    a = kit.submitted(4_000_000)
    b = kit.submitted(4_000_000)
    Voucher.objects.filter(pk=a.pk).update(received_at=b.received_at - timedelta(days=10))
    RiskRule.objects.filter(code="duplicate_payment").update(params={"days": 5})
    services.evaluate_voucher(b.pk)
    assert _alerts("duplicate_payment") == []
    RiskRule.objects.filter(code="duplicate_payment").update(params={"days": 10})
    services.evaluate_voucher(b.pk)
    assert len(_alerts("duplicate_payment")) == 1


def test_a_disabled_rule_raises_nothing(kit):
    RiskRule.objects.filter(code="duplicate_payment").update(enabled=False)
    kit.submitted(5_000_000)
    kit.submitted(5_000_000)
    services.evaluate_new_events()
    assert _alerts("duplicate_payment") == []


def test_a_checklist_passed_in_seconds_is_flagged_for_the_treasury(kit):
    voucher = kit.pending(amount=1_100_000)  # claimed and passed at once
    services.evaluate_voucher(voucher.pk)
    (alert,) = _alerts("fast_checklist")
    assert alert.monitored == "treasury" and alert.voucher_id == voucher.pk
    assert alert.evidence["seconds"] < alert.evidence["minimum"]
    claim = VoucherEvent.objects.get(voucher=voucher, action="claim")
    VoucherEvent.objects.filter(pk=claim.pk).update(created_at=claim.created_at - timedelta(hours=1))
    Alert.objects.all().delete()
    services.evaluate_voucher(voucher.pk)
    assert _alerts("fast_checklist") == []


def test_a_second_return_is_flagged(kit):
    voucher = kit.returned(amount=1_200_000)
    services.evaluate_voucher(voucher.pk)
    assert _alerts("second_return") == []
    Voucher.objects.filter(pk=voucher.pk).update(return_count=2)
    services.evaluate_voucher(voucher.pk)
    (alert,) = _alerts("second_return")
    assert alert.evidence == {"voucher": voucher.number, "returns": 2, "allowed": 1}


def test_a_budget_line_above_90_percent_is_flagged_once(kit):
    line = kit.line()
    BudgetLine.objects.filter(pk=line.pk).update(allocated=line.spent + line.reserved + 1_000_000)
    voucher = kit.submitted(950_000)
    services.evaluate_voucher(voucher.pk)
    (alert,) = _alerts("budget_high_use")
    assert alert.unit_id == kit.unit.pk and alert.evidence["used_percent"] >= 90
    assert services.sweep() == 0  # the sweep finds the same line: nothing new
    assert len(_alerts("budget_high_use")) == 1


def test_the_nightly_sweep_flags_overdue_and_near_due_vouchers(kit):
    voucher = kit.submitted(1_300_000)
    assert services.sweep(now=voucher.due_at - timedelta(days=3)) == 0 or not _alerts("overdue")
    services.sweep(now=voucher.due_at - timedelta(hours=2))
    services.sweep(now=voucher.due_at + timedelta(hours=1))
    assert sorted(a.evidence["state"] for a in _alerts("overdue")) == ["near", "overdue"]


def test_the_beat_runs_the_tasks():
    schedule = {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"monitoring.tasks.evaluate_new_events", "monitoring.tasks.sweep_alerts"} <= schedule
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("evaluate_new_events"))
    assert entry["schedule"] == timedelta(minutes=1)


def test_run_schedule_runs_the_evaluation_in_process(kit):
    from payments.management.commands.run_schedule import tick

    kit.submitted(6_000_000)
    kit.submitted(6_000_000)
    ran = tick({"e": {"task": "monitoring.tasks.evaluate_new_events", "schedule": timedelta(minutes=1)}}, {},
               timezone.now())
    assert ran == ["e"] and len(_alerts("duplicate_payment")) == 1


# --- the life of an alert -----------------------------------------------------------


@pytest.fixture
def duplicate(kit) -> Alert:  # noqa: ANN001
    kit.submitted(7_000_000)
    kit.submitted(7_000_000)
    services.evaluate_new_events()
    return _alerts("duplicate_payment")[0]


def test_open_acknowledged_explained_resolved_with_an_event_each(world, duplicate):
    u = world.users
    assert services.allowed_actions(u["a_preparer"], duplicate) == {"explain"}
    assert services.allowed_actions(u["officer"], duplicate) == {"acknowledge"}
    assert services.allowed_actions(u["approver"], duplicate) == {"acknowledge", "dismiss"}
    assert services.allowed_actions(u["officer_b"], duplicate) == set()  # another province
    services.alert_acknowledge(actor=u["officer"], alert=duplicate)
    services.alert_explain(actor=u["a_holder"], alert=duplicate, explanation="Hai đợt giao hàng khác nhau.")
    assert services.allowed_actions(u["approver"], Alert.objects.get(pk=duplicate.pk)) == {"resolve", "dismiss"}
    alert = services.alert_resolve(actor=u["approver"], alert=duplicate, note="Đã đối chiếu hóa đơn.")
    assert (alert.status, alert.explanation, alert.resolution_note) == (
        "resolved", "Hai đợt giao hàng khác nhau.", "Đã đối chiếu hóa đơn.")
    assert list(AlertEvent.objects.filter(alert=alert).values_list("action", "actor__username")) == [
        ("raise", None), ("acknowledge", "officer"), ("explain", "a_holder"), ("resolve", "approver"),
    ]


def test_refusals_are_clear(world, duplicate):
    u = world.users
    with pytest.raises(ApplicationError) as exc:
        services.alert_resolve(actor=u["approver"], alert=duplicate, note="x")
    assert exc.value.code == "invalid_transition"
    with pytest.raises(ApplicationError) as exc:
        services.alert_explain(actor=u["a_preparer"], alert=duplicate, explanation="   ")
    assert exc.value.code == "validation_error"
    with pytest.raises(ApplicationError) as exc:
        services.alert_dismiss(actor=u["officer"], alert=duplicate, note="không phải trùng")
    assert exc.value.code == "permission_denied"
    services.alert_dismiss(actor=u["approver"], alert=duplicate, note="Không phải trùng.")
    with pytest.raises(ApplicationError) as exc:
        services.alert_acknowledge(actor=u["officer"], alert=duplicate)
    assert exc.value.code == "invalid_transition"


def test_scoping(world, kit, duplicate):
    u = world.users
    voucher = kit.pending(amount=1_400_000)
    services.evaluate_voucher(voucher.pk)
    fast = _alerts("fast_checklist")[0]
    assert set(selectors.alerts_visible(u["a_preparer"])) == {duplicate}  # not the rule on the treasury
    assert set(selectors.alerts_visible(u["officer"])) == {duplicate, fast}
    assert list(selectors.alerts_visible(u["b_holder"])) == []
    assert list(selectors.alerts_visible(u["officer_b"])) == []
    assert services.allowed_actions(u["officer"], fast) == {"acknowledge", "explain"}
    assert services.allowed_actions(u["a_holder"], fast) == set()
    with pytest.raises(ApplicationError):
        selectors.access_alert(u["approver_b"], duplicate.pk)
    by_rule = {r["rule"].code: r["count"] for r in selectors.open_alerts_by_rule(u["approver"])}
    assert by_rule == {"duplicate_payment": 1, "fast_checklist": 1}


def test_evidence_reads_as_a_sentence_in_each_language(duplicate):
    from django.utils import translation

    with translation.override("vi"):
        vi = selectors.evidence_sentence(duplicate)
    with translation.override("en"):
        en = selectors.evidence_sentence(duplicate)
    assert "7.000.000" in vi and "cùng số tiền" in vi
    assert "7,000,000" in en and "same amount" in en
    assert "duplicate_payment" not in vi + en


def test_voucher_services_do_not_know_monitoring():
    """Nothing in vouchers/ or payments/ imports the monitoring app."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(p.relative_to(root)) for app in ("vouchers", "payments", "accounts") for p in (root / app).rglob("*.py")
        if "import monitoring" in p.read_text() or "from monitoring" in p.read_text()
    ]
    assert offenders == []
    assert voucher_services  # the services module imports fine without it
