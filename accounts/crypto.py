"""Ed25519 signing keys of unit signers: parsing, fingerprints, verification.

Public keys travel as standard base64 of the 32 raw key bytes, signatures as standard
base64 of the 64 raw signature bytes. `generate_keypair` and `sign` exist for tests and the
demo signing software; real private keys never reach the portal.
"""

import base64
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PUBLIC_KEY_BYTES = 32


def _b64decode(text: str) -> bytes:
    """Decode canonical standard base64 only (surrounding whitespace aside).

    Lenient decoding would let different strings ("QUJD" and "QUJD=") stand for the same
    bytes; requiring the canonical form keeps one spelling per key and signature.
    """
    text = text.strip()
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("base64 is not in canonical form")
    return raw


def decode_public_key(b64: str) -> bytes:
    """The raw 32 bytes of an Ed25519 public key given in base64, or ValueError."""
    if not isinstance(b64, str):
        raise ValueError("public key must be a base64 string")
    try:
        raw = _b64decode(b64)
    except ValueError as error:  # binascii.Error and non-ASCII text are both ValueErrors
        raise ValueError("public key is not valid base64") from error
    if len(raw) != PUBLIC_KEY_BYTES:
        raise ValueError(
            f"public key must be {PUBLIC_KEY_BYTES} raw Ed25519 bytes, got {len(raw)} bytes"
        )
    try:
        Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as error:
        raise ValueError("public key is not a valid Ed25519 key") from error
    return raw


def key_fingerprint(raw: bytes) -> str:
    """Lowercase hex SHA-256 of the raw public key, shown to signers and administrators."""
    return hashlib.sha256(raw).hexdigest()


def verify_signature(public_raw: bytes, message: bytes, signature_b64: str) -> bool:
    """True only for a valid signature; malformed keys or signatures simply give False.

    Verification runs on content sent by anyone (and by public "verify this voucher"
    pages), so bad input must be a negative answer, not an error page.
    """
    try:
        public_key = Ed25519PublicKey.from_public_bytes(public_raw)
        public_key.verify(_b64decode(signature_b64), message)
    except (InvalidSignature, ValueError, TypeError, AttributeError):
        # Bad base64 raises a ValueError; TypeError and AttributeError cover arguments
        # of the wrong type (None, str instead of bytes).
        return False
    return True


def generate_keypair() -> tuple[Ed25519PrivateKey, str]:
    """A new private key and its public key in base64 (for tests and demo software)."""
    private_key = Ed25519PrivateKey.generate()
    raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return private_key, base64.b64encode(raw).decode("ascii")


def sign(private_key: Ed25519PrivateKey, message: bytes) -> str:
    """The base64 Ed25519 signature of `message`."""
    return base64.b64encode(private_key.sign(message)).decode("ascii")
