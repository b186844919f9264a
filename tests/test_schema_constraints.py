"""The schema says no more is valid than the app accepts, and the serializers
refuse what the schema calls invalid (schemathesis' positive_data_acceptance and
negative_data_rejection, tests/test_schema_fuzz.py): the constraints the app
enforces (code patterns, non-empty lists, non-blank text, JSON bodies) are in
the served schema, and a code the schema's pattern refuses is not trimmed into
a valid one."""

import json
import re

import pytest
from django.test import Client

from accounts.apis import MembershipInSerializer, SigningKeyInSerializer
from autopay import services as autopay_services
from autopay.apis import AuthorizationInSerializer, InvoiceInSerializer
from treasury_portal.schema import NO_NUL, NOT_BLANK
from vouchers import services as voucher_services
from vouchers.serializers import PayeeInSerializer, VoucherCreateSerializer


@pytest.fixture(scope="module")
def served_schema(django_db_blocker) -> dict:  # noqa: ANN001
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


def _request_schema(schema: dict, name: str) -> dict:
    return schema["components"]["schemas"][name]["properties"]


def test_nested_lists_that_may_not_be_empty_say_so(served_schema):
    voucher = _request_schema(served_schema, "VoucherCreateRequest")
    assert voucher["lines"]["minItems"] == 1 and voucher["lines"]["maxItems"] == 100
    refuse = _request_schema(served_schema, "RefuseInRequest")
    assert refuse["reasons"]["minItems"] == 1 and refuse["reasons"]["maxItems"] == 50


def test_codes_carry_the_pattern_the_services_check(served_schema):
    invoice = _request_schema(served_schema, "InvoiceInRequest")
    authorization = _request_schema(served_schema, "AuthorizationInRequest")
    payee = _request_schema(served_schema, "PayeeInRequest")
    cases = [
        (invoice["invoice_number"]["pattern"], autopay_services.INVOICE_NUMBER),
        (invoice["customer_code"]["pattern"], autopay_services.CUSTOMER_CODE),
        (authorization["customer_codes"]["items"]["pattern"], autopay_services.CUSTOMER_CODE),
        (payee["account_number"]["pattern"], voucher_services.ACCOUNT_NUMBER),
    ]
    samples = ["PE-2026/11.0001", "a", "; ", "x" * 61, "ĐVQH", "12 34", "1234", "a_b-c.d", "", "abc/def"]
    for pattern, service_regex in cases:
        for text in samples:
            assert bool(re.search(pattern, text)) == bool(service_regex.fullmatch(text)), (pattern, text)


def test_text_that_may_not_be_blank_says_so(served_schema):
    voucher = _request_schema(served_schema, "VoucherCreateRequest")
    assert voucher["description"]["pattern"] == NOT_BLANK
    assert voucher["contract_number"]["pattern"] == NO_NUL  # may be blank
    assert not re.search(NOT_BLANK, "   ") and re.search(NOT_BLANK, " a ")
    assert not re.search(NO_NUL, "a\x00b") and re.search(NO_NUL, "")


# The two uploads of a file (a voucher's document, a bank's pain.002 report) take
# multipart/form-data only; every other body is JSON.
FILE_UPLOADS = {("post", "/api/v1/vouchers/{id}/attachments"), ("post", "/api/v1/bank-status-reports")}


def test_request_bodies_are_documented_as_json_only(served_schema):
    uploads_seen = set()
    for path, item in served_schema["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if (method, path) in FILE_UPLOADS:
                uploads_seen.add((method, path))
                assert list(content) == ["multipart/form-data"], (method, path, list(content))
            else:
                assert set(content) <= {"application/json"}, (method, path, list(content))
    assert uploads_seen == FILE_UPLOADS


@pytest.mark.parametrize(
    ("serializer_class", "data", "field"),
    [
        (VoucherCreateSerializer, {"unit": " 1012345"}, "unit"),
        (VoucherCreateSerializer, {"unit": "1012345\n"}, "unit"),
        (SigningKeyInSerializer, {"unit": "1012345 "}, "unit"),
        (MembershipInSerializer, {"organisation": " 0101"}, "organisation"),
        (InvoiceInSerializer, {"period": "2026-11 "}, "period"),
        (InvoiceInSerializer, {"invoice_number": " PE-1"}, "invoice_number"),
        (InvoiceInSerializer, {"customer_code": "; "}, "customer_code"),
        (AuthorizationInSerializer, {"customer_codes": ["PE01", "no spaces"]}, "customer_codes"),
        (PayeeInSerializer, {"account_number": " 0011001234567"}, "account_number"),
        (PayeeInSerializer, {"account_number": "12"}, "account_number"),
    ],
)
def test_a_code_outside_its_pattern_is_refused_not_trimmed(serializer_class, data, field):
    serializer = serializer_class(data=data, partial=True)
    assert not serializer.is_valid()
    assert field in serializer.errors, serializer.errors
