"""Canonical JSON and content hashes of voucher content."""

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts.canonical import canonical_json, content_hash

VOUCHER = {
    "number": "C2-02a/0001",
    "unit": "1012345",
    "payee": "Công ty TNHH Điện lực Hà Nội",
    "lines": [{"ndkt": "6501", "amount": 1_234_567}],
    "total": 1_234_567,
}


def test_key_order_does_not_matter() -> None:
    reordered = dict(reversed(list(VOUCHER.items())))
    assert canonical_json(reordered) == canonical_json(VOUCHER)
    assert content_hash(reordered) == content_hash(VOUCHER)


def test_exact_canonical_bytes() -> None:
    assert canonical_json({"b": 2, "a": [1, "x"], "c": {"z": None, "y": True}}) == (
        b'{"a":[1,"x"],"b":2,"c":{"y":true,"z":null}}'
    )


def test_vietnamese_text_is_raw_utf8_not_escaped() -> None:
    encoded = canonical_json({"payee": "Trường Tiểu học Đống Đa"})
    assert encoded == '{"payee":"Trường Tiểu học Đống Đa"}'.encode()
    assert b"\\u" not in encoded


def test_nested_keys_sorted_by_utf16_code_units() -> None:
    # RFC 8785 sorts by UTF-16 code units: "Đ" (U+0110) comes after ASCII letters.
    assert canonical_json({"Đ": 1, "z": 2, "a": 3}) == '{"a":3,"z":2,"Đ":1}'.encode()


def test_integers_are_plain_digits() -> None:
    assert canonical_json({"amount": 9_999_999_999_999}) == b'{"amount":9999999999999}'
    assert canonical_json([0, -5, 2**53 - 1]) == b"[0,-5,9007199254740991]"


def test_integers_beyond_exact_json_range_are_rejected() -> None:
    with pytest.raises(ValueError):
        canonical_json({"amount": 2**53})


def test_any_content_change_changes_the_hash() -> None:
    changed = {**VOUCHER, "total": VOUCHER["total"] + 1}
    assert content_hash(changed) != content_hash(VOUCHER)


def test_hash_is_lowercase_hex_sha256_of_canonical_bytes() -> None:
    digest = content_hash(VOUCHER)
    assert digest == hashlib.sha256(canonical_json(VOUCHER)).hexdigest()
    assert len(digest) == 64 and digest == digest.lower()
    assert content_hash({}) == hashlib.sha256(b"{}").hexdigest()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_canonical_form_round_trips_and_is_stable(value) -> None:
    encoded = canonical_json(value)
    assert json.loads(encoded.decode("utf-8")) == value
    assert canonical_json(json.loads(encoded)) == encoded
