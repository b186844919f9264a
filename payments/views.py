"""Browser pages of the payments app: a unit's accounts and statements, the
notification centre, the treasury's payments page and deposits, downloads of
debit advices and bank files, and the treasury root CA's certificate (the
voucher's result PDF and the public verification page: vouchers/payment/views.py).
Thin: each page reads through a selector, each action is one service call."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import TREASURY_ROLES, Role
from payments import pdf
from payments.apis import file_response
from payments.forms import DepositCsvForm, DepositForm, PreferencesForm, StatementPeriodForm
from payments.models import AccountKind, PaymentIntentStatus
from payments.selectors import documents as document_selectors
from payments.selectors import ledger as ledger_selectors
from payments.selectors import notifications as notification_selectors
from payments.selectors import payment as payment_selectors
from payments.services import bank_files as bank_file_services
from payments.services import ledger as ledger_services
from payments.services import notifications as notification_services
from payments.services.documents import debit_advice_render
from treasury_portal import charts
from treasury_portal.errors import ApplicationError
from treasury_portal.money import format_money
from treasury_portal.pages import role_required, treasury_admin_required, url_is_local

PAGE_SIZE = 50


def _page(request: HttpRequest, queryset, size: int = PAGE_SIZE):  # noqa: ANN001, ANN202
    page = Paginator(queryset, size).get_page(request.GET.get("page"))
    page.query = ""
    return page


# --- a unit's accounts -----------------------------------------------------------------


@login_required
def accounts_list(request: HttpRequest) -> HttpResponse:
    accounts = ledger_selectors.accounts_visible(request.user).filter(
        kind__in=[AccountKind.ESTIMATE, AccountKind.DEPOSIT]
    ).order_by("unit__code", "number")
    return render(request, "payments/accounts_list.html", {"accounts": accounts})


@login_required
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = ledger_selectors.access_account(request.user, pk)
    page = _page(request, ledger_selectors.account_transactions(account))
    for row in page.object_list:
        other = ledger_selectors.other_side(row, account)
        row.counterparty = row.counterparty_name or other.name
        row.counterparty_number = row.counterparty_account or other.number
    series = ledger_selectors.account_daily_balances(account, days=30)
    balance_chart = charts.line_chart(
        "balance-30d",
        _("Số dư cuối ngày, 30 ngày gần nhất"),
        _("Từ %(first)s đến %(last)s; số dư cuối kỳ %(closing)s.") % {
            "first": date_format(series[0][0], "SHORT_DATE_FORMAT"),
            "last": date_format(series[-1][0], "SHORT_DATE_FORMAT"),
            "closing": format_money(series[-1][1]),
        },
        series,
    )
    return render(
        request, "payments/account_detail.html",
        {
            "account": account, "page": page, "balance_chart": balance_chart,
            "period_form": StatementPeriodForm(initial=StatementPeriodForm.initial_period()),
        },
    )


def _statement(request: HttpRequest, pk: int) -> dict:
    account = ledger_selectors.access_account(request.user, pk)
    start, end = ledger_selectors.parse_period(request.GET.get("start"), request.GET.get("end"))
    return document_selectors.statement_context(account, ledger_selectors.account_statement(account, start, end))


@login_required
@require_GET
def account_statement_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    context = _statement(request, pk)
    name = f"sao-ke-{context['account'].number}-{context['start']}-{context['end']}.pdf"
    return file_response(pdf.render_statement(context), filename=name, content_type="application/pdf")


@login_required
@require_GET
def account_statement_csv(request: HttpRequest, pk: int) -> HttpResponse:
    context = _statement(request, pk)
    name = f"sao-ke-{context['account'].number}-{context['start']}-{context['end']}.csv"
    return file_response(pdf.statement_csv(context), filename=name, content_type="text/csv; charset=utf-8")


# --- documents ------------------------------------------------------------------------


@login_required
@require_GET
def debit_advice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = document_selectors.access_debit_advice_transfer(request.user, pk)
    document = debit_advice_render(transfer_id=transfer.pk)
    if document is None:
        raise Http404
    return file_response(
        document.file.open("rb").read(), filename=f"giay-bao-no-{transfer.pk}.pdf", content_type="application/pdf"
    )


@require_GET
def treasury_root_certificate(request: HttpRequest) -> HttpResponse:
    """Public: the treasury root CA's certificate, which a PDF reader trusts to
    show the result PDFs' signatures as valid (docs/signing.md)."""
    from accounts.pki import root_certificate_pem

    pem = root_certificate_pem()
    if pem is None:
        raise Http404
    return file_response(pem, filename="kho-bac-nha-nuoc-root-ca.crt", content_type="application/x-x509-ca-cert")


# --- notifications --------------------------------------------------------------------


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    page = _page(request, notification_selectors.notifications_of(request.user, unread=unread_only), 30)
    page.query = "unread=1" if unread_only else ""
    items = [(n, notification_selectors.notification_text(n)) for n in page.object_list]
    return render(request, "payments/notifications.html", {"page": page, "items": items, "unread_only": unread_only})


@login_required
@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark read, then go where the notification points (a local URL only)."""
    notification = notification_services.notification_mark_read(actor=request.user, notification_id=pk)
    target = (notification.data or {}).get("url") if isinstance(notification.data, dict) else ""
    if target and url_is_local(request, target):
        return redirect(target)
    return redirect("notifications")


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    notification_services.notifications_mark_all_read(actor=request.user)
    messages.success(request, _("Đã đánh dấu tất cả thông báo là đã đọc."))
    return redirect("notifications")


@login_required
@require_GET
def notifications_badge(request: HttpRequest) -> HttpResponse:
    """The bell in the header, polled by htmx (hx-swap="outerHTML")."""
    count = notification_selectors.unread_count(request.user)
    return render(request, "payments/_notif_bell.html", {"unread_count": count})


@login_required
def notification_preferences(request: HttpRequest) -> HttpResponse:
    current = notification_selectors.preferences_of(request.user)
    form = PreferencesForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        notification_services.notification_preferences_set(actor=request.user, enabled=form.choices())
        messages.success(request, _("Đã lưu lựa chọn nhận thông báo."))
        return redirect("notification-preferences")
    return render(request, "payments/notification_preferences.html", {"form": form})


# --- the treasury ---------------------------------------------------------------------


@role_required(*TREASURY_ROLES)
def payments_overview(request: HttpRequest) -> HttpResponse:
    user = request.user
    status = request.GET.get("status") or ""
    if status not in PaymentIntentStatus.values:
        status = ""
    page = _page(request, payment_selectors.intents_visible(user, status=status or None))
    page.query = f"status={status}" if status else ""
    failures = payment_selectors.intents_visible(user, status=PaymentIntentStatus.FAILED)[:100]
    per_day = payment_selectors.paid_per_day(user, days=14)
    paid_chart = charts.bar_chart(
        "paid-14d",
        _("Số tiền đã thanh toán mỗi ngày, 14 ngày gần nhất"),
        _("%(n)s khoản, tổng %(amount)s.") % {
            "n": sum(n for _d, n, _a in per_day), "amount": format_money(sum(a for _d, _n, a in per_day)),
        },
        [charts.Bar(f"{date_format(d, 'D d/m')} · {n}", amount) for d, n, amount in per_day],
        money=True, bar_height=18, gap=6,
    )
    return render(
        request, "payments/payments_overview.html",
        {
            "counts": payment_selectors.intent_counts(user),
            "paid_chart": paid_chart,
            "statuses": PaymentIntentStatus.choices,
            "status": status,
            "page": page,
            "failures": failures,
            "can_retry": payment_selectors.can_retry_anywhere(user),
            "unfiled": payment_selectors.unfiled_summary(user),
            "bank_files": payment_selectors.bank_files_visible(user)[:50],
            "is_admin": Role.ADMINISTRATOR in payment_selectors.roles(user),
        },
    )


@treasury_admin_required
@require_POST
def bank_files_generate(request: HttpRequest) -> HttpResponse:
    files = bank_file_services.bank_files_generate(actor=request.user)
    if files:
        messages.success(request, _("Đã lập %(n)s tệp chuyển tiền.") % {"n": len(files)})
    else:
        messages.info(request, _("Không có khoản thanh toán nào chờ lập tệp."))
    return redirect("payments-overview")


@role_required(*TREASURY_ROLES)
@require_GET
def bank_file_download(request: HttpRequest, pk: int) -> HttpResponse:
    bank_file = payment_selectors.access_bank_file(request.user, pk)
    return file_response(
        bank_file.file.open("rb").read(), filename=f"{bank_file.message_id}.xml",
        content_type="application/xml; charset=utf-8",
    )


@treasury_admin_required
def deposits(request: HttpRequest) -> HttpResponse:
    accounts = payment_selectors.deposit_accounts_administered(request.user)
    form = DepositForm(request.POST if request.POST.get("action") == "one" else None, accounts=accounts)
    csv_form = DepositCsvForm(
        request.POST if request.POST.get("action") == "csv" else None,
        request.FILES if request.POST.get("action") == "csv" else None,
    )
    if request.method == "POST":
        try:
            if request.POST.get("action") == "one" and form.is_valid():
                account = next(a for a in accounts if a.number == form.cleaned_data["account"])
                transfer = ledger_services.deposit_credit(
                    actor=request.user, account=account, amount=form.cleaned_data["amount"],
                    reference=form.cleaned_data["reference"], description=form.cleaned_data["description"],
                    depositor=form.cleaned_data["depositor"],
                )
                messages.success(request, _("Đã ghi có %(amount)s đồng vào tài khoản %(account)s.") % {
                    "amount": ledger_services.money_text(transfer.amount), "account": account.number})
                return redirect("deposits")
            if request.POST.get("action") == "csv" and csv_form.is_valid():
                transfers = ledger_services.deposits_load_csv(
                    actor=request.user, rows=csv_form.cleaned_data["file"].read()
                )
                messages.success(request, _("Đã ghi %(n)s khoản nộp tiền từ tệp.") % {"n": len(transfers)})
                return redirect("deposits")
        except ApplicationError as exc:
            target = csv_form if request.POST.get("action") == "csv" else form
            rows = exc.fields.get("rows") or []
            if rows:
                target.add_error(None, _("Tệp có lỗi, chưa dòng nào được ghi:"))
            for error in rows or [exc.message]:
                target.add_error(None, error)
    return render(request, "payments/deposits.html", {"form": form, "csv_form": csv_form, "accounts": accounts})
