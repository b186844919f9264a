"""Absolute links for readers outside a request: e-mails, SMS/push webhook
payloads, the result PDF's QR code and printed verification address.

They are built from the `SITE_URL` setting (the environment's SITE_URL; `make
run` sets it to the port it serves), never from a request's Host header nor
from a worker, which has no request.
"""

from django.conf import settings


def site_url(path: str = "/") -> str:
    """`path` (a site path such as "/vouchers/12/") on the configured site."""
    base = settings.SITE_URL.rstrip("/")
    if path.startswith(("http://", "https://")):
        return path
    return base + (path if path.startswith("/") else "/" + path)
