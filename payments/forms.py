"""Forms of the payments pages: they check the input's shape only."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from payments.models import Channel, NotificationKind

MAX_CSV_BYTES = 2 * 1024 * 1024


class StatementPeriodForm(forms.Form):
    start = forms.DateField(label=_("Từ ngày"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Đến ngày"), widget=forms.DateInput(attrs={"type": "date"}))

    @classmethod
    def initial_period(cls) -> dict:
        today = timezone.localdate()
        return {"start": today.replace(day=1), "end": today}


class DepositForm(forms.Form):
    account = forms.ChoiceField(label=_("Tài khoản tiền gửi"))
    amount = forms.IntegerField(label=_("Số tiền (đồng)"), min_value=1, max_value=10**15)
    reference = forms.CharField(
        label=_("Số tham chiếu"), max_length=100,
        help_text=_("Số chứng từ nộp tiền hoặc mã giao dịch ngân hàng; cùng số tham chiếu chỉ được ghi một lần."),
    )
    depositor = forms.CharField(label=_("Người nộp"), max_length=255, required=False)
    description = forms.CharField(label=_("Nội dung"), max_length=500, required=False)

    def __init__(self, *args, accounts=(), **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [(a.number, f"{a.number} – {a.unit.name}") for a in accounts]


class DepositCsvForm(forms.Form):
    file = forms.FileField(
        label=_("Tệp CSV"),
        help_text=_("Cột bắt buộc: account, amount, reference; tùy chọn: description, depositor. UTF-8."),
    )

    def clean_file(self):  # noqa: ANN201
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError(_("Tệp quá lớn (tối đa 2 MB)."))
        return upload


class PreferencesForm(forms.Form):
    """One checkbox per event kind and channel."""

    def __init__(self, *args, current: dict[tuple[str, str], bool], **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.grid = []
        for kind, kind_label in NotificationKind.choices:
            row = []
            for channel, channel_label in Channel.choices:
                name = f"{kind}__{channel}"
                self.fields[name] = forms.BooleanField(
                    label=f"{kind_label}: {channel_label}", required=False, initial=current[(kind, channel)]
                )
                row.append((channel_label, name))
            self.grid.append((kind_label, row))

    def rows(self) -> list:
        return [(label, [(channel, self[name]) for channel, name in row]) for label, row in self.grid]

    def choices(self) -> dict[tuple[str, str], bool]:
        return {tuple(name.split("__", 1)): value for name, value in self.cleaned_data.items()}
