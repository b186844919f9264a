"""The one HTTP request of a delivery attempt, with the guards a server that
calls addresses typed by outsiders needs (SSRF):

- https only, unless settings.WEBHOOKS_ALLOW_HTTP (default: DEBUG; the tests'
  settings allow it for their receiver on 127.0.0.1);
- the host's addresses must all be public (not loopback, private, link-local,
  reserved…), unless settings.WEBHOOKS_ALLOW_PRIVATE (default: DEBUG). The
  address checked is the address connected to (no second DNS lookup that a
  rebinding DNS server could answer differently);
- redirects are not followed (a 3xx is a failed attempt);
- a short timeout (settings.WEBHOOKS_TIMEOUT, 5 s) and at most 64 KiB of the
  answer read.

The standard library's http.client is enough; no dependency is added."""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

MAX_ANSWER = 64 * 1024
USER_AGENT = "TreasuryPortal-Webhooks/1"


def allow_http() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_HTTP", settings.DEBUG))


def allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE", settings.DEBUG))


def timeout() -> float:
    return float(getattr(settings, "WEBHOOKS_TIMEOUT", 5))


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def url_problem(url: str) -> str | None:
    """Why this address may not be registered (a code), or None. Names are
    resolved only when sending; an IP literal or a local name is judged here."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and allow_http()):
        return "https_required"
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return "invalid_url"
    if allow_private():
        return None
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return "private_address"
    try:
        return None if is_public(host) else "private_address"
    except ValueError:
        return None  # a name: checked against its addresses at each send


# What can go wrong before an HTTP status arrives (Answer.error).
ERRORS = ("https_required", "invalid_url", "private_address", "timeout", "tls_failed", "connection_failed",
          "http_status")


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    error: str  # one of ERRORS, "" on success
    detail: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, **kwargs: object) -> None:
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, **kwargs: object) -> None:
        super().__init__(host, port, context=ssl.create_default_context(), **kwargs)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _resolve(host: str, port: int) -> str:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise OSError("no address")
    if not allow_private() and not all(is_public(a) for a in addresses):
        raise PermissionError("the address is not public")
    return addresses[0]


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body`; never raises: an error is in the answer."""
    started = time.monotonic()

    def done(status: int | None, error: str = "", detail: str = "") -> Answer:
        if status is not None and not 200 <= status < 300:
            error = "http_status"
        return Answer(status, error, detail[:500], int((time.monotonic() - started) * 1000))

    problem = url_problem(url)
    if problem:
        return done(None, problem)
    parts = urlsplit(url)
    https = parts.scheme == "https"
    try:
        port = parts.port or (443 if https else 80)
        address = _resolve(parts.hostname or "", port)
        cls = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
        conn = cls(parts.hostname or "", port, address, timeout=timeout())
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request("POST", path, body=body, headers={
                **headers, "Content-Type": "application/json", "User-Agent": USER_AGENT,
            })
            response = conn.getresponse()
            response.read(MAX_ANSWER)
            return done(response.status)
        finally:
            conn.close()
    except PermissionError as exc:
        return done(None, "private_address", str(exc))
    except TimeoutError as exc:
        return done(None, "timeout", f"{type(exc).__name__}: {exc}")
    except ssl.SSLError as exc:
        return done(None, "tls_failed", f"{type(exc).__name__}: {exc}")
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return done(None, "connection_failed", f"{type(exc).__name__}: {exc}")
