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
