"""The filters of the dashboard and the public satisfaction page, and the
follow-up forms (GET filters; POST notes)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from monitoring.satisfaction.services import NOTE_MAX


class PeriodForm(forms.Form):
    """`from` and `to` (the API's names; not Python attribute names, so added here)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = forms.DateField(
            label=_("Từ ngày"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
        self.fields["to"] = forms.DateField(
            label=_("Đến ngày"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class DashboardForm(PeriodForm):
    office = forms.ChoiceField(label=_("Kho bạc"), required=False)

    def __init__(self, data: object = None, *, offices: list = (), **kwargs: object) -> None:
        super().__init__(data, **kwargs)
        self.fields["office"].choices = [(o.code, f"{o.code} – {o.name}") for o in offices]
        self.order_fields(["office", "from", "to"])


class FollowUpFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Trạng thái"), required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        from monitoring.models import FollowUpStatus

        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Tất cả")), ("active", _("Chưa đóng")), *FollowUpStatus.choices]


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(label=_("Giao cho cán bộ"))
    note = forms.CharField(label=_("Ghi chú"), max_length=NOTE_MAX, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: object, candidates: list = (), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [
            (u.username, u.get_full_name() or u.username) for u in candidates
        ]


class ContactNoteForm(forms.Form):
    note = forms.CharField(label=_("Nội dung liên hệ với đơn vị"), max_length=NOTE_MAX,
                           widget=forms.Textarea(attrs={"rows": 3}))


class CloseForm(forms.Form):
    note = forms.CharField(label=_("Kết quả xử lý"), max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 3}))
