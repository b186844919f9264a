from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import selectors
from accounts.models import SigningKeyStatus


def home_section(request: HttpRequest) -> dict | None:
    """Administrators: signing keys waiting for approval."""
    if not selectors.is_treasury_admin(request.user):
        return None
    pending = selectors.signing_keys_visible(request.user).filter(status=SigningKeyStatus.PENDING).count()
    return {
        "title": _("Khóa ký chờ duyệt"),
        "count": pending,
        "url": reverse("signing-key-approvals"),
        "text": _("Đăng ký mẫu chữ ký số của đơn vị đang chờ bạn duyệt."),
    }
