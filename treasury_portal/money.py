"""Money and percentages as people read them, in the active language.

Vietnamese: ``1.234.567 ₫`` and ``80,5%``; English: ``1,234,567 VND`` and ``80.5%``.
Amounts are whole đồng (integers); anything that is not a number is shown as is.
Code calls format_money / format_number / format_percent; templates `{% load money %}`
(registered in settings.TEMPLATES' libraries).
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils.translation import get_language

register = template.Library()


def _is_vietnamese() -> bool:
    return (get_language() or "vi").lower().startswith("vi")


def _group(digits: str, sep: str) -> str:
    out = []
    while len(digits) > 3:
        out.append(digits[-3:])
        digits = digits[:-3]
    out.append(digits)
    return sep.join(reversed(out))


def format_money(value: object) -> str:
    """`1234567` → ``1.234.567 ₫`` (vi) or ``1,234,567 VND`` (en)."""
    if value is None or value == "":
        return ""
    try:
        amount = int(Decimal(str(value)).to_integral_value(rounding=ROUND_HALF_UP))
    except (InvalidOperation, ValueError, TypeError):
        return str(value)
    sign = "-" if amount < 0 else ""
    if _is_vietnamese():
        return f"{sign}{_group(str(abs(amount)), '.')} ₫"
    return f"{sign}{_group(str(abs(amount)), ',')} VND"


def format_number(value: int) -> str:
    """`1234567` → ``1.234.567`` (vi) or ``1,234,567`` (en): a whole number inside a sentence."""
    sign = "-" if value < 0 else ""
    return sign + _group(str(abs(value)), "." if _is_vietnamese() else ",")


def format_percent(value: object, total: object = None, *, places: int = 1) -> str:
    """`value` is a percentage (80.5 → ``80,5%``), or a part of `total`
    (`used|percent:allocated`). Trailing zero decimals are dropped."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
        if total is not None and total != "":
            whole = Decimal(str(total))
            number = Decimal(0) if whole == 0 else number * 100 / whole
    except (InvalidOperation, ValueError, TypeError):
        return str(value)
    quantum = Decimal(1).scaleb(-places)
    number = number.quantize(quantum, rounding=ROUND_HALF_UP).normalize()
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    int_part, _, frac = text.partition(".")
    sign = "-" if int_part.startswith("-") else ""
    int_part = int_part.lstrip("-")
    if _is_vietnamese():
        grouped = _group(int_part, ".") + ("," + frac if frac else "")
    else:
        grouped = _group(int_part, ",") + ("." + frac if frac else "")
    return f"{sign}{grouped}%"


@register.filter(name="money")
def money(value: object) -> str:
    return format_money(value)


@register.filter(name="percent")
def percent(value: object, total: object = None) -> str:
    return format_percent(value, total)


@register.filter(name="usage_percent")
def usage_percent(value: object, total: object) -> int:
    """A whole percentage 0–100 of `value` in `total`, for widths and aria values."""
    try:
        part, whole = int(value), int(total)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0
    if whole <= 0:
        return 100 if part > 0 else 0
    return max(0, min(100, (part * 100) // whole))


@register.filter(name="amount")
def amount(value: object) -> str:
    """Money without its currency sign, for a column whose header names the
    unit (``1.234.567`` in Vietnamese): the statement's narrow amount columns."""
    text = format_money(value)
    return text.removesuffix(" ₫").removesuffix(" VND")
