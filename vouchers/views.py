"""Browser pages of vouchers and budgets. Thin: each page reads through the
selectors, each action is a POST form calling one service; the rules live there.
A service's refusal (ApplicationError) is shown on the page as its sentence."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F, Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors as account_selectors
from accounts.models import TREASURY_ROLES, UNIT_ROLES, Role, SigningKeyStatus
from payments.selectors import budget as budget_selectors
from payments.services import budget as budget_services
from treasury_portal import charts
from treasury_portal.amount_words import amount_in_words_for_reader
from treasury_portal.errors import ApplicationError, NotFound
from treasury_portal.errors import PermissionDenied as AppPermissionDenied
from treasury_portal.money import format_money
from treasury_portal.pages import role_required, treasury_admin_required
from vouchers import policy, selectors
from vouchers import services as voucher_services
from vouchers.forms import (
    MAX_LINES,
    AllocationLineForm,
    AllocationUploadForm,
    ApproveForm,
    AttachmentForm,
    BudgetFilterForm,
    NoteForm,
    PassForm,
    QueueFilterForm,
    RatingForm,
    ReassignForm,
    RefuseForm,
    ReleaseForm,
    ReturnExceptionForm,
    ReturnForm,
    SendBackForm,
    SignForm,
    TransitionForm,
    VoucherFilterForm,
    VoucherForm,
    VoucherLineFormSet,
)
from vouchers.models import DocumentKind, ReasonKind, Voucher, VoucherLine, VoucherStatus

PAGE_SIZE = 50
MAX_PAGE = 10_000
# Up to this many units are offered as a select; beyond it, a box for the unit code.
UNIT_SELECT_LIMIT = 100


# --- shared helpers -------------------------------------------------------------


@dataclass
class Page:
    """One page of rows without a COUNT(*): a page size + 1 fetch tells whether
    there is a next page, so the cost of a page never depends on the table's size."""

    rows: list
    number: int
    has_previous: bool
    has_next: bool
    query: str


def paginate(request: HttpRequest, queryset: Any, size: int | None = None) -> Page:
    size = size or PAGE_SIZE
    try:
        number = min(max(1, int(request.GET.get("page", "1"))), MAX_PAGE)
    except ValueError:
        number = 1
    offset = (number - 1) * size
    rows = list(queryset[offset : offset + size + 1])
    params = request.GET.copy()
    params.pop("page", None)
    return Page(rows[:size], number, number > 1, len(rows) > size, params.urlencode())


def _unit_options(user: Any, roles: set[str] | None = None) -> tuple[list, list[tuple[str, str]] | None]:
    """The units the user sees (at most UNIT_SELECT_LIMIT + 1 read) and the
    filter's choices, or None when there are too many to list."""
    units = list(
        account_selectors.visible_units(user, roles=roles).order_by("code").only("pk", "code", "name")[
            : UNIT_SELECT_LIMIT + 1
        ]
    )
    if len(units) > UNIT_SELECT_LIMIT:
        return units, None
    return units, [(u.code, f"{u.code} – {u.name}") for u in units]


def _day_month(month_day: str) -> str:
    """ "12-25" → "25/12" (a day of every year, as people write it)."""
    month, _sep, day = str(month_day).partition("-")
    return f"{day}/{month}"


def _error_text(exc: ApplicationError) -> list[str]:
    """The service's sentence, and its line-numbered details when it gave some."""
    rows = exc.fields.get("rows") if isinstance(exc.fields, dict) else None
    return [str(r) for r in rows] if rows else []


# --- budget ---------------------------------------------------------------------


@role_required(*UNIT_ROLES, *TREASURY_ROLES)
def budget(request: HttpRequest) -> HttpResponse:
    """The unit's budget lines for a fiscal year, with usage bars and a chart by NDKT."""
    user = request.user
    units, unit_choices = _unit_options(user)
    this_year = timezone.localdate().year
    years = sorted(
        set(budget_selectors.budget_lines_visible(user).values_list("fiscal_year", flat=True).distinct())
        | {this_year},
        reverse=True,
    )
    form = BudgetFilterForm(request.GET or None, units=unit_choices, years=years)
    unit_code = units[0].code if len(units) == 1 else ""
    fiscal_year = this_year
    if form.is_bound and form.is_valid():
        unit_code = form.cleaned_data.get("unit") or unit_code
        fiscal_year = form.cleaned_data.get("fiscal_year") or this_year
    lines = budget_selectors.budget_lines_visible(user, unit=unit_code or None, fiscal_year=fiscal_year)
    page = paginate(request, lines.order_by("unit__code", "ndkt", "chapter", "sector", "id"))
    rows = [{"line": line, "usage": budget_selectors.budget_line_usage(line)} for line in page.rows]
    totals = lines.aggregate(allocated=Sum("allocated"), reserved=Sum("reserved"), spent=Sum("spent"))
    totals = {k: v or 0 for k, v in totals.items()}
    totals["available"] = totals["allocated"] - totals["reserved"] - totals["spent"]
    chart = [
        {
            "ndkt": row["ndkt"],
            "allocated": row["allocated"] or 0,
            "used": row["used"] or 0,
            "percent": min(100, ((row["used"] or 0) * 100 // row["allocated"]) if row["allocated"] else 0),
        }
        for row in lines.order_by()
        .values("ndkt")
        .annotate(allocated=Sum("allocated"), used=Sum(F("reserved") + F("spent")))
        .order_by("ndkt")
    ]
    return render(
        request,
        "vouchers/budget.html",
        {
            "form": form,
            "show_unit_filter": len(units) > 1,
            "unit": next((u for u in units if u.code == unit_code), None),
            "unit_code": unit_code,
            "fiscal_year": fiscal_year,
            "rows": rows,
            "page": page,
            "totals": totals,
            "chart": chart,
            "warn_percent": budget_selectors.WARN_PERCENT,
            "can_load": account_selectors.is_treasury_admin(user),
        },
    )


@treasury_admin_required
def budget_allocations(request: HttpRequest) -> HttpResponse:
    """Treasury administrators load allocations: one line by form, or many by CSV."""
    user = request.user
    offices = account_selectors.organisations_with_role(user, Role.ADMINISTRATOR)
    units = list(account_selectors.visible_units(user, roles={Role.ADMINISTRATOR}).order_by("code"))
    scope_choices = [(o.code, f"{o.code} – {o.name}") for o in offices]
    unit_choices = [(u.code, f"{u.code} – {u.name}") for u in units]
    this_year = timezone.localdate().year
    upload_form = AllocationUploadForm(scopes=scope_choices, initial={"fiscal_year": this_year})
    line_form = AllocationLineForm(units=unit_choices, initial={"fiscal_year": this_year, "key": uuid.uuid4().hex})
    row_errors: list[str] = []
    if request.method == "POST" and request.POST.get("form") == "csv":
        upload_form = AllocationUploadForm(request.POST, request.FILES, scopes=scope_choices)
        if upload_form.is_valid():
            scope = next(o for o in offices if o.code == upload_form.cleaned_data["scope"])
            try:
                movements = budget_services.budget_allocations_load_csv(
                    actor=user,
                    unit_or_office_scope=scope,
                    fiscal_year=upload_form.cleaned_data["fiscal_year"],
                    rows=upload_form.cleaned_data["file"].read(),
                )
            except ApplicationError as exc:
                row_errors = _error_text(exc)
                upload_form.add_error(
                    None, _("Tệp dự toán có lỗi, chưa dòng nào được nạp.") if row_errors else exc.message
                )
            else:
                messages.success(
                    request, _("Đã nạp %(count)s dòng dự toán.") % {"count": len(movements)}
                )
                return redirect("budget-allocations")
    elif request.method == "POST" and request.POST.get("form") == "line":
        line_form = AllocationLineForm(request.POST, units=unit_choices)
        if line_form.is_valid():
            data = line_form.cleaned_data
            unit = next(u for u in units if u.code == data["unit"])
            try:
                line = budget_services.budget_line_get_or_create(
                    actor=user, unit=unit, fiscal_year=data["fiscal_year"], chapter=data["chapter"],
                    sector=data["sector"], ndkt=data["ndkt"], funding_source=data["funding_source"],
                    programme=data["programme"] or "00000", budget_level=data["budget_level"], name=data["name"],
                )
                budget_services.budget_allocate(
                    actor=user, budget_line=line, amount=data["amount"], key=f"alloc-form:{data['key']}",
                    note=data["name"],
                )
            except ApplicationError as exc:
                line_form.add_error(None, exc.message)
            else:
                messages.success(request, _("Đã giao dự toán cho dòng %(line)s.") % {"line": line.classification})
                return redirect("budget-allocations")
    return render(
        request,
        "vouchers/budget_allocations.html",
        {
            "upload_form": upload_form,
            "line_form": line_form,
            "row_errors": row_errors,
            "columns": budget_services.CSV_COLUMNS,
        },
    )


# --- the public catalogue ----------------------------------------------------------


def procedure_catalogue(request: HttpRequest) -> HttpResponse:
    """Public: the procedures in force today, and the versions announced for later."""
    today = selectors.local_today()
    kinds = dict(DocumentKind.choices)

    def describe(procedure: Any, version: Any) -> dict:
        return {
            "procedure": procedure,
            "version": version,
            "name": selectors.localized(procedure, "name"),
            "documents": [
                {
                    "label": kinds.get(req.kind, req.kind),
                    "condition": selectors.requirement_condition(req),
                    "note": selectors.localized(req, "note"),
                }
                for req in version.documents.all()
            ],
            "checklist": [selectors.localized(item, "text") for item in version.checklist.all()],
            "peaks": [_day_month(a) + "–" + _day_month(b) for a, b in (version.peak_periods or [])],
        }

    in_force = [describe(p, v) for p, v in selectors.procedures_in_force(today)]
    upcoming = [describe(p, v) for p, v in selectors.procedures_upcoming(today)]
    return render(
        request, "vouchers/procedure_catalogue.html", {"today": today, "in_force": in_force, "upcoming": upcoming}
    )


# --- lists --------------------------------------------------------------------------


def _procedure_choices() -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for procedure, _version in selectors.procedures_in_force(filed_only=True):
        seen.setdefault(procedure.code, f"{procedure.code} – {selectors.localized(procedure, 'name')}")
    return list(seen.items())


def _list_rows(vouchers: list, now: Any) -> list[dict]:
    return [{"v": v, "due": selectors.due_state(v, now)} for v in vouchers]


@role_required(*UNIT_ROLES, *TREASURY_ROLES)
def voucher_list(request: HttpRequest) -> HttpResponse:
    """The unit's vouchers, newest first, filtered and paginated."""
    user = request.user
    units, unit_choices = _unit_options(user)
    form = VoucherFilterForm(request.GET or None, procedures=_procedure_choices(), units=unit_choices)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    vouchers = selectors.voucher_list(
        user,
        status=filters.get("status") or None,
        unit=filters.get("unit") or None,
        procedure=filters.get("procedure") or None,
    )
    if filters.get("date_from"):
        vouchers = vouchers.filter(created_at__date__gte=filters["date_from"])
    if filters.get("date_to"):
        vouchers = vouchers.filter(created_at__date__lte=filters["date_to"])
    page = paginate(request, vouchers)
    return render(
        request,
        "vouchers/voucher_list.html",
        {
            "form": form,
            "page": page,
            "rows": _list_rows(page.rows, timezone.now()),
            "can_create": account_selectors.has_role(user, *UNIT_ROLES),
            "show_unit": len(units) > 1,
        },
    )


@role_required(Role.CONTROL_OFFICER, Role.APPROVER)
def review_queue(request: HttpRequest) -> HttpResponse:
    """Officers: what awaits control; approvers: what awaits approval. Oldest due first."""
    user = request.user
    _units, unit_choices = _unit_options(user, roles={Role.CONTROL_OFFICER, Role.APPROVER})
    statuses = []
    if account_selectors.has_role(user, Role.CONTROL_OFFICER):
        statuses += [VoucherStatus.SUBMITTED, VoucherStatus.IN_CONTROL]
    if account_selectors.has_role(user, Role.APPROVER):
        statuses.append(VoucherStatus.PENDING_APPROVAL)
    form = QueueFilterForm(
        request.GET or None,
        units=unit_choices,
        procedures=_procedure_choices(),
        statuses=[(s.value, s.label) for s in statuses],
    )
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    is_leader = account_selectors.has_role(user, Role.APPROVER)
    # Leaders: the vouchers escalated to them (overdue or due soon, any status running).
    escalated = is_leader and request.GET.get("escalated") == "1"
    if escalated:
        vouchers = selectors.escalated_vouchers(user)
    else:
        vouchers = selectors.review_queue(
            user,
            unit=filters.get("unit") or None,
            procedure=filters.get("procedure") or None,
            status=filters.get("status") or None,
            due_before=filters.get("due_before") or None,
        )
    page = paginate(request, vouchers)
    now = timezone.now()
    rows = _list_rows(page.rows, now)
    return render(
        request,
        "vouchers/review_queue.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "overdue_on_page": sum(1 for r in rows if r["due"] == "overdue"),
            "near_on_page": sum(1 for r in rows if r["due"] == "near"),
            "due_chart": _queue_due_chart(user, now),
            "is_leader": is_leader,
            "escalated": escalated,
        },
    )


def _queue_due_chart(user: Any, now: Any) -> charts.BarChart:
    profile = selectors.queue_profile(user, now)
    queue = reverse("review-queue")
    today = timezone.localdate(now).isoformat()
    return charts.bar_chart(
        "queue-due",
        _("Cả hàng đợi theo hạn xử lý"),
        _("%(total)s chứng từ: %(overdue)s quá hạn, %(soon)s đến hạn trong 8 giờ, %(later)s còn hạn.") % profile,
        [
            charts.Bar(_("Quá hạn"), profile["overdue"], "danger", f"{queue}?due_before={today}"),
            charts.Bar(_("Đến hạn trong 8 giờ"), profile["soon"], "warn"),
            charts.Bar(_("Còn hạn"), profile["later"], "ok"),
        ],
    )


# --- drafting: create and edit -------------------------------------------------------

LINE_PREFIX = "lines"
PAYEE_FIELDS = {"payee.name": "payee_name", "payee.account_number": "payee_account", "payee.bank_code": "payee_bank"}


def _drafting_units(user: Any) -> list:
    return list(account_selectors.visible_units(user, roles=set(UNIT_ROLES)).order_by("code"))


def _deposit_accounts(user: Any, unit: Any) -> list:
    from payments.models import AccountKind
    from payments.selectors.ledger import accounts_visible

    return list(accounts_visible(user, unit=unit.code, kind=AccountKind.DEPOSIT))


@dataclass
class DraftingChoices:
    """What the voucher form offers, read once through the selectors."""

    procedures: dict[str, Any]
    banks: dict[str, Any]
    budget_lines: dict[int, Any]
    deposit_accounts: dict[int, Any]
    advances: dict[int, Any]

    def form_kwargs(self) -> dict:
        return {
            "procedures": [
                (value, f"{p.code}{' – ' + p.get_mode_display() if p.mode else ''}: {selectors.localized(p, 'name')}")
                for value, p in self.procedures.items()
            ],
            "banks": [(code, f"{code} – {b.name}") for code, b in self.banks.items()],
            "bank_aliases": self.bank_aliases(),
            "deposit_accounts": [
                (pk, _("%(account)s (số dư %(balance)s)") % {"account": a.number, "balance": format_money(a.balance)})
                for pk, a in self.deposit_accounts.items()
            ],
            "advances": [
                (pk, _("%(number)s (còn %(amount)s)") % {
                    "number": v.number, "amount": format_money(v.total_amount - v.settled_amount)})
                for pk, v in self.advances.items()
            ],
        }

    def bank_aliases(self) -> dict[str, str]:
        """Each bank's BIN, BIC (and its head-office form …XXX) and short code, in
        upper case, → its short code: the form accepts any of them."""
        aliases: dict[str, str] = {}
        for code, bank in self.banks.items():
            names = [bank.bin, bank.bic, f"{bank.bic}XXX" if len(bank.bic) == 8 else ""]  # noqa: PLR2004
            aliases.update({name.upper(): code for name in names if name})
        aliases.update({code.upper(): code for code in self.banks})
        return aliases

    def bank(self, identifier: str) -> Any:
        """The bank a form value names (any of its identifiers), or None."""
        return self.banks.get(self.bank_aliases().get((identifier or "").strip().upper(), identifier or ""))

    def line_choices(self) -> list[tuple[int, str]]:
        return [
            (pk, _("%(line)s (khả dụng %(available)s)") % {
                "line": f"{bl.classification} · {bl.name or bl.ndkt}", "available": format_money(bl.available)})
            for pk, bl in self.budget_lines.items()
        ]


def _drafting_choices(user: Any, unit: Any, fiscal_year: int, *, procedure_code: str | None = None) -> DraftingChoices:
    procedures = {
        f"{p.code}|{p.mode}": p
        for p, _v in selectors.procedures_in_force(filed_only=True)
        if procedure_code is None or p.code == procedure_code
    }
    lines = budget_selectors.budget_lines_visible(user, unit=unit, fiscal_year=fiscal_year).order_by("ndkt", "id")
    return DraftingChoices(
        procedures=procedures,
        banks={b.code: b for b in selectors.banks()},
        budget_lines={bl.pk: bl for bl in lines},
        deposit_accounts={a.pk: a for a in _deposit_accounts(user, unit)},
        advances={v.pk: v for v in selectors.outstanding_advances(unit.pk)},
    )


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _fiscal_year_of(request: HttpRequest, default: int) -> int:
    year = _as_int(request.POST.get("fiscal_year") or request.GET.get("fiscal_year"))
    return year if year and 2000 <= year <= 2100 else default


def _forms_for(
    request: HttpRequest, choices: DraftingChoices, *, initial: dict, lines_initial: list, bound: bool = True
) -> tuple:
    """The header form and the lines formset: bound to the POST, except for
    "add a line", which shows the same values again with one more empty row."""
    kwargs = choices.form_kwargs()
    line_choices = choices.line_choices()
    if not bound:
        return (
            VoucherForm(initial=initial, **kwargs),
            VoucherLineFormSet(initial=lines_initial, prefix=LINE_PREFIX, budget_lines=line_choices),
        )
    if request.method == "POST" and "add_line" not in request.POST:
        form = VoucherForm(request.POST, initial=initial, **kwargs)
        formset = VoucherLineFormSet(request.POST, prefix=LINE_PREFIX, budget_lines=line_choices)
        return form, formset
    if request.method == "POST":  # add a line: the values again, unvalidated
        data = request.POST
        initial = {name: data.get(name) for name in VoucherForm.base_fields if data.get(name) is not None}
        count = min(_as_int(data.get(f"{LINE_PREFIX}-TOTAL_FORMS")) or 0, MAX_LINES)
        lines_initial = [
            {f: data.get(f"{LINE_PREFIX}-{i}-{f}", "") for f in ("budget_line", "amount", "description")}
            for i in range(count)
            if not data.get(f"{LINE_PREFIX}-{i}-DELETE")
        ]
    form = VoucherForm(initial=initial, **kwargs)
    formset = VoucherLineFormSet(initial=lines_initial, prefix=LINE_PREFIX, budget_lines=line_choices)
    return form, formset


def _kept_line_forms(formset: Any) -> list:
    return [f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]


def _service_payload(form: Any, formset: Any) -> dict:
    data = form.cleaned_data
    code, _sep, mode = data["procedure"].partition("|")
    payload: dict[str, Any] = {
        "procedure": code,
        "mode": mode,
        "description": data["description"],
        "payee": {
            "name": data["payee_name"],
            "account_number": data["payee_account"],
            "bank_code": data["payee_bank"],
        },
        "lines": formset.lines(),
        "contract_number": data.get("contract_number") or "",
        "contract_value": data.get("contract_value"),
    }
    if data.get("deposit_account"):
        payload["deposit_account"] = int(data["deposit_account"])
    if data.get("settles"):
        payload["settles"] = int(data["settles"])
    return payload


def _show_service_errors(exc: ApplicationError, form: Any, formset: Any) -> None:
    """A service's field errors next to their fields; the sentence on top."""
    kept = _kept_line_forms(formset)
    shown = False
    for key, errors in (exc.fields or {}).items():
        text = " ".join(str(e) for e in errors) if isinstance(errors, list | tuple) else str(errors)
        name = PAYEE_FIELDS.get(key, key)
        if key.startswith("lines[") and "]." in key:
            index, field = _as_int(key[6 : key.index("]")]), key.split("].", 1)[1]
            if index is not None and index < len(kept) and field in kept[index].fields:
                kept[index].add_error(field, text)
                shown = True
        elif name in form.fields and name not in {"procedure"}:
            form.add_error(name, text)
            shown = True
    form.add_error(None, _("Chưa lưu được chứng từ: %(reason)s") % {"reason": exc.message} if shown else exc.message)


def _attach_if_given(request: HttpRequest, voucher: Any, form: Any) -> bool:
    """Store the attachment of `form` if a file was given; errors go on the form."""
    if not form.is_valid():
        return False
    try:
        voucher_services.attachment_add(
            actor=request.user, voucher=voucher, file=form.cleaned_data["file"], kind=form.cleaned_data["kind"]
        )
    except ApplicationError as exc:
        form.add_error("file", exc.message)
        return False
    return True


@role_required(*UNIT_ROLES)
def voucher_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = _drafting_units(user)
    if not units:
        raise Http404
    unit = next((u for u in units if u.code == (request.POST.get("unit") or request.GET.get("unit"))), units[0])
    this_year = timezone.localdate().year
    fiscal_year = _fiscal_year_of(request, this_year)
    choices = _drafting_choices(user, unit, fiscal_year)
    form, formset = _forms_for(request, choices, initial={"fiscal_year": fiscal_year}, lines_initial=[])
    attachment_form = AttachmentForm(prefix="att", use_required_attribute=False)
    if request.method == "POST" and "add_line" not in request.POST:
        has_file = bool(request.FILES.get("att-file"))
        if has_file:
            attachment_form = AttachmentForm(request.POST, request.FILES, prefix="att")
        if form.is_valid() and formset.is_valid() and (not has_file or attachment_form.is_valid()):
            payload = _service_payload(form, formset)
            try:
                voucher = voucher_services.voucher_create(
                    actor=user, unit=unit, fiscal_year=form.cleaned_data["fiscal_year"], **payload
                )
            except ApplicationError as exc:
                _show_service_errors(exc, form, formset)
            else:
                if has_file and not _attach_if_given(request, voucher, attachment_form):
                    messages.warning(
                        request,
                        _("Đã lưu nháp %(number)s, nhưng chưa đính kèm được tệp: %(reason)s")
                        % {"number": voucher.number, "reason": " ".join(attachment_form.errors.get("file", []))},
                    )
                else:
                    messages.success(request, _("Đã lưu nháp chứng từ %(number)s.") % {"number": voucher.number})
                return redirect("voucher-edit", pk=voucher.pk)
    return render(
        request,
        "vouchers/voucher_form.html",
        {
            "form": form,
            "formset": formset,
            "attachment_form": attachment_form,
            "unit": unit,
            "units": units,
            "voucher": None,
            "preflight_url": reverse("voucher-create-preflight"),
        },
    )


@role_required(*UNIT_ROLES)
def voucher_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a draft or returned voucher, and manage its attachments."""
    user = request.user
    voucher = selectors.access_voucher(user, pk)
    allowed = selectors.voucher_allowed_actions(user, voucher)
    if "update" not in allowed:
        messages.info(request, _("Chứng từ này không còn sửa được."))
        return redirect("voucher-detail", pk=voucher.pk)
    choices = _drafting_choices(user, voucher.unit, voucher.fiscal_year, procedure_code=voucher.procedure.code)
    initial = {
        "procedure": f"{voucher.procedure.code}|{voucher.procedure.mode}",
        "fiscal_year": voucher.fiscal_year,
        "description": voucher.description,
        "payee_name": voucher.payee_name,
        "payee_account": voucher.payee_account,
        "payee_bank": voucher.payee_bank.code if voucher.payee_bank_id else "",
        "contract_number": voucher.contract_number,
        "contract_value": voucher.contract_value,
        "deposit_account": voucher.deposit_account_id or "",
        "settles": voucher.settles_id or "",
    }
    lines_initial = [
        {"budget_line": line.budget_line_id, "amount": line.amount, "description": line.description}
        for line in voucher.lines.all()
    ]
    action = request.POST.get("action", "save") if request.method == "POST" else ""
    attachment_form = AttachmentForm(prefix="att", use_required_attribute=False)
    if action == "attach":
        attachment_form = AttachmentForm(request.POST, request.FILES, prefix="att")
        if _attach_if_given(request, voucher, attachment_form):
            messages.success(request, _("Đã đính kèm tệp. Các chữ ký trước đó (nếu có) không còn hiệu lực."))
            return redirect(reverse("voucher-edit", kwargs={"pk": voucher.pk}) + "#attachments")
    elif action == "detach":
        voucher_services.attachment_remove(
            actor=user, voucher=voucher, attachment_id=_as_int(request.POST.get("attachment")) or 0
        )
        messages.success(request, _("Đã gỡ tệp đính kèm."))
        return redirect(reverse("voucher-edit", kwargs={"pk": voucher.pk}) + "#attachments")
    form, formset = _forms_for(
        request, choices, initial=initial, lines_initial=lines_initial, bound=action in ("", "save")
    )
    form.fields["fiscal_year"].disabled = True
    if request.method == "POST" and action == "save" and "add_line" not in request.POST:
        if form.is_valid() and formset.is_valid():
            payload = _service_payload(form, formset)
            payload.pop("procedure")
            if not payload["mode"]:
                payload.pop("mode")
            try:
                voucher_services.voucher_update(actor=user, voucher=voucher, data=payload)
            except ApplicationError as exc:
                _show_service_errors(exc, form, formset)
            else:
                messages.success(request, _("Đã lưu chứng từ %(number)s.") % {"number": voucher.number})
                return redirect("voucher-edit", pk=voucher.pk)
    return render(
        request,
        "vouchers/voucher_form.html",
        {
            "form": form,
            "formset": formset,
            "attachment_form": attachment_form,
            "unit": voucher.unit,
            "units": [voucher.unit],
            "voucher": voucher,
            "preflight": selectors.voucher_preflight(voucher),
            "preflight_url": reverse("voucher-preflight", kwargs={"pk": voucher.pk}),
        },
    )


def _preview(user: Any, unit: Any, base: Any, choices: DraftingChoices, form: Any, formset: Any) -> Any:
    """An unsaved copy of the voucher as the form now describes it, so the
    backend's voucher_preflight can judge it before anything is saved."""
    form.is_valid()
    formset.is_valid()
    data = getattr(form, "cleaned_data", {})
    value = data.get("procedure") or (f"{base.procedure.code}|{base.procedure.mode}" if base else "")
    procedure = choices.procedures.get(value)
    if procedure is None:
        return None
    lines = []
    for position, line_form in enumerate(formset.forms):
        cd = getattr(line_form, "cleaned_data", {}) or {}
        budget_line = choices.budget_lines.get(cd.get("budget_line"))
        if budget_line is None or not cd.get("amount") or cd.get("DELETE"):
            continue
        lines.append(
            VoucherLine(budget_line=budget_line, amount=cd["amount"], description=cd.get("description", ""),
                        position=position)
        )
    bank = choices.bank(data.get("payee_bank") or "")
    preview = Voucher(
        pk=base.pk if base else 0,  # never saved: a stand-in key for the related lists below
        number=base.number if base else "",
        unit=unit,
        procedure=procedure,
        procedure_version=base.procedure_version if base else None,
        mode=procedure.mode or "payment",
        fiscal_year=base.fiscal_year if base else (data.get("fiscal_year") or timezone.localdate().year),
        description=data.get("description", ""),
        payee_name=data.get("payee_name", ""),
        payee_account=data.get("payee_account", ""),
        payee_bank=bank,
        deposit_account=choices.deposit_accounts.get(_as_int(data.get("deposit_account"))),
        settles=choices.advances.get(_as_int(data.get("settles"))),
        contract_number=data.get("contract_number") or "",
        contract_value=data.get("contract_value"),
        total_amount=sum(line.amount for line in lines),
        status=base.status if base else VoucherStatus.DRAFT,
        due_at=base.due_at if base else None,
        returned_at=base.returned_at if base else None,
        created_by=user,
    )
    preview._prefetched_objects_cache = {  # type: ignore[attr-defined]
        "lines": lines,
        "attachments": list(base.attachments.all()) if base else [],
        "signatures": list(base.signatures.all()) if base else [],
    }
    return preview


def _preflight_response(request: HttpRequest, preview: Any) -> HttpResponse:
    preflight = selectors.voucher_preflight(preview) if preview is not None else None
    return render(request, "vouchers/_preflight.html", {"preflight": preflight, "live": True})


@role_required(*UNIT_ROLES)
def voucher_create_preflight(request: HttpRequest) -> HttpResponse:
    """htmx: the preflight panel for the new voucher as the form stands."""
    units = _drafting_units(request.user)
    if not units:
        raise Http404
    unit = next((u for u in units if u.code == request.POST.get("unit")), units[0])
    choices = _drafting_choices(request.user, unit, _fiscal_year_of(request, timezone.localdate().year))
    form, formset = _forms_for(request, choices, initial={}, lines_initial=[])
    if request.method != "POST":
        return _preflight_response(request, None)
    return _preflight_response(request, _preview(request.user, unit, None, choices, form, formset))


@role_required(*UNIT_ROLES)
def voucher_preflight(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx: the preflight panel for this voucher, with the form's unsaved changes."""
    voucher = selectors.access_voucher(request.user, pk)
    if request.method != "POST":
        return render(request, "vouchers/_preflight.html", {"preflight": selectors.voucher_preflight(voucher)})
    choices = _drafting_choices(request.user, voucher.unit, voucher.fiscal_year, procedure_code=voucher.procedure.code)
    form, formset = _forms_for(request, choices, initial={}, lines_initial=[])
    return _preflight_response(request, _preview(request.user, voucher.unit, voucher, choices, form, formset))


# --- the voucher page --------------------------------------------------------------

ACTION_LABELS = {
    "create": gettext_lazy("Lập chứng từ"),
    "update": gettext_lazy("Sửa nội dung"),
    "attach": gettext_lazy("Đính kèm tài liệu"),
    "detach": gettext_lazy("Gỡ tài liệu"),
    "sign": gettext_lazy("Ký số"),
    "submit": gettext_lazy("Gửi kho bạc"),
    "withdraw": gettext_lazy("Rút chứng từ"),
    "claim": gettext_lazy("Nhận kiểm soát"),
    "return": gettext_lazy("Trả lại để bổ sung"),
    "return_exception": gettext_lazy("Ghi nhận ngoại lệ trả lại thêm lần"),
    "pass": gettext_lazy("Kiểm soát đạt, trình phê duyệt"),
    "refuse": gettext_lazy("Từ chối"),
    "approve": gettext_lazy("Phê duyệt"),
    "send_back": gettext_lazy("Chuyển lại cán bộ kiểm soát"),
    "release": gettext_lazy("Trả về hàng chờ kiểm soát"),
    "reassign": gettext_lazy("Giao cán bộ kiểm soát khác"),
    "delegate": gettext_lazy("Người thay nhận chứng từ của cán bộ vắng mặt"),
    "escalate": gettext_lazy("Báo lãnh đạo đôn đốc"),
    "pay": gettext_lazy("Đã thanh toán"),
    "fail_payment": gettext_lazy("Thanh toán lỗi"),
    "bank_reject": gettext_lazy("Ngân hàng từ chối chuyển tiền"),
    "retry_payment": gettext_lazy("Thanh toán lại"),
    "rate": gettext_lazy("Đánh giá mức độ hài lòng"),
    "year_end_carry": gettext_lazy("Khóa sổ năm: chuyển sang năm ngân sách sau"),
    "year_end_refuse": gettext_lazy("Khóa sổ năm: từ chối"),
}
FIELD_LABELS = {
    "description": gettext_lazy("Nội dung chi"),
    "payee.name": gettext_lazy("Đơn vị nhận tiền"),
    "payee.account_number": gettext_lazy("Tài khoản nhận"),
    "payee.bank_code": gettext_lazy("Ngân hàng nhận"),
    "contract.number": gettext_lazy("Số hợp đồng"),
    "contract.value": gettext_lazy("Giá trị hợp đồng"),
    "total_amount": gettext_lazy("Tổng số tiền"),
    "attachments": gettext_lazy("Tài liệu đính kèm"),
    "deposit_account": gettext_lazy("Tài khoản tiền gửi"),
    "settles": gettext_lazy("Khoản tạm ứng"),
    "mode": gettext_lazy("Hình thức"),
}


def _change_rows(changes: list[dict]) -> list[dict]:
    """The backend's field-by-field differences, labelled for people."""
    rows = []
    for change in changes:
        field = change["field"]
        label = FIELD_LABELS.get(field)
        if label is None and field.startswith("lines["):
            index = _as_int(field[6 : field.index("]")]) if "]" in field else None
            part = field.split("].", 1)[1] if "]." in field else ""
            label = _("Dòng %(n)s: %(part)s") % {"n": (index or 0) + 1, "part": part}
        before, after = change.get("before"), change.get("after")
        if field == "attachments":
            before = before and f"{before.get('name')} ({before.get('sha256', '')[:12]}…)"
            after = after and f"{after.get('name')} ({after.get('sha256', '')[:12]}…)"
        rows.append({"label": label or field, "before": before, "after": after, "money": field.endswith("amount")})
    return rows


ESCALATION_LABELS = {"overdue": gettext_lazy("quá hạn"), "near": gettext_lazy("sắp đến hạn")}


def _event_label(e: Any) -> str:
    """The action's name; a hand-over names the new holder, an escalation its reason."""
    label = str(ACTION_LABELS.get(e.action, e.action))
    if e.action == "reassign" and e.data.get("to_name"):
        return f"{label}: {e.data['to_name']}"
    if e.action == "delegate" and e.data.get("to_name"):
        return f"{label}: {e.data.get('from_name', '')} → {e.data['to_name']}"
    if e.action == "escalate" and e.data.get("state") in ESCALATION_LABELS:
        return f"{label} ({ESCALATION_LABELS[e.data['state']]})"
    return label


def _timeline(voucher: Any) -> list[dict]:
    statuses = dict(VoucherStatus.choices)
    return [
        {
            "event": e,
            "label": _event_label(e),
            "from": statuses.get(e.from_status, ""),
            "to": statuses.get(e.to_status, ""),
            "items": e.data.get("deficiencies") or e.data.get("reasons") or [],
            "explanation": e.data.get("explanation", ""),
        }
        for e in selectors.voucher_timeline(voucher)
    ]


def _has_payments_result() -> bool:
    """The payments engineer's result section, once it exists."""
    try:
        get_template("payments/_voucher_result.html")
    except TemplateDoesNotExist:
        return False
    return True


def _reason_choices(kind: str) -> list[tuple[str, str]]:
    return [(r.code, f"{r.code} – {selectors.localized(r, 'text')}") for r in selectors.reason_codes(kind)]


def _action_forms(voucher: Any, allowed: set[str], bound: dict | None = None, user: Any = None) -> dict:
    """An unbound form for each action the user may take (the one just posted, bound)."""
    bound = bound or {}
    forms: dict[str, Any] = {}
    for action in allowed & set(ACTIONS):
        if action in bound:
            forms[action] = bound[action]
            continue
        form_class = ACTIONS[action][0]
        forms[action] = form_class(**_form_kwargs(action, voucher, user))
    return forms


def _form_kwargs(action: str, voucher: Any, user: Any = None) -> dict:
    if action == "return":
        return {"reasons": _reason_choices(ReasonKind.DEFICIENCY), "prefix": "return"}
    if action == "refuse":
        return {"reasons": _reason_choices(ReasonKind.REFUSAL), "prefix": "refuse"}
    if action == "reassign":
        officers = [(u.username, u.get_full_name() or u.username)
                    for u in selectors.reassign_candidates(voucher, user)] if user else []
        return {"officers": officers, "prefix": "reassign"}
    if action == "pass":
        version = voucher.procedure_version
        items = version.checklist.all() if version else []
        return {"checklist": [(i.code, selectors.localized(i, "text")) for i in items], "prefix": "pass"}
    return {"prefix": action}


def _voucher_facts(voucher: Any) -> dict:
    """What every page about one voucher shows: its lines, documents and amount in words."""
    return {
        "voucher": voucher,
        "lines": list(voucher.lines.all()),
        "attachments": list(voucher.attachments.all()),
        "amount_in_words": amount_in_words_for_reader(voucher.total_amount),
    }


def _panels(request: HttpRequest, voucher: Any) -> list[str]:
    """What other apps show on a voucher's page above the decision (risk alerts…):
    settings.VOUCHER_PAGE_PANELS names functions (request, voucher) -> HTML, so
    this app knows them only by name and never imports them."""
    panels = []
    for dotted in getattr(settings, "VOUCHER_PAGE_PANELS", ()):
        html = import_string(dotted)(request, voucher)
        if html:
            panels.append(mark_safe(html))  # noqa: S308 - rendered by the panel's own template
    return panels


def _detail_context(request: HttpRequest, voucher: Any, bound_forms: dict | None = None) -> dict:
    user = request.user
    allowed = selectors.voucher_allowed_actions(user, voucher)
    checks = selectors.signature_checks(voucher, include_voided=True)
    live = {c["role"]: c for c in checks if c["voided_at"] is None}
    due = selectors.due_state(voucher)
    return {
        **_voucher_facts(voucher),
        "holder": selectors.voucher_holder(voucher),
        "holder_absence": selectors.holder_absence(voucher),
        "due": due,
        "is_late": due == "overdue",
        "signatures": [c for c in checks if c["voided_at"] is None],
        "voided_signatures": [c for c in checks if c["voided_at"] is not None],
        "chief_signed": bool(live.get(Role.CHIEF_ACCOUNTANT)),
        "holder_signed": bool(live.get(Role.ACCOUNT_HOLDER)),
        "timeline": _timeline(voucher),
        "changes": _change_rows(selectors.voucher_changes_since_return(voucher)) if voucher.return_count else [],
        "allowed": allowed,
        "forms": _action_forms(voucher, allowed, bound_forms, user),
        "preflight": selectors.voucher_preflight(voucher) if allowed & {"update", "sign"} else None,
        "has_payments_result": _has_payments_result(),
        "panels": _panels(request, voucher),
        "is_unit_member": account_selectors.user_has_unit_role(user, voucher.unit, *UNIT_ROLES),
        "has_unused_exception": voucher.return_exceptions.filter(used_at__isnull=True).exists()
        if voucher.return_count
        else False,
        # The holder would return it but for "return only once" (vouchers.policy says why the button is missing).
        "return_used_up": policy.return_used_up(user, voucher, allowed),
    }


@login_required
def voucher_detail(request: HttpRequest, pk: int) -> HttpResponse:
    voucher = selectors.access_voucher(request.user, pk)
    return render(request, "vouchers/voucher_detail.html", _detail_context(request, voucher))


@login_required
@require_GET
def voucher_signatures(request: HttpRequest, pk: int) -> HttpResponse:
    """Verify every signature again now (anyone who may see the voucher may)."""
    voucher = selectors.access_voucher(request.user, pk)
    checks = selectors.signature_checks(voucher, include_voided=True)
    return render(
        request,
        "vouchers/_signatures.html" if request.htmx else "vouchers/voucher_signatures.html",
        {
            "voucher": voucher,
            "content_hash": selectors.voucher_content_hash(voucher),
            "signatures": [c for c in checks if c["voided_at"] is None],
            "voided_signatures": [c for c in checks if c["voided_at"] is not None],
            "verified_now": timezone.now(),
        },
    )


@login_required
@require_GET
def voucher_attachment(request: HttpRequest, pk: int, att_id: int) -> FileResponse:
    """An attachment, only through this permission-checked view (never by URL)."""
    attachment = selectors.access_attachment(request.user, pk, att_id)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    response["Cache-Control"] = "private, no-store"
    return response


# Each action: its form, the roles that may post it, and the one service it calls.
ACTIONS: dict[str, tuple[type, frozenset[str], Callable[..., Any], Any]] = {
    "submit": (
        TransitionForm, frozenset({Role.ACCOUNT_HOLDER}),
        lambda actor, voucher, cd: voucher_services.voucher_submit(actor=actor, voucher=voucher),
        gettext_lazy("Đã gửi chứng từ đến kho bạc."),
    ),
    "withdraw": (
        NoteForm, frozenset(UNIT_ROLES),
        lambda actor, voucher, cd: voucher_services.voucher_withdraw(actor=actor, voucher=voucher, note=cd["note"]),
        gettext_lazy("Đã rút chứng từ; số tiền giữ chỗ đã được giải phóng."),
    ),
    "claim": (
        TransitionForm, frozenset({Role.CONTROL_OFFICER}),
        lambda actor, voucher, cd: voucher_services.voucher_claim(
            actor=actor, voucher=voucher, explanation=cd["explanation"]
        ),
        gettext_lazy("Bạn đã nhận kiểm soát chứng từ."),
    ),
    "return": (
        ReturnForm, frozenset({Role.CONTROL_OFFICER}),
        lambda actor, voucher, cd: voucher_services.voucher_return_for_supplement(
            actor=actor, voucher=voucher, deficiencies=cd["items"], explanation=cd["explanation"]
        ),
        gettext_lazy("Đã trả lại chứng từ để đơn vị bổ sung."),
    ),
    "pass": (
        PassForm, frozenset({Role.CONTROL_OFFICER}),
        lambda actor, voucher, cd: voucher_services.voucher_pass(
            actor=actor, voucher=voucher, note=cd["note"], checklist=cd["checklist"], explanation=cd["explanation"]
        ),
        gettext_lazy("Kiểm soát đạt: đã trình lãnh đạo phê duyệt."),
    ),
    "refuse": (
        RefuseForm, frozenset({Role.CONTROL_OFFICER}),
        lambda actor, voucher, cd: voucher_services.voucher_refuse(
            actor=actor, voucher=voucher, reasons=cd["items"], explanation=cd["explanation"]
        ),
        gettext_lazy("Đã từ chối chứng từ."),
    ),
    "approve": (
        ApproveForm, frozenset({Role.APPROVER}),
        lambda actor, voucher, cd: voucher_services.voucher_approve(
            actor=actor, voucher=voucher, note=cd["note"], explanation=cd["explanation"]
        ),
        gettext_lazy("Đã phê duyệt chứng từ."),
    ),
    "send_back": (
        SendBackForm, frozenset({Role.APPROVER}),
        lambda actor, voucher, cd: voucher_services.voucher_send_back(
            actor=actor, voucher=voucher, note=cd["note"], explanation=cd["explanation"]
        ),
        gettext_lazy("Đã chuyển lại cán bộ kiểm soát."),
    ),
    "release": (
        ReleaseForm, frozenset({Role.CONTROL_OFFICER}),
        lambda actor, voucher, cd: voucher_services.voucher_release(actor=actor, voucher=voucher, note=cd["note"]),
        gettext_lazy("Đã trả chứng từ về hàng chờ kiểm soát của kho bạc."),
    ),
    "reassign": (
        ReassignForm, frozenset({Role.APPROVER}),
        lambda actor, voucher, cd: voucher_services.voucher_reassign(
            actor=actor, voucher=voucher, officer=cd["officer"], note=cd["note"]
        ),
        gettext_lazy("Đã giao chứng từ cho cán bộ kiểm soát khác."),
    ),
    "return_exception": (
        ReturnExceptionForm, frozenset({Role.APPROVER}),
        lambda actor, voucher, cd: voucher_services.voucher_grant_return_exception(
            actor=actor, voucher=voucher, justification=cd["justification"]
        ),
        gettext_lazy("Đã ghi nhận ngoại lệ: cán bộ kiểm soát được trả lại thêm một lần."),
    ),
    "rate": (
        RatingForm, frozenset(UNIT_ROLES),
        lambda actor, voucher, cd: voucher_services.voucher_rate(
            actor=actor, voucher=voucher, score=cd["score"], comment=cd["comment"]
        ),
        gettext_lazy("Cảm ơn bạn đã đánh giá."),
    ),
}


def _run_action(request: HttpRequest, voucher: Any, action: str, form: Any) -> int | None:
    """Call the action's one service with the form's data. None when it ran; else
    the status of the page that shows the form with the service's sentence."""
    _form_class, _roles, run, _done = ACTIONS[action]
    if not form.is_valid():
        return 400
    data = dict(form.cleaned_data)
    if hasattr(form, "coded"):
        data["items"] = form.coded()
    try:
        run(request.user, voucher, data)
    except (NotFound, AppPermissionDenied):
        raise
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        for name, errors in (exc.fields or {}).items():
            if name in form.fields and isinstance(errors, list | tuple):
                form.add_error(name, " ".join(str(e) for e in errors))
        return 409 if exc.http_status == 409 else 400
    return None


@login_required
@require_POST
def voucher_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One POST form, one service call. A refusal is shown on the voucher page."""
    form_class, roles, _run, done = ACTIONS[action]
    if not account_selectors.has_role(request.user, *roles):
        raise Http404
    voucher = selectors.access_voucher(request.user, pk)
    form = form_class(request.POST, **_form_kwargs(action, voucher, request.user))
    status = _run_action(request, voucher, action, form)
    if status is None:
        messages.success(request, str(done))
        return redirect("voucher-detail", pk=voucher.pk)
    voucher = selectors.access_voucher(request.user, pk)
    context = _detail_context(request, voucher, {action: form})
    if action not in context["forms"]:  # the action is no longer offered: say why on top
        context["action_error"] = " ".join(str(e) for e in form.non_field_errors()) or _(
            "Không thực hiện được thao tác."
        )
    return render(request, "vouchers/voucher_detail.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def voucher_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approval after a "check your answers" page (GOV.UK): the page lists what is
    being approved (amount in figures and words, payee and account, lines with
    their budget codes, documents, signatures) and has one "Confirm approval"
    button. Only that button's POST (confirm=1) calls voucher_approve, which
    checks every rule again; any other request shows the page."""
    _form_class, roles, _run, done = ACTIONS["approve"]
    if not account_selectors.has_role(request.user, *roles):
        raise Http404
    voucher = selectors.access_voucher(request.user, pk)
    form = ApproveForm(request.POST or None, **_form_kwargs("approve", voucher))
    status = 200
    if request.method == "POST" and request.POST.get("confirm") == "1":
        status = _run_action(request, voucher, "approve", form)
        if status is None:
            messages.success(request, str(done))
            return redirect("voucher-detail", pk=voucher.pk)
        voucher = selectors.access_voucher(request.user, pk)
    can_approve = "approve" in selectors.voucher_allowed_actions(request.user, voucher)
    if not can_approve and status == 200:
        messages.error(request, _("Chứng từ này không chờ bạn phê duyệt."))
        return redirect("voucher-detail", pk=voucher.pk)
    checks = selectors.signature_checks(voucher)
    due = selectors.due_state(voucher)
    return render(
        request,
        "vouchers/voucher_approve.html",
        {
            **_voucher_facts(voucher),
            "signatures": checks,
            "is_late": due == "overdue",
            "form": form,
            "can_approve": can_approve,
            "panels": _panels(request, voucher),
        },
        status=status,
    )


# --- signing ---------------------------------------------------------------------


@role_required(Role.CHIEF_ACCOUNTANT, Role.ACCOUNT_HOLDER)
def voucher_sign(request: HttpRequest, pk: int) -> HttpResponse:
    """The voucher is found (404 for others) before the fresh sign-in is asked."""
    voucher = selectors.access_voucher(request.user, pk)
    return _voucher_sign_page(request, voucher)


@reauthentication_required
def _voucher_sign_page(request: HttpRequest, voucher: Any) -> HttpResponse:
    """Signing needs a fresh re-authentication (password or TOTP, allauth); the
    browser signs the content hash with the signer's local key (signing.js)."""
    user = request.user
    keys = list(
        account_selectors.signing_keys_visible(user).filter(
            user=user, unit=voucher.unit, status=SigningKeyStatus.APPROVED
        )
    )
    form = SignForm(request.POST or None, keys=[(k.pk, f"{k.get_role_display()} · {k.label or k.fingerprint[:16]}")
                                                for k in keys])
    if request.method == "POST" and form.is_valid():
        try:
            signature = voucher_services.voucher_sign(
                actor=user, voucher=voucher, key_id=form.cleaned_data["key_id"],
                signature=form.cleaned_data["signature"],
            )
        except (NotFound, AppPermissionDenied):
            raise
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            if signature.role == Role.ACCOUNT_HOLDER:
                messages.success(request, _("Đã ký với vai trò chủ tài khoản. Bạn có thể gửi chứng từ đến kho bạc."))
            else:
                messages.success(request, _("Đã ký với vai trò kế toán trưởng."))
            return redirect("voucher-detail", pk=voucher.pk)
    return render(
        request,
        "vouchers/voucher_sign.html",
        {
            **_voucher_facts(voucher),
            "content_hash": selectors.voucher_content_hash(voucher),
            "form": form,
            "keys": keys,
            "allowed": selectors.voucher_allowed_actions(user, voucher),
        },
    )
