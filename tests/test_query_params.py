"""Query parameters the schema declares are checked, not ignored: a value that
is present but not what the schema allows (not a number, not a day, not one of
the enum, not a unit code, empty) is 400 `validation_error` with the contract's
error body naming the parameter. Values the schema allows pass; a page_size
over 200 gives 200 rows (not a 500, not a refusal)."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from treasury_portal import query

pytestmark = pytest.mark.django_db


def _validation_error(response, name: str) -> None:  # noqa: ANN001
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert body["code"] == "validation_error"
    assert isinstance(body["detail"], str) and body["detail"]
    assert name in body["fields"], body


@pytest.mark.parametrize(
    ("url", "name"),
    [
        # pagination: numbered pages and cursor lists
        ("/api/v1/accounts?page_size=null", "page_size"),
        ("/api/v1/accounts?page_size=0", "page_size"),
        ("/api/v1/accounts?page_size=-5", "page_size"),
        ("/api/v1/accounts?page_size=", "page_size"),
        ("/api/v1/accounts?page=abc", "page"),
        ("/api/v1/accounts?page=0", "page"),
        ("/api/v1/vouchers?page_size=1.5", "page_size"),
        ("/api/v1/vouchers?page_size=1234567890123", "page_size"),
        ("/api/v1/vouchers?cursor=not%20a%20cursor", "cursor"),
        ("/api/v1/budget-lines?page_size=null", "page_size"),
        # enums
        ("/api/v1/reason-codes?kind=AAA", "kind"),
        ("/api/v1/accounts?kind=AAA", "kind"),
        ("/api/v1/authorizations?status=AAA", "status"),
        ("/api/v1/autopay/invoices?status=AAA", "status"),
        ("/api/v1/autopay/exceptions?code=AAA", "code"),
        ("/api/v1/vouchers?status=draft,bogus", "status"),
        ("/api/v1/vouchers?status=", "status"),
        # typed values
        ("/api/v1/procedures?date=", "date"),
        ("/api/v1/procedures?date=20260101", "date"),
        ("/api/v1/procedures?date=2026-02-30", "date"),
        ("/api/v1/budget-lines?fiscal_year=abc", "fiscal_year"),
        ("/api/v1/vouchers?fiscal_year=1999", "fiscal_year"),
        ("/api/v1/notifications?unread=null", "unread"),
        ("/api/v1/autopay/exceptions?closed=maybe", "closed"),
        # codes with a shape
        ("/api/v1/vouchers?unit=abc", "unit"),
        ("/api/v1/accounts?unit=1012345%0A", "unit"),
        ("/api/v1/vouchers?procedure=a%20b", "procedure"),
    ],
)
def test_an_invalid_query_parameter_is_a_validation_error(world, api, url, name):
    _validation_error(api("b_holder").get(url), name)


@pytest.mark.parametrize(
    ("url", "username", "name"),
    [
        ("/api/v1/review-queue?mine=yes", "officer_b", "mine"),
        ("/api/v1/review-queue?due_before=tomorrow", "officer_b", "due_before"),
        ("/api/v1/review-queue?page_size=null", "officer_b", "page_size"),
        ("/api/v1/payment-intents?status=AAA", "officer_b", "status"),
        ("/api/v1/memberships?organisation=12", "tadmin_b", "organisation"),
        ("/api/v1/signing-keys?status=AAA", "tadmin_b", "status"),
        ("/api/v1/supplier/invoices?status=AAA", "evn_clerk", "status"),
    ],
)
def test_an_invalid_query_parameter_of_other_roles_lists(world, api, url, username, name):
    _validation_error(api(username).get(url), name)


def test_a_statement_period_that_is_not_iso_days_is_refused(world, api):
    from payments.tests.kit import seed_money

    seed_money(world)
    client = api("a_holder")
    account = client.get("/api/v1/accounts").json()["results"][0]["id"]
    _validation_error(client.get(f"/api/v1/accounts/{account}/statement.csv?from=20260101"), "from")
    _validation_error(client.get(f"/api/v1/accounts/{account}/statement.csv?to="), "to")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/accounts?page_size=100000",
        "/api/v1/accounts?page_size=999999999&page=1",
        "/api/v1/vouchers?page_size=999999999",
        "/api/v1/vouchers?status=draft,submitted&fiscal_year=2026",
        "/api/v1/reason-codes?kind=deficiency",
        "/api/v1/notifications?unread=1",
        "/api/v1/notifications?unread=false",
        "/api/v1/procedures?date=2026-11-30",
        "/api/v1/autopay/exceptions?closed=true&code=over_cap",
        "/api/v1/vouchers?unit=1012345&procedure=C2-02a/NS",
    ],
)
def test_valid_query_parameters_are_accepted(world, api, url):
    response = api("b_holder").get(url)
    assert response.status_code == 200, response.content[:300]


def test_a_huge_page_size_gives_at_most_200_rows(world, api):
    body = api("b_holder").get("/api/v1/vouchers?page=1&page_size=999999999").json()
    assert len(body["results"]) <= 200


def test_a_page_past_the_last_is_still_404(world, api):
    response = api("b_holder").get("/api/v1/accounts?page=999999")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_each_parameter_schema_says_what_its_reader_accepts():
    """The schema and the reader are one declaration: spot-check the pairs."""
    assert query.PAGE_SIZE.json_schema()["minimum"] == 1
    assert query.UNIT.json_schema()["pattern"] == query.UNIT_CODE_PATTERN
    flag = query.boolean("x")
    assert flag.json_schema()["enum"] == ["1", "true", "0", "false"]
    statuses = query.choice("s", ["a", "b"], many=True)
    assert re.search(statuses.json_schema()["pattern"], "a,b")
    assert not re.search(statuses.json_schema()["pattern"], "a,,b")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cursor=st.from_regex(query.CURSOR.json_schema()["pattern"].replace("$", r"\Z")))  # ECMA's `$`
def test_every_cursor_the_schema_allows_is_read(world, api, cursor):
    """The cursor's format is what its schema pattern says: any string of it is a
    place in the list (maybe past the end), never a 400 (the fuzz's
    positive_data_acceptance); anything else is refused."""
    response = api("b_holder").get("/api/v1/vouchers", {"cursor": cursor})
    assert response.status_code == 200, (cursor, response.content[:200])

