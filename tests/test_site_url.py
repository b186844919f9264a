"""Links people follow from outside the portal are on the configured site
(settings.SITE_URL): notification e-mails, the SMS/push webhook payload, the
result PDF's verification address and QR code, allauth's password-reset
e-mail; never 127.0.0.1:8000 written in the code, nor the Host a request
happened to carry. `make run PORT=8001` sets SITE_URL to the port it serves."""

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from pypdf import PdfReader

from payments import channels
from payments.models import Account, Channel, Notification, NotificationDelivery
from payments.pdf import qr_svg_data_uri
from payments.services import ledger
from payments.services.notifications import notifications_deliver
from payments.tests.kit import Kit, seed_money
from vouchers.payment.documents import result_context, result_document_render

SITE = "https://dichvucong.kbnn.example"
BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def site():
    with override_settings(SITE_URL=SITE, ALLOWED_HOSTS=["*"]):
        yield


@pytest.mark.django_db
def test_notification_email_links_to_the_configured_site(world, site):
    seed_money(world)
    account = Account.objects.get(unit=world.units["a"], kind="deposit")
    mail.outbox.clear()
    ledger.deposit_credit(actor=None, account=account, amount=1_000, reference="site-url-1")
    notifications_deliver()
    balance_mails = [m for m in mail.outbox if "+1.000 " in m.subject]
    assert balance_mails
    for message in balance_mails:
        assert f"{SITE}{reverse('account-detail', args=[account.pk])}" in message.body, message.body
        assert "127.0.0.1" not in message.body and "testserver" not in message.body


@pytest.mark.django_db
def test_sms_webhook_message_carries_the_absolute_link(world, site, monkeypatch):
    seed_money(world)
    sent: list[channels.SmsMessage] = []

    class Recording(channels.BaseSmsBackend):
        def send_messages(self, messages):  # noqa: ANN001, ANN202
            sent.extend(messages)
            return [None] * len(messages)

    monkeypatch.setattr("payments.channels.get_sms_backend", lambda: Recording())
    account = Account.objects.get(unit=world.units["a"], kind="deposit")
    holder = world.users["a_holder"]
    note = Notification.objects.create(
        user=holder, kind="balance_change", title="Biến động số dư", body="+1.000 ₫",
        data={"url": f"/payments/accounts/{account.pk}/"},
    )
    NotificationDelivery.objects.create(notification=note, channel=Channel.SMS)
    notifications_deliver()
    mine = [m for m in sent if m.title == "Biến động số dư" and m.text == "+1.000 ₫"]
    assert [m.url for m in mine] == [f"{SITE}{reverse('account-detail', args=[account.pk])}"]


@pytest.mark.django_db
def test_result_pdf_verification_link_and_qr_use_the_configured_site(world, site, django_capture_on_commit_callbacks):
    seed_money(world)
    kit = Kit(world, "a")
    with django_capture_on_commit_callbacks(execute=True):
        voucher = kit.approved(2_000_000)
    voucher.refresh_from_db()
    expected = f"{SITE}/verify/{voucher.content_hash}"
    context = result_context(voucher)
    assert context["verify_url"] == expected
    assert context["qr"] == qr_svg_data_uri(expected)  # the QR code encodes that address
    data = result_document_render(voucher_id=voucher.pk).file.open("rb").read()
    text = re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))
    assert expected in text
    assert "127.0.0.1" not in text


@pytest.mark.django_db
def test_password_reset_email_links_to_the_configured_site_not_the_request_host(world, site):
    client = Client(REMOTE_ADDR="10.9.0.1", HTTP_HOST="evil.example")
    mail.outbox.clear()
    response = client.post(reverse("account_reset_password"), {"email": "a_preparer@demo.treasury.example"})
    assert response.status_code == 302
    (message,) = mail.outbox
    assert re.search(re.escape(SITE) + r"/accounts/password/reset/key/\S+", message.body), message.body
    assert "evil.example" not in message.body and "evil.example" not in message.subject


def _make_run_says(env: dict[str, str], *args: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "SITE_URL"}
    result = subprocess.run(
        ["make", "-n", "run", *args], cwd=BASE_DIR, env={**clean, **env}, capture_output=True, text=True,
        timeout=60, check=True,
    )
    return re.search(r"links in e-mails and PDFs: (\S+?)\)", result.stdout).group(1)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_on_another_port_sets_site_url_unless_the_environment_gives_one():
    if re.search(r"(?m)^SITE_URL=", (BASE_DIR / ".env").read_text() if (BASE_DIR / ".env").exists() else ""):
        pytest.skip(".env sets SITE_URL")
    assert _make_run_says({}) == "http://127.0.0.1:8000"
    assert _make_run_says({}, "PORT=8001") == "http://127.0.0.1:8001"
    assert _make_run_says({"SITE_URL": SITE}, "PORT=8001") == SITE
