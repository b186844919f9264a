"""The autopay API as api-contract.md promises it: authorizations signed and
submitted like a voucher, confirmed by the treasury, revoked by the unit;
supplier invoices (idempotent by number); the exception list."""

import pytest
from django.utils import timezone

from accounts import crypto
from autopay import services as autopay
from autopay.tests.autopay_kit import autopay_kit
from payments.models import BudgetLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    return autopay_kit(world)


def _sign(api, kit, pk: int, username: str) -> dict:  # noqa: ANN001
    private, key = kit.keys[username]
    content_hash = api(username).get(f"/api/v1/authorizations/{pk}").json()["content_hash"]
    response = api(username).post(
        f"/api/v1/authorizations/{pk}/sign",
        {"key_id": key.pk, "signature": crypto.sign(private, bytes.fromhex(content_hash))}, format="json",
    )
    assert response.status_code == 200, response.json()
    return response.json()


def test_authorization_journey_through_the_api(kit, api):
    line = BudgetLine.objects.get(unit=kit.unit, ndkt="6501", fiscal_year=kit.fiscal_year)
    body = {
        "unit": kit.unit.code, "supplier": "0100100079", "customer_codes": ["PE0001", "PE0002"],
        "budget_line": line.pk, "cap_per_invoice": 5_000_000, "cap_per_month": 8_000_000,
        "valid_from": f"{kit.fiscal_year}-01-01", "valid_to": f"{kit.fiscal_year}-12-31",
    }
    response = api("a_preparer").post("/api/v1/authorizations", body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["status"] == "draft" and created["customer_codes"] == ["PE0001", "PE0002"]
    pk = created["id"]
    patched = api("a_preparer").patch(f"/api/v1/authorizations/{pk}", {"cap_per_invoice": 4_000_000}, format="json")
    assert patched.status_code == 200 and patched.json()["content_hash"] != created["content_hash"]
    _sign(api, kit, pk, "a_chief")
    signed = _sign(api, kit, pk, "a_holder")
    assert {s["role"] for s in signed["signatures"]} == {"chief_accountant", "account_holder"}
    response = api("a_holder").post(f"/api/v1/authorizations/{pk}/submit", format="json")
    assert response.status_code == 200 and response.json()["status"] == "submitted"
    assert api("tadmin_b").post(f"/api/v1/authorizations/{pk}/confirm", format="json").status_code == 404
    response = api("tadmin").post(f"/api/v1/authorizations/{pk}/confirm", {"note": "OK"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "active"
    listed = api("officer").get("/api/v1/authorizations?status=active").json()
    assert [row["id"] for row in listed["results"]] == [pk]
    events = api("a_holder").get(f"/api/v1/authorizations/{pk}/events").json()
    assert [e["action"] for e in events] == ["create", "update", "sign", "sign", "submit", "confirm"]
    response = api("a_holder").post(f"/api/v1/authorizations/{pk}/revoke", format="json")
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    again = api("a_holder").patch(f"/api/v1/authorizations/{pk}", {"cap_per_month": 9}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


def test_submit_without_signatures_is_a_409(kit, api):
    a = kit.draft_authorization()
    response = api("a_holder").post(f"/api/v1/authorizations/{a.pk}/submit", format="json")
    assert response.status_code == 409 and response.json()["code"] == "signatures_missing"


def test_supplier_invoices_through_the_api(kit, api):
    kit.active_authorization(codes=("PE0001",), cap_per_invoice=1_000_000, cap_per_month=2_000_000)
    body = {"invoice_number": "EVN-2026-0001", "customer_code": "PE0001", "period": f"{kit.fiscal_year}-10",
            "amount": 750_000, "issued_at": timezone.now().isoformat()}
    client = api("evn_clerk")
    first = client.post("/api/v1/supplier/invoices", body, format="json")
    assert first.status_code == 201 and first.json()["status"] == "pending", first.json()
    again = client.post("/api/v1/supplier/invoices", body, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    changed = client.post("/api/v1/supplier/invoices", {**body, "amount": 1}, format="json")
    assert changed.status_code == 409 and changed.json()["code"] == "idempotency_conflict"
    over = client.post("/api/v1/supplier/invoices", {**body, "invoice_number": "EVN-2026-0002", "amount": 1_500_000,
                                                     "period": f"{kit.fiscal_year}-11"}, format="json")
    assert over.status_code == 201
    bad = client.post("/api/v1/supplier/invoices", {**body, "period": "2026-13"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "validation_error"
    assert api("vnpt_clerk").get(f"/api/v1/supplier/invoices/{first.json()['id']}").status_code == 404
    assert api("a_holder").post("/api/v1/supplier/invoices", body, format="json").status_code == 403

    autopay.autopay_run()
    paid = client.get(f"/api/v1/supplier/invoices/{first.json()['id']}").json()
    assert paid["status"] == "paid" and paid["exception_code"] is None and paid["transfer"]
    excepted = client.get(f"/api/v1/supplier/invoices/{over.json()['id']}").json()
    assert excepted["status"] == "exception" and excepted["exception_code"] == "over_cap"
    assert [r["id"] for r in client.get("/api/v1/supplier/invoices?status=paid").json()["results"]] == [paid["id"]]

    for username in ("a_holder", "officer"):
        rows = api(username).get("/api/v1/autopay/exceptions").json()["results"]
        assert [(r["id"], r["exception_code"]) for r in rows] == [(excepted["id"], "over_cap")], username
    assert api("b_holder").get("/api/v1/autopay/exceptions").json()["results"] == []
    assert api("officer_b").get("/api/v1/autopay/invoices").json()["results"] == []
    advice = api("a_holder").get(f"/api/v1/transfers/{paid['transfer']}/debit-advice.pdf")
    assert advice.status_code == 200 and advice["Content-Type"] == "application/pdf"
    runs = api("tadmin").get("/api/v1/autopay/runs").json()
    assert runs[0]["processed"] == 2 and runs[0]["percent"] == 100


def test_autopay_lists_have_a_fixed_number_of_queries(kit, api, django_assert_max_num_queries):
    kit.active_authorization(codes=tuple(f"Q{i}" for i in range(5)), cap_per_month=90_000_000)
    for i in range(5):
        kit.invoice(f"Q{i}", 99_000_000 // 10, period=f"{kit.fiscal_year}-0{i + 1}")
    autopay.autopay_run()
    for username, url in (("a_holder", "/api/v1/authorizations"), ("a_holder", "/api/v1/autopay/invoices"),
                          ("officer", "/api/v1/autopay/exceptions"), ("evn_clerk", "/api/v1/supplier/invoices")):
        client = api(username)
        client.get(url)
        with django_assert_max_num_queries(8):
            assert client.get(url).status_code == 200
