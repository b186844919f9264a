"""Pluggable SMS/push channel (settings.SMS_BACKEND).

- `LoggingSmsBackend` (default): writes each message to the log.
- `WebhookSmsBackend`: POSTs one JSON batch to settings.SMS_WEBHOOK_URL, signed
  with HMAC-SHA256 (settings.SMS_WEBHOOK_SECRET) over `timestamp + "." + body`;
  the signature (hex) and the Unix timestamp travel in the headers
  X-Signature and X-Timestamp, so the gateway can check both in constant time
  and refuse replays older than a few minutes.

A backend's `send_messages` returns one entry per message: None when sent, or
an error text (the delivery is then retried later).
"""

import hashlib
import hmac
import json
import logging
import time
import urllib.request
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsMessage:
    id: int  # the delivery row: the gateway may use it to drop duplicates
    user_id: int
    username: str
    phone: str
    kind: str
    title: str
    text: str
    url: str = ""  # the page the message is about, absolute on settings.SITE_URL ("" if none)


class BaseSmsBackend:
    def send_messages(self, messages: list[SmsMessage]) -> list[str | None]:
        raise NotImplementedError


class LoggingSmsBackend(BaseSmsBackend):
    def send_messages(self, messages: list[SmsMessage]) -> list[str | None]:
        for m in messages:
            logger.info("SMS/push to %s (%s): %s", m.username, m.phone or "-", m.title)
        return [None] * len(messages)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 over `timestamp + "." + body`."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: int = 300) -> bool:
    """What a gateway checks (used by the tests): the signature, in constant
    time, and a timestamp within `tolerance` seconds."""
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookSmsBackend(BaseSmsBackend):
    timeout = 10

    def __init__(self, url: str | None = None, secret: str | None = None) -> None:
        self.url = url if url is not None else settings.SMS_WEBHOOK_URL
        self.secret = secret if secret is not None else settings.SMS_WEBHOOK_SECRET
        if urlsplit(self.url).scheme not in {"http", "https"}:
            raise ValueError("SMS_WEBHOOK_URL must be an http(s) URL")
        if not self.secret:
            raise ValueError("SMS_WEBHOOK_SECRET is required to sign webhook calls")

    def send_messages(self, messages: list[SmsMessage]) -> list[str | None]:
        body = json.dumps({"messages": [asdict(m) for m in messages]}, ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "X-Timestamp": timestamp,
                "X-Signature": sign(self.secret, timestamp, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
        except Exception as exc:  # noqa: BLE001 - every message is retried later
            return [f"{type(exc).__name__}: {exc}"] * len(messages)
        if not 200 <= status < 300:
            return [f"HTTP {status}"] * len(messages)
        return [None] * len(messages)


def get_sms_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()
