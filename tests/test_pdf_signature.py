"""The result PDF (and the debit advice) is signed by the unit's treasury
office: a PAdES signature with the office's key, its certificate issued by the
treasury root CA and embedded with the root, so a reader that trusts the root
finds it intact and valid; one changed byte and it is not. Keys are created on
demand outside production, by `treasury_certificates` (seed_demo), and never
in production, where a missing key refuses the document."""

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from accounts import pki
from accounts.models import Organisation, OrgKind
from payments import pdf
from payments.models import Document, DocumentKind, Transfer, TransferKind
from payments.services.documents import debit_advice_render
from payments.tests.kit import Kit, seed_money
from vouchers.payment.documents import result_document_render

pytestmark = pytest.mark.django_db


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _root() -> asn1_x509.Certificate:
    return _asn1(x509.load_pem_x509_certificate(pki.root_cert_path().read_bytes()))


def _office_cert(code: str) -> asn1_x509.Certificate:
    return _asn1(x509.load_pem_x509_certificate(pki.office_paths(code)[0].read_bytes()))


def _validate(signature, trust_root):  # noqa: ANN001, ANN202
    """pyHanko's validation calls asyncio.run(): in a thread of its own, as a
    test on an xdist worker that ran a browser test (Playwright's sync API keeps
    a loop running in the main thread) would otherwise fail."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(validate_pdf_signature, signature, ValidationContext(trust_roots=[trust_root])).result()


def _status(data: bytes):  # noqa: ANN202
    (signature,) = PdfFileReader(io.BytesIO(data)).embedded_signatures
    return signature, _validate(signature, _root())


@pytest.fixture
def paid(world, django_capture_on_commit_callbacks):
    seed_money(world)
    kit = Kit(world, "a")
    with django_capture_on_commit_callbacks(execute=True):
        voucher = kit.approved(3_400_000)
    voucher.refresh_from_db()
    assert voucher.status == "paid"
    return kit, voucher


def test_result_pdf_carries_a_valid_pades_signature_of_the_office(paid):
    kit, voucher = paid
    office = kit.unit.office
    data = result_document_render(voucher_id=voucher.pk).file.open("rb").read()
    signature, status = _status(data)
    assert status.intact and status.valid and status.trusted and status.bottom_line, status.pretty_print_details()
    assert status.coverage.name == "ENTIRE_FILE"
    # Signed by this office's certificate, issued by the treasury root.
    assert status.signing_cert.sha256 == _office_cert(office.code).sha256
    assert status.signing_cert.issuer == _root().subject
    # PAdES (B-B): ETSI.CAdES.detached with the signing-certificate-v2 attribute; the chain is embedded.
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    signed_attrs = {a["type"].native for a in signature.signer_info["signed_attrs"]}
    assert "signing_certificate_v2" in signed_attrs
    assert "signing_time" not in signed_attrs and signature.sig_object["/M"]  # PAdES: the time is the dictionary's /M
    embedded = {c.chosen.sha256 for c in signature.signed_data["certificates"]}
    assert {_office_cert(office.code).sha256, _root().sha256} <= embedded
    # The stored hash (shown on the public verification page) is the signed file's.
    import hashlib

    assert Document.objects.get(kind=DocumentKind.RESULT, voucher=voucher).sha256 == hashlib.sha256(data).hexdigest()


def test_one_changed_byte_breaks_the_signature(paid):
    _kit, voucher = paid
    data = bytearray(result_document_render(voucher_id=voucher.pk).file.open("rb").read())
    # A byte inside the first content stream, which the signature covers.
    start = data.index(b"stream\n") + len(b"stream\n") + 10
    data[start] ^= 0x01
    _signature, status = _status(bytes(data))
    assert not status.intact and not status.bottom_line


def test_debit_advice_is_signed_by_the_office_too(paid):
    kit, voucher = paid
    transfer = Transfer.objects.get(voucher=voucher, kind=TransferKind.PAYMENT)
    data = debit_advice_render(transfer_id=transfer.pk).file.open("rb").read()
    _signature, status = _status(data)
    assert status.bottom_line, status.pretty_print_details()
    assert status.signing_cert.sha256 == _office_cert(kit.unit.office.code).sha256


def test_signing_adds_no_query(paid, monkeypatch, django_capture_on_commit_callbacks):
    kit, voucher = paid
    with django_capture_on_commit_callbacks(execute=True):
        other = kit.approved(1_200_000)
    with CaptureQueriesContext(connection) as signed:
        result_document_render(voucher_id=voucher.pk)
    monkeypatch.setattr(pdf, "sign_pdf", lambda data, **kw: data)
    with CaptureQueriesContext(connection) as unsigned:
        result_document_render(voucher_id=other.pk)
    assert len(signed) == len(unsigned), [q["sql"] for q in signed]


def test_production_refuses_to_sign_without_the_office_key(paid, tmp_path, client, api):
    kit, voucher = paid
    with override_settings(TREASURY_PKI_DIR=str(tmp_path / "pki"), TREASURY_PKI_AUTOCREATE=False):
        with pytest.raises(pki.SigningKeyMissing) as refused:
            result_document_render(voucher_id=voucher.pk)
        assert refused.value.code == "signing_key_missing"
        assert not Document.objects.filter(kind=DocumentKind.RESULT, voucher=voucher).exists()
        assert not (tmp_path / "pki" / "root-ca.key.pem").exists()  # nothing generated on the fly
        # The download says so in a sentence (back on the page, as every refusal), not a 500.
        client.force_login(kit.user("a_preparer"))
        response = client.get(reverse("voucher-result-pdf", args=[voucher.pk]), follow=True)
        assert response.status_code == 200 and response.redirect_chain
        assert "Kho bạc chưa cấu hình khóa ký số cho văn bản này" in response.content.decode()
        # The API answers with the error body, not a 500.
        answer = api("a_preparer").get(reverse("api-voucher-result-pdf", args=[voucher.pk]))
        assert answer.status_code == 503
        assert answer.json()["code"] == "signing_key_missing" and answer.json()["detail"]
        # No root is published before one is installed.
        assert client.get(reverse("treasury-root-ca")).status_code == 404
        # Once the office's key is installed, the same document is signed.
        call_command("treasury_certificates", office=[kit.unit.office.code], stdout=io.StringIO())
        data = result_document_render(voucher_id=voucher.pk).file.open("rb").read()
        assert _status(data)[1].bottom_line


def test_treasury_certificates_issues_one_per_office_with_encrypted_keys(world, tmp_path):
    with override_settings(TREASURY_PKI_DIR=str(tmp_path), TREASURY_PKI_PASSPHRASE="mật-khẩu-kho-bạc"):
        out = io.StringIO()
        call_command("treasury_certificates", stdout=out)
        root = x509.load_pem_x509_certificate(pki.root_cert_path().read_bytes())
        offices = list(Organisation.objects.filter(kind=OrgKind.TREASURY_OFFICE))
        assert offices
        for office in offices:
            cert_path, key_path = pki.office_paths(office.code)
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            cert.verify_directly_issued_by(root)
            assert office.code in cert.subject.rfc4514_string()
            assert key_path.stat().st_mode & 0o077 == 0  # owner only
            assert b"ENCRYPTED PRIVATE KEY" in key_path.read_bytes()
            with pytest.raises(TypeError):  # no passphrase, no key
                serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            assert pki.office_credentials(office.code).certificate == cert
        # A second run issues nothing; --renew issues new keys.
        first = pki.office_paths(offices[0].code)[0].read_bytes()
        call_command("treasury_certificates", stdout=out)
        assert pki.office_paths(offices[0].code)[0].read_bytes() == first
        call_command("treasury_certificates", renew=True, stdout=out)
        assert pki.office_paths(offices[0].code)[0].read_bytes() != first


def test_verification_page_says_the_pdf_is_signed(paid, client):
    _kit, voucher = paid
    result_document_render(voucher_id=voucher.pk)
    response = client.get(reverse("verify", args=[voucher.content_hash]))
    assert response.status_code == 200
    assert "chữ ký số của Kho bạc Nhà nước" in response.content.decode()


def test_the_published_root_certificate_validates_the_pdf(paid, client):
    _kit, voucher = paid
    data = result_document_render(voucher_id=voucher.pk).file.open("rb").read()
    response = client.get(reverse("treasury-root-ca"))  # public, linked from the verification page
    assert response.status_code == 200
    published = _asn1(x509.load_pem_x509_certificate(response.content))
    (signature,) = PdfFileReader(io.BytesIO(data)).embedded_signatures
    status = _validate(signature, published)
    assert status.bottom_line and status.trusted
    assert reverse("treasury-root-ca") in client.get(reverse("verify", args=[voucher.content_hash])).content.decode()


def test_a_new_root_gets_the_offices_new_certificates_outside_production(paid, tmp_path):
    kit, voucher = paid
    office = kit.unit.office
    with override_settings(TREASURY_PKI_DIR=str(tmp_path)):
        old = pki.office_credentials(office.code, office.name)
        pki.root_cert_path().unlink()  # the root made anew: the old office certificate has no chain any more
        pki.ensure_root()
        creds = pki.office_credentials(office.code, office.name)
        assert creds.certificate != old.certificate
        creds.certificate.verify_directly_issued_by(creds.root)
        data = result_document_render(voucher_id=voucher.pk).file.open("rb").read()
        assert _status(data)[1].bottom_line
        # Production never reissues: an office certificate from another root is refused.
        pki.root_cert_path().unlink()
        pki.ensure_root()
        with override_settings(TREASURY_PKI_AUTOCREATE=False), pytest.raises(pki.SigningKeyMissing):
            pki.office_credentials(office.code, office.name)


def test_signing_works_where_an_event_loop_is_running(paid):
    """pyHanko's synchronous API calls asyncio.run(), refused in a thread whose
    loop runs (an ASGI server's, or Playwright's sync API in the browser tests,
    which once made every PDF download after a browser test a 500)."""
    import asyncio

    kit, voucher = paid
    html = "<html><body><p>Kho bạc</p></body></html>"
    office = kit.unit.office  # read here: the loop below runs in a thread of its own (its own connection)
    pdf_bytes = pdf.html_to_pdf(html)

    async def inside_a_running_loop() -> bytes:
        return pdf.sign_pdf(pdf_bytes, office=office, reason="test")

    # In a thread of its own, whether or not this one already runs a loop (after a browser test it does).
    with ThreadPoolExecutor(max_workers=1) as pool:
        data = pool.submit(asyncio.run, inside_a_running_loop()).result()
    _signature, status = _status(data)
    assert status.intact and status.valid and status.trusted
