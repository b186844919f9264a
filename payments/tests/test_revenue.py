"""State budget revenue: the batch import (idempotent per office reference,
409 for a reference reused with another content, all or nothing, bounds,
who may), the scope of the reads, the API and the upload page (issue 12)."""

import io
from datetime import date

import pytest
from django.urls import reverse

from conftest import api_client_for, enrol_totp
from payments.models import RevenueCollection
from payments.selectors.revenue import revenue_list, revenue_visible
from payments.services import revenue as services
from treasury_portal.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db


def row(ref: str = "TCT-1", **over: object) -> dict:
    base = {"reference": ref, "collected_on": "2026-03-02", "budget_level": "2", "chapter": "754",
            "ndkt": "1052", "source": "tax", "amount": 1_250_000, "payer_name": "Công ty A"}
    return {**base, **over}


# --- the service ---------------------------------------------------------------------------------


def test_a_batch_is_written_and_read_back(world):
    results = services.revenue_import(actor=world.users["officer"], office="0101", rows=[row("A"), row("B")])
    assert [(r.index, r.reference, r.status) for r in results] == [(0, "A", "created"), (1, "B", "created")]
    stored = RevenueCollection.objects.get(reference="A")
    assert stored.office.code == "0101" and stored.amount == 1_250_000 and stored.collected_on == date(2026, 3, 2)
    assert stored.imported_by == world.users["officer"] and stored.budget_level == "2"


def test_the_same_reference_and_content_is_already_there(world):
    officer = world.users["officer"]
    services.revenue_import(actor=officer, office="0101", rows=[row("A")])
    again = services.revenue_import(actor=world.users["tadmin"], office="0101", rows=[row("A"), row("C")])
    assert [r.status for r in again] == ["existing", "created"]
    assert RevenueCollection.objects.filter(reference="A").count() == 1
    # Inside one batch, a repeated row is one collection.
    twice = services.revenue_import(actor=officer, office="0101", rows=[row("D"), row("D")])
    assert [r.status for r in twice] == ["created", "existing"] and twice[0].collection == twice[1].collection


def test_a_reference_with_another_content_refuses_the_whole_batch(world):
    officer = world.users["officer"]
    services.revenue_import(actor=officer, office="0101", rows=[row("A")])
    with pytest.raises(ApplicationError) as exc:
        services.revenue_import(actor=officer, office="0101", rows=[row("NEW"), row("A", amount=1_250_001)])
    assert exc.value.code == "revenue_reference_conflict" and exc.value.http_status == 409
    assert set(exc.value.fields["rows"]) == {"1"}
    assert not RevenueCollection.objects.filter(reference="NEW").exists(), "all or nothing"
    # The same reference at another office is another collection.
    services.revenue_import(actor=officer, office="0100", rows=[row("A", amount=9)])
    assert RevenueCollection.objects.filter(reference="A").count() == 2


def test_one_bad_row_refuses_the_batch_and_names_each_row(world):
    rows = [row("OK"), row("X1", amount=0), row("X2", chapter="75", ndkt="10a"), row("X3", collected_on="2026-02-30"),
            row("X4", budget_level="5", source="gift"), row("bad ref!"), row("OK", amount=5)]
    with pytest.raises(ValidationFailed) as exc:
        services.revenue_import(actor=world.users["officer"], office="0101", rows=rows)
    errors = exc.value.fields["rows"]
    assert set(errors) == {"1", "2", "3", "4", "5", "6"}
    assert set(errors["2"]) == {"chapter", "ndkt"} and set(errors["4"]) == {"budget_level", "source"}
    assert "amount" in errors["1"] and "collected_on" in errors["3"] and "reference" in errors["5"]
    assert "reference" in errors["6"]  # OK again with another amount
    assert not RevenueCollection.objects.exists()


def test_batch_bounds(world):
    officer = world.users["officer"]
    with pytest.raises(ValidationFailed):
        services.revenue_import(actor=officer, office="0101", rows=[])
    with pytest.raises(ValidationFailed):
        services.revenue_import(actor=officer, office="0101",
                                rows=[row(f"R{i}") for i in range(services.MAX_BATCH_ROWS + 1)])
    with pytest.raises(ValidationFailed):
        services.revenue_import(actor=officer, office="0101", rows=[row("BIG", amount=10**15 + 1)])
    results = services.revenue_import(actor=officer, office="0101",
                                      rows=[row(f"R{i}") for i in range(services.MAX_BATCH_ROWS)])
    assert len(results) == RevenueCollection.objects.count() == services.MAX_BATCH_ROWS


def test_who_may_record_and_who_sees(world):
    with pytest.raises(NotFound):  # another province's office
        services.revenue_import(actor=world.users["officer"], office="0201", rows=[row()])
    with pytest.raises(PermissionDenied):  # a leader approves, does not record
        services.revenue_import(actor=world.users["approver"], office="0101", rows=[row()])
    with pytest.raises(NotFound):
        services.revenue_import(actor=world.users["a_holder"], office="0101", rows=[row()])
    services.revenue_import(actor=world.users["officer"], office="0101", rows=[row("A")])
    services.revenue_import(actor=world.users["officer_b"], office="0201", rows=[row("B")])
    assert {r.reference for r in revenue_visible(world.users["approver"])} == {"A"}
    assert {r.reference for r in revenue_visible(world.users["tadmin_b"])} == {"B"}
    assert not revenue_visible(world.users["a_holder"]).exists()
    assert {r.reference for r in revenue_list(world.users["officer"], office="0101", date_from=date(2026, 3, 2))} == {
        "A"}
    with pytest.raises(NotFound):
        revenue_list(world.users["officer"], office="0201")


def test_the_database_refuses_a_non_positive_amount(world):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        RevenueCollection.objects.create(office=world.offices["0101"], reference="Z", collected_on=date(2026, 1, 1),
                                         budget_level="2", chapter="754", ndkt="1052", source="tax", amount=0)
    RevenueCollection.objects.create(office=world.offices["0101"], reference="Z", collected_on=date(2026, 1, 1),
                                     budget_level="2", chapter="754", ndkt="1052", source="tax", amount=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        RevenueCollection.objects.create(office=world.offices["0101"], reference="Z", collected_on=date(2026, 1, 2),
                                         budget_level="2", chapter="754", ndkt="1052", source="tax", amount=1)


# --- the API -------------------------------------------------------------------------------------


def test_api_batch_idempotency_conflict_and_list(world):
    client = api_client_for(world.users["officer"])
    body = {"office": "0101", "rows": [row("A"), row("B", payer_name="")]}
    first = client.post("/api/v1/revenue-collections", body, format="json")
    assert first.status_code == 201, first.content
    assert first.json()["created"] == 2 and [r["status"] for r in first.json()["rows"]] == ["created", "created"]
    again = client.post("/api/v1/revenue-collections", body, format="json")
    assert again.status_code == 200 and again.json()["existing"] == 2
    conflict = client.post("/api/v1/revenue-collections",
                           {"office": "0101", "rows": [row("C"), row("A", amount=7)]}, format="json")
    assert conflict.status_code == 409 and conflict.json()["code"] == "revenue_reference_conflict"
    assert "1" in conflict.json()["fields"]["rows"]
    bad = client.post("/api/v1/revenue-collections", {"office": "0101", "rows": [row("D"), row("E", amount=-1)]},
                      format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "validation_error"
    assert "1" in bad.json()["fields"]["rows"] and "amount" in bad.json()["fields"]["rows"]["1"]
    assert not RevenueCollection.objects.filter(reference__in=["C", "D"]).exists()
    listing = client.get("/api/v1/revenue-collections", {"page_size": 1})
    assert listing.status_code == 200 and len(listing.json()["results"]) == 1 and listing.json()["next"]
    second = client.get(listing.json()["next"])
    refs = {listing.json()["results"][0]["reference"], second.json()["results"][0]["reference"]}
    assert refs == {"A", "B"}
    filtered = client.get("/api/v1/revenue-collections", {"reference": "B", "budget_level": "2"}).json()["results"]
    assert [r["reference"] for r in filtered] == ["B"] and filtered[0]["amount"] == 1_250_000
    assert client.get("/api/v1/revenue-collections", {"office": "0201"}).status_code == 404
    assert client.get("/api/v1/revenue-collections", {"chapter": "7"}).status_code == 400


def test_api_refuses_other_offices_and_roles(world):
    body = {"office": "0101", "rows": [row("A")]}
    assert api_client_for(world.users["officer_b"]).post("/api/v1/revenue-collections", body,
                                                         format="json").status_code == 404
    assert api_client_for(world.users["approver"]).post("/api/v1/revenue-collections", body,
                                                        format="json").status_code == 403
    assert api_client_for(world.users["a_holder"]).get("/api/v1/revenue-collections").status_code == 403


# --- the upload page ------------------------------------------------------------------------------


@pytest.fixture
def officer_client(client, world):  # noqa: ANN001, ANN201
    user = world.users["officer"]
    enrol_totp(user)
    client.force_login(user)
    return client


def _csv(*rows: dict) -> io.BytesIO:
    lines = [",".join((*services.REVENUE_COLUMNS, "payer_name"))]
    lines += [",".join(str(r[c]) for c in (*services.REVENUE_COLUMNS, "payer_name")) for r in rows]
    data = io.BytesIO(("\n".join(lines) + "\n").encode())
    data.name = "thu.csv"
    return data


def test_upload_csv_reports_each_row(world, officer_client):
    url = reverse("revenue-collections")
    response = officer_client.post(url, {"office": "0101", "file": _csv(row("A"), row("B"))})
    page = response.content.decode()
    assert response.status_code == 200 and "Đã ghi 2 khoản thu mới" in page
    assert RevenueCollection.objects.count() == 2
    response = officer_client.post(url, {"office": "0101", "file": _csv(row("A"), row("C", amount="x"))})
    page = response.content.decode()
    assert response.status_code == 400 and "amount" in page and RevenueCollection.objects.count() == 2
    assert ">3<" in page  # the bad row's line in the file


def test_upload_xlsx_through_the_same_parser(world, officer_client):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append([*services.REVENUE_COLUMNS, "payer_name"])
    sheet.append(["X-1", date(2026, 4, 1), 2, 754, 1052, "fee", 350000, None])
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    data.name = "thu.xlsx"
    response = officer_client.post(reverse("revenue-collections"), {"office": "0101", "file": data})
    assert response.status_code == 200, response.content.decode()[:2000]
    stored = RevenueCollection.objects.get(reference="X-1")
    assert (stored.collected_on, stored.budget_level, stored.chapter, stored.amount) == (date(2026, 4, 1), "2",
                                                                                         "754", 350000)


def test_upload_page_in_both_languages_and_template(world, officer_client):
    services.revenue_import(actor=world.users["officer"], office="0101", rows=[row("A")])
    page = officer_client.get(reverse("revenue-collections")).content.decode()
    assert "Số thu ngân sách nhà nước" in page and "TCT" not in page and ">A<" in page
    officer_client.cookies["django_language"] = "en"
    page = officer_client.get(reverse("revenue-collections"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "State budget revenue" in page and "Số thu ngân sách nhà nước" not in page
    template = officer_client.get(reverse("revenue-template"))
    assert template.status_code == 200 and b"reference,collected_on" in template.content
