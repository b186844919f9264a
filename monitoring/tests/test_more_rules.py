"""The later rules: payee account changed shortly before a payment, one
controller-approver pair with an unusual share, autopay's held amounts, and the
budget's 80% and 90% levels telling the unit's signers. Each rule's pure
function on its edges (hypothesis where arithmetic), then through the real
services."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from autopay.models import SupplierInvoice
from monitoring import rules, selectors, services
from monitoring.models import Alert, RiskRule
from payments.models import BudgetLine, Notification

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def use(vid: int, account: str = "0123456789", bank: int | None = 1, payee: str = "Công ty TNHH Hồng Hà",
        days: float = 0) -> rules.PayeeUse:
    return rules.PayeeUse(vid, payee, account, bank, T0 + timedelta(days=days))


# --- pure functions ---------------------------------------------------------------------------


def test_a_new_account_for_a_known_payee_is_a_change():
    now = use(3, account="9999888877", days=10)
    assert rules.changed_account(now, [use(1), use(2, days=5)], 30).voucher_id == 2
    assert rules.changed_account(use(3, days=10), [use(1), use(2, days=5)], 30) is None  # same account
    assert rules.changed_account(use(3, bank=2, days=10), [use(2, days=5)], 30) is not None  # another bank
    assert rules.changed_account(now, [use(2, days=5, payee="Công ty khác")], 30) is None  # another payee
    assert rules.changed_account(now, [use(2, days=-21)], 30) is None  # outside the window
    assert rules.changed_account(now, [use(2, days=11)], 30) is None  # later, not before
    assert rules.changed_account(use(3, account="0123 456-789", days=1), [use(2)], 30) is None  # same, spaced


def test_only_the_latest_earlier_payment_counts():
    """Back to the usual account after an odd one is no change."""
    now = use(4, days=10)
    assert rules.changed_account(now, [use(1), use(2, account="111", days=2), use(3, days=5)], 30) is None
    assert rules.changed_account(now, [use(1), use(3, account="111", days=5)], 30).voucher_id == 3


def test_payee_names_compare_without_case_spacing_or_punctuation():
    assert rules.normal_payee("Công ty  TNHH Hồng Hà.") == rules.normal_payee("công ty tnhh hồng hà")
    assert rules.changed_account(use(2, account="9", payee="CÔNG TY TNHH HỒNG HÀ", days=1), [use(1)], 30)


pair_counts = st.dictionaries(
    st.tuples(st.integers(1, 4), st.integers(11, 13)), st.integers(1, 200), min_size=1, max_size=12
)


@given(counts=pair_counts, percent=st.integers(0, 100), minimum=st.integers(0, 300))
def test_dominant_pairs_are_exactly_those_above_the_share(counts, percent, minimum):  # noqa: ANN001
    found = rules.dominant_pairs(counts, percent, minimum)
    total = sum(counts.values())
    several = len({c for c, _a in counts}) > 1 or len({a for _c, a in counts}) > 1
    if total < max(minimum, 1) or not several:
        assert found == []
        return
    assert {pair for pair, _n, _t in found} == {p for p, n in counts.items() if n * 100 > percent * total}
    assert all(t == total and n == counts[p] for p, n, t in found)
    if percent >= 50:
        assert len(found) <= 1  # two pairs cannot both hold more than half


def test_a_single_pair_office_is_no_sign():
    assert rules.dominant_pairs({(1, 11): 500}, 60, 20) == []
    assert rules.dominant_pairs({(1, 11): 13, (2, 11): 7}, 60, 20) == [((1, 11), 13, 20)]
    assert rules.dominant_pairs({(1, 11): 12, (2, 11): 8}, 60, 20) == []  # exactly 60% is not above


# --- through the services ------------------------------------------------------------------------



def _alerts(code: str) -> list[Alert]:
    return list(Alert.objects.filter(rule__code=code).order_by("id"))


def _payee(account: str, name: str = "Công ty TNHH Văn phòng phẩm Hồng Hà") -> dict:
    return {"payee": {"name": name, "account_number": account, "bank_code": "VCB"}}


@pytest.mark.django_db
def test_the_rules_are_seeded_with_names_in_both_languages():
    services.rules_ensure()
    codes = set(RiskRule.objects.values_list("code", flat=True))
    assert {"payee_account_changed", "controller_approver_pair", "autopay_anomaly", "budget_warn"} <= codes


@pytest.mark.django_db
def test_a_payee_paid_to_a_new_account_is_flagged(kit):
    kit.submitted(1_100_000)  # the usual account (the kit's payee)
    same = kit.submitted(1_200_000)
    services.evaluate_voucher(same.pk)
    assert _alerts("payee_account_changed") == []
    changed = kit.submitted(1_300_000, **_payee("9999888877"))
    services.evaluate_voucher(changed.pk)
    (alert,) = _alerts("payee_account_changed")
    assert alert.voucher_id == changed.pk and alert.severity == "high" and alert.monitored == "unit"
    assert alert.evidence["account"] == "9999888877" and alert.evidence["previous_account"] == "0123456789"
    assert "9999888877" in selectors.evidence_sentence(alert)
    other = kit.submitted(1_400_000, **_payee("5555", name="Công ty khác"))  # a first payment to a new payee
    services.evaluate_voucher(other.pk)
    assert len(_alerts("payee_account_changed")) == 1


@pytest.mark.django_db
def test_one_pair_with_most_of_an_office_s_vouchers_is_flagged(kit):
    RiskRule.objects.filter(code="controller_approver_pair").update(
        params={"days": 30, "percent": 60, "min_vouchers": 4})
    for amount in (1_000_000, 1_100_000, 1_200_000):
        kit.approved(amount=amount)  # officer + approver
    kit.approved(officer="officer2", amount=1_300_000)
    assert services.sweep() >= 1
    (alert,) = _alerts("controller_approver_pair")
    assert alert.monitored == "treasury" and alert.voucher_id is None
    assert alert.unit.code == "0101" and alert.evidence["vouchers"] == 3 and alert.evidence["total"] == 4
    assert alert.evidence["share_percent"] == 75
    assert "75%" in selectors.evidence_sentence(alert)
    assert services.sweep() == 0  # once per pair and week
    assert selectors.access_alert(kit.user("approver"), alert.pk) == alert  # the office's leader sees it
    assert not selectors.alerts_visible(kit.user("a_holder")).filter(pk=alert.pk).exists()


def _held_invoice(world, unit) -> SupplierInvoice:  # noqa: ANN001
    return SupplierInvoice.objects.create(
        supplier=world.suppliers["evn"], invoice_number="HD-ANOM-1", customer_code="PB0001", period="2026-05",
        amount=9_000_000, issued_at=timezone.now(), status="exception", exception_code="amount_anomaly",
        exception_params={"amount": 9_000_000, "factor": 3, "median": 1_000_000, "n": 6}, unit=unit,
        settled_at=timezone.now(),
    )


@pytest.mark.django_db
def test_an_autopay_amount_held_as_unusual_is_an_alert(world, kit):
    from monitoring import tasks

    invoice = _held_invoice(world, kit.unit)
    tasks.evaluate_new_events()  # the minute task looks too
    (alert,) = _alerts("autopay_anomaly")
    assert alert.unit_id == kit.unit.pk and alert.subject == invoice.invoice_number
    assert "HD-ANOM-1" in selectors.evidence_sentence(alert)
    assert services.sweep() == 0  # once


@pytest.mark.django_db
def test_a_closed_or_other_exception_is_no_alert(world, kit):
    invoice = _held_invoice(world, kit.unit)
    SupplierInvoice.objects.filter(pk=invoice.pk).update(closed_at=timezone.now(), closed_by=world.users["tadmin"])
    SupplierInvoice.objects.create(
        supplier=world.suppliers["evn"], invoice_number="HD-CAP", customer_code="PB0002", period="2026-05",
        amount=1, issued_at=timezone.now(), status="exception", exception_code="over_cap", unit=kit.unit,
        settled_at=timezone.now(),
    )
    services.sweep()
    assert _alerts("autopay_anomaly") == []


def _use_line(line: BudgetLine, percent_used: int) -> None:
    """Make the line `percent_used`% used, plus a hair, by its allocation."""
    line.refresh_from_db()
    used = line.reserved + line.spent
    BudgetLine.objects.filter(pk=line.pk).update(allocated=used * 100 // percent_used)


@pytest.mark.django_db
def test_80_percent_of_a_line_tells_the_unit_s_signers_once(kit):
    line = kit.line()
    voucher = kit.submitted(8_500_000)
    _use_line(line, 85)
    before = Notification.objects.count()
    services.evaluate_voucher(voucher.pk)
    (alert,) = _alerts("budget_warn")
    assert _alerts("budget_high_use") == []  # 85% is below 90%
    told = Notification.objects.filter(data__alert=alert.pk)
    assert {n.user.username for n in told} == {"a_chief", "a_holder"}
    assert all("85%" in n.title for n in told) and Notification.objects.count() == before + 2
    from django.utils import translation

    from payments.selectors.notifications import notification_text

    with translation.override("en"):
        text = notification_text(told[0])
    assert text["title"].startswith("Budget line 422.073.7000.13") and "85% used" in text["title"]
    assert "above the 80% level" in text["body"]
    services.evaluate_voucher(voucher.pk)
    services.sweep()
    assert Notification.objects.filter(data__alert=alert.pk).count() == 2  # once


@pytest.mark.django_db
def test_90_percent_tells_them_again_at_its_level(kit):
    line = kit.line()
    voucher = kit.submitted(9_500_000)
    _use_line(line, 95)
    services.evaluate_voucher(voucher.pk)
    warn, high = _alerts("budget_warn"), _alerts("budget_high_use")
    assert len(warn) == 1 and len(high) == 1
    assert Notification.objects.filter(data__alert=high[0].pk).count() == 2


@pytest.mark.django_db
def test_the_sweep_finds_lines_above_80_percent_without_a_voucher(kit):
    line = kit.line("6900")
    BudgetLine.objects.filter(pk=line.pk).update(spent=line.allocated * 81 // 100)
    services.sweep()
    assert [a.subject for a in _alerts("budget_warn")] == [services._line_label(BudgetLine.objects.get(pk=line.pk))]


@pytest.mark.django_db
def test_a_disabled_rule_does_not_run(kit):
    RiskRule.objects.filter(code="payee_account_changed").update(enabled=False)
    kit.submitted(1_100_000)
    changed = kit.submitted(1_300_000, **_payee("9999888877"))
    services.evaluate_voucher(changed.pk)
    assert _alerts("payee_account_changed") == []


@given(allocated=st.integers(1, 10**15), used=st.integers(0, 10**15))
def test_80_and_90_levels_nest(allocated, used):  # noqa: ANN001
    """Above 90% is above 80%; both are exact integer comparisons."""
    if rules.budget_above(allocated, used, 0, 90):
        assert rules.budget_above(allocated, used, 0, 80)
    assert rules.budget_above(allocated, used, 0, 80) == (used * 100 > 80 * allocated)
