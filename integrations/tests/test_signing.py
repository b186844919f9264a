"""Signatures: checked with the Standard Webhooks reference library and with a
verifier written here from the scheme's text, independently of signing.py."""

import base64
import hashlib
import hmac
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from integrations import signing

BODY = b'{"data":{"voucher_number":"B-1"},"id":"msg_1","type":"voucher.status_changed"}'


def _hand_verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    key = base64.b64decode(secret[len("whsec_"):])
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    version, _, signature = headers["webhook-signature"].partition(",")
    return version == "v1" and hmac.compare_digest(signature, expected)


def test_a_signature_verifies_with_the_reference_library_and_by_hand():
    secret = signing.secret_new()
    headers = signing.headers(secret, "msg_abc", BODY)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(BODY, headers) == {"data": {"voucher_number": "B-1"}, "id": "msg_1",
                                                     "type": "voucher.status_changed"}
    assert _hand_verify(secret, headers, BODY)
    assert signing.verify(secret, headers, BODY)


@pytest.mark.parametrize("change", ["body", "id", "timestamp", "secret"])
def test_any_change_breaks_the_signature(change):
    secret = signing.secret_new()
    headers = signing.headers(secret, "msg_abc", BODY)
    body = BODY
    if change == "body":
        body = BODY.replace(b"B-1", b"B-2")
    elif change == "id":
        headers["webhook-id"] = "msg_abd"
    elif change == "timestamp":
        headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) + 1)
    else:
        secret = signing.secret_new()
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers)
    assert not _hand_verify(secret, headers, body)
    assert not signing.verify(secret, headers, body)


def test_an_old_timestamp_is_refused():
    secret = signing.secret_new()
    headers = signing.headers(secret, "msg_abc", BODY, timestamp=int(time.time()) - 600)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, headers)
    assert not signing.verify(secret, headers, BODY)


def test_secrets_are_32_random_bytes():
    a, b = signing.secret_new(), signing.secret_new()
    assert a != b and a.startswith("whsec_") and len(base64.b64decode(a[6:])) == 32
