"""Pages of the state budget revenue (issue 12, docs/revenue.md): an office's
treasury staff see the collections of their offices and those below; control
officers and administrators upload a CSV/XLSX of collections (the same rows
and rules as `POST /api/v1/revenue-collections`) and get a report per row.
Thin: form → payments.services.revenue / payments.selectors.revenue."""

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from accounts.models import TREASURY_ROLES
from payments.apis import file_response
from payments.selectors import revenue as selectors
from payments.services import revenue as services
from treasury_portal.errors import ApplicationError
from treasury_portal.pages import role_required

PAGE_SIZE = 50
STATUS_LABELS = {
    "created": (_("Đã ghi"), "paid"),
    "existing": (_("Đã có, cùng nội dung"), "withdrawn"),
    "valid": (_("Hợp lệ, chưa ghi"), "withdrawn"),
    "rejected": (_("Có lỗi"), "refused"),
}


class RevenueUploadForm(forms.Form):
    office = forms.ChoiceField(label=_("Kho bạc thu"))
    file = forms.FileField(
        label=_("Tệp số thu (CSV hoặc XLSX)"),
        help_text=_("Tối đa 2.000 dòng; các cột được mô tả ở bảng dưới."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv,"
                                               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}),
    )

    def __init__(self, *args: Any, offices: list[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["office"].choices = list(offices)


@role_required(*TREASURY_ROLES)
def revenue_collections(request: HttpRequest) -> HttpResponse:
    """The collections (newest first) and, for those who may record them, the upload with its report."""
    offices = [(o.code, f"{o.code} – {o.name}") for o in services.importable_offices(request.user)]
    form = RevenueUploadForm(request.POST or None, request.FILES or None, offices=offices) if offices else None
    report = None
    status = 200
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                report = services.revenue_import_file(
                    actor=request.user, office=form.cleaned_data["office"], content=upload.read(),
                    filename=upload.name,
                )
            except ApplicationError as exc:
                form.add_error("file", exc.message)
        if report is None or report.error:
            status = 400
    for row in report.rows if report else ():
        row["label"], row["badge"] = STATUS_LABELS[row["status"]]
    page = Paginator(selectors.revenue_list(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "payments/revenue/collections.html", {
        "form": form, "report": report, "page": page, "columns": services.REVENUE_COLUMNS,
        "max_rows": services.MAX_BATCH_ROWS,
    }, status=status)


@require_GET
@role_required(*TREASURY_ROLES)
def revenue_template(request: HttpRequest) -> HttpResponse:
    """The upload's template (CSV): the columns and two example rows."""
    return file_response(services.revenue_template_csv(), filename="so-thu-ngan-sach-mau.csv",
                         content_type="text/csv; charset=utf-8")
