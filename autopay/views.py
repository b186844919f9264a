"""Browser pages of automatic utility payments (autopay). Thin: each page reads
through autopay.selectors (404 for another organisation's objects),
each action is one POST calling one service of autopay.services; a
service's refusal (ApplicationError) is shown on the page as its sentence.

- unit users: their units' authorizations (list, draft, edit, the page with
  its timeline and signatures, signing in the browser, submit, revoke) and
  their utility invoices (paid with the debit advice, exceptions with the reason);
- treasury administrators: the authorizations awaiting confirmation;
- treasury staff: the exception list of their offices' units and the runs;
- the unit's signers and the treasury's administrators and control officers:
  retry an exception (back to pending for the next run) or close it with a note;
- supplier clerks: their supplier's invoices; uploading a statement (CSV or
  XLSX) with a report of every row, and its template.
"""

from collections.abc import Callable
from datetime import date
from typing import Any

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts import selectors as account_selectors
from accounts.models import TREASURY_ROLES, UNIT_ROLES, Role, SigningKeyStatus
from autopay import page_selectors, policy, selectors, services
from autopay.forms import (
    SERVICE_FIELDS,
    AuthorizationFilterForm,
    AuthorizationForm,
    AuthorizationNoteForm,
    AuthorizationRejectForm,
    AuthorizationSignForm,
    InvoiceCloseForm,
    InvoiceFilterForm,
    InvoiceRetryForm,
    StatementUploadForm,
)
from autopay.models import AuthorizationStatus, AutopayAuthorization, InvoiceStatus, RunStatus
from payments.apis import file_response
from payments.models import AccountKind
from payments.selectors import yearend as yearend_selectors
from payments.selectors.budget import budget_lines_visible
from payments.selectors.ledger import accounts_visible
from treasury_portal import charts
from treasury_portal.errors import ApplicationError, NotFound
from treasury_portal.errors import PermissionDenied as AppPermissionDenied
from treasury_portal.money import format_money
from treasury_portal.pages import next_url, role_required, treasury_admin_required

PAGE_SIZE = 50
SIGNERS = (Role.CHIEF_ACCOUNTANT, Role.ACCOUNT_HOLDER)
# Statuses → the portal's existing badge colours (static/css/portal.css).
BADGES = {
    AuthorizationStatus.DRAFT: "draft",
    AuthorizationStatus.SUBMITTED: "submitted",
    AuthorizationStatus.ACTIVE: "active",
    AuthorizationStatus.REVOKED: "revoked",
    AuthorizationStatus.REJECTED: "refused",
    InvoiceStatus.PENDING: "pending",
    InvoiceStatus.PAID: "paid",
    InvoiceStatus.EXCEPTION: "payment_failed",
}
EVENT_LABELS = {
    "create": gettext_lazy("Lập ủy quyền"),
    "update": gettext_lazy("Sửa nội dung"),
    "sign": gettext_lazy("Ký số"),
    "submit": gettext_lazy("Gửi kho bạc"),
    "confirm": gettext_lazy("Kho bạc xác nhận"),
    "reject": gettext_lazy("Kho bạc từ chối"),
    "revoke": gettext_lazy("Thu hồi"),
}


def _page(request: HttpRequest, queryset: Any, size: int = PAGE_SIZE) -> Any:
    page = Paginator(queryset, size).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    page.query = params.urlencode()
    page.object_list = list(page.object_list)
    return page


def _filters(form: Any) -> dict:
    return form.cleaned_data if form.is_bound and form.is_valid() else {}


def _with_badges(rows: list) -> list:
    for row in rows:
        row.badge = BADGES.get(row.status, row.status)
    return rows


# --- a unit's authorizations ------------------------------------------------------


@role_required(*UNIT_ROLES, *TREASURY_ROLES)
def authorization_list(request: HttpRequest) -> HttpResponse:
    """The authorizations of the user's units (treasury staff: their offices' units), newest first."""
    user = request.user
    form = AuthorizationFilterForm(request.GET or None, statuses=AuthorizationStatus.choices)
    filters = _filters(form)
    page = _page(request, selectors.authorizations_visible(user, status=filters.get("status") or None))
    _with_badges(page.object_list)
    units = {m.organisation_id for m in account_selectors.memberships_of(user) if m.role in UNIT_ROLES}
    return render(
        request,
        "autopay/authorization_list.html",
        {
            "form": form,
            "page": page,
            "can_create": bool(units),
            "show_unit": len(units) != 1,
            "awaiting": selectors.awaiting_confirmation(user).count()
            if account_selectors.is_treasury_admin(user)
            else None,
        },
    )


def _drafting_units(user: Any) -> list:
    return list(account_selectors.visible_units(user, roles=set(UNIT_ROLES)).order_by("code"))


def _form_choices(user: Any, unit: Any) -> dict:
    """The create/edit form's choices for one unit, read through the selectors."""
    this_year = timezone.localdate().year
    lines = budget_lines_visible(user, unit=unit, fiscal_year=None).filter(fiscal_year__gte=this_year)
    accounts = accounts_visible(user, unit=unit.code, kind=AccountKind.DEPOSIT)
    return {
        "units": [(unit.code, f"{unit.code} – {unit.name}")],
        "suppliers": [(s.code, s.name) for s in selectors.autopay_suppliers()],
        "budget_lines": [
            (
                bl.pk,
                _("%(line)s (khả dụng %(available)s)") % {
                    "line": f"{bl.fiscal_year} · {bl.classification} · {bl.name or bl.ndkt}",
                    "available": format_money(bl.available),
                },
            )
            for bl in lines.order_by("fiscal_year", "ndkt", "id")
        ],
        "deposit_accounts": [
            (a.pk, _("%(account)s (số dư %(balance)s)") % {"account": a.number, "balance": format_money(a.balance)})
            for a in accounts
        ],
    }


def _show_service_error(form: Any, exc: ApplicationError) -> None:
    """The service's field errors next to their fields; its sentence on top."""
    for key, errors in (exc.fields or {}).items():
        name = SERVICE_FIELDS.get(key, key)
        if name in form.fields and name not in form.errors:
            text = " ".join(str(e) for e in errors) if isinstance(errors, list | tuple) else str(errors)
            form.add_error(name, text)
    form.add_error(None, exc.message)


@role_required(*UNIT_ROLES)
def authorization_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = _drafting_units(user)
    if not units:
        raise NotFound()
    wanted = request.POST.get("unit") or request.GET.get("unit")
    unit = next((u for u in units if u.code == wanted), units[0])
    today = timezone.localdate()
    initial = {"unit": unit.code, "valid_from": today, "valid_to": date(today.year, 12, 31)}
    form = AuthorizationForm(request.POST or None, initial=initial, **_form_choices(user, unit))
    if request.method == "POST" and form.is_valid():
        try:
            authorization = services.authorization_create(
                actor=user, unit=unit, supplier=form.cleaned_data["supplier"], **form.service_data()
            )
        except (NotFound, AppPermissionDenied):
            raise
        except ApplicationError as exc:
            _show_service_error(form, exc)
        else:
            messages.success(
                request,
                _("Đã lưu nháp ủy quyền %(id)s. Kế toán trưởng ký trước, chủ tài khoản ký sau và gửi kho bạc.")
                % {"id": authorization},
            )
            return redirect("autopay-authorization", pk=authorization.pk)
    return render(
        request,
        "autopay/authorization_form.html",
        {"form": form, "unit": unit, "units": units, "authorization": None},
        status=400 if form.is_bound and form.errors else 200,
    )


def _funding_value(a: AutopayAuthorization) -> str:
    return f"line:{a.budget_line_id}" if a.budget_line_id else f"deposit:{a.deposit_account_id}"


@role_required(*UNIT_ROLES)
def authorization_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    authorization = selectors.access_authorization(user, pk)
    if authorization.status != AuthorizationStatus.DRAFT:
        messages.info(request, _("Chỉ sửa được ủy quyền đang ở trạng thái nháp."))
        return redirect("autopay-authorization", pk=authorization.pk)
    choices = _form_choices(user, authorization.unit)
    choices["suppliers"] = [(authorization.supplier.code, authorization.supplier.name)]
    initial = {
        "unit": authorization.unit.code,
        "supplier": authorization.supplier.code,
        "customer_codes": ", ".join(c.customer_code for c in authorization.customer_codes.all()),
        "funding": _funding_value(authorization),
        "cap_per_invoice": authorization.cap_per_invoice,
        "cap_per_month": authorization.cap_per_month,
        "valid_from": authorization.valid_from,
        "valid_to": authorization.valid_to,
    }
    form = AuthorizationForm(request.POST or None, initial=initial, editing=True, **choices)
    if request.method == "POST" and form.is_valid():
        try:
            services.authorization_update(actor=user, authorization=authorization, data=form.service_data())
        except (NotFound, AppPermissionDenied):
            raise
        except ApplicationError as exc:
            _show_service_error(form, exc)
        else:
            messages.success(
                request,
                _("Đã lưu ủy quyền %(id)s. Nếu nội dung thay đổi, các chữ ký trước đó không còn hiệu lực.")
                % {"id": authorization},
            )
            return redirect("autopay-authorization", pk=authorization.pk)
    return render(
        request,
        "autopay/authorization_form.html",
        {"form": form, "unit": authorization.unit, "units": [authorization.unit], "authorization": authorization},
        status=400 if form.is_bound and form.errors else 200,
    )


def _allowed(user: Any, a: AutopayAuthorization) -> set[str]:
    """What the page offers this user now: the checks the services run (autopay.policy)."""
    return policy.allowed_actions(user, a)


def _timeline(a: AutopayAuthorization) -> list[dict]:
    statuses = dict(AuthorizationStatus.choices)
    roles = dict(Role.choices)
    return [
        {
            "event": e,
            "label": EVENT_LABELS.get(e.action, e.action),
            "from": statuses.get(e.from_status, ""),
            "to": statuses.get(e.to_status, ""),
            "role": roles.get((e.data or {}).get("role", ""), "") if e.action == "sign" else "",
        }
        for e in selectors.authorization_events(a)
    ]


def _detail_context(request: HttpRequest, a: AutopayAuthorization, bound: dict | None = None) -> dict:
    allowed = _allowed(request.user, a)
    signatures = selectors.authorization_signatures(a)
    live = {s.role for s in signatures if s.content_hash == a.content_hash}
    forms = {
        "submit": AuthorizationNoteForm(prefix="submit"),
        "revoke": AuthorizationNoteForm(prefix="revoke"),
        "confirm": AuthorizationNoteForm(prefix="confirm"),
        "reject": AuthorizationRejectForm(prefix="reject"),
    }
    forms.update(bound or {})
    a.badge = BADGES.get(a.status, a.status)
    timeline = _timeline(a)
    return {
        "authorization": a,
        "codes": [c.customer_code for c in a.customer_codes.all()],
        "signatures": signatures,
        "chief_signed": Role.CHIEF_ACCOUNTANT in live,
        "holder_signed": Role.ACCOUNT_HOLDER in live,
        "timeline": timeline,
        "closing_note": next(
            (t["event"].note for t in reversed(timeline) if t["event"].action in {"reject", "revoke"}), ""
        ),
        "allowed": allowed,
        "forms": {name: form for name, form in forms.items() if name in allowed},
        "is_unit_member": account_selectors.user_has_unit_role(request.user, a.unit, *UNIT_ROLES),
        "invoices": _with_badges(
            list(a.invoices.select_related("supplier", "closed_by").order_by("-created_at", "-id")[:10])
        ),
    }


@role_required(*UNIT_ROLES, *TREASURY_ROLES)
def authorization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    authorization = selectors.access_authorization(request.user, pk)
    return render(request, "autopay/authorization_detail.html", _detail_context(request, authorization))


# Each action: its form, the roles that may post it, the one service it calls, the message.
ACTIONS: dict[str, tuple[type, frozenset[str], Callable[..., Any], Any]] = {
    "submit": (
        AuthorizationNoteForm,
        frozenset({Role.ACCOUNT_HOLDER}),
        lambda actor, a, cd: services.authorization_submit(actor=actor, authorization=a),
        gettext_lazy("Đã gửi ủy quyền đến kho bạc để xác nhận."),
    ),
    "revoke": (
        AuthorizationNoteForm,
        frozenset(SIGNERS),
        lambda actor, a, cd: services.authorization_revoke(actor=actor, authorization=a, note=cd["note"]),
        gettext_lazy("Đã thu hồi ủy quyền: từ nay không hóa đơn nào được thanh toán theo ủy quyền này."),
    ),
    "confirm": (
        AuthorizationNoteForm,
        frozenset({Role.ADMINISTRATOR}),
        lambda actor, a, cd: services.authorization_confirm(actor=actor, authorization=a, note=cd["note"]),
        gettext_lazy("Đã xác nhận ủy quyền: ủy quyền có hiệu lực."),
    ),
    "reject": (
        AuthorizationRejectForm,
        frozenset({Role.ADMINISTRATOR}),
        lambda actor, a, cd: services.authorization_reject(actor=actor, authorization=a, note=cd["note"]),
        gettext_lazy("Đã từ chối ủy quyền; đơn vị sẽ thấy lý do."),
    ),
}


@role_required(*UNIT_ROLES, *TREASURY_ROLES)
@require_POST
def authorization_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One POST form, one service call. A refusal is shown on the authorization's page."""
    form_class, roles, run, done = ACTIONS[action]
    authorization = selectors.access_authorization(request.user, pk)  # 404 before any rule
    if not account_selectors.has_role(request.user, *roles):
        raise NotFound()
    form = form_class(request.POST, prefix=action)
    status = 400
    if form.is_valid():
        try:
            run(request.user, authorization, form.cleaned_data)
        except (NotFound, AppPermissionDenied):
            raise
        except ApplicationError as exc:
            _show_service_error(form, exc)
            status = 409 if exc.http_status == 409 else 400
        else:
            messages.success(request, str(done))
            return redirect(next_url(request) or reverse("autopay-authorization", args=[authorization.pk]))
    authorization = selectors.access_authorization(request.user, pk)
    context = _detail_context(request, authorization, {action: form})
    if action not in context["forms"]:  # no longer offered: say why on top
        context["action_error"] = (
            " ".join(str(e) for e in form.non_field_errors())
            or " ".join(str(e) for errors in form.errors.values() for e in errors)
            or _("Không thực hiện được thao tác.")
        )
    return render(request, "autopay/authorization_detail.html", context, status=status)


# --- signing ----------------------------------------------------------------------


@role_required(*SIGNERS)
def authorization_sign(request: HttpRequest, pk: int) -> HttpResponse:
    """The authorization is found (404 for others) before the fresh sign-in is asked."""
    authorization = selectors.access_authorization(request.user, pk)
    if authorization.status != AuthorizationStatus.DRAFT:
        messages.info(request, _("Chỉ ký được ủy quyền đang ở trạng thái nháp."))
        return redirect("autopay-authorization", pk=authorization.pk)
    return _sign_page(request, authorization)


@reauthentication_required
def _sign_page(request: HttpRequest, authorization: AutopayAuthorization) -> HttpResponse:
    """As a voucher is signed: a fresh re-authentication, then the browser signs
    the content hash with the signer's local key (static/js/signing.js)."""
    user = request.user
    keys = list(
        account_selectors.signing_keys_visible(user).filter(
            user=user, unit=authorization.unit, status=SigningKeyStatus.APPROVED
        )
    )
    form = AuthorizationSignForm(
        request.POST or None, keys=[(k.pk, f"{k.get_role_display()} · {k.label or k.fingerprint[:16]}") for k in keys]
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                signature = services.authorization_sign(
                    actor=user,
                    authorization=authorization,
                    key_id=form.cleaned_data["key_id"],
                    signature=form.cleaned_data["signature"],
                )
            except (NotFound, AppPermissionDenied):
                raise
            except ApplicationError as exc:
                form.add_error(None, exc.message)
                status = 409 if exc.http_status == 409 else 400
            else:
                if signature.role == Role.ACCOUNT_HOLDER:
                    messages.success(
                        request, _("Đã ký với vai trò chủ tài khoản. Bạn có thể gửi ủy quyền đến kho bạc.")
                    )
                else:
                    messages.success(request, _("Đã ký với vai trò kế toán trưởng."))
                return redirect("autopay-authorization", pk=authorization.pk)
        authorization = selectors.access_authorization(user, authorization.pk)
    return render(
        request,
        "autopay/authorization_sign.html",
        {
            "authorization": authorization,
            "codes": [c.customer_code for c in authorization.customer_codes.all()],
            "form": form,
            "keys": keys,
        },
        status=status,
    )


# --- invoices ---------------------------------------------------------------------


def _with_exception_actions(user: Any, rows: list) -> list:
    """What each row offers this user (selectors.exception_actions)."""
    for row in rows:
        row.can_retry, row.can_close = selectors.exception_actions(user, row)
        row.can_confirm = selectors.can_confirm_amount(user, row)
    return rows


@role_required(*UNIT_ROLES)
def unit_invoices(request: HttpRequest) -> HttpResponse:
    """The unit's utility invoices: paid (with the debit advice), open exceptions
    with their reason (retry, close), closed exceptions with who closed them and why."""
    user = request.user
    form = InvoiceFilterForm(request.GET or None, exception_states=True)
    filters = _filters(form)
    page = _page(
        request,
        page_selectors.unit_invoices(user, status=filters.get("status") or None, code=filters.get("code") or None),
    )
    _with_exception_actions(user, _with_badges(page.object_list))
    units = {m.organisation_id for m in account_selectors.memberships_of(user) if m.role in UNIT_ROLES}
    return render(
        request,
        "autopay/unit_invoices.html",
        {
            "form": form, "page": page, "show_unit": len(units) != 1, "next_url": request.get_full_path(),
            "with_actions": any(row.can_close for row in page.object_list),
        },
    )


@role_required(*TREASURY_ROLES)
def treasury_exceptions(request: HttpRequest) -> HttpResponse:
    """The exception list of the units of the user's offices, filtered by
    exception code and unit code: the open ones (retry, close), or the closed ones."""
    form = InvoiceFilterForm(request.GET or None, with_status=False, with_unit=True, with_closed=True)
    filters = _filters(form)
    closed = filters.get("closed") == "1"
    page = _page(
        request,
        selectors.exceptions_visible(
            request.user, unit=filters.get("unit") or None, code=filters.get("code") or None, closed=closed
        ),
    )
    _with_exception_actions(request.user, page.object_list)
    return render(
        request,
        "autopay/treasury_exceptions.html",
        {
            "form": form, "page": page, "closed": closed, "next_url": request.get_full_path(),
            "with_actions": any(row.can_close for row in page.object_list),
        },
    )


def _invoice_list_url(user: Any, invoice: Any) -> str:
    if account_selectors.user_has_unit_role(user, invoice.unit, *UNIT_ROLES):
        return reverse("autopay-unit-invoices")
    return reverse("autopay-exceptions")


@role_required(*selectors.EXCEPTION_ROLES)
@require_POST
def invoice_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Retry, confirm (an unusual amount) or close one exception (one POST, one
    service), back to the list it was posted from with the outcome as a message."""
    invoice = selectors.access_unit_invoice(request.user, pk)  # 404 before any rule
    back = next_url(request) or _invoice_list_url(request.user, invoice)
    form = (InvoiceCloseForm if action == "close" else InvoiceRetryForm)(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back)
    try:
        if action == "retry":
            services.autopay_invoice_retry(actor=request.user, invoice=invoice, note=form.cleaned_data["note"])
        elif action == "confirm":
            services.autopay_invoice_confirm_amount(
                actor=request.user, invoice=invoice, note=form.cleaned_data["note"]
            )
        else:
            services.autopay_invoice_close(actor=request.user, invoice=invoice, note=form.cleaned_data["note"])
    except (NotFound, AppPermissionDenied):
        raise
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    if action == "retry":
        messages.success(
            request,
            _("Hóa đơn %(number)s đã trở lại hàng chờ thanh toán. Lần chạy thanh toán tự động tiếp theo (chậm nhất "
              "trong 10 phút) sẽ xét lại theo ủy quyền, hạn mức và dự toán lúc đó; nếu vẫn không thanh toán được, "
              "hóa đơn trở lại danh sách ngoại lệ với lý do mới.") % {"number": invoice.invoice_number},
        )
    elif action == "confirm":
        messages.success(
            request,
            _("Đã xác nhận số tiền hóa đơn %(number)s. Lần chạy thanh toán tự động tiếp theo (chậm nhất trong 10 "
              "phút) sẽ thanh toán nếu ủy quyền, hạn mức và dự toán cho phép.") % {"number": invoice.invoice_number},
        )
    else:
        messages.success(
            request,
            _("Đã đóng ngoại lệ của hóa đơn %(number)s; hóa đơn sẽ không được thanh toán tự động.")
            % {"number": invoice.invoice_number},
        )
    return redirect(back)


@treasury_admin_required
def confirmations(request: HttpRequest) -> HttpResponse:
    """Authorizations of the units the administrator serves, awaiting confirmation, oldest first."""
    page = _page(request, selectors.awaiting_confirmation(request.user))
    return render(request, "autopay/confirmations.html", {"page": page})


@role_required(Role.SUPPLIER_CLERK)
def supplier_invoices(request: HttpRequest) -> HttpResponse:
    """A supplier clerk's invoices with their status and exception code."""
    form = InvoiceFilterForm(request.GET or None)
    filters = _filters(form)
    qs = selectors.supplier_invoices(request.user, status=filters.get("status") or None)
    if filters.get("code"):
        qs = qs.filter(exception_code=filters["code"])
    page = _page(request, qs)
    _with_badges(page.object_list)
    return render(request, "autopay/supplier_invoices.html", {"form": form, "page": page})


STATEMENT_OUTCOMES = {
    "accepted": (gettext_lazy("Đã nhận"), "paid"),
    "duplicate": (gettext_lazy("Trùng, đã nhận trước đó"), "withdrawn"),
    "rejected": (gettext_lazy("Bị từ chối"), "refused"),
}


@role_required(Role.SUPPLIER_CLERK)
def supplier_statement_upload(request: HttpRequest) -> HttpResponse:
    """Upload a statement (CSV or XLSX): each row goes through the same service as
    `POST /api/v1/supplier/invoices`; the answer is the report of every row."""
    suppliers = [(o.code, f"{o.code} – {o.name}") for o in selectors.clerk_suppliers(request.user)]
    form = StatementUploadForm(request.POST or None, request.FILES or None, suppliers=suppliers)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = services.supplier_statement_import(
                actor=request.user, content=upload.read(), filename=upload.name,
                supplier=form.cleaned_data.get("supplier") or None,
            )
        except ApplicationError as exc:
            form.add_error("file", exc.message)
    counts = {key: 0 for key in STATEMENT_OUTCOMES}
    for row in report or ():
        counts[row.outcome] += 1
        row.label, row.badge = STATEMENT_OUTCOMES[row.outcome]
    return render(
        request,
        "autopay/supplier_statement_upload.html",
        {
            "form": form,
            "report": report,
            "counts": counts,
            "columns": services.STATEMENT_COLUMNS,
            "max_rows": services.MAX_STATEMENT_ROWS,
        },
        status=400 if request.method == "POST" and report is None else 200,
    )


@require_GET
@role_required(Role.SUPPLIER_CLERK)
def supplier_statement_template(request: HttpRequest) -> HttpResponse:
    """The statement template (CSV): the columns and two example rows."""
    return file_response(services.statement_template_csv(), filename="bang-ke-hoa-don-mau.csv",
                         content_type="text/csv; charset=utf-8")


# --- runs -------------------------------------------------------------------------


def _runs_context() -> dict:
    runs = [selectors.autopay_run_progress(r) for r in selectors.autopay_runs(limit=20)]
    return {"runs": runs, "running": any(r["status"] == RunStatus.RUNNING for r in runs)}


def _settled_chart(user: Any) -> charts.BarChart:
    per_day = page_selectors.settled_per_day(user, days=14)
    bars = []
    for day, paid, excepted in per_day:
        label = date_format(day, "d/m")
        bars.append(charts.Bar(_("%(day)s · đã trả") % {"day": label}, paid, "ok"))
        bars.append(charts.Bar(_("%(day)s · ngoại lệ") % {"day": label}, excepted, "danger"))
    return charts.bar_chart(
        "autopay-14d",
        _("Hóa đơn đã thanh toán và ngoại lệ mỗi ngày, 14 ngày gần nhất"),
        _("%(paid)s hóa đơn đã thanh toán, %(excepted)s hóa đơn vào danh sách ngoại lệ.")
        % {
            "paid": sum(p for _d, p, _e in per_day),
            "excepted": sum(e for _d, _p, e in per_day),
        },
        bars,
        bar_height=12,
        gap=3,
        label_width=150,
        value_room=80,
    )


@role_required(*TREASURY_ROLES)
def runs(request: HttpRequest) -> HttpResponse:
    return render(request, "autopay/runs.html", {**_runs_context(), "chart": _settled_chart(request.user)})


@role_required(*TREASURY_ROLES)
@require_GET
def runs_progress(request: HttpRequest) -> HttpResponse:
    """htmx: the runs table again (it polls itself while a run is in progress)."""
    return render(request, "autopay/_runs.html", _runs_context())


# --- units: autopay roll-over ------------------------------------------------------


@role_required(*UNIT_ROLES)
def rollovers(request: HttpRequest) -> HttpResponse:
    """The unit's active authorizations on a budget line of the year, to roll over to the next."""
    candidates = list(selectors.rollover_candidates(request.user))
    rows = [
        {"a": a, "can": selectors.can_roll_over(request.user, a), "line": yearend_selectors.matching_line(
            a.budget_line, a.budget_line.fiscal_year + 1)}
        for a in candidates
    ]
    signer = any(r["can"] for r in rows)
    return render(request, "autopay/rollovers.html", {"rows": rows, "signer": signer})


@role_required(Role.CHIEF_ACCOUNTANT, Role.ACCOUNT_HOLDER)
@require_POST
def rollover(request: HttpRequest, pk: int) -> HttpResponse:
    authorization = selectors.access_authorization(request.user, pk)
    try:
        new = services.authorization_roll_over(actor=request.user, authorization=authorization)
    except (NotFound, AppPermissionDenied):
        raise
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("yearend-rollovers")
    messages.success(
        request,
        _("Đã lập ủy quyền năm mới %(id)s: kế toán trưởng và chủ tài khoản ký để xác nhận, rồi gửi kho bạc.")
        % {"id": new},
    )
    return redirect("autopay-authorization", pk=new.pk)
