"""Budget lines: allocation (one line and CSV), reservation, release, spending,
the usage levels, the database backstop and the budget-lines API."""

import pytest
from django.db import IntegrityError, connection, transaction

from payments.models import BudgetLine, BudgetMovement
from payments.selectors.budget import access_budget_line, budget_line_usage, budget_lines_visible
from payments.services.budget import (
    budget_allocate,
    budget_allocations_load_csv,
    budget_line_get_or_create,
    budget_release,
    budget_reserve,
    budget_spend,
    parse_allocation_csv,
)
from treasury_portal.errors import ApplicationError, NotFound
from vouchers.tests.kit import Kit, seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    seed(world)
    return Kit(world)


def fresh_line(kit: Kit, allocated: int, programme: str = "00042") -> BudgetLine:
    line = budget_line_get_or_create(
        actor=None, unit=kit.unit, fiscal_year=kit.fiscal_year, chapter="422", sector="073", ndkt="7049",
        funding_source="13", programme=programme, budget_level="2", name="Thử nghiệm",
    )
    if allocated:
        budget_allocate(actor=None, budget_line=line, amount=allocated, key=f"t:{line.pk}:{allocated}")
    line.refresh_from_db()
    return line


def counters(line: BudgetLine) -> tuple[int, int, int]:
    line.refresh_from_db()
    return line.allocated, line.reserved, line.spent


# --- allocation ----------------------------------------------------------------


def test_allocation_is_at_most_once_per_key(kit):  # noqa: ANN001
    line = fresh_line(kit, 0)
    admin = kit.user("tadmin")
    first = budget_allocate(actor=admin, budget_line=line, amount=5_000_000, key="alloc-1")
    again = budget_allocate(actor=admin, budget_line=line, amount=5_000_000, key="alloc-1")
    assert first.pk == again.pk
    assert counters(line) == (5_000_000, 0, 0)
    with pytest.raises(ApplicationError) as conflict:
        budget_allocate(actor=admin, budget_line=line, amount=7_000_000, key="alloc-1")
    assert conflict.value.code == "idempotency_conflict"
    budget_allocate(actor=admin, budget_line=line, amount=1_000_000, key="alloc-2")
    assert counters(line) == (6_000_000, 0, 0)


def test_only_an_administrator_over_the_unit_allocates(kit):  # noqa: ANN001
    line = fresh_line(kit, 0)
    for username in ("tadmin_b", "officer", "a_holder"):
        with pytest.raises(NotFound):
            budget_allocate(actor=kit.user(username), budget_line=line, amount=1, key=f"x-{username}")
    with pytest.raises(ApplicationError) as bad:
        budget_allocate(actor=kit.user("tadmin"), budget_line=line, amount=0, key="zero")
    assert bad.value.code == "validation_error"
    assert counters(line) == (0, 0, 0)


def test_demo_lines_are_allocated_for_the_current_year(kit):  # noqa: ANN001
    lines = BudgetLine.objects.filter(unit=kit.unit, fiscal_year=kit.fiscal_year)
    assert {line.ndkt for line in lines} >= {"6001", "6501", "6502", "6601", "6605", "6900", "7000"}
    assert all(line.allocated > 0 for line in lines)
    seed(kit.world)  # idempotent: no second allocation
    assert BudgetLine.objects.get(pk=kit.line("6501").pk).allocated == 180_000_000


# --- the CSV loader ------------------------------------------------------------

CSV_OK = (
    "unit;chapter;sector;ndkt;funding_source;programme;budget_level;amount;name\n"
    "1012345;422;073;6501;13;00000;2;20.000.000;Tiền điện bổ sung\n"
    "1012345;422;073;7750;13;00000;2;5000000;Chi khác\n"
)


def test_csv_loads_every_row_once(kit):  # noqa: ANN001
    before = kit.line("6501").allocated
    office = kit.world.offices["0100"]
    movements = budget_allocations_load_csv(
        actor=kit.user("tadmin"), unit_or_office_scope=office, fiscal_year=kit.fiscal_year, rows=CSV_OK.encode()
    )
    assert len(movements) == 2
    assert kit.line("6501").allocated == before + 20_000_000
    new = BudgetLine.objects.get(unit=kit.unit, ndkt="7750", fiscal_year=kit.fiscal_year)
    assert new.allocated == 5_000_000 and new.name == "Chi khác"
    # The same file again is a no-op.
    budget_allocations_load_csv(
        actor=kit.user("tadmin"), unit_or_office_scope=office, fiscal_year=kit.fiscal_year, rows=CSV_OK.encode()
    )
    assert kit.line("6501").allocated == before + 20_000_000


def test_csv_with_errors_loads_nothing_and_names_the_lines(kit):  # noqa: ANN001
    before = kit.line("6501").allocated
    content = (
        "unit,chapter,sector,ndkt,funding_source,programme,budget_level,amount\n"
        "1012345,422,073,6501,13,00000,2,1000000\n"
        "1023456,423,132,6501,13,00000,2,1000000\n"  # another province's unit
        "1012345,42,073,65O1,13,00000,9,-5\n"
    )
    with pytest.raises(ApplicationError) as refused:
        budget_allocations_load_csv(
            actor=kit.user("tadmin"), unit_or_office_scope=kit.world.offices["0100"], fiscal_year=kit.fiscal_year,
            rows=content,
        )
    message = refused.value.message
    assert refused.value.code == "validation_error"
    assert "Dòng 3" in message and "1023456" in message
    assert "Dòng 4" in message and "chapter" in message and "ndkt" in message and "budget_level" in message
    assert "Dòng 2" not in message
    assert kit.line("6501").allocated == before  # all or nothing


def test_csv_needs_its_columns_and_an_administrator(kit):  # noqa: ANN001
    with pytest.raises(ApplicationError) as missing:
        parse_allocation_csv("unit,amount\n1012345,5\n")
    assert "ndkt" in missing.value.message
    with pytest.raises(NotFound):
        budget_allocations_load_csv(
            actor=kit.user("tadmin_b"), unit_or_office_scope=kit.world.offices["0100"],
            fiscal_year=kit.fiscal_year, rows=CSV_OK,
        )


# --- reservations ----------------------------------------------------------------


def test_reserve_release_and_spend_move_the_counters_once(kit):  # noqa: ANN001
    line = fresh_line(kit, 10_000_000)
    voucher = kit.draft(4_000_000, lines=[{"budget_line": line.pk, "amount": 4_000_000}])
    budget_reserve(voucher=voucher)
    budget_reserve(voucher=voucher)  # a repeat moves nothing
    assert counters(line) == (10_000_000, 4_000_000, 0)
    budget_spend(voucher=voucher)
    budget_spend(voucher=voucher)
    assert counters(line) == (10_000_000, 0, 4_000_000)
    other = kit.draft(1_000_000, lines=[{"budget_line": line.pk, "amount": 1_000_000}])
    budget_reserve(voucher=other)
    budget_release(voucher=other)
    budget_release(voucher=other)
    assert counters(line) == (10_000_000, 0, 4_000_000)
    kinds = list(BudgetMovement.objects.filter(budget_line=line).values_list("kind", flat=True))
    assert sorted(kinds) == ["allocate", "release", "reserve", "reserve", "spend"]


def test_insufficient_budget_names_the_line_and_what_is_left(kit):  # noqa: ANN001
    line = fresh_line(kit, 3_000_000)
    voucher = kit.draft(3_000_001, lines=[{"budget_line": line.pk, "amount": 3_000_001}])
    with pytest.raises(ApplicationError) as refused:
        budget_reserve(voucher=voucher)
    assert refused.value.code == "insufficient_budget"
    assert "422.073.7049.13.00042.2" in refused.value.message
    assert "3.000.000" in refused.value.message
    assert counters(line) == (3_000_000, 0, 0)


def test_a_voucher_on_several_lines_reserves_all_or_nothing(kit):  # noqa: ANN001
    big = fresh_line(kit, 10_000_000, programme="00043")
    small = fresh_line(kit, 1_000_000, programme="00044")
    voucher = kit.draft(
        lines=[{"budget_line": big.pk, "amount": 5_000_000}, {"budget_line": small.pk, "amount": 2_000_000}]
    )
    with pytest.raises(ApplicationError):
        with transaction.atomic():
            budget_reserve(voucher=voucher)
    assert counters(big) == (10_000_000, 0, 0)
    assert counters(small) == (1_000_000, 0, 0)


def test_usage_levels_warn_from_80_percent_and_block_at_100(kit):  # noqa: ANN001
    line = fresh_line(kit, 10_000_000)
    assert budget_line_usage(line)["level"] == "ok"
    budget_reserve(voucher=kit.draft(lines=[{"budget_line": line.pk, "amount": 7_900_000}]))
    line.refresh_from_db()
    assert budget_line_usage(line) == {"used": 7_900_000, "available": 2_100_000, "percent": 79.0, "level": "ok"}
    budget_reserve(voucher=kit.draft(lines=[{"budget_line": line.pk, "amount": 100_000}]))
    line.refresh_from_db()
    assert budget_line_usage(line)["level"] == "warn"
    budget_reserve(voucher=kit.draft(lines=[{"budget_line": line.pk, "amount": 2_000_000}]))
    line.refresh_from_db()
    assert budget_line_usage(line)["level"] == "full"
    with pytest.raises(ApplicationError) as refused:
        budget_reserve(voucher=kit.draft(lines=[{"budget_line": line.pk, "amount": 1}]))
    assert refused.value.code == "insufficient_budget"


# --- the database backstop -----------------------------------------------------------


def test_raw_sql_overspend_is_an_integrity_error(kit):  # noqa: ANN001
    line = fresh_line(kit, 1_000_000)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE payments_budgetline SET reserved = allocated + 1 WHERE id = %s", [line.pk])
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE payments_budgetline SET spent = 600000, reserved = 500000 WHERE id = %s", [line.pk])
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE payments_budgetline SET reserved = -1 WHERE id = %s", [line.pk])
    assert counters(line) == (1_000_000, 0, 0)


# --- selectors and the API ------------------------------------------------------------


def test_visibility_follows_the_organisation_tree(kit):  # noqa: ANN001
    a_line, b_line = kit.line(), BudgetLine.objects.filter(unit=kit.world.units["b"]).first()
    assert set(budget_lines_visible(kit.user("a_holder")).values_list("unit__code", flat=True)) == {"1012345"}
    assert set(budget_lines_visible(kit.user("officer")).values_list("unit__code", flat=True)) == {"1012345"}
    assert budget_lines_visible(kit.user("evn_clerk")).count() == 0
    assert access_budget_line(kit.user("a_chief"), a_line.pk) == a_line
    with pytest.raises(NotFound):
        access_budget_line(kit.user("a_chief"), b_line.pk)


def test_budget_lines_api(kit, api, django_assert_max_num_queries):  # noqa: ANN001
    client = api("a_holder")
    with django_assert_max_num_queries(12):
        response = client.get(f"/api/v1/budget-lines?fiscal_year={kit.fiscal_year}")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert len(rows) == 7
    row = next(r for r in rows if r["ndkt"] == "6501")
    assert row["allocated"] == 180_000_000 and row["available"] == 180_000_000
    assert {"id", "chapter", "sector", "funding_source", "programme", "budget_level", "reserved", "spent"} <= set(row)
    assert client.get("/api/v1/budget-lines?unit=1023456").json()["results"] == []
    assert api("evn_clerk").get("/api/v1/budget-lines").status_code == 403
    assert client.get("/api/v1/budget-lines?fiscal_year=abc").json()["code"] == "validation_error"
