"""Amounts of Vietnamese đồng in words, as printed on every voucher, result PDF and debit advice
(treasury_portal: the lowest layer, so that payments' PDFs and vouchers both use it).

The Vietnamese reading follows treasury practice:

* the number is read in groups of three digits with the scale words nghìn / triệu / tỷ;
  above a tỷ the count of tỷ is itself read as a number ("một nghìn tỷ", "hai triệu tỷ");
* a group that is all zeros is left out entirely (2.000.500 → "Hai triệu năm trăm");
* every group except the leading one reads its hundreds, so an inner zero hundreds digit
  is "không trăm" (1.050.000 → "Một triệu không trăm năm mươi nghìn");
* "mười" for 10–19, "mươi" for 20–90, "linh" between hundreds and a unit when the tens
  digit is 0, "mốt" for a final 1 after tens of 2 or more, "lăm" for a final 5 after a
  non-zero tens digit; 4 is always "bốn" (the colloquial "tư" is not used).
"""

from num2words import num2words

DIGITS: tuple[str, ...] = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

# Scale words for the three-digit groups below one tỷ, most significant first.
GROUP_SCALES: tuple[str, ...] = ("triệu", "nghìn", "")
TY = 1_000_000_000


def _units_word(tens: int, units: int) -> str:
    """The word for the units digit, which depends on the tens digit before it."""
    if units == 1 and tens >= 2:
        return "mốt"
    if units == 5 and tens >= 1:
        return "lăm"
    return DIGITS[units]


def _read_group(group: int, *, leading: bool) -> list[str]:
    """Words for one non-zero group of three digits.

    A leading group is read like a plain number ("mười lăm"); an inner group always says
    its hundreds ("không trăm mười lăm"), because the hearer must know the digit positions.
    """
    hundreds, rest = divmod(group, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if hundreds or not leading:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units and words:
            words += ["linh", DIGITS[units]]
        elif units:
            words.append(DIGITS[units])
        return words
    words += ["mười"] if tens == 1 else [DIGITS[tens], "mươi"]
    if units:
        words.append(_units_word(tens, units))
    return words


def _read_below_ty(amount: int, *, leading: bool) -> list[str]:
    """Words for 0 <= amount < 1 tỷ, skipping all-zero groups."""
    groups = (amount // 1_000_000, amount // 1_000 % 1_000, amount % 1_000)
    words: list[str] = []
    for group, scale in zip(groups, GROUP_SCALES, strict=True):
        if group == 0:
            continue
        words += _read_group(group, leading=leading and not words)
        if scale:
            words.append(scale)
    return words


def _read(amount: int, *, leading: bool = True) -> list[str]:
    """Words for a positive amount; above a tỷ the count of tỷ is read recursively."""
    count_of_ty, rest = divmod(amount, TY)
    words: list[str] = []
    if count_of_ty:
        words += _read(count_of_ty, leading=leading) + ["tỷ"]
    return words + _read_below_ty(rest, leading=leading and not words)


def amount_in_words(amount: int) -> str:
    """The amount in Vietnamese words, capitalised, ending in " đồng".

    >>> amount_in_words(1_005_000)
    'Một triệu không trăm linh năm nghìn đồng'
    """
    _check_amount(amount)
    words = _read(amount) if amount else [DIGITS[0]]
    text = " ".join(words + ["đồng"])
    return text[0].upper() + text[1:]


def amount_in_words_en(amount: int) -> str:
    """The amount in English words for bilingual documents, e.g. "One hundred and five dong".

    num2words separates groups with commas; they are dropped so the wording reads as one
    phrase on a voucher line, like the Vietnamese one.
    """
    _check_amount(amount)
    text = num2words(amount, lang="en").replace(",", "") + " dong"
    return text[0].upper() + text[1:]


def _check_amount(amount: int) -> None:
    # bool is an int subclass; True đồng is a programming error, not an amount.
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError(f"amount must be an integer number of đồng, got {amount!r}")
    if amount < 0:
        raise ValueError(f"amount must not be negative, got {amount}")


def amount_in_words_for_reader(amount: int) -> str:
    """The amount in words in the active language (pages): Vietnamese or English."""
    from django.utils.translation import get_language

    if (get_language() or "vi").lower().startswith("en"):
        return amount_in_words_en(amount)
    return amount_in_words(amount)
