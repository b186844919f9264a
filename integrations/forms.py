from django import forms
from django.utils.translation import gettext_lazy as _

from integrations.models import DeliveryState, EndpointStatus, EventType


class EndpointForm(forms.Form):
    organisation = forms.ChoiceField(label=_("Tổ chức"))
    url = forms.CharField(
        label=_("Địa chỉ nhận (https://…)"), max_length=500,
        widget=forms.URLInput(attrs={"autocomplete": "url", "spellcheck": "false"}),
    )
    description = forms.CharField(label=_("Mô tả"), max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label=_("Sự kiện muốn nhận"), choices=EventType.choices, widget=forms.CheckboxSelectMultiple,
        help_text=_("Nhà cung cấp chỉ nhận được sự kiện về hóa đơn thanh toán tự động."),
    )

    def __init__(self, *args: object, organisations: list = (), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [(o.code, f"{o.code} – {o.name}") for o in organisations]
        if len(organisations) == 1:
            self.fields["organisation"].initial = organisations[0].code


class EndpointFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Trạng thái"), required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Tất cả")), *EndpointStatus.choices]


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Trạng thái gửi"), required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Tất cả")), *DeliveryState.choices]
