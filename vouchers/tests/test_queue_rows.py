"""The API's review queue reads its cursor pages through one hand-written
statement (selectors.review_queue_rows); review_queue, the ORM queryset, stays
the definition of who sees what. These tests hold the two equal, row for row and
column for column, for every role, filter and cursor: a voucher of another
office, another status or another person never appears in one and not the other.

The vouchers are copies of a real one spread over offices, units, statuses,
controllers and due times (ties, NULLs and both sides of a local midnight)."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Role
from accounts.services import membership_grant
from vouchers import selectors
from vouchers.models import Voucher, VoucherStatus
from vouchers.serializers import LIST_COLUMNS
from vouchers.tests.kit import Kit, seed

READERS = ["officer", "officer2", "approver", "officer_b", "approver_b", "tadmin", "a_preparer", "both", "central"]
STATUSES = [VoucherStatus.SUBMITTED, VoucherStatus.IN_CONTROL, VoucherStatus.PENDING_APPROVAL, VoucherStatus.DRAFT,
            VoucherStatus.APPROVED]
# 16:30 UTC is 23:30 in Hanoi, 17:30 UTC the next local day: due_before=<date> must split them as the ORM does.
DUE = [None, datetime(2026, 12, 10, 16, 30, tzinfo=UTC), datetime(2026, 12, 10, 17, 30, tzinfo=UTC),
       datetime(2026, 12, 9, 2, 0, tzinfo=UTC), datetime(2026, 12, 12, 8, 0, tzinfo=UTC)]


@pytest.fixture
def queue(world):  # noqa: ANN001, ANN201
    seed(world)
    kit = Kit(world)
    template = kit.submitted()
    offices = [world.offices[c] for c in ("0101", "0201", "0100", "0001")]
    units = [world.units["a"], world.units["b"]]
    controllers = [None, world.users["officer"], world.users["officer2"], world.users["officer_b"]]
    copies = []
    rng = random.Random(5)  # noqa: S311 - a fixed spread of test data
    for n in range(80):
        copy = Voucher.objects.get(pk=template.pk)
        copy.pk = None
        copy.number = f"Q-{n:04d}"
        copy.receipt_number = None
        copy.office = rng.choice(offices)
        copy.unit = rng.choice(units)
        copy.status = rng.choice(STATUSES)
        copy.controller = rng.choice(controllers)
        copy.due_at = rng.choice(DUE)  # 80 vouchers, 5 due times: ties broken by id
        copies.append(copy)
    Voucher.objects.bulk_create(copies)
    # Both roles in two provinces; an approver at the root sees every office.
    membership_grant(user=world.users["officer_b"], organisation=world.offices["0100"], role=Role.APPROVER)
    world.users["both"] = world.users["officer_b"]
    central = world.users["approver_b"]
    membership_grant(user=central, organisation=world.offices["0001"], role=Role.APPROVER)
    world.users["central"] = central
    return world


def _fresh(world, name: str):  # noqa: ANN001, ANN202
    """The user as a request would have it (memberships not yet read)."""
    from accounts.models import User

    return User.objects.get(pk=world.users[name].pk)


def _key(row: dict) -> tuple:
    return row["due_at"], row["id"]


def _check(world, name: str, filters: dict, size: int) -> list[dict]:  # noqa: ANN001
    user = _fresh(world, name)
    expected = list(selectors.review_queue(user, **filters).values(*LIST_COLUMNS))
    assert selectors.review_queue_rows(user, **filters, limit=len(expected) + 5) == expected
    assert selectors.review_queue_rows(user, **filters, limit=size) == expected[:size]
    for i, row in enumerate(expected):
        after = selectors.review_queue_rows(user, **filters, after=_key(row), limit=size)
        assert after == expected[i + 1 : i + 1 + size], (name, filters, i)
        before = selectors.review_queue_rows(user, **filters, after=_key(row), backwards=True, limit=size)
        assert before == list(reversed(expected[max(0, i - size) : i])), (name, filters, i)
    return expected


@pytest.mark.django_db
def test_every_reader_without_filters(queue) -> None:  # noqa: ANN001
    seen = {name: _check(queue, name, {}, 3) for name in READERS}
    # The fixture gives each kind of reader something to see (or, for the unit and
    # the administrator, rightly nothing): the comparison is not between two empty lists.
    statuses = {name: {row["status"] for row in rows} for name, rows in seen.items()}
    assert statuses["officer"] == {"submitted", "in_control"} and statuses["approver"] == {"pending_approval"}
    assert statuses["both"] == {"submitted", "in_control", "pending_approval"}  # officer_b, now approver in 0100 too
    assert {row["unit__code"] for row in seen["both"]} == {"1012345", "1023456"}
    assert len(seen["central"]) > len(seen["approver"]) > 0
    assert seen["a_preparer"] == [] and seen["tadmin"] == []


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["officer", "officer_b", "central"])
def test_due_before_a_day_is_the_local_day(queue, name) -> None:  # noqa: ANN001
    """due_before=2026-12-10 keeps 23:30 in Hanoi that day (16:30 UTC) and drops
    00:30 the next (17:30 UTC), as review_queue's due_at__date__lte does."""
    rows = _check(queue, name, {"due_before": date(2026, 12, 10)}, 2)
    every = _check(queue, name, {}, 50)
    assert DUE[1] in {r["due_at"] for r in rows} and DUE[2] not in {r["due_at"] for r in rows}
    assert DUE[2] in {r["due_at"] for r in every}


@pytest.mark.django_db
def test_the_rows_carry_the_list_columns(queue) -> None:  # noqa: ANN001
    rows = selectors.review_queue_rows(_fresh(queue, "officer"))
    assert rows and all(tuple(row) == LIST_COLUMNS for row in rows)
    assert any(row["controller__username"] for row in rows) and any(row["due_at"] is None for row in rows)


@pytest.mark.django_db
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(READERS),
    unit=st.sampled_from([None, "1012345", "1023456", "nope"]),
    procedure=st.sampled_from([None, "C2-02a/NS", "nope"]),
    status=st.sampled_from([None, "submitted", "in_control,pending_approval", ",", "draft", "pending_approval,"]),
    due_before=st.sampled_from([None, date(2026, 12, 10), date(2026, 12, 9), datetime(2026, 12, 10, 16, 30, tzinfo=UTC),
                                datetime(2026, 12, 10, 17, 0, tzinfo=UTC) - timedelta(microseconds=1)]),
    mine=st.booleans(),
    size=st.integers(min_value=1, max_value=4),
)
def test_every_filter_and_cursor(queue, name, unit, procedure, status, due_before, mine, size) -> None:  # noqa: ANN001, PLR0913
    filters = {"unit": unit, "procedure": procedure, "status": status, "due_before": due_before, "mine": mine}
    _check(queue, name, filters, size)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/review-queue", "/api/v1/review-queue?page=1"])
def test_odd_status_lists(queue, api, path) -> None:  # noqa: ANN001
    """A status named twice counts once; a name that is no status (or an empty
    one) is refused like every value the schema does not allow: 400 with the
    parameter named, never a 500, and never silently an empty page."""
    client = api("officer")
    sep = "&" if "?" in path else "?"
    alone = client.get(f"{path}{sep}status=submitted").json()["results"]
    twice = client.get(f"{path}{sep}status=submitted,submitted").json()["results"]
    assert alone and [r["id"] for r in twice] == [r["id"] for r in alone]
    for odd in ("nope", "x,submitted,,submitted,%27%3B--", "submitted,", ",".join(f"x{n}" for n in range(40_000))):
        response = client.get(f"{path}{sep}status={odd}")
        assert response.status_code == 400 and response.json()["code"] == "validation_error"
        assert "status" in response.json()["fields"]
