from django import forms
from django.utils.translation import gettext_lazy as _

from monitoring.services import NOTE_MAX


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Ghi chú"), max_length=NOTE_MAX, required=False, widget=forms.Textarea(
        attrs={"rows": 3}))


class RequiredNoteForm(NoteForm):
    note = forms.CharField(label=_("Ghi chú"), max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 3}))


class ExplainForm(forms.Form):
    note = forms.CharField(label=_("Nội dung giải trình"), max_length=NOTE_MAX,
                           widget=forms.Textarea(attrs={"rows": 4}))


class AlertFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Trạng thái"), required=False)
    rule = forms.ChoiceField(label=_("Quy tắc"), required=False)
    severity = forms.ChoiceField(label=_("Mức độ"), required=False)

    def __init__(self, *args: object, rules: list[tuple[str, str]] = (), **kwargs: object) -> None:
        from monitoring.models import AlertStatus, Severity

        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Tất cả")), ("active", _("Đang mở (chưa xử lý xong)")),
                                         *AlertStatus.choices]
        self.fields["rule"].choices = [("", _("Tất cả")), *rules]
        self.fields["severity"].choices = [("", _("Tất cả")), *Severity.choices]
