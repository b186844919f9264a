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
    return f"{settings.SITE_BASE_URL.rstrip('/')}/verify/{content_hash}"


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def render(template: str, context: dict) -> bytes:
    # Official documents are in Vietnamese whatever the requester's language.
    with translation.override("vi"):
        html = render_to_string(template, context)
    return html_to_pdf(html)


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
