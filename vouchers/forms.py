"""Forms of the voucher pages. They check the input's shape only: every rule that
spans rows (budget, contracts, signatures, "return once") lives in the services.

Choices (procedures, budget lines, banks, reason codes, keys) are passed in by the
views, which read them through the selectors; forms never query on their own.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from payments.models import BudgetLevel
from vouchers.models import DocumentKind, Rating, VoucherStatus

Choices = Sequence[tuple[Any, Any]]

MAX_LINES = 50


def _blank(label: str) -> list[tuple[str, str]]:
    return [("", label)]


def unit_field(choices: Choices | None, *, blank: bool = True) -> forms.Field:
    """A select of the units, or, when there are too many to list (a treasury
    office serves thousands), a box for the 7-digit unit code."""
    label = _("Đơn vị")
    if choices is None:
        return forms.RegexField(
            label=_("Mã đơn vị (7 chữ số)"), regex=r"^[0-9]{7}$", max_length=7, required=False,
            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        )
    return forms.ChoiceField(
        label=label, required=False, choices=(_blank(_("Tất cả")) if blank else []) + list(choices)
    )


class VoucherFilterForm(forms.Form):
    """Filters of the unit's voucher list (GET)."""

    unit = forms.ChoiceField(label=_("Đơn vị"), required=False)
    status = forms.ChoiceField(label=_("Trạng thái"), required=False)
    procedure = forms.ChoiceField(label=_("Thủ tục"), required=False)
    date_from = forms.DateField(
        label=_("Lập từ ngày"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Đến ngày"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self, *args: Any, procedures: Choices = (), units: Choices | None = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = _blank(_("Tất cả")) + list(VoucherStatus.choices)
        self.fields["procedure"].choices = _blank(_("Tất cả")) + list(procedures)
        if units is not None and len(units) <= 1:
            del self.fields["unit"]
        else:
            self.fields["unit"] = unit_field(units)


class QueueFilterForm(forms.Form):
    """Filters of the treasury's review queue (GET)."""

    unit = forms.ChoiceField(label=_("Đơn vị"), required=False)
    procedure = forms.ChoiceField(label=_("Thủ tục"), required=False)
    status = forms.ChoiceField(label=_("Trạng thái"), required=False)
    due_before = forms.DateField(
        label=_("Hạn xử lý đến ngày"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self, *args: Any, units: Choices | None = (), procedures: Choices = (), statuses: Choices = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"] = unit_field(units)
        self.fields["procedure"].choices = _blank(_("Tất cả")) + list(procedures)
        self.fields["status"].choices = _blank(_("Tất cả")) + list(statuses)


class BudgetFilterForm(forms.Form):
    unit = forms.ChoiceField(label=_("Đơn vị"), required=False)
    fiscal_year = forms.TypedChoiceField(label=_("Năm ngân sách"), coerce=int, required=False)

    def __init__(self, *args: Any, units: Choices | None = (), years: Iterable[int] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"] = unit_field(units)
        self.fields["fiscal_year"].choices = [(y, str(y)) for y in years]


class AllocationUploadForm(forms.Form):
    """Allocations as CSV: one budget line per row (the template lists the columns)."""

    scope = forms.ChoiceField(label=_("Phạm vi (kho bạc)"))
    fiscal_year = forms.IntegerField(label=_("Năm ngân sách"), min_value=2000, max_value=2100)
    file = forms.FileField(
        label=_("Tệp CSV dự toán"),
        help_text=_("Tệp CSV, mã hóa UTF-8, dòng đầu là tên cột."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args: Any, scopes: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = list(scopes)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > settings.ATTACHMENT_MAX_BYTES:
            raise forms.ValidationError(_("Tệp quá lớn."))
        return upload


class AllocationLineForm(forms.Form):
    """One allocation typed in; `key` (hidden, made when the form is shown) makes a
    double submission allocate once."""

    unit = forms.ChoiceField(label=_("Đơn vị"))
    fiscal_year = forms.IntegerField(label=_("Năm ngân sách"), min_value=2000, max_value=2100)
    chapter = forms.RegexField(label=_("Chương"), regex=r"^[0-9]{3}$", max_length=3)
    sector = forms.RegexField(label=_("Loại-khoản"), regex=r"^[0-9]{3}$", max_length=3)
    ndkt = forms.RegexField(label=_("Nội dung kinh tế (NDKT)"), regex=r"^[0-9]{4}$", max_length=4)
    funding_source = forms.RegexField(label=_("Nguồn"), regex=r"^[0-9]{2}$", max_length=2)
    programme = forms.RegexField(
        label=_("CTMT/dự án"), regex=r"^[0-9]{5}$", max_length=5, required=False, initial="00000"
    )
    budget_level = forms.ChoiceField(label=_("Cấp ngân sách"), choices=BudgetLevel.choices)
    name = forms.CharField(label=_("Tên dòng"), max_length=255, required=False)
    amount = forms.IntegerField(label=_("Số tiền giao (đồng)"), min_value=1, max_value=10**15)
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, units: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = list(units)
        for name in ("chapter", "sector", "ndkt", "funding_source", "programme", "amount"):
            self.fields[name].widget.attrs.setdefault("inputmode", "numeric")


class BankChoiceField(forms.ChoiceField):
    """The bank list, by short code; a BIN or BIC posted instead (any case)
    names the same bank: `aliases` (identifier in upper case → short code) is
    built by the view from the banks it read (vouchers.views.DraftingChoices)."""

    aliases: dict[str, str] = {}  # noqa: RUF012 - replaced per form, never mutated

    default_error_messages = {  # noqa: RUF012
        "invalid_choice": _("Không có ngân hàng nào có mã BIN, BIC hoặc mã viết tắt này trong danh mục ngân hàng."),
    }

    def to_python(self, value: Any) -> str:
        value = super().to_python(value)
        return self.aliases.get(value.strip().upper(), value)


class VoucherForm(forms.Form):
    """The voucher's header; its lines are a formset beside it."""

    procedure = forms.ChoiceField(label=_("Thủ tục và hình thức"))
    fiscal_year = forms.IntegerField(label=_("Năm ngân sách"), min_value=2000, max_value=2100)
    description = forms.CharField(label=_("Nội dung chi"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    payee_name = forms.CharField(label=_("Đơn vị nhận tiền"), max_length=255)
    payee_account = forms.RegexField(
        label=_("Số tài khoản nhận"),
        regex=r"^[0-9A-Za-z.\-]{4,34}$",
        max_length=34,
        error_messages={"invalid": _("Số tài khoản gồm 4–34 chữ số hoặc chữ cái.")},
    )
    payee_bank = BankChoiceField(label=_("Ngân hàng nhận"))
    contract_number = forms.CharField(
        label=_("Số hợp đồng"), max_length=100, required=False,
        help_text=_("Bắt buộc khi tạm ứng hoặc khi thủ tục yêu cầu hợp đồng."),
    )
    contract_value = forms.IntegerField(label=_("Giá trị hợp đồng (đồng)"), min_value=1, required=False)
    deposit_account = forms.ChoiceField(
        label=_("Tài khoản tiền gửi chi"), required=False, help_text=_("Chỉ với C4-02a/KB.")
    )
    settles = forms.ChoiceField(
        label=_("Khoản tạm ứng được thanh toán"), required=False, help_text=_("Chỉ với C2-03/NS.")
    )

    def __init__(
        self,
        *args: Any,
        procedures: Choices = (),
        banks: Choices = (),
        bank_aliases: dict[str, str] | None = None,
        deposit_accounts: Choices = (),
        advances: Choices = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["procedure"].choices = _blank(_("— Chọn thủ tục —")) + list(procedures)
        self.fields["payee_bank"].choices = _blank(_("— Chọn ngân hàng —")) + list(banks)
        self.fields["payee_bank"].aliases = bank_aliases or {}
        self.fields["deposit_account"].choices = _blank(_("— Không —")) + list(deposit_accounts)
        self.fields["settles"].choices = _blank(_("— Không —")) + list(advances)
        for name in ("fiscal_year", "contract_value"):
            self.fields[name].widget.attrs.setdefault("inputmode", "numeric")


class VoucherLineForm(forms.Form):
    budget_line = forms.TypedChoiceField(label=_("Dòng dự toán"), coerce=int)
    amount = forms.IntegerField(label=_("Số tiền (đồng)"), min_value=1, max_value=10**15)
    description = forms.CharField(label=_("Diễn giải"), max_length=500, required=False)

    def __init__(self, *args: Any, budget_lines: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["budget_line"].choices = _blank(_("— Chọn dòng dự toán —")) + list(budget_lines)
        self.fields["amount"].widget.attrs.setdefault("inputmode", "numeric")


class _BaseLineFormSet(forms.BaseFormSet):
    def __init__(self, *args: Any, budget_lines: Choices = (), **kwargs: Any) -> None:
        self.budget_lines = budget_lines
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict:
        kwargs = super().get_form_kwargs(index)
        kwargs["budget_lines"] = self.budget_lines
        return kwargs

    @property
    def empty_form(self) -> forms.Form:
        form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            budget_lines=self.budget_lines,
            renderer=self.renderer,
        )
        self.add_fields(form, None)
        return form

    def clean(self) -> None:
        if any(self.errors):
            return
        filled = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not filled:
            raise forms.ValidationError(_("Chứng từ cần ít nhất một dòng chi."))

    def lines(self) -> list[dict]:
        """The kept lines, in order, as the services take them."""
        return [
            {
                "budget_line": f.cleaned_data["budget_line"],
                "amount": f.cleaned_data["amount"],
                "description": f.cleaned_data.get("description", ""),
            }
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]


VoucherLineFormSet = forms.formset_factory(
    VoucherLineForm, formset=_BaseLineFormSet, extra=1, can_delete=True, max_num=MAX_LINES, validate_max=True
)


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Loại tài liệu"), choices=DocumentKind.choices)
    file = forms.FileField(
        label=_("Tệp (PDF, JPEG hoặc PNG)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > settings.ATTACHMENT_MAX_BYTES:
            raise forms.ValidationError(
                _("Tệp vượt quá giới hạn %(limit)s MB.") % {"limit": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)}
            )
        return upload


class SignForm(forms.Form):
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


class ExplanationMixin(forms.Form):
    """A transition after the due time needs a written explanation (the service decides)."""

    explanation = forms.CharField(
        label=_("Giải trình chậm hạn"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Bắt buộc khi xử lý sau thời hạn."),
    )


class TransitionForm(ExplanationMixin):
    """submit, claim: nothing but the explanation of a late transition."""


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Ghi chú"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ApproveForm(ExplanationMixin):
    note = forms.CharField(label=_("Ý kiến phê duyệt"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class PassForm(ExplanationMixin):
    """The control checklist of the procedure version (the service requires every item)."""

    checklist = forms.MultipleChoiceField(
        label=_("Nội dung đã kiểm soát"), required=False, widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(label=_("Ý kiến kiểm soát"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, checklist: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["checklist"].choices = list(checklist)


class SendBackForm(ExplanationMixin):
    note = forms.CharField(
        label=_("Lý do trả lại cán bộ kiểm soát"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReleaseForm(forms.Form):
    """The controller gives the voucher back to the office's queue, with a reason."""

    note = forms.CharField(
        label=_("Lý do trả về hàng chờ"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReassignForm(forms.Form):
    """A leader gives a voucher in control to another control officer."""

    officer = forms.ChoiceField(label=_("Giao cho cán bộ kiểm soát"))
    note = forms.CharField(
        label=_("Ghi chú"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, officers: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["officer"].choices = [("", _("— Chọn cán bộ —")), *officers]


class ReasonsForm(ExplanationMixin):
    """Return for supplement / refuse: several coded reasons, each with a note.

    One checkbox per code of the catalogue and a note beside it; the posted
    names are `codes` (repeated) and `note_<code>`.
    """

    codes = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    empty_message = _("Hãy chọn ít nhất một lý do.")

    def __init__(self, *args: Any, reasons: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reasons = list(reasons)
        self.fields["codes"].choices = self.reasons
        self.fields["codes"].error_messages["required"] = self.empty_message
        for code, _label in self.reasons:
            self.fields[f"note_{code}"] = forms.CharField(
                label=_("Ghi chú"), required=False, max_length=1000, widget=forms.TextInput()
            )

    def rows(self) -> list[dict]:
        """(code, label, checkbox checked, note bound field) for the template."""
        selected = set(self["codes"].value() or [])
        return [
            {"code": code, "label": label, "checked": str(code) in selected, "note": self[f"note_{code}"]}
            for code, label in self.reasons
        ]

    def coded(self) -> list[dict]:
        return [
            {"code": code, "note": self.cleaned_data.get(f"note_{code}", "")} for code in self.cleaned_data["codes"]
        ]


class ReturnForm(ReasonsForm):
    empty_message = _("Hãy chọn tất cả các thiếu sót cần bổ sung (ít nhất một).")


class RefuseForm(ReasonsForm):
    empty_message = _("Hãy chọn ít nhất một lý do từ chối.")


class ReturnExceptionForm(forms.Form):
    justification = forms.CharField(
        label=_("Lý do cho phép trả lại thêm một lần"),
        max_length=2000,
        min_length=10,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("Mức độ hài lòng"), coerce=int, choices=Rating.Score.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Góp ý"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
