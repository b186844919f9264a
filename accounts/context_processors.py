"""Navigation by role and the unread-notification count, on every page."""

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from accounts import selectors
from accounts.models import Role

U = {Role.PREPARER, Role.CHIEF_ACCOUNTANT, Role.ACCOUNT_HOLDER}
T = {Role.CONTROL_OFFICER, Role.APPROVER, Role.ADMINISTRATOR}

# (label, url name, roles that see it; None = everyone signed in)
NAV = [
    (_("Trang chủ"), "home", None),
    (_("Chứng từ"), "voucher-list", U),
    (_("Dự toán"), "budget", U | T),
    (_("Tài khoản"), "accounts-list", U),
    (_("Hàng đợi kiểm soát"), "review-queue", {Role.CONTROL_OFFICER, Role.APPROVER}),
    (_("Thanh toán"), "payments-overview", T),
    (_("Cảnh báo rủi ro"), "monitoring-alerts", U | T),
    (_("Báo cáo ngân sách"), "monitoring-reports", U | T),
    (_("Bảng điều hành"), "monitoring-dashboard", {Role.APPROVER, Role.ADMINISTRATOR}),
    (_("Phản ánh không hài lòng"), "monitoring-followups", T),
    (_("Thanh toán tự động"), "autopay-authorizations", U),
    (_("Thanh toán tự động"), "autopay-runs", T),
    (_("Khóa sổ năm"), "yearend-closes", T),
    (_("Hóa đơn gửi thanh toán"), "autopay-supplier-invoices", {Role.SUPPLIER_CLERK}),
    # integrations/ (a top app: named here only by its URL, resolved if installed)
    (_("Kết nối webhook"), "webhook-endpoints", U | {Role.SUPPLIER_CLERK}),
    (_("Khóa ký chờ duyệt"), "signing-key-approvals", {Role.ADMINISTRATOR}),
    (_("Người dùng và vai trò"), "memberships", {Role.ADMINISTRATOR}),
    (_("Quản trị"), "admin:index", {Role.ADMINISTRATOR}),
    (_("Danh mục thủ tục"), "procedure-catalogue", None),
]


def portal(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {
            "nav_items": _resolved(
                [(label, name) for label, name, roles in NAV if name == "procedure-catalogue"], request
            )
        }
    roles = selectors.roles_of(user)
    visible = [
        (label, name)
        for label, name, allowed in NAV
        if allowed is None or roles & allowed or (user.is_superuser and name == "admin:index")
    ]
    return {"nav_items": _resolved(visible, request), "user_roles": roles}


def _resolved(items: list, request: HttpRequest) -> list[dict]:
    out = []
    for label, name in items:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue  # the feature is not installed yet
        current = request.path == url or (url != "/" and request.path.startswith(url))
        out.append({"label": label, "url": url, "current": current})
    return out
