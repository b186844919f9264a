"""The evidence of the later rules (monitoring.rule_checks) as sentences in the
reader's language; monitoring.selectors.SENTENCES takes them in."""

from django.utils.translation import gettext as _

from treasury_portal.money import format_money


def _payee_account(e: dict) -> str:
    return _(
        "Chứng từ %(voucher)s trả cho %(payee)s vào tài khoản %(account)s%(bank)s, khác tài khoản "
        "%(previous)s%(pbank)s của lần thanh toán trước cho cùng người nhận (chứng từ %(other)s, cách %(days)s ngày)."
    ) % {
        "voucher": e.get("voucher", ""), "payee": e.get("payee", ""), "account": e.get("account", ""),
        "bank": f" ({e['bank']})" if e.get("bank") else "", "previous": e.get("previous_account", ""),
        "pbank": f" ({e['previous_bank']})" if e.get("previous_bank") else "", "other": e.get("previous_voucher", ""),
        "days": e.get("days_apart", 0),
    }


def _pair(e: dict) -> str:
    return _(
        "Tại %(office)s, cặp kiểm soát %(controller)s – phê duyệt %(approver)s đã xử lý %(n)s trên %(total)s chứng từ "
        "(%(share)s%%) trong %(days)s ngày qua, trên ngưỡng %(percent)s%%."
    ) % {
        "office": e.get("office", ""), "controller": e.get("controller", ""), "approver": e.get("approver", ""),
        "n": e.get("vouchers", 0), "total": e.get("total", 0), "share": e.get("share_percent", 0),
        "days": e.get("days", 30), "percent": e.get("percent", 0),
    }


def _autopay(e: dict) -> str:
    return _(
        "Hóa đơn %(invoice)s của %(supplier)s (mã khách hàng %(customer)s, kỳ %(period)s) %(amount)s bị giữ lại vì "
        "cao hơn %(factor)s lần trung vị %(median)s của các kỳ đã thanh toán."
    ) % {
        "invoice": e.get("invoice", ""), "supplier": e.get("supplier", ""), "customer": e.get("customer_code", ""),
        "period": e.get("period", ""), "amount": format_money(e.get("amount")), "factor": e.get("factor", ""),
        "median": format_money(e.get("median")),
    }


SENTENCES = {
    "payee_account_changed": _payee_account,
    "controller_approver_pair": _pair,
    "autopay_anomaly": _autopay,
}
