"""Writes of the year end (docs/ledger.md "Year end"): an office's fiscal year
(cut-off date, adjustment period), its close (the vouchers still open are
carried to the new year or refused with a reason, through the voucher
services' transitions, which the vouchers app registers:
payments.selectors.yearend.YearEndVouchers), and the budget lines of the new year
(autopay.services.authorization_roll_over rolls autopay authorizations over).

The close runs in two steps so that a large office does not hold a request:
`fiscal_year_close_start` (the administrator's decision: the vouchers to
refuse are refused at once, the row goes to `closing`) and, on commit, the
task `payments.tasks.close_fiscal_year(close_id)`, which carries the rest in
batches (`fiscal_year_close_run`; each voucher its own transaction, a carried
voucher is never carried twice) and marks the year `closed`. The beat's
`sweep_fiscal_year_closes` finishes a close whose task was lost.
"""

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, OrgKind, Role, User
from accounts.selectors import user_has_treasury_role_over
from payments.models import (
    BudgetLine,
    FiscalYearClose,
    FiscalYearCloseState,
)
from payments.selectors import yearend as selectors
from treasury_portal.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed

NOTE_MAX = 1000
CARRY_BATCH = 200


def _require_admin_over(actor: User, office: Organisation) -> None:
    if not (actor.is_superuser or user_has_treasury_role_over(actor, office, Role.ADMINISTRATOR)):
        raise PermissionDenied(_("Chỉ quản trị của kho bạc (hoặc kho bạc cấp trên) mới quản lý được khóa sổ năm."))


def _date(value: Any, name: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except (TypeError, ValueError):
        raise ValidationFailed(_("Ngày không hợp lệ."), fields={name: [_("Không hợp lệ.")]}) from None


def _lock(close: FiscalYearClose | int) -> FiscalYearClose:
    pk = close.pk if isinstance(close, FiscalYearClose) else int(close)
    try:
        return FiscalYearClose.objects.select_for_update(of=("self",)).select_related("office").get(pk=pk)
    except FiscalYearClose.DoesNotExist:
        raise NotFound() from None


def fiscal_year_close_set(
    *, actor: User, office: Organisation, year: int, cut_off: Any = None, adjustment_until: Any = None
) -> FiscalYearClose:
    """Set up (or change, while open) the office's year end for `year`: the
    cut-off date (within the year; default 31 December) and the end of the
    adjustment period (default 31 January of year+1, at most a year after)."""
    if office.kind != OrgKind.TREASURY_OFFICE:
        raise NotFound()
    _require_admin_over(actor, office)
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationFailed(_("Năm ngân sách không hợp lệ."), fields={"year": [_("Không hợp lệ.")]}) from None
    if not 2000 <= year <= 2100:
        raise ValidationFailed(_("Năm ngân sách không hợp lệ."), fields={"year": [_("Không hợp lệ.")]})
    cut = _date(cut_off, "cut_off") if cut_off not in (None, "") else selectors.default_cut_off(year)
    until = (
        _date(adjustment_until, "adjustment_until") if adjustment_until not in (None, "")
        else selectors.default_adjustment_until(year)
    )
    if cut.year != year:
        raise ValidationFailed(
            _("Ngày khóa sổ phải thuộc năm ngân sách %(year)s.") % {"year": year},
            fields={"cut_off": [_("Ngoài năm ngân sách.")]},
        )
    if not cut <= until <= date(year + 1, 12, 31):
        raise ValidationFailed(
            _("Thời gian chỉnh lý phải kết thúc sau ngày khóa sổ và không muộn hơn hết năm %(next)s.")
            % {"next": year + 1},
            fields={"adjustment_until": [_("Không hợp lệ.")]},
        )
    with transaction.atomic():
        row, created = FiscalYearClose.objects.select_for_update().get_or_create(
            office=office, year=year, defaults={"cut_off": cut, "adjustment_until": until, "created_by": actor},
        )
        if not created and (row.cut_off, row.adjustment_until) != (cut, until):
            if row.state != FiscalYearCloseState.OPEN:
                raise ApplicationError("invalid_transition", _("Năm ngân sách đã khóa sổ: không đổi được các mốc."))
            row.cut_off, row.adjustment_until = cut, until
            row.save(update_fields=["cut_off", "adjustment_until"])
    return row


def fiscal_year_close_start(
    *, actor: User, close: FiscalYearClose | int, refuse: Iterable[int] = (), note: str = "",
    today: date | None = None,
) -> FiscalYearClose:
    """The administrator closes the year (once it ended and its cut-off date passed). The vouchers
    in `refuse` (open, not yet approved) are refused now with `note`; the other
    open vouchers are carried by the task queued on commit. A repeat while
    closing or closed returns the row."""
    note = (note or "").strip()[:NOTE_MAX]
    try:
        refuse_ids = sorted({int(i) for i in refuse})
    except (TypeError, ValueError):
        raise ValidationFailed(_("Danh sách chứng từ không hợp lệ."), fields={"refuse": [_("Không hợp lệ.")]}) from None
    if refuse_ids and not note:
        raise ValidationFailed(
            _("Cần ghi lý do từ chối các chứng từ đã chọn: đơn vị sẽ nhận được lý do này."),
            fields={"note": [_("Bắt buộc khi từ chối chứng từ.")]},
        )
    vouchers = selectors.year_end_vouchers()
    with transaction.atomic():
        row = _lock(close)
        _require_admin_over(actor, row.office)
        if row.state != FiscalYearCloseState.OPEN:
            return row  # a repeat: the close is under way or done
        if not selectors.close_due(row, today):
            raise ApplicationError(
                "invalid_transition",
                _("Chưa đến thời điểm khóa sổ: năm ngân sách %(year)s khóa sổ sau ngày %(date)s.")
                % {"year": row.year, "date": row.cut_off.strftime("%d/%m/%Y")},
            )
        open_qs = selectors.open_vouchers(row)
        refusable = set(
            open_qs.filter(pk__in=refuse_ids, status__in=selectors.REFUSABLE_STATUSES).values_list("pk", flat=True)
        )
        wrong = [i for i in refuse_ids if i not in refusable]
        if wrong:
            raise ValidationFailed(
                _("Chỉ từ chối được chứng từ còn mở của năm mà kho bạc chưa phê duyệt."),
                fields={"refuse": [str(i) for i in wrong]},
            )
        total = open_qs.count()
        for voucher_id in refuse_ids:
            vouchers.refuse(voucher=voucher_id, actor=actor, year=row.year, note=note)
        row.state = FiscalYearCloseState.CLOSING
        row.total = total
        row.refused = len(refuse_ids)
        row.refuse_note = note
        row.closing_started_at = timezone.now()
        row.closed_by = actor
        row.save(update_fields=["state", "total", "refused", "refuse_note", "closing_started_at", "closed_by"])
        close_id = row.pk
        transaction.on_commit(lambda: _queue_close(close_id))
    return row


def _queue_close(close_id: int) -> None:
    from payments.tasks import close_fiscal_year, enqueue

    enqueue(close_fiscal_year, close_id)


def fiscal_year_close_run(*, close_id: int, batch: int = CARRY_BATCH) -> FiscalYearClose | None:
    """Carry the open vouchers of a closing year, `batch` at a time, then mark
    it closed. Safe to run twice or at the same time: a carried voucher has its
    event and is not carried again; the counter moves by what was carried."""
    vouchers = selectors.year_end_vouchers()
    row = FiscalYearClose.objects.filter(pk=close_id).first()
    if row is None or row.state != FiscalYearCloseState.CLOSING:
        return row
    while True:
        ids = list(selectors.open_vouchers(row).values_list("pk", flat=True)[:batch])
        carried = 0
        for voucher_id in ids:
            if vouchers.carry(voucher=voucher_id, actor=row.closed_by, year=row.year):
                carried += 1
        if carried:
            FiscalYearClose.objects.filter(pk=row.pk).update(carried=F("carried") + carried, total=_total_expr(carried))
        if len(ids) < batch:
            break
    with transaction.atomic():
        row = _lock(row.pk)
        if row.state == FiscalYearCloseState.CLOSING and not selectors.open_vouchers(row).exists():
            row.state = FiscalYearCloseState.CLOSED
            row.closed_at = timezone.now()
            row.save(update_fields=["state", "closed_at"])
    return row


def _total_expr(carried: int):  # noqa: ANN202
    """A voucher submitted after the start is carried too: the total grows with it (never below the counts)."""
    from django.db.models.functions import Greatest

    return Greatest(F("total"), F("carried") + F("refused") + carried)


def fiscal_year_closes_sweep() -> int:
    """The beat's catch-up: queue every close still `closing` (its task was lost)."""
    ids = list(FiscalYearClose.objects.filter(state=FiscalYearCloseState.CLOSING).values_list("pk", flat=True))
    for close_id in ids:
        transaction.on_commit(lambda close_id=close_id: _queue_close(close_id))
    return len(ids)


# --- the new year's budget lines ----------------------------------------------------------


def budget_lines_copy_to_next_year(*, actor: User, close: FiscalYearClose | int) -> int:
    """Create, for every unit of the office, the budget lines of year+1 with
    the classification codes of its lines of the year, at zero: the treasury
    then enters or imports the amounts (the budget page's allocations, which
    move the counters through payments.services.budget). Lines already there
    are left alone; returns how many were created."""
    row = close if isinstance(close, FiscalYearClose) else FiscalYearClose.objects.select_related("office").filter(
        pk=int(close)
    ).first()
    if row is None:
        raise NotFound()
    _require_admin_over(actor, row.office)
    keys = ("unit_id", "chapter", "sector", "ndkt", "funding_source", "programme", "budget_level")
    source = BudgetLine.objects.filter(unit__office_id=row.office_id, fiscal_year=row.year).values(*keys, "name")
    existing = set(
        BudgetLine.objects.filter(unit__office_id=row.office_id, fiscal_year=row.year + 1).values_list(*keys)
    )
    new = [
        BudgetLine(fiscal_year=row.year + 1, **{k: line[k] for k in keys}, name=line["name"])
        for line in source
        if tuple(line[k] for k in keys) not in existing
    ]
    with transaction.atomic():
        # Zero counters; a concurrent copy's rows are skipped by the classification's unique constraint.
        created = BudgetLine.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    return len(created)
