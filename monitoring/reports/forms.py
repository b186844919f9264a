from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from monitoring.reports.models import ReportFormat, ReportKind


class ReportFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Loại báo cáo"), choices=ReportKind.choices, initial=ReportKind.EXPENDITURE)
    fiscal_year = forms.IntegerField(label=_("Năm ngân sách"), min_value=2000, max_value=2100)
    date_from = forms.DateField(label=_("Từ ngày"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    date_to = forms.DateField(label=_("Đến ngày"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    unit = forms.ChoiceField(label=_("Đơn vị"), required=False)
    office = forms.ChoiceField(label=_("Kho bạc"), required=False)

    def __init__(self, *args: object, units: list = (), offices: list = (), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [("", _("Tất cả đơn vị trong phạm vi")), *units]
        self.fields["office"].choices = [("", _("Tất cả kho bạc trong phạm vi")), *offices]

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if isinstance(start, date) and isinstance(end, date) and end < start:
            self.add_error("date_to", _("Ngày kết thúc phải sau ngày bắt đầu."))
        return data


class ReportExportForm(ReportFilterForm):
    format = forms.ChoiceField(label=_("Định dạng"), choices=ReportFormat.choices)
