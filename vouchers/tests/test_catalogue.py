"""The procedure catalogue (versions, the newer rule's peaks, documents), the
working-day calendar from its table, due times, the public API and the admin."""

from datetime import date, datetime

import pytest
from django.core.cache import cache

from conftest import enrol_totp
from vouchers import selectors
from vouchers.demo import seed_calendar
from vouchers.models import CalendarDay, Procedure
from vouchers.tests.kit import seed
from vouchers.working_days import TZ

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(world):  # noqa: ANN001, ANN201
    seed(world)
    return world


def proc(code: str, mode: str = "") -> Procedure:
    return Procedure.objects.get(code=code, mode=mode)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


def test_the_version_in_force_follows_the_receipt_day(catalogue):  # noqa: ANN001
    payment = proc("C2-02a/NS", "payment")
    now = selectors.procedure_version_in_force(payment, date(2026, 12, 31))
    newer = selectors.procedure_version_in_force(payment, date(2027, 1, 1))
    assert now.processing_days == 2 and now.peak_processing_days is None
    assert newer.effective_from == date(2027, 1, 1) and newer.processing_days == 1
    assert selectors.procedure_version_in_force(payment, date(2019, 1, 1)) is None
    # The newer rule: 1 working day, 2 from 25 to 31 December and 25 to 31 January.
    assert selectors.processing_days_for(newer, date(2027, 1, 24)) == 1
    assert selectors.processing_days_for(newer, date(2027, 1, 25)) == 2
    assert selectors.processing_days_for(newer, date(2027, 1, 31)) == 2
    assert selectors.processing_days_for(newer, date(2027, 12, 27)) == 2
    assert selectors.processing_days_for(newer, date(2027, 2, 1)) == 1
    # Procedures outside spending keep their single version.
    assert selectors.procedure_version_in_force(proc("DK-KY"), date(2027, 6, 1)).effective_from.year == 2020


def test_procedures_in_force_list_the_whole_catalogue(catalogue, django_assert_max_num_queries):  # noqa: ANN001
    with django_assert_max_num_queries(4):
        pairs = selectors.procedures_in_force(date(2027, 3, 1))
        docs = [list(v.documents.all()) for _p, v in pairs]
    codes = [(p.code, p.mode) for p, _v in pairs]
    assert ("C2-02a/NS", "payment") in codes and ("C2-03/NS", "") in codes and ("XN-SD", "") in codes
    assert len(codes) == 7 and len(docs) == 7
    assert all(v.effective_from == date(2027, 1, 1) for p, v in pairs if p.code.startswith("C"))


def test_procedures_upcoming_announce_the_newer_rule_until_its_date(catalogue, django_assert_max_num_queries):  # noqa: ANN001
    with django_assert_max_num_queries(3):
        pairs = selectors.procedures_upcoming(date(2026, 12, 31))
        docs = {(p.code, p.mode): [d.kind for d in v.documents.all()] for p, v in pairs}
    # The five spending procedures take the newer rule; signers and balance keep theirs.
    assert [(p.code, p.mode) for p, _v in pairs] == [
        ("C2-02a/NS", "payment"), ("C2-02a/NS", "advance"), ("C2-03/NS", ""), ("C4-02a/KB", ""), ("C2-12/NS", ""),
    ]
    assert all(v.effective_from == date(2027, 1, 1) and v.procedure_id == p.pk for p, v in pairs)
    assert all((v.processing_days, v.peak_processing_days) == (1, 2) for _p, v in pairs)
    assert docs[("C2-02a/NS", "payment")] == ["contract", "acceptance"]
    # From its first day the rule is in force, no longer upcoming.
    assert selectors.procedures_upcoming(date(2027, 1, 1)) == []


def test_document_requirements_depend_on_the_total(catalogue):  # noqa: ANN001
    version = selectors.procedure_version_in_force(proc("C2-02a/NS", "payment"), date(2026, 11, 23))
    assert selectors.required_documents(version, 50_000_000) == []
    kinds = [d.kind for d in selectors.required_documents(version, 50_000_001)]
    assert kinds == ["contract", "acceptance"]
    settlement = selectors.procedure_version_in_force(proc("C2-03/NS"), date(2026, 11, 23))
    assert [d.kind for d in selectors.required_documents(settlement, 1)] == ["payment_list"]


@pytest.mark.parametrize(
    ("code", "mode", "received", "due"),
    [
        # Cut-off 16:30: 16:30 sharp is on time, 16:31 counts from the next working day
        # (24 November is Vietnam Culture Day, a holiday from 2026).
        ("C2-02a/NS", "payment", local(2026, 11, 23, 16, 30), local(2026, 11, 26, 17)),
        ("C2-02a/NS", "payment", local(2026, 11, 23, 16, 31), local(2026, 11, 27, 17)),
        # A weekend receipt counts from Monday.
        ("C2-02a/NS", "advance", local(2026, 11, 28, 9), local(2026, 12, 1, 17)),
        # The year end: New Year's Day 2027 is a Friday; the old rule applies on 31 December…
        ("C2-02a/NS", "payment", local(2026, 12, 31, 10), local(2027, 1, 5, 17)),
        # …but after the cut-off the receipt day is 4 January 2027, under the newer rule (1 day).
        ("C2-02a/NS", "payment", local(2026, 12, 31, 16, 45), local(2027, 1, 5, 17)),
        # The newer rule's peak at the end of January: 2 working days.
        ("C2-02a/NS", "payment", local(2027, 1, 26, 9), local(2027, 1, 28, 17)),
        # Lunar New Year 2027 (4–10 February off): received the day before, due after Tết.
        ("C2-02a/NS", "advance", local(2027, 2, 3, 9), local(2027, 2, 11, 17)),
        # The make-up working Saturday of 2026 (22 August) counts as a working day.
        ("C4-02a/KB", "", local(2026, 8, 21, 9), local(2026, 8, 22, 17)),
    ],
)
def test_due_times_from_the_calendar_table(catalogue, code, mode, received, due):  # noqa: ANN001
    terms = selectors.receipt_terms(proc(code, mode), received)
    assert terms["due_at"] == due


def test_the_calendar_is_read_from_its_table_and_refreshed_after_edits(catalogue):  # noqa: ANN001
    cal = selectors.work_calendar()
    assert not cal.is_working_day(date(2027, 2, 8))  # Tết 2027, seeded from the holidays library
    assert cal.is_working_day(date(2026, 8, 22))  # the make-up Saturday
    assert cal.is_working_day(date(2026, 11, 25))
    CalendarDay.objects.create(date=date(2026, 11, 25), kind="holiday", name="Ngày nghỉ đột xuất")
    assert selectors.work_calendar().is_working_day(date(2026, 11, 25))  # still cached
    selectors.work_calendar_invalidate()
    assert not selectors.work_calendar().is_working_day(date(2026, 11, 25))
    # Seeding again keeps the administrator's row and adds nothing twice.
    assert seed_calendar([2026, 2027]) == 0
    assert CalendarDay.objects.get(date=date(2026, 11, 25)).name == "Ngày nghỉ đột xuất"


def test_public_catalogue_api_needs_no_login(catalogue, client, django_assert_max_num_queries):  # noqa: ANN001
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/procedures")
    assert response.status_code == 200
    rows = {(r["code"], r["mode"]): r for r in response.json()}
    payment = rows[("C2-02a/NS", "payment")]
    assert payment["processing_days"] == 2 and payment["files_voucher"] is True
    contract = payment["required_documents"][0]
    assert contract["kind"] == "contract" and contract["min_total"] == 50_000_000
    assert "50.000.000" in contract["condition"]
    assert [c["code"] for c in payment["checklist"]][:2] == ["CK01", "CK02"]
    assert payment["next_version"]["effective_from"] == "2027-01-01"
    assert payment["next_version"]["peak_periods"] == [["12-25", "12-31"], ["01-25", "01-31"]]
    assert (payment["next_version"]["processing_days"], payment["next_version"]["peak_processing_days"]) == (1, 2)
    assert payment["next_version"]["version"] != payment["version"]
    assert rows[("DK-KY", "")]["next_version"] is None
    later = {(r["code"], r["mode"]): r for r in client.get("/api/v1/procedures?date=2027-01-26").json()}
    assert later[("C2-02a/NS", "payment")]["next_version"] is None
    assert later[("C2-02a/NS", "payment")]["processing_days"] == 1
    assert later[("C2-02a/NS", "payment")]["processing_days_today"] == 2
    assert client.get("/api/v1/procedures?date=26-01-2027").json()["code"] == "validation_error"
    assert client.get("/api/v1/banks").json()[0].keys() == {"code", "short_code", "bin", "bic", "name"}


def test_administrators_edit_the_calendar_in_the_admin(catalogue, client):  # noqa: ANN001
    admin = catalogue.users["tadmin"]
    enrol_totp(admin)
    client.force_login(admin)
    assert client.get("/admin/vouchers/procedureversion/").status_code == 200
    assert client.get("/admin/vouchers/reasoncode/").status_code == 200
    selectors.work_calendar()  # cached before the edit
    response = client.post(
        "/admin/vouchers/calendarday/add/", {"date": "2026-11-27", "kind": "holiday", "name": "Nghỉ bù"}
    )
    assert response.status_code == 302
    assert not selectors.work_calendar().is_working_day(date(2026, 11, 27))
    cache.clear()
    officer = catalogue.users["officer"]
    enrol_totp(officer)
    client.force_login(officer)
    assert client.get("/admin/vouchers/calendarday/").status_code in {302, 403}
