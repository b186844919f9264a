"""Signatures of webhook deliveries, in the Standard Webhooks scheme (the one
Svix and many others use; Stripe's is the same idea):

    signed content  = "<webhook-id>.<webhook-timestamp>.<body>"
    webhook-signature = "v1," + base64(HMAC-SHA256(key, signed content))

The key is the secret's bytes: the secret is "whsec_" + base64 of 32 random
bytes, shown to the endpoint's owner once. docs/webhooks.md tells integrators
how to verify (constant-time comparison, 5-minute tolerance, de-duplication by
webhook-id)."""

import base64
import hashlib
import hmac
import secrets
import time

PREFIX = "whsec_"
TOLERANCE_SECONDS = 300


def secret_new() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header's value for this message."""
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


def verify(secret: str, received: dict[str, str], body: bytes, *, now: int | None = None) -> bool:
    """What a receiver checks: one of the space-separated v1 signatures matches
    (constant time) and the timestamp is within the tolerance."""
    h = {k.lower(): v for k, v in received.items()}
    try:
        timestamp = int(h["webhook-timestamp"])
        message_id = h["webhook-id"]
    except (KeyError, ValueError):
        return False
    if abs((int(time.time()) if now is None else now) - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = sign(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, s) for s in h.get("webhook-signature", "").split())
