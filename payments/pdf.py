"""PDF rendering with WeasyPrint: the result of a paid voucher (laid out like
the official form), the debit advice of a unit account's debit, and account
statements. Templates live in templates/payments/pdf/; the font is DejaVu Sans
(fonts-dejavu-core), which covers Vietnamese.

Rendering is CPU work (~0.4 s a page): results and advices are rendered on the
`documents` queue after the payment commits (payments.tasks.render_*), never
on a request, except as the first-download fallback.
"""

import base64
import io
from functools import lru_cache

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation


def qr_svg_data_uri(text: str) -> str:
    """A QR code of `text` as an inline SVG data URI (no file, no network)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def verification_url(content_hash: str) -> str:
    """The public verification page of a voucher on the configured site (SITE_URL)."""
    from django.urls import reverse

    from treasury_portal.links import site_url

    return site_url(reverse("verify", args=[content_hash]))


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def render(template: str, context: dict) -> bytes:
    # Official documents are in Vietnamese whatever the requester's language.
    with translation.override("vi"):
        html = render_to_string(template, context)
    return html_to_pdf(html)


# Room for the CMS signature beyond its certificates (the signature value, the
# signed attributes, the structure): reserved up front with the certificates'
# own size, so pyHanko makes no trial signature to measure it.
SIGNATURE_OVERHEAD_BYTES = 3072


def sign_pdf(data: bytes, *, office, reason: str) -> bytes:  # noqa: ANN001 - accounts.models.Organisation
    """Sign `data` for the treasury `office` (PAdES B-B: ETSI.CAdES.detached,
    SHA-256, the signing-certificate-v2 attribute, the office's certificate
    and the root's embedded), as an incremental update that covers the whole
    file. Raises accounts.pki.SigningKeyMissing where the office has no key and
    none may be created (production)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    from accounts.pki import office_credentials

    meta = signers.PdfSignatureMetadata(
        field_name="KhoBacNhaNuoc", md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        name=office.name, reason=reason, location=office.name,
    )
    signer, reserved = _signer(office_credentials(office.code, office.name))
    writer = IncrementalPdfFileWriter(io.BytesIO(data))

    def sign() -> bytes:
        return signers.sign_pdf(writer, meta, signer=signer, bytes_reserved=reserved).getvalue()

    return _outside_any_event_loop(sign)


def _outside_any_event_loop(work):  # noqa: ANN001, ANN202 - a callable → its result
    """pyHanko's synchronous sign_pdf calls asyncio.run(), which refuses to run
    in a thread whose event loop is running (an ASGI worker's, or Playwright's
    sync API in the browser tests): there the signing runs in a short-lived
    thread of its own."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pdf-sign") as pool:
        return pool.submit(work).result()


@lru_cache(maxsize=256)
def _signer(creds):  # noqa: ANN001, ANN202 - accounts.pki.OfficeCredentials → (pyHanko signer, bytes to reserve), once per key
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore
    from pyhanko_certvalidator.util import get_pyca_cryptography_hash

    class OfficeSigner(signers.SimpleSigner):
        # pyHanko's SimpleSigner parses the DER key again for every signature
        # (~35 ms with its RSA checks); this one signs with the loaded key.
        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            return creds.key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))

    der = serialization.Encoding.DER
    certificate = asn1_x509.Certificate.load(creds.certificate.public_bytes(der))
    root = asn1_x509.Certificate.load(creds.root.public_bytes(der))
    key = asn1_keys.PrivateKeyInfo.load(
        creds.key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    signer = OfficeSigner(
        signing_cert=certificate, signing_key=key, cert_registry=SimpleCertificateStore.from_certs([certificate, root])
    )
    # pyHanko counts the reservation in hex digits: two per byte of the DER signature.
    return signer, 2 * (len(certificate.dump()) + len(root.dump()) + SIGNATURE_OVERHEAD_BYTES)


def render_result(context: dict) -> bytes:
    return render("payments/pdf/result.html", context)


def render_debit_advice(context: dict) -> bytes:
    return render("payments/pdf/debit_advice.html", context)


def render_statement(context: dict) -> bytes:
    return render("payments/pdf/statement.html", context)


def statement_csv(context: dict) -> bytes:
    """The statement as CSV (UTF-8 with a BOM so spreadsheet programs read the
    Vietnamese letters): opening balance, one row per movement, closing balance."""
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    account = context["account"]
    writer.writerow(["account", account.number, account.name])
    writer.writerow(["period", context["start"].isoformat(), context["end"].isoformat()])
    writer.writerow(["opening_balance", context["opening"]])
    writer.writerow(
        ["posted_at", "voucher", "description", "counterparty", "counterparty_account", "debit", "credit",
         "balance", "reference"]
    )
    for r in context["rows"]:
        writer.writerow(
            [
                r.created_at.astimezone(_tz()).isoformat(timespec="seconds"),
                r.voucher.number if r.voucher_id else "",
                _csv_text(r.description),
                _csv_text(r.counterparty),
                r.counterparty_number,
                r.amount if r.direction == "debit" else "",
                r.amount if r.direction == "credit" else "",
                r.balance_after,
                r.key,
            ]
        )
    writer.writerow(["total", "", "", "", "", context["total_debits"], context["total_credits"], ""])
    writer.writerow(["closing_balance", context["closing"]])
    return ("\ufeff" + out.getvalue()).encode()


def _tz():  # noqa: ANN202
    from django.utils import timezone

    return timezone.get_current_timezone()


def _csv_text(value: str) -> str:
    # A cell starting with = + - @ would be run as a formula by spreadsheet programs.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
