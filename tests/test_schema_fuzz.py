"""Schemathesis against the served schema (/api/schema/), once per kind of
organisation: a unit signer, treasury staff (officer and administrator) and a
supplier clerk, each with a real Bearer token. Every check on: no 5xx, every
response (errors included) matches the schema, auth is enforced, every
schema-valid request is accepted (positive_data_acceptance: not refused with
400) and every schema-invalid one refused (negative_data_rejection).

Bounded: SCHEMA_FUZZ_EXAMPLES examples per operation (default 10 locally, 25
when CI=true), no deadline. The app is called in-process over WSGI, inside each
test's transaction.
"""

import os

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from accounts import selectors
from accounts.services import api_token_create
from conftest import enrol_totp
from tests.every_test_reported import give_operations_their_node_ids

MAX_EXAMPLES = int(os.environ.get("SCHEMA_FUZZ_EXAMPLES") or (25 if os.environ.get("CI") == "true" else 10))
# One user per kind of organisation (and both sides of the treasury's work).
# Bodies whose validity the schema cannot state: a pain.002 report is a file the
# schema calls binary, but only an XML document valid under its ISO 20022 XSD is
# accepted (400 validation_error otherwise, payments/tests/test_banks.py). Every
# other check still runs on them; refusing invalid input still is checked.
CONTENT_CHECKED_UPLOADS = {"POST /api/v1/bank-status-reports"}
ROLES = {
    "unit signer": "b_holder",
    "control officer": "officer_b",
    "treasury administrator": "tadmin_b",
    "supplier clerk": "evn_clerk",
}


# Loaded once at collection from the served endpoint (no database needed to
# generate it), so each operation is its own test item: "[POST /api/v1/...]".
APP = WSGIHandler()
schema = schemathesis.openapi.from_wsgi("/api/schema/", APP)


@pytest.fixture(autouse=True)
def _wsgi_inside_the_test_transaction():  # noqa: ANN202
    # Django's test client does the same: a request must not close the
    # connection that holds the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def auth_headers(world):  # noqa: ANN001, ANN201
    """Authorization headers of one demo user per organisation kind (MFA enrolled)."""
    headers = {}
    for username in ROLES.values():
        user = world.users[username]
        if selectors.requires_mfa(user):
            enrol_totp(user)
        headers[username] = {"Authorization": f"Bearer {api_token_create(user=user, name='schemathesis')[1]}"}
    return headers


def _fuzz_as(username: str):  # noqa: ANN202
    @pytest.mark.slow
    @pytest.mark.django_db
    @schema.parametrize()
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
    )
    def test(case, auth_headers):  # noqa: ANN001
        headers = auth_headers[username]
        response = case.call(headers=headers)
        # `headers` tells the ignored_auth check that this auth is real: it then
        # probes the same request without it and with a wrong token (401 expected).
        excluded = [positive_data_acceptance] if case.operation.label in CONTENT_CHECKED_UPLOADS else []
        case.validate_response(response, headers=headers, excluded_checks=excluded)

    test.__doc__ = f"The API as {username}: no 5xx, responses match the schema, valid input accepted, invalid refused."
    return test


test_api_as_a_unit_signer = _fuzz_as(ROLES["unit signer"])
test_api_as_a_control_officer = _fuzz_as(ROLES["control officer"])
test_api_as_a_treasury_administrator = _fuzz_as(ROLES["treasury administrator"])
test_api_as_a_supplier_clerk = _fuzz_as(ROLES["supplier clerk"])


def test_every_operation_is_a_test_of_its_own_for_every_role(request):  # noqa: ANN001
    """The fuzz tests above yield one item per operation of the served schema,
    each with its own node id: pytest-xdist schedules by node id, and under
    pytest 9 all of them once shared one, so only 4 of the ~200 ran."""
    labels = sorted(result.ok().label for result in schema.get_all_operations())
    assert len(labels) >= 40 and len(set(labels)) == len(labels)
    assert CONTENT_CHECKED_UPLOADS <= set(labels)
    fuzz_tests = {name for name in globals() if name.startswith("test_api_as_")}
    assert len(fuzz_tests) == len(ROLES)
    module = request.node.getparent(pytest.Module)
    for collector in (c for c in module.collect() if c.name in fuzz_tests):
        items = collector.collect()
        give_operations_their_node_ids(items)  # what the plugin does at collection
        assert sorted(item.operation_label for item in items) == labels, collector.name
        assert len({item.nodeid for item in items}) == len(labels), collector.name
        fuzz_tests.remove(collector.name)
    assert not fuzz_tests
