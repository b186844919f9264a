"""Forms of the year-end pages: the shape of what people type; the rules are
in payments.services.yearend."""

from django import forms
from django.utils.translation import gettext_lazy as _

from payments.services.yearend import NOTE_MAX


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class FiscalYearCloseForm(forms.Form):
    office = forms.ChoiceField(label=_("Kho bạc"))
    year = forms.IntegerField(label=_("Năm ngân sách"), min_value=2000, max_value=2100)
    cut_off = forms.DateField(
        label=_("Ngày khóa sổ"), required=False, widget=DateInput(),
        help_text=_("Mặc định 31/12 của năm ngân sách."),
    )
    adjustment_until = forms.DateField(
        label=_("Hết thời gian chỉnh lý"), required=False, widget=DateInput(),
        help_text=_("Mặc định 31/01 năm sau: chứng từ của năm được thanh toán đến hết ngày này."),
    )

    def __init__(self, *args, offices=(), **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.fields["office"].choices = [(o.code, f"{o.code} – {o.name}") for o in offices]


class CloseForm(forms.Form):
    """The close: the open vouchers (not yet approved) to refuse, and the reason the units receive."""

    refuse = forms.MultipleChoiceField(label=_("Chứng từ từ chối"), required=False, widget=forms.MultipleHiddenInput)
    note = forms.CharField(
        label=_("Lý do từ chối (đơn vị nhận được lý do này)"), required=False, max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, refusable=(), **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.fields["refuse"].choices = [(str(v.pk), v.number) for v in refusable]
