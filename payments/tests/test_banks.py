"""The bank directory (BIN, BIC, short code), the pain.001 files checked against the
official XSD, and banks' pain.002 status reports reversing rejected payments once."""

from io import StringIO
from xml.etree import ElementTree as ET  # noqa: S405 - parses our own output only

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from lxml import etree

from payments import iso20022
from payments.models import (
    Bank,
    BankFile,
    BankRejection,
    BankStatusReport,
    BudgetLine,
    Notification,
    NotificationKind,
    PaymentIntent,
    PaymentIntentStatus,
    Transfer,
    TransferKind,
)
from payments.pain001 import NAMESPACE, CreditTransfer, Party, build_pain001
from payments.selectors.banks import bank_find
from payments.selectors.reconcile import reconcile
from payments.services.bank_files import bank_files_generate
from payments.services.bank_status import bank_status_report_import
from payments.tests.kit import PAYEE, Kit, seed_money
from payments.tests.pain002_kit import build_pain002
from treasury_portal.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed
from vouchers.forms import BankChoiceField
from vouchers.models import VoucherEvent, VoucherStatus
from vouchers.payment.services import payment_retry

pytestmark = pytest.mark.django_db

NS = {"p": NAMESPACE}


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    seed_money(world)
    return Kit(world, "a")


# --- the directory ------------------------------------------------------------------


@pytest.mark.parametrize(
    "identifier", ["970415", "ICBVVNVX", "icbvvnvx", "ICBVVNVXXXX", "CTG", "ctg", " CTG ", 970415]
)
def test_a_bank_is_found_by_its_bin_bic_or_short_code(kit, identifier):  # noqa: ANN001
    assert bank_find(identifier).code == "CTG"


@pytest.mark.parametrize("identifier", ["", "999999", "97041", "XXXXVNVX", "NOPE", None, True, ["CTG"], "A" * 50])
def test_an_unknown_bank_is_none(kit, identifier):  # noqa: ANN001
    assert bank_find(identifier) is None


def test_the_seeded_banks_have_their_bins_and_bics(kit):  # noqa: ANN001
    expected = {
        "VCB": ("970436", "BFTVVNVX"), "CTG": ("970415", "ICBVVNVX"), "BIDV": ("970418", "BIDVVNVX"),
        "AGRIBANK": ("970405", "VBAAVNVX"), "TCB": ("970407", "VTCBVNVX"), "MB": ("970422", "MSCBVNVX"),
        "ACB": ("970416", "ASCBVNVX"), "VPB": ("970432", "VPBKVNVX"), "STB": ("970403", "SGTTVNVX"),
    }
    found = {b.code: (b.bin, b.bic) for b in Bank.objects.filter(code__in=expected)}
    assert found == expected
    assert all(len(b.bin) == 6 for b in Bank.objects.all())


@pytest.mark.parametrize(("identifier", "code"), [("970415", "CTG"), ("icbvvnvx", "CTG"), ("bidv", "BIDV")])
def test_a_voucher_stores_the_bank_named_by_any_identifier(kit, identifier, code):  # noqa: ANN001
    voucher = kit.draft(payee={**PAYEE, "bank_code": identifier})
    voucher.refresh_from_db()
    assert voucher.payee_bank.code == code


def test_an_unknown_bank_is_a_validation_error_on_the_bank_code(kit):  # noqa: ANN001
    with pytest.raises(ValidationFailed) as refused:
        kit.draft(payee={**PAYEE, "bank_code": "999999"})
    assert refused.value.code == "validation_error"
    assert list(refused.value.fields) == ["payee.bank_code"]


def test_the_voucher_api_takes_a_bin_and_answers_all_three(kit, api):  # noqa: ANN001
    body = {
        "unit": kit.unit.code, "procedure": "C2-02a/NS", "mode": "payment", "fiscal_year": kit.fiscal_year,
        "description": "Mua văn phòng phẩm", "payee": {**PAYEE, "bank_code": "970415"},
        "lines": [{"budget_line": kit.line().pk, "amount": 1_000_000, "description": "Giấy"}],
    }
    client = api("a_preparer")
    response = client.post("/api/v1/vouchers", body, format="json")
    assert response.status_code == 201, response.json()
    payee = client.get(f"/api/v1/vouchers/{response.json()['id']}").json()["payee"]
    assert (payee["bank_code"], payee["bank_bin"], payee["bank_bic"]) == ("CTG", "970415", "ICBVVNVX")
    unknown = client.post("/api/v1/vouchers", {**body, "payee": {**PAYEE, "bank_code": "970000"}}, format="json")
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "validation_error"
    assert "payee.bank_code" in unknown.json()["fields"]


def test_the_form_field_takes_any_identifier_of_a_listed_bank(kit):  # noqa: ANN001
    from vouchers.views import DraftingChoices

    choices = DraftingChoices(
        procedures={}, banks={b.code: b for b in Bank.objects.all()}, budget_lines={}, deposit_accounts={},
        advances={},
    )
    field = BankChoiceField(choices=[(code, code) for code in choices.banks])
    field.aliases = choices.bank_aliases()
    assert field.clean("970415") == "CTG"
    assert field.clean("icbvvnvxxxx") == "CTG"
    assert field.clean("ctg") == "CTG"
    assert choices.bank("970436").code == "VCB"
    with pytest.raises(Exception, match="BIN, BIC"):
        field.clean("970000")


def test_get_banks_lists_bin_bic_short_code_and_name(kit, client):  # noqa: ANN001
    response = client.get("/api/v1/banks")
    assert response.status_code == 200
    rows = {row["short_code"]: row for row in response.json()}
    assert rows["CTG"]["bin"] == "970415"
    assert rows["CTG"]["bic"] == "ICBVVNVX"
    assert rows["CTG"]["code"] == "CTG"
    assert "VietinBank" in rows["CTG"]["name"]
    assert len(rows) == Bank.objects.count()


def test_the_schema_documents_the_bank_identifiers_and_the_new_endpoints(kit, client):  # noqa: ANN001
    schema = client.get("/api/schema/?format=json").json()
    assert {"bin", "bic", "short_code", "name"} <= set(schema["components"]["schemas"]["Bank"]["properties"])
    assert "post" in schema["paths"]["/api/v1/bank-status-reports"]
    assert "get" in schema["paths"]["/api/v1/bank-status-reports"]


# --- pain.001 against the official XSD ------------------------------------------------


def _paid_file(kit, django_capture_on_commit_callbacks, *amounts):  # noqa: ANN001, ANN202
    with django_capture_on_commit_callbacks(execute=True):
        vouchers = [kit.approved(amount) for amount in amounts]
    (bank_file,) = bank_files_generate(actor=kit.user("tadmin"))
    for voucher in vouchers:
        voucher.refresh_from_db()
    return bank_file, vouchers


def test_a_generated_pain001_is_valid_under_the_official_xsd_and_names_banks_by_bicfi(
    kit, django_capture_on_commit_callbacks  # noqa: ANN001
):
    bank_file, _vouchers = _paid_file(kit, django_capture_on_commit_callbacks, 1_100_000, 2_200_000)
    xml = bank_file.file.open("rb").read()
    # Straight against the vendored XSD, not through the portal's own helper.
    xsd = etree.XMLSchema(etree.parse(str(iso20022.SCHEMAS / "pain.001.001.09.xsd")))
    assert xsd.validate(etree.fromstring(xml)), xsd.error_log
    root = ET.fromstring(xml)  # noqa: S314 - our own output
    creditor_bics = [e.text for e in root.findall(".//p:CdtTrfTxInf/p:CdtrAgt/p:FinInstnId/p:BICFI", NS)]
    assert creditor_bics == ["BFTVVNVX", "BFTVVNVX"]
    assert root.find(".//p:PmtInf/p:DbtrAgt/p:FinInstnId/p:BICFI", NS).text == "BFTVVNVX"
    assert root.find(".//p:FinInstnId/p:Othr", NS) is None


def test_a_file_that_would_break_its_xsd_is_not_generated_and_nothing_is_filed(
    kit, django_capture_on_commit_callbacks, monkeypatch  # noqa: ANN001
):
    # The database's constraints keep every field within pain.001's limits, so only a
    # defect in the builder breaks the XSD: simulated here by the check's own error.
    def broken_builder(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise iso20022.SchemaError("pain.001.001.09 does not match its XSD: line 1: Nm too long")

    with django_capture_on_commit_callbacks(execute=True):
        voucher = kit.approved(1_100_000)
    intent = PaymentIntent.objects.get(voucher=voucher)
    monkeypatch.setattr("payments.services.bank_files.build_pain001", broken_builder)
    settlements = Transfer.objects.filter(kind=TransferKind.BANK_SETTLEMENT).count()
    with pytest.raises(ApplicationError) as refused:
        bank_files_generate(actor=kit.user("tadmin"))
    assert refused.value.code == "bank_file_invalid" and "ISO 20022" in refused.value.message
    assert not BankFile.objects.exists()
    assert Transfer.objects.filter(kind=TransferKind.BANK_SETTLEMENT).count() == settlements
    intent.refresh_from_db()
    assert intent.bank_file_id is None


def test_a_bank_without_bic_is_named_by_its_code_and_a_bad_bic_is_refused():
    from datetime import UTC, date, datetime

    debtor = Party("Kho bạc", "1113.X", "XBANK")
    creditor = Party("Công ty A", "0123456789", "XBANK")
    xml = build_pain001("M1", datetime(2026, 12, 5, tzinfo=UTC), debtor, date(2026, 12, 5),
                        [CreditTransfer("E1", 1000, creditor, "x")])
    assert b"<Othr><Id>XBANK</Id></Othr>" in xml
    with pytest.raises(ValueError, match="BIC"):
        build_pain001("M1", datetime(2026, 12, 5, tzinfo=UTC), debtor, date(2026, 12, 5),
                      [CreditTransfer("E1", 1000, Party("A", "1", "X", bic="bad bic"), "x")])


def test_a_document_breaking_its_xsd_or_of_an_unknown_version_is_refused():
    with pytest.raises(iso20022.SchemaError, match="does not match"):
        iso20022.validate(build_pain002("M1").replace(b"<GrpSts>PART</GrpSts>", b"<GrpSts>TOOLONG</GrpSts>"))
    with pytest.raises(iso20022.SchemaError, match="no vendored XSD"):
        iso20022.validate(build_pain002("M1").replace(b"pain.002.001.11", b"pain.002.001.03"))
    with pytest.raises(iso20022.SchemaError, match="well-formed"):
        iso20022.validate(b"<Document")
    with pytest.raises(iso20022.SchemaError, match="expected a pain.001 document"):
        iso20022.validate(build_pain002("M1"), "pain.001")


# --- pain.002: rejections reverse through the ledger, once ---------------------------------


def _money(kit, voucher):  # noqa: ANN001, ANN202
    line = BudgetLine.objects.get(pk=kit.line().pk)
    return {
        "estimate": kit.estimate.balance, "reserved": line.reserved, "spent": line.spent,
        "transfers": Transfer.objects.count(), "events": VoucherEvent.objects.filter(voucher=voucher).count(),
        "notifications": Notification.objects.filter(voucher=voucher).count(),
    }


def test_a_rejected_transfer_reverses_once_reopens_the_voucher_and_tells_the_unit(
    kit, django_capture_on_commit_callbacks, drain_notifications  # noqa: ANN001
):
    estimate_before = kit.estimate.balance
    bank_file, (rejected, accepted) = _paid_file(kit, django_capture_on_commit_callbacks, 1_100_000, 2_200_000)
    assert kit.estimate.balance == estimate_before - 3_300_000
    report = build_pain002(
        bank_file.message_id, [(rejected.number, "AC04", "Tài khoản đã đóng")], [accepted.number],
        message_id="VCB-STS-1",
    )
    result = bank_status_report_import(actor=kit.user("tadmin"), content=report)
    assert result.created
    (rejection,) = result.rejections
    assert (rejection.outcome, rejection.amount, rejection.reversed) == ("reversed", 1_100_000, True)

    rejected.refresh_from_db()
    accepted.refresh_from_db()
    assert rejected.status == VoucherStatus.PAYMENT_FAILED and rejected.closed_at is None
    assert accepted.status == VoucherStatus.PAID
    assert kit.estimate.balance == estimate_before - 2_200_000
    reversal = Transfer.objects.get(kind=TransferKind.REVERSAL, voucher=rejected)
    assert reversal.amount == 1_100_000 and reversal.debit_account.number == "1113.VCB"
    line = kit.line()
    assert (line.reserved, line.spent) == (1_100_000, 2_200_000)
    event = VoucherEvent.objects.filter(voucher=rejected).latest("id")
    assert (event.action, event.from_status, event.to_status) == ("bank_reject", "paid", "payment_failed")
    assert "AC04" in event.note
    drain_notifications()
    told = Notification.objects.filter(
        voucher=rejected, kind=NotificationKind.VOUCHER_STATUS, data__action="bank_reject"
    )
    assert told.filter(user=kit.user("a_preparer")).exists()
    intent = rejected.payment_intent
    intent.refresh_from_db()
    assert (intent.status, intent.failure_code) == (PaymentIntentStatus.FAILED, "bank_rejected")
    assert intent.bank_file_id is None
    assert reconcile().ok, reconcile().problems

    # The same report again, and another report on the same transfer: nothing moves.
    before = _money(kit, rejected)
    again = bank_status_report_import(actor=kit.user("tadmin"), content=report)
    assert not again.created and [r.pk for r in again.rejections] == [rejection.pk]
    other = bank_status_report_import(
        actor=kit.user("tadmin"),
        content=build_pain002(bank_file.message_id, [(rejected.number, "AC04", "")], message_id="VCB-STS-2"),
    )
    assert [(r.outcome, r.reversed, r.amount) for r in other.rejections] == [("not_in_file", False, 0)]
    assert _money(kit, rejected) == before
    assert Transfer.objects.filter(kind=TransferKind.REVERSAL).count() == 1
    assert BankRejection.objects.filter(reversed=True).count() == 1
    assert reconcile().ok

    # The treasury retries once the payee is right: paid again, under new keys, in the next file.
    with django_capture_on_commit_callbacks(execute=True):
        payment_retry(actor=kit.user("approver"), voucher_id=rejected.pk)
    rejected.refresh_from_db()
    assert rejected.status == VoucherStatus.PAID
    assert kit.estimate.balance == estimate_before - 3_300_000
    (second,) = bank_files_generate(actor=kit.user("tadmin"))
    assert second.transfer_count == 1 and second.control_sum == 1_100_000
    assert reconcile().ok, reconcile().problems


def test_a_rejected_group_rejects_every_transfer_of_the_file(kit, django_capture_on_commit_callbacks):  # noqa: ANN001
    bank_file, vouchers = _paid_file(kit, django_capture_on_commit_callbacks, 1_000_000, 2_000_000)
    report = build_pain002(bank_file.message_id, group_status="RJCT", group_reason=("AM04", ""), message_id="G1")
    result = bank_status_report_import(actor=kit.user("tadmin"), content=report)
    assert sorted(r.end_to_end_id for r in result.rejections if r.reversed) == sorted(v.number for v in vouchers)
    for voucher in vouchers:
        voucher.refresh_from_db()
        assert voucher.status == VoucherStatus.PAYMENT_FAILED
    assert reconcile().ok, reconcile().problems


def test_only_the_files_administrators_import_its_reports(kit, django_capture_on_commit_callbacks):  # noqa: ANN001
    bank_file, _vouchers = _paid_file(kit, django_capture_on_commit_callbacks, 1_000_000)
    report = build_pain002(bank_file.message_id, [(_vouchers[0].number, "AC01", "")])
    with pytest.raises(PermissionDenied):
        bank_status_report_import(actor=kit.user("officer"), content=report)
    with pytest.raises(NotFound):
        bank_status_report_import(actor=kit.user("tadmin_b"), content=report)
    with pytest.raises(NotFound):
        bank_status_report_import(actor=kit.user("tadmin"), content=build_pain002("NO-SUCH-FILE"))
    with pytest.raises(ValidationFailed):
        bank_status_report_import(actor=kit.user("tadmin"), content=b"<not-xml")
    assert not BankStatusReport.objects.exists()
    assert _vouchers[0].status == VoucherStatus.PAID


def test_the_api_uploads_and_lists_status_reports(kit, api, django_capture_on_commit_callbacks):  # noqa: ANN001
    bank_file, (voucher,) = _paid_file(kit, django_capture_on_commit_callbacks, 1_000_000)
    report = build_pain002(bank_file.message_id, [(voucher.number, "AC04", "Closed")], message_id="API-1")
    client = api("tadmin")

    def upload(content: bytes, who=client):  # noqa: ANN001, ANN202
        return who.post("/api/v1/bank-status-reports",
                        {"file": SimpleUploadedFile("sts.xml", content, "application/xml")}, format="multipart")

    first = upload(report)
    assert first.status_code == 201, first.json()
    assert first.json()["rejections"][0]["outcome"] == "reversed"
    assert upload(report).status_code == 200
    listed = client.get("/api/v1/bank-status-reports").json()["results"]
    assert [r["message_id"] for r in listed] == ["API-1"]
    bad = upload(b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:pain.002.001.11'/>")
    assert bad.status_code == 400 and bad.json()["code"] == "validation_error" and "file" in bad.json()["fields"]
    assert upload(report, api("officer")).status_code == 403
    assert api("a_holder").get("/api/v1/bank-status-reports").status_code == 403
    assert Transfer.objects.filter(kind=TransferKind.REVERSAL).count() == 1


def test_the_command_imports_a_report_once(kit, django_capture_on_commit_callbacks, tmp_path):  # noqa: ANN001
    bank_file, (voucher,) = _paid_file(kit, django_capture_on_commit_callbacks, 1_000_000)
    path = tmp_path / "sts.xml"
    path.write_bytes(build_pain002(bank_file.message_id, [(voucher.number, "AC04", "")], message_id="CMD-1"))
    out = StringIO()
    call_command("import_bank_status", str(path), stdout=out)
    call_command("import_bank_status", str(path), stdout=out)
    assert "imported CMD-1" in out.getvalue() and "already imported CMD-1" in out.getvalue()
    assert Transfer.objects.filter(kind=TransferKind.REVERSAL).count() == 1
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.PAYMENT_FAILED

