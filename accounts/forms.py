from allauth.core import context
from allauth.mfa.totp.forms import ActivateTOTPForm
from allauth.mfa.totp.internal import auth as totp_auth
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Role


class SigningKeyForm(forms.Form):
    """The browser fills `public_key` with a key it generated (WebCrypto)."""

    unit_role = forms.ChoiceField(label=_("Đơn vị và vai trò ký"))
    label = forms.CharField(label=_("Tên gợi nhớ của khóa"), max_length=100, required=False)
    public_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, signer_memberships=(), **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.fields["unit_role"].choices = [
            (f"{m.organisation.code}:{m.role}", f"{m.organisation.code} – {m.organisation.name} · {Role(m.role).label}")
            for m in signer_memberships
        ]

    def clean_public_key(self) -> str:
        value = self.cleaned_data.get("public_key", "")
        if not value:
            raise forms.ValidationError(
                _("Trình duyệt chưa tạo được khóa. Hãy dùng trình duyệt hỗ trợ Ed25519 và bật JavaScript.")
            )
        return value


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Tên token (ví dụ: phần mềm kế toán)"), max_length=100)


class MembershipGrantForm(forms.Form):
    """An administrator gives a person a role in an office or unit they manage."""

    org = forms.CharField(widget=forms.HiddenInput, max_length=20)
    username = forms.CharField(label=_("Tên đăng nhập"), max_length=150)
    role = forms.ChoiceField(label=_("Vai trò"))

    def __init__(self, *args, roles=(), **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.value, r.label) for r in Role if r in roles]


class PortalActivateTOTPForm(ActivateTOTPForm):
    """allauth's TOTP activation, with the pending secret kept for the session.

    allauth makes a new secret on every GET of the activation page, so a person
    who scanned the QR code and then reloaded the page (or came back to it)
    typed codes of a secret that no longer existed: "Incorrect code". The
    pending secret now lives in the session until it is activated (allauth's
    activation flow clears it) or the session ends."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        session = context.request.session
        pending = session.get(totp_auth.SECRET_SESSION_KEY)
        super().__init__(*args, **kwargs)
        if pending and not self.is_bound:
            self.secret = session[totp_auth.SECRET_SESSION_KEY] = pending

    @property
    def secret_groups(self) -> list[str]:
        """The secret in groups of four characters, easier to read and type."""
        return [self.secret[i : i + 4] for i in range(0, len(self.secret), 4)]

    def clean_code(self) -> str:
        try:
            return super().clean_code()
        except forms.ValidationError as error:
            if getattr(error, "code", None) != "incorrect_code":
                raise
            raise forms.ValidationError(
                _(
                    "Mã chưa đúng. Mã trong ứng dụng đổi sau mỗi 30 giây: hãy nhập mã đang hiển thị, "
                    "kiểm tra đồng hồ của điện thoại đã đặt giờ tự động, và chắc chắn rằng bạn đã quét "
                    "mã QR đang hiện trên trang này (hoặc nhập đúng khóa bí mật bên dưới)."
                ),
                code="incorrect_code",
            ) from error


class AbsenceForm(forms.Form):
    """An absence with a delegate. Choices come from accounts.selectors.absence_colleagues;
    every rule (same office and role, dates, overlaps, who may declare) is the service's."""

    user = forms.ChoiceField(label=_("Người vắng mặt"))
    role = forms.ChoiceField(label=_("Vai trò"))
    delegate = forms.ChoiceField(label=_("Người thay"),
                                 help_text=_("Cán bộ cùng kho bạc, cùng vai trò; nhận hàng chờ của người vắng mặt."))
    starts_on = forms.DateField(label=_("Từ ngày"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Đến ngày"), widget=forms.DateInput(attrs={"type": "date"}),
                              help_text=_("Tính cả ngày này."))
    note = forms.CharField(label=_("Ghi chú"), max_length=500, required=False)

    def __init__(self, *args, people=(), delegates=(), **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        super().__init__(*args, **kwargs)

        def person(u) -> str:  # noqa: ANN001
            return f"{u.get_full_name() or u.username} ({u.username})"

        self.fields["user"].choices = list(dict.fromkeys((u.username, person(u)) for u, _o, _r in people))
        self.fields["role"].choices = list(dict.fromkeys((r, Role(r).label) for _u, _o, r in people))
        self.fields["delegate"].choices = [("", _("Chọn người thay")), *dict.fromkeys(
            (u.username, f"{person(u)} · {Role(r).label} · {o.code}") for u, o, r in delegates
        )]
