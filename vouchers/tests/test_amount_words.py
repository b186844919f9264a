"""Amount in words: the exact wording printed on vouchers."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treasury_portal.amount_words import amount_in_words, amount_in_words_en

DIGIT_VALUES = {
    "không": 0, "một": 1, "mốt": 1, "hai": 2, "ba": 3, "bốn": 4,
    "năm": 5, "lăm": 5, "sáu": 6, "bảy": 7, "tám": 8, "chín": 9,
}  # fmt: skip
SCALE_VALUES = {"nghìn": 1_000, "triệu": 1_000_000, "tỷ": 1_000_000_000}
VOCABULARY = set(DIGIT_VALUES) | set(SCALE_VALUES) | {"mười", "mươi", "trăm", "linh"}


def parse_vietnamese(text: str) -> int:
    """An independent reader of the wording, so the property test can check the value.

    Scale words multiply everything read since the last larger scale word, which is how
    "một nghìn tỷ" means 1000 × 10⁹ and "một tỷ năm trăm triệu" means 10⁹ + 500 × 10⁶.
    """
    words = text.lower().removesuffix(" đồng").split(" ")
    parts: list[tuple[int, int]] = []  # (value, scale) for each closed scale word
    group = last_digit = 0
    for word in words:
        if word in DIGIT_VALUES:
            last_digit = DIGIT_VALUES[word]
            group += last_digit
        elif word == "trăm":
            group += last_digit * 99
        elif word == "mươi":
            group += last_digit * 9
        elif word == "mười":
            group += 10
        elif word in SCALE_VALUES:
            scale = SCALE_VALUES[word]
            value = group
            while parts and parts[-1][1] < scale:
                value += parts.pop()[0]
            parts.append((value * scale, scale))
            group = 0
        elif word != "linh":
            raise AssertionError(f"unexpected word {word!r} in {text!r}")
    return sum(value for value, _ in parts) + group


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (0, "Không đồng"),
        (1, "Một đồng"),
        (4, "Bốn đồng"),
        (5, "Năm đồng"),
        (10, "Mười đồng"),
        (11, "Mười một đồng"),
        (14, "Mười bốn đồng"),
        (15, "Mười lăm đồng"),
        (20, "Hai mươi đồng"),
        (21, "Hai mươi mốt đồng"),
        (24, "Hai mươi bốn đồng"),
        (25, "Hai mươi lăm đồng"),
        (55, "Năm mươi lăm đồng"),
        (100, "Một trăm đồng"),
        (101, "Một trăm linh một đồng"),
        (105, "Một trăm linh năm đồng"),
        (111, "Một trăm mười một đồng"),
        (115, "Một trăm mười lăm đồng"),
        (121, "Một trăm hai mươi mốt đồng"),
        (1_001, "Một nghìn không trăm linh một đồng"),
        (1_015, "Một nghìn không trăm mười lăm đồng"),
        (15_000, "Mười lăm nghìn đồng"),
        (21_000, "Hai mươi mốt nghìn đồng"),
        (1_000_000, "Một triệu đồng"),
        (1_005_000, "Một triệu không trăm linh năm nghìn đồng"),
        (1_050_000, "Một triệu không trăm năm mươi nghìn đồng"),
        (1_500_000, "Một triệu năm trăm nghìn đồng"),
        (2_000_500, "Hai triệu năm trăm đồng"),
        (2_000_005, "Hai triệu không trăm linh năm đồng"),
        (50_000_000, "Năm mươi triệu đồng"),
        (1_000_000_000, "Một tỷ đồng"),
        (1_000_001_000, "Một tỷ không trăm linh một nghìn đồng"),
        (1_000_000_000_000, "Một nghìn tỷ đồng"),
        (1_005_000_000_000, "Một nghìn không trăm linh năm tỷ đồng"),
        (1_000_000_005_000, "Một nghìn tỷ không trăm linh năm nghìn đồng"),
        (1_000_000_000_000_000, "Một triệu tỷ đồng"),
        (
            123_456_789_012_345,
            "Một trăm hai mươi ba nghìn bốn trăm năm mươi sáu tỷ bảy trăm tám mươi chín triệu "
            "không trăm mười hai nghìn ba trăm bốn mươi lăm đồng",
        ),
    ],
)
def test_vietnamese_wording(amount: int, expected: str) -> None:
    assert amount_in_words(amount) == expected


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (0, "Zero dong"),
        (21, "Twenty-one dong"),
        (1_500_000, "One million five hundred thousand dong"),
        (1_000_000_000, "One billion dong"),
    ],
)
def test_english_wording(amount: int, expected: str) -> None:
    assert amount_in_words_en(amount) == expected


@pytest.mark.parametrize("function", [amount_in_words, amount_in_words_en])
def test_negative_amount_is_rejected(function) -> None:
    with pytest.raises(ValueError, match="negative"):
        function(-1)


@pytest.mark.parametrize("function", [amount_in_words, amount_in_words_en])
@pytest.mark.parametrize("amount", [1.5, 1000.0, "1000", True])
def test_non_integer_amount_is_rejected(function, amount) -> None:
    with pytest.raises(TypeError):
        function(amount)


def test_reference_parser_reads_known_wordings() -> None:
    # The property test relies on this parser, so it is checked against hand-made text.
    assert parse_vietnamese("Một nghìn tỷ không trăm linh năm nghìn đồng") == 1_000_000_005_000
    assert parse_vietnamese("Hai mươi mốt đồng") == 21


amounts = st.integers(min_value=0, max_value=10**15)


@given(amounts)
def test_wording_reads_back_to_the_amount(amount: int) -> None:
    assert parse_vietnamese(amount_in_words(amount)) == amount


@given(amounts)
def test_wording_is_well_formed(amount: int) -> None:
    text = amount_in_words(amount)
    words = text.lower().split(" ")
    assert text
    assert text[0].isupper() and text[1:] == text[1:].lower()
    assert text.endswith(" đồng")
    assert "  " not in text and text == text.strip()
    assert set(words[:-1]) <= VOCABULARY
    for before, word in zip(words, words[1:], strict=False):
        # "mốt" is required after tens of 2 or more, "lăm" after any non-zero tens.
        assert (before, word) not in {("mươi", "một"), ("mươi", "năm"), ("mười", "năm")}
        if word == "mốt":
            assert before == "mươi"
        if word == "lăm":
            assert before in {"mươi", "mười"}
        if word == "linh":
            assert before == "trăm"


@given(amounts)
def test_english_wording_is_well_formed(amount: int) -> None:
    text = amount_in_words_en(amount)
    assert text[0].isupper() and text.endswith(" dong")
    assert "," not in text and "  " not in text
