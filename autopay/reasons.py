"""The sentences that explain an autopay exception, one home for the writer
(the run stores the reason's key and values with the invoice and in its
notifications) and the readers (pages, the API, notifications), which render
them in the reader's language when shown. The stored `exception_reason` is the
Vietnamese sentence of the moment, kept for rows written before the key was.
"""

from typing import Any

from django.utils.translation import gettext as _

from treasury_portal.money import format_number

# Values that are counts or ids, not amounts of money.
PLAIN = ("auth", "factor", "n")


class ReasonText(str):
    """The sentence in the active language, with the key and values it was made from."""

    data: dict[str, Any]


def _texts() -> dict[str, str]:
    return {
        "no_authorization": _(
            "Không có ủy quyền thanh toán tự động còn hiệu lực cho mã khách hàng %(customer)s vào ngày phát hành "
            "hóa đơn."
        ),
        "over_cap_invoice": _(
            "Số tiền %(amount)s đồng vượt hạn mức mỗi hóa đơn %(cap)s đồng của ủy quyền UQ-%(auth)s."
        ),
        "over_cap_month": _(
            "Kỳ %(period)s đã thanh toán %(paid)s đồng theo ủy quyền UQ-%(auth)s; thêm %(amount)s đồng sẽ vượt "
            "hạn mức tháng %(cap)s đồng."
        ),
        "duplicate_period": _("Kỳ cước %(period)s của mã khách hàng %(customer)s đã được thanh toán."),
        "amount_anomaly": _(
            "Số tiền %(amount)s đồng cao hơn %(factor)s lần trung vị %(median)s đồng của %(n)s kỳ đã thanh toán "
            "gần nhất."
        ),
        "insufficient_budget": _(
            "Dòng dự toán %(line)s không đủ: còn khả dụng %(available)s đồng, hóa đơn cần %(amount)s đồng."
        ),
        "insufficient_balance": _(
            "Số dư khả dụng của tài khoản %(account)s (%(available)s đồng) không đủ để trả %(amount)s đồng."
        ),
        "processing_error": _("Không xử lý được hóa đơn do lỗi hệ thống; kho bạc sẽ kiểm tra."),
    }


def reason(key: str, **values: Any) -> ReasonText:
    """The sentence for `key` in the active language; `.data` keeps what it was made from."""
    text = ReasonText(render({"key": key, "values": values}))
    text.data = {"key": key, "values": values}
    return text


def render(data: Any) -> str:
    """A stored reason ({"key", "values"}) as a sentence in the active language; "" if unknown."""

    if not isinstance(data, dict) or data.get("key") not in _texts():
        return ""
    values = {
        k: format_number(v) if isinstance(v, int) and k not in PLAIN else v
        for k, v in (data.get("values") or {}).items()
    }
    try:
        return _texts()[data["key"]] % values
    except (KeyError, TypeError, ValueError):
        return ""
