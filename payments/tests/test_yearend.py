"""The year end through the services: an office's fiscal year (cut-off,
adjustment period), its close (open vouchers carried or refused, through the
voucher transitions; budget counters unchanged or released), the new year's
budget lines (the roll-over of autopay authorizations: autopay/tests/test_rollover.py)."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from payments.models import (
    BudgetLine,
    FiscalYearClose,
    FiscalYearCloseState,
    Notification,
)
from payments.selectors import yearend as selectors
from payments.services import yearend
from payments.tests.kit import Kit, seed_money
from treasury_portal.errors import ApplicationError
from vouchers import services as voucher_services
from vouchers.models import VoucherEvent, VoucherStatus
from vouchers.tests.kit import Kit as VoucherKit

pytestmark = pytest.mark.django_db


class YearKit(Kit):
    """The payments kit (budgets, accounts, signers' keys) with the vouchers kit's states."""


for _name in ("draft", "sign", "sign_both", "submitted", "in_control", "pending", "approved", "paid"):
    setattr(YearKit, _name, getattr(VoucherKit, _name))


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    seed_money(world)
    return YearKit(world)


def _after_year(kit, monkeypatch, days: int = 40) -> date:  # noqa: ANN001
    """Today is `days` after the kit's fiscal year ended (for the state checks)."""
    from datetime import timedelta

    today = date(kit.fiscal_year, 12, 31) + timedelta(days=days)
    monkeypatch.setattr(selectors, "_today", lambda: today)
    return today


def _close(kit, **kw):  # noqa: ANN001, ANN003, ANN202
    return yearend.fiscal_year_close_set(actor=kit.user("tadmin"), office=kit.unit.office, year=kit.fiscal_year, **kw)


def test_the_year_defaults_to_the_calendar_year_and_january_adjustment(kit):
    row = _close(kit)
    assert (row.cut_off, row.adjustment_until) == (date(kit.fiscal_year, 12, 31), date(kit.fiscal_year + 1, 1, 31))
    assert row.state == FiscalYearCloseState.OPEN
    assert _close(kit).pk == row.pk  # a repeat is the same row


def test_dates_are_checked(kit):
    with pytest.raises(ApplicationError) as err:
        _close(kit, cut_off=f"{kit.fiscal_year + 1}-01-05")
    assert err.value.code == "validation_error" and "cut_off" in err.value.fields
    with pytest.raises(ApplicationError) as err:
        _close(kit, adjustment_until=f"{kit.fiscal_year}-12-01")
    assert "adjustment_until" in err.value.fields
    with pytest.raises(IntegrityError), transaction.atomic():  # the database refuses it too
        FiscalYearClose.objects.create(
            office=kit.unit.office, year=kit.fiscal_year, cut_off=date(kit.fiscal_year, 12, 31),
            adjustment_until=date(kit.fiscal_year, 1, 1),
        )


def test_only_an_administrator_over_the_office_sets_it_up(kit):
    for name in ("officer", "a_holder", "tadmin_b"):
        with pytest.raises(ApplicationError) as err:
            yearend.fiscal_year_close_set(actor=kit.user(name), office=kit.unit.office, year=kit.fiscal_year)
        assert err.value.code == "permission_denied"


def test_phases_of_the_year(kit, monkeypatch):
    year = kit.fiscal_year
    office = kit.unit.office_id
    assert selectors.fiscal_year_state(office, year, date(year, 6, 1)).phase == "open"
    assert selectors.fiscal_year_state(office, year, date(year + 1, 1, 10)).phase == "adjustment"
    assert selectors.fiscal_year_state(office, year, date(year + 1, 2, 1)).phase == "closed"
    _close(kit, adjustment_until=f"{year + 1}-02-15")  # the office extended the adjustment period
    assert selectors.fiscal_year_state(office, year, date(year + 1, 2, 1)).phase == "adjustment"


def test_a_voucher_of_a_closed_year_is_refused_with_a_code(kit, monkeypatch):
    draft = kit.draft()
    kit.sign_both(draft)
    _after_year(kit, monkeypatch, days=32)  # 1 February: the adjustment period is over
    with pytest.raises(ApplicationError) as err:
        kit.draft()
    assert err.value.code == "fiscal_year_closed" and err.value.http_status == 409
    with pytest.raises(ApplicationError) as err:
        voucher_services.voucher_submit(actor=kit.user("a_holder"), voucher=draft)
    assert err.value.code == "fiscal_year_closed"
    line = kit.line("7000")
    assert line.reserved == 0  # nothing reserved by the refused submission


def test_during_the_adjustment_period_vouchers_of_the_year_are_accepted(kit, monkeypatch):
    _after_year(kit, monkeypatch, days=20)
    voucher = kit.submitted(1_000_000)
    assert voucher.status == VoucherStatus.SUBMITTED


def test_the_close_carries_or_refuses_the_open_vouchers(kit, monkeypatch, django_capture_on_commit_callbacks):
    submitted = kit.submitted(1_000_000)
    in_control = kit.in_control(amount=2_000_000)
    approved = kit.approved(amount=3_000_000)
    paid = kit.paid(amount=500_000)
    line = kit.line("7000")
    before = (line.allocated, line.reserved, line.spent)
    row = _close(kit)
    today = _after_year(kit, monkeypatch)
    with pytest.raises(ApplicationError) as err:  # an approved voucher has its payment: carried, never refused
        yearend.fiscal_year_close_start(
            actor=kit.user("tadmin"), close=row, refuse=[approved.pk], note="x", today=today
        )
    assert err.value.code == "validation_error"
    with pytest.raises(ApplicationError) as err:  # a refusal needs its reason
        yearend.fiscal_year_close_start(actor=kit.user("tadmin"), close=row, refuse=[in_control.pk], today=today)
    assert "note" in err.value.fields
    with django_capture_on_commit_callbacks(execute=True):
        row = yearend.fiscal_year_close_start(
            actor=kit.user("tadmin"), close=row, refuse=[in_control.pk], note="Hồ sơ không kịp bổ sung", today=today
        )
        assert row.state == FiscalYearCloseState.CLOSING
    row.refresh_from_db()  # the task ran on commit (eager in tests)
    assert row.state == FiscalYearCloseState.CLOSED and row.closed_by == kit.user("tadmin") and row.closed_at
    assert (row.total, row.carried, row.refused) == (3, 2, 1)
    in_control.refresh_from_db()
    assert in_control.status == VoucherStatus.REFUSED and in_control.refusal_reasons[0]["note"]
    for v in (submitted, approved):
        v.refresh_from_db()
        assert v.status != VoucherStatus.REFUSED
        assert VoucherEvent.objects.filter(voucher=v, action="year_end_carry").count() == 1
    assert not VoucherEvent.objects.filter(voucher=paid, action__startswith="year_end").exists()
    line.refresh_from_db()
    # The refused voucher's reservation is released; the carried ones keep theirs.
    assert (line.allocated, line.reserved, line.spent) == (before[0], before[1] - 2_000_000, before[2])
    notices = Notification.objects.filter(voucher__in=[submitted, in_control])
    titles = set(notices.values_list("data__action", flat=True))
    assert {"year_end_carry", "year_end_refuse"} <= titles
    # A carried voucher goes on; a new voucher of the closed year is refused.
    voucher_services.voucher_claim(actor=kit.user("officer"), voucher=submitted)
    with pytest.raises(ApplicationError) as err:
        kit.draft()
    assert err.value.code == "fiscal_year_closed"
    # Run again: nothing is carried twice.
    yearend.fiscal_year_close_run(close_id=row.pk)
    assert VoucherEvent.objects.filter(action="year_end_carry").count() == 2


def test_a_carried_voucher_returned_can_be_sent_again(kit, monkeypatch, django_capture_on_commit_callbacks):
    voucher = kit.in_control()
    row = _close(kit)
    today = _after_year(kit, monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        yearend.fiscal_year_close_start(actor=kit.user("tadmin"), close=row, today=today)
    voucher = voucher_services.voucher_return_for_supplement(
        actor=kit.user("officer"), voucher=voucher, deficiencies=[{"code": "TL03", "note": "Thiếu hóa đơn"}]
    )
    kit.sign_both(voucher)
    voucher = voucher_services.voucher_submit(actor=kit.user("a_holder"), voucher=voucher)
    assert voucher.status == VoucherStatus.SUBMITTED


def test_the_close_waits_for_the_end_of_the_year(kit, monkeypatch):
    row = _close(kit)
    with pytest.raises(ApplicationError) as err:
        yearend.fiscal_year_close_start(actor=kit.user("tadmin"), close=row, today=date(kit.fiscal_year, 12, 31))
    assert err.value.code == "invalid_transition"
    with pytest.raises(ApplicationError) as err:
        yearend.fiscal_year_close_start(actor=kit.user("tadmin_b"), close=row, today=date(kit.fiscal_year + 1, 2, 1))
    assert err.value.code == "permission_denied"


def test_the_new_years_budget_lines_are_copied_at_zero(kit):
    row = _close(kit)
    this_year = BudgetLine.objects.filter(unit__office_id=row.office_id, fiscal_year=row.year).count()
    assert this_year > 0
    created = yearend.budget_lines_copy_to_next_year(actor=kit.user("tadmin"), close=row)
    assert created == this_year
    new = BudgetLine.objects.filter(unit__office_id=row.office_id, fiscal_year=row.year + 1)
    assert new.count() == this_year and set(new.values_list("allocated", "reserved", "spent")) == {(0, 0, 0)}
    assert yearend.budget_lines_copy_to_next_year(actor=kit.user("tadmin"), close=row) == 0
    with pytest.raises(ApplicationError):
        yearend.budget_lines_copy_to_next_year(actor=kit.user("a_holder"), close=row)


def test_a_lost_close_task_is_finished_by_the_sweep(kit, monkeypatch, django_capture_on_commit_callbacks):
    voucher = kit.submitted()
    row = _close(kit)
    today = _after_year(kit, monkeypatch)
    yearend.fiscal_year_close_start(actor=kit.user("tadmin"), close=row, today=today)  # the queue lost its task
    row.refresh_from_db()
    assert row.state == FiscalYearCloseState.CLOSING and selectors.close_progress(row) == 0
    with pytest.raises(ApplicationError) as err:  # already closing: no new voucher of the year
        kit.draft()
    assert err.value.code == "fiscal_year_closed"
    with django_capture_on_commit_callbacks(execute=True):
        assert yearend.fiscal_year_closes_sweep() == 1
    row.refresh_from_db()
    assert row.state == FiscalYearCloseState.CLOSED and selectors.close_progress(row) == 100
    assert VoucherEvent.objects.filter(voucher=voucher, action="year_end_carry").exists()
