"""Ed25519 signing keys and signatures."""

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from accounts.crypto import (
    decode_public_key,
    generate_keypair,
    key_fingerprint,
    sign,
    verify_signature,
)

MESSAGE = b"5f2c...content hash of voucher C2-02a/0001"

# RFC 8032, section 7.1, TEST 2: a fixed key, message and signature.
RFC_SECRET = bytes.fromhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
RFC_PUBLIC = bytes.fromhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
RFC_MESSAGE = bytes.fromhex("72")
RFC_SIGNATURE = bytes.fromhex(
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
    "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
)

# The same 64 bytes with the unused low bits of the last base64 digit set: lenient decoders
# accept it, so one signature would have two spellings.
NON_CANONICAL_SIGNATURE = base64.b64encode(RFC_SIGNATURE).decode()[:-3] + "B=="


@pytest.fixture(scope="module")
def keypair() -> tuple[Ed25519PrivateKey, str]:
    return generate_keypair()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class TestDecodePublicKey:
    def test_generated_key_round_trips(self, keypair) -> None:
        _, public_b64 = keypair
        raw = decode_public_key(public_b64)
        assert len(raw) == 32 and b64(raw) == public_b64

    def test_known_key(self) -> None:
        assert decode_public_key(b64(RFC_PUBLIC)) == RFC_PUBLIC

    def test_surrounding_whitespace_from_copy_paste_is_tolerated(self) -> None:
        assert decode_public_key(f"  {b64(RFC_PUBLIC)}\n") == RFC_PUBLIC

    @pytest.mark.parametrize("text", ["not base64!", "QUJD=", "Zm9v YmFy", "ĐĐĐĐ", "abc"])
    def test_garbage_base64(self, text: str) -> None:
        with pytest.raises(ValueError, match="not valid base64"):
            decode_public_key(text)

    @pytest.mark.parametrize("length", [0, 31, 33, 64])
    def test_wrong_length(self, length: int) -> None:
        with pytest.raises(ValueError, match=f"32 raw Ed25519 bytes, got {length} bytes"):
            decode_public_key(b64(b"\x01" * length))

    def test_pem_or_der_is_not_accepted(self, keypair) -> None:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        der = keypair[0].public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        with pytest.raises(ValueError, match="got 44 bytes"):
            decode_public_key(b64(der))

    def test_non_string(self) -> None:
        with pytest.raises(ValueError, match="base64 string"):
            decode_public_key(RFC_PUBLIC)  # type: ignore[arg-type]


def test_fingerprint_is_lowercase_hex_sha256() -> None:
    fingerprint = key_fingerprint(RFC_PUBLIC)
    assert fingerprint == hashlib.sha256(RFC_PUBLIC).hexdigest()
    assert len(fingerprint) == 64 and fingerprint == fingerprint.lower()
    assert key_fingerprint(RFC_PUBLIC[::-1]) != fingerprint


class TestSignatures:
    def test_non_canonical_spelling_decodes_leniently_to_the_same_bytes(self) -> None:
        # Guards the meaning of NON_CANONICAL_SIGNATURE used below.
        assert base64.b64decode(NON_CANONICAL_SIGNATURE, validate=True) == RFC_SIGNATURE

    def test_rfc8032_vector(self) -> None:
        private_key = Ed25519PrivateKey.from_private_bytes(RFC_SECRET)
        assert sign(private_key, RFC_MESSAGE) == b64(RFC_SIGNATURE)
        assert verify_signature(RFC_PUBLIC, RFC_MESSAGE, b64(RFC_SIGNATURE))

    def test_sign_then_verify(self, keypair) -> None:
        private_key, public_b64 = keypair
        signature = sign(private_key, MESSAGE)
        assert len(base64.b64decode(signature)) == 64
        assert verify_signature(decode_public_key(public_b64), MESSAGE, signature)

    def test_tampered_message(self, keypair) -> None:
        private_key, public_b64 = keypair
        signature = sign(private_key, MESSAGE)
        assert not verify_signature(decode_public_key(public_b64), MESSAGE + b"0", signature)

    def test_tampered_signature(self, keypair) -> None:
        private_key, public_b64 = keypair
        raw_signature = bytearray(base64.b64decode(sign(private_key, MESSAGE)))
        raw_signature[0] ^= 1
        assert not verify_signature(
            decode_public_key(public_b64), MESSAGE, b64(bytes(raw_signature))
        )

    def test_wrong_key(self, keypair) -> None:
        private_key, _ = keypair
        _, other_public = generate_keypair()
        signature = sign(private_key, MESSAGE)
        assert not verify_signature(decode_public_key(other_public), MESSAGE, signature)

    @pytest.mark.parametrize(
        "signature",
        [
            "",
            "garbage!!",
            "ĐĐ",
            b64(b"\x00" * 64),
            b64(RFC_SIGNATURE[:63]),
            NON_CANONICAL_SIGNATURE,
        ],
    )
    def test_malformed_signature_is_false(self, signature: str) -> None:
        assert verify_signature(RFC_PUBLIC, RFC_MESSAGE, signature) is False

    @pytest.mark.parametrize(
        ("public_raw", "message", "signature"),
        [
            (RFC_PUBLIC[:31], RFC_MESSAGE, b64(RFC_SIGNATURE)),
            (None, RFC_MESSAGE, b64(RFC_SIGNATURE)),
            (RFC_PUBLIC, None, b64(RFC_SIGNATURE)),
            (RFC_PUBLIC, "r", b64(RFC_SIGNATURE)),
            (RFC_PUBLIC, RFC_MESSAGE, None),
            (b64(RFC_PUBLIC), RFC_MESSAGE, b64(RFC_SIGNATURE)),
        ],
    )
    def test_wrong_types_are_false_not_errors(self, public_raw, message, signature) -> None:
        assert verify_signature(public_raw, message, signature) is False


@given(st.binary(), st.binary(), st.text())
def test_verify_never_raises(public_raw: bytes, message: bytes, signature: str) -> None:
    assert verify_signature(public_raw, message, signature) is False


@given(st.binary(max_size=200))
def test_any_message_signs_and_verifies(message: bytes) -> None:
    private_key = Ed25519PrivateKey.from_private_bytes(RFC_SECRET)
    assert verify_signature(RFC_PUBLIC, message, sign(private_key, message))
    assert not verify_signature(RFC_PUBLIC, message + b"!", sign(private_key, message))
