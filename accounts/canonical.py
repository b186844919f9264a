"""Canonical JSON of voucher content, the exact bytes that signatures bind to.

RFC 8785 (JSON Canonicalization Scheme) fixes key order, whitespace, string escaping and
number formatting, so the same content always hashes the same on the portal, in the
signing software of the unit and in any later independent verification.
"""

import hashlib
from typing import Any

import rfc8785


def canonical_json(obj: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 encoding of a JSON-compatible value.

    Raises `rfc8785.CanonicalizationError` (a ValueError) for values JSON cannot carry
    exactly, e.g. integers beyond ±(2**53 − 1) or NaN; amounts in đồng stay well inside.
    """
    return rfc8785.dumps(obj)


def content_hash(obj: Any) -> str:
    """Lowercase hex SHA-256 of the canonical encoding."""
    return hashlib.sha256(canonical_json(obj)).hexdigest()
