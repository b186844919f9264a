"""Forms of the autopay pages. They check the input's shape only: every rule
(caps, validity against the budget year, customer codes taken, signatures) lives
in autopay/services.py. Choices are passed in by the views, read
through the selectors; forms never query on their own."""

import re
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from autopay.models import ExceptionCode, InvoiceStatus

Choices = Sequence[tuple[Any, Any]]
MAX_AMOUNT = 10**15
CODE_SEPARATORS = re.compile(r"[\s,;]+")


def _blank(label: Any) -> list[tuple[str, Any]]:
    return [("", label)]


def _money_widget(field: forms.Field) -> None:
    field.widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})


class AuthorizationForm(forms.Form):
    """Create or edit a draft authorization. `funding` is one select of the
    unit's budget lines ("line:<id>") and deposit accounts ("deposit:<id>"), so
    exactly one of the two is charged."""

    unit = forms.ChoiceField(label=_("Đơn vị"), widget=forms.HiddenInput)
    supplier = forms.ChoiceField(label=_("Nhà cung cấp"))
    customer_codes = forms.CharField(
        label=_("Mã khách hàng"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        help_text=_(
            "Mã khách hàng trên hóa đơn của nhà cung cấp; nhiều mã thì cách nhau bằng dấu phẩy hoặc xuống dòng."
        ),
    )
    funding = forms.ChoiceField(
        label=_("Nguồn chi"),
        help_text=_("Một dòng dự toán hoặc một tài khoản tiền gửi của đơn vị."),
    )
    cap_per_invoice = forms.IntegerField(label=_("Hạn mức mỗi hóa đơn (đồng)"), min_value=1, max_value=MAX_AMOUNT)
    cap_per_month = forms.IntegerField(label=_("Hạn mức mỗi tháng (đồng)"), min_value=1, max_value=MAX_AMOUNT)
    valid_from = forms.DateField(
        label=_("Hiệu lực từ ngày"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    valid_to = forms.DateField(label=_("Đến ngày"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(
        self,
        *args: Any,
        units: Choices = (),
        suppliers: Choices = (),
        budget_lines: Choices = (),
        deposit_accounts: Choices = (),
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = list(units)
        self.fields["supplier"].choices = _blank(_("Chọn nhà cung cấp")) + list(suppliers)
        funding: list[Any] = _blank(_("Chọn nguồn chi"))
        if budget_lines:
            funding.append((_("Dòng dự toán"), [(f"line:{pk}", label) for pk, label in budget_lines]))
        if deposit_accounts:
            funding.append((_("Tài khoản tiền gửi"), [(f"deposit:{pk}", label) for pk, label in deposit_accounts]))
        self.fields["funding"].choices = funding
        for name in ("cap_per_invoice", "cap_per_month"):
            _money_widget(self.fields[name])
        if editing:  # the unit and the supplier are fixed once drafted
            self.fields["unit"].disabled = True
            self.fields["supplier"].disabled = True

    def clean_customer_codes(self) -> list[str]:
        codes = [c for c in CODE_SEPARATORS.split(self.cleaned_data.get("customer_codes") or "") if c]
        if not codes:
            raise forms.ValidationError(_("Nhập ít nhất một mã khách hàng."))
        return codes

    def service_data(self) -> dict:
        """The keyword arguments of authorization_create / the data of authorization_update."""
        data = self.cleaned_data
        kind, _sep, pk = data["funding"].partition(":")
        return {
            "customer_codes": data["customer_codes"],
            "budget_line": int(pk) if kind == "line" else None,
            "deposit_account": int(pk) if kind == "deposit" else None,
            "cap_per_invoice": data["cap_per_invoice"],
            "cap_per_month": data["cap_per_month"],
            "valid_from": data["valid_from"],
            "valid_to": data["valid_to"],
        }


# The service's field names → this form's.
SERVICE_FIELDS = {"budget_line": "funding", "deposit_account": "funding"}


class AuthorizationSignForm(forms.Form):
    """signing.js fills `signature` in the browser with the selected key."""

    key_id = forms.TypedChoiceField(label=_("Khóa ký"), coerce=int)
    signature = forms.CharField(widget=forms.HiddenInput, required=False, max_length=200)

    def __init__(self, *args: Any, keys: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["key_id"].choices = list(keys)

    def clean_signature(self) -> str:
        value = self.cleaned_data.get("signature", "")
        if not value:
            raise forms.ValidationError(
                _("Trình duyệt chưa tạo được chữ ký. Hãy bật JavaScript và dùng trình duyệt có khóa ký của bạn.")
            )
        return value


class AuthorizationNoteForm(forms.Form):
    """Submit, confirm, revoke: an optional note."""

    note = forms.CharField(
        label=_("Ghi chú"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class AuthorizationRejectForm(forms.Form):
    note = forms.CharField(
        label=_("Lý do từ chối"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Bắt buộc: đơn vị sẽ đọc lý do này."),
    )


class InvoiceRetryForm(forms.Form):
    """Retry an exception: an optional note."""

    note = forms.CharField(label=_("Ghi chú"), required=False, max_length=2000)


class InvoiceCloseForm(forms.Form):
    note = forms.CharField(
        label=_("Cách đã xử lý"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Bắt buộc: ví dụ đã thanh toán bằng chứng từ số…, đang đối chiếu với nhà cung cấp."),
        error_messages={"required": _("Cần ghi cách đã xử lý hóa đơn để đóng ngoại lệ.")},
    )


class InvoiceFilterForm(forms.Form):
    """Filters of the invoice lists (GET). `exception_states`: the unit's status
    filter tells open exceptions from closed ones; `with_closed`: the treasury's
    exception list shows the open ones or the closed ones."""

    status = forms.ChoiceField(label=_("Trạng thái"), required=False)
    code = forms.ChoiceField(label=_("Mã ngoại lệ"), required=False)
    unit = forms.RegexField(
        label=_("Mã đơn vị (7 chữ số)"),
        regex=r"^[0-9]{7}$",
        max_length=7,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    closed = forms.ChoiceField(
        label=_("Ngoại lệ"), required=False, choices=[("", _("Đang mở")), ("1", _("Đã đóng"))]
    )

    def __init__(
        self, *args: Any, with_status: bool = True, with_unit: bool = False, exception_states: bool = False,
        with_closed: bool = False, **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        statuses = list(InvoiceStatus.choices)
        if exception_states:
            statuses = [
                (InvoiceStatus.PENDING, InvoiceStatus.PENDING.label),
                (InvoiceStatus.PAID, InvoiceStatus.PAID.label),
                (InvoiceStatus.EXCEPTION, _("Ngoại lệ đang mở")),
                ("closed", _("Ngoại lệ đã đóng")),
            ]
        self.fields["status"].choices = _blank(_("Tất cả")) + statuses
        self.fields["code"].choices = _blank(_("Tất cả")) + list(ExceptionCode.choices)
        if not with_status:
            del self.fields["status"]
        if not with_unit:
            del self.fields["unit"]
        if not with_closed:
            del self.fields["closed"]


class AuthorizationFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Trạng thái"), required=False)

    def __init__(self, *args: Any, statuses: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = _blank(_("Tất cả")) + list(statuses)


MAX_STATEMENT_BYTES = 2 * 1024 * 1024


class StatementUploadForm(forms.Form):
    """A supplier's statement: a CSV or XLSX file (the rows' rules are the service's)."""

    file = forms.FileField(
        label=_("Tệp bảng kê hóa đơn (CSV hoặc XLSX)"),
        help_text=_("Tối đa 2.000 dòng và 2 MB; các cột được mô tả ở bảng dưới."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv,"
                                               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}),
    )
    supplier = forms.ChoiceField(label=_("Nhà cung cấp"), required=False)

    def __init__(self, *args: Any, suppliers: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if len(suppliers) > 1:
            self.fields["supplier"].required = True
            self.fields["supplier"].choices = [*_blank(_("Chọn nhà cung cấp")), *suppliers]
        else:
            del self.fields["supplier"]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_STATEMENT_BYTES:
            raise forms.ValidationError(_("Tệp quá lớn (tối đa 2 MB)."))
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("Chỉ nhận tệp .csv hoặc .xlsx."))
        return upload
