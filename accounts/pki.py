"""The treasury's signing PKI: a root CA and, for each treasury office, a
signing key with an X.509 certificate issued by that root. The result PDFs
and debit advices an office hands out carry a PAdES signature made with the
office's key (payments.pdf.sign_pdf), so any PDF reader that trusts the root
shows them as signed by that office and unchanged. docs/signing.md tells the
whole story.

Keys and certificates are files, never database rows, under
settings.TREASURY_PKI_DIR (default: `pki/` in the private storage):

    root-ca.cert.pem  root-ca.key.pem               the root (its key may be kept offline)
    offices/<code>.cert.pem  offices/<code>.key.pem  each office's certificate and key

Keys are PKCS#8 PEM, encrypted with settings.TREASURY_PKI_PASSPHRASE when it
is set, and written 0600. `python manage.py treasury_certificates` (run by
seed_demo) creates what is missing. Outside production
(settings.TREASURY_PKI_AUTOCREATE) a missing root or office key is also
created on first use, so a fresh clone, `make run` and the tests need nothing
generated beforehand; production never creates keys on its own and refuses to
sign without the office's configured key.
"""

import datetime
import fcntl
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.utils.translation import gettext as _

from treasury_portal.errors import ApplicationError

ROOT_NAME = "Kho bạc Nhà nước — Root CA"
ORGANISATION = "Kho bạc Nhà nước"
ROOT_YEARS = 20
OFFICE_DAYS = 3 * 365
_thread_lock = threading.Lock()


class SigningKeyMissing(ApplicationError):
    def __init__(self) -> None:
        super().__init__(
            "signing_key_missing",
            _("Kho bạc chưa cấu hình khóa ký số cho văn bản này. Vui lòng thử lại sau hoặc liên hệ kho bạc."),
            status=503,
        )


@dataclass(frozen=True, eq=False)  # hashed by identity: one object per loaded key (cached)
class OfficeCredentials:
    office_code: str
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    root: x509.Certificate


def pki_dir() -> Path:
    return Path(settings.TREASURY_PKI_DIR)


def root_cert_path() -> Path:
    return pki_dir() / "root-ca.cert.pem"


def _root_key_path() -> Path:
    return pki_dir() / "root-ca.key.pem"


def office_paths(code: str) -> tuple[Path, Path]:
    """The office's (certificate, key) files."""
    if not code or not code.isalnum():
        raise ValueError(f"not an office code: {code!r}")
    return pki_dir() / "offices" / f"{code}.cert.pem", pki_dir() / "offices" / f"{code}.key.pem"


# --- files -----------------------------------------------------------------------


def _encryption() -> serialization.KeySerializationEncryption:
    passphrase = settings.TREASURY_PKI_PASSPHRASE
    return serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()


def _write(path: Path, data: bytes, *, secret: bool) -> None:
    """Write atomically (a temporary file renamed), keys readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _load_key(path: Path) -> rsa.RSAPrivateKey:
    passphrase = settings.TREASURY_PKI_PASSPHRASE
    key = serialization.load_pem_private_key(path.read_bytes(), password=passphrase.encode() if passphrase else None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} is not an RSA key")
    return key


def _load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


@contextmanager
def _creation_lock():  # noqa: ANN202
    """One creator at a time, across threads and processes (test workers,
    Celery and the web server share the directory)."""
    pki_dir().mkdir(parents=True, exist_ok=True, mode=0o700)
    with _thread_lock, open(pki_dir() / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# --- issuing -----------------------------------------------------------------------


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _key_usage(*, sign_certs: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not sign_certs, content_commitment=not sign_certs, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=sign_certs, crl_sign=sign_certs,
        encipher_only=False, decipher_only=False,
    )


def _root_create() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
        x509.NameAttribute(NameOID.COMMON_NAME, ROOT_NAME),
    ])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365 * ROOT_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(sign_certs=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(_root_key_path(), key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, _encryption()), secret=True)
    _write(root_cert_path(), cert.public_bytes(serialization.Encoding.PEM), secret=False)


def _office_issue(code: str, name: str) -> None:
    root_key_path = _root_key_path()
    if not root_key_path.exists():
        raise SigningKeyMissing()  # the root's key is kept offline: issue the certificate there
    root_key, root = _load_key(root_key_path), _load_cert(root_cert_path())
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, code),
        x509.NameAttribute(NameOID.COMMON_NAME, (name or code)[:64]),
    ])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(root.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(min(now + datetime.timedelta(days=OFFICE_DAYS), root.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign_certs=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    cert_path, key_path = office_paths(code)
    _write(key_path, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, _encryption()), secret=True)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), secret=False)


def ensure_root() -> bool:
    """Create the root CA if there is none. True when it was created."""
    with _creation_lock():
        if root_cert_path().exists():
            return False
        _root_create()
        return True


def ensure_office(code: str, name: str, *, renew: bool = False) -> bool:
    """Issue the office's key and certificate if it has none (or `renew`).
    True when one was issued."""
    ensure_root()
    with _creation_lock():
        cert_path, key_path = office_paths(code)
        if cert_path.exists() and key_path.exists() and not renew:
            return False
        _office_issue(code, name)
        return True


# --- use ---------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _credentials(code: str, stamp: tuple[int, int, int]) -> OfficeCredentials:  # noqa: ARG001 - stamp: the cache key
    cert_path, key_path = office_paths(code)
    return OfficeCredentials(
        office_code=code, key=_load_key(key_path), certificate=_load_cert(cert_path), root=_load_cert(root_cert_path())
    )


def _usable(creds: OfficeCredentials) -> bool:
    """In force now, and issued by the installed root (a root made anew
    leaves the old office certificates without a chain)."""
    cert, now = creds.certificate, _now()
    if not cert.not_valid_before_utc <= now < cert.not_valid_after_utc or cert.issuer != creds.root.subject:
        return False
    try:
        cert.verify_directly_issued_by(creds.root)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def office_credentials(code: str, name: str = "") -> OfficeCredentials:
    """The office's signing key, certificate and root, read once per process
    (again when a file changes). Missing, expired or not chained to the root:
    issued anew outside production (TREASURY_PKI_AUTOCREATE), SigningKeyMissing
    in production."""
    cert_path, key_path = office_paths(code)
    for attempt in range(2):
        if cert_path.exists() and key_path.exists() and root_cert_path().exists():
            stamp = (cert_path.stat().st_mtime_ns, key_path.stat().st_mtime_ns, root_cert_path().stat().st_mtime_ns)
            creds = _credentials(code, stamp)
            if _usable(creds):
                return creds
        if not settings.TREASURY_PKI_AUTOCREATE or attempt:
            raise SigningKeyMissing()
        _reissue_unless_usable(code, name)
    raise SigningKeyMissing()  # not reached


def _reissue_unless_usable(code: str, name: str) -> None:
    """Outside production: issue the office's key and certificate, unless
    another process did so while this one waited for the lock."""
    ensure_root()
    with _creation_lock():
        cert_path, key_path = office_paths(code)
        if cert_path.exists() and key_path.exists():
            current = OfficeCredentials(
                office_code=code, key=_load_key(key_path), certificate=_load_cert(cert_path),
                root=_load_cert(root_cert_path()),
            )
            if _usable(current):
                return
        _office_issue(code, name)


def root_certificate_pem() -> bytes | None:
    """The root CA's certificate (PEM), for readers to trust; created first
    outside production, None in production before it is installed."""
    if not root_cert_path().exists():
        if not settings.TREASURY_PKI_AUTOCREATE:
            return None
        ensure_root()
    return root_cert_path().read_bytes()
