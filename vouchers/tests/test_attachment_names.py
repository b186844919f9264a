"""Attachment names and duplicates. A file name carrying a path, `..`, NUL or a
control character is refused with a clear sentence (API code
`invalid_file_name`; the sentence on the page, in either language), never
trimmed to a harmless-looking label. Django's multipart parser strips such a
name silently, so these tests send the multipart body byte for byte (the test
client would strip it too). The same bytes under another document kind are
refused, naming the kind they were attached as (`duplicate_attachment`)."""

import pytest
from django.conf import settings
from django.urls import reverse

from conftest import enrol_totp
from vouchers.models import Attachment
from vouchers.tests.kit import PDF

pytestmark = pytest.mark.django_db

BOUNDARY = "----portal-test-boundary"
HOSTILE_NAMES = ["../x.pdf", "a/b.pdf", "..\\x.pdf", "x\x00.pdf", "x\x07y.pdf", "..", "C:x.pdf",
                 "&#46;&#46;&#47;x.pdf"]


def multipart(fields: dict, file_field: str, file_name: str, data: bytes) -> bytes:
    """A multipart/form-data body with the file name exactly as given."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{file_field}"; filename="'.encode()
        + file_name.encode()
        + b'"\r\nContent-Type: application/pdf\r\n\r\n'
        + data
        + b"\r\n"
    )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def _api_upload(client, voucher_id: int, name: str, kind: str = "invoice", data: bytes = PDF):  # noqa: ANN001, ANN202
    return client.generic(
        "POST", f"/api/v1/vouchers/{voucher_id}/attachments", multipart({"kind": kind}, "file", name, data),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_the_api_refuses_a_path_or_control_character_in_the_name(kit, api, name):
    voucher = kit.draft()
    response = _api_upload(api("a_preparer"), voucher.pk, name)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_file_name" and "Tên tệp không hợp lệ" in body["detail"]
    assert body["fields"]["file"]
    assert not Attachment.objects.exists()


def test_the_api_keeps_an_ordinary_name(kit, api):
    voucher = kit.draft()
    response = _api_upload(api("a_preparer"), voucher.pk, "Hóa đơn số 12 (bản gốc).pdf")
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "Hóa đơn số 12 (bản gốc).pdf"


def _page_upload(client, voucher_id: int, name: str, kind: str = "invoice"):  # noqa: ANN001, ANN202
    body = multipart({"action": "attach", "att-kind": kind}, "att-file", name, PDF)
    return client.generic("POST", reverse("voucher-edit", args=[voucher_id]), body,
                          content_type=f"multipart/form-data; boundary={BOUNDARY}")


@pytest.mark.parametrize(("language", "sentence"), [
    ("vi", "Tên tệp không hợp lệ: không được chứa đường dẫn"),
    ("en", "Invalid file name"),
])
@pytest.mark.parametrize("name", ["../x.pdf", "x\x00.pdf"])
def test_the_page_shows_the_refusal_in_the_users_language(kit, world, client, name, language, sentence):
    voucher = kit.draft()
    user = world.users["a_preparer"]
    if not user.authenticator_set.exists():
        enrol_totp(user)
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = _page_upload(client, voucher.pk, name)
    assert response.status_code == 200
    assert sentence in response.content.decode()
    assert not Attachment.objects.exists()


def test_the_same_file_under_another_kind_is_refused_naming_the_first_kind(kit, api):
    voucher = kit.draft()
    client = api("a_preparer")
    first = _api_upload(client, voucher.pk, "hop-dong.pdf", kind="contract")
    assert first.status_code == 201
    again = _api_upload(client, voucher.pk, "hop-dong.pdf", kind="contract")
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]  # a repeat, not a new one
    other = _api_upload(client, voucher.pk, "hoa-don.pdf", kind="invoice")
    assert other.status_code == 409
    body = other.json()
    assert body["code"] == "duplicate_attachment"
    assert "Hợp đồng" in body["detail"] and "hop-dong.pdf" in body["detail"]
    assert list(voucher.attachments.values_list("kind", flat=True)) == ["contract"]
