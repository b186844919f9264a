"""Reads of the year end: the state of an office's fiscal year, the year ends a
treasury user may see, what is still open in a year, the new year's
matching budget line. Writes are in payments.services.yearend."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Organisation, OrgKind, Role, User
from accounts.selectors import (
    memberships_of,
    office_scope_q,
    user_has_treasury_role_over,
)
from payments.models import (
    BudgetLine,
    FiscalYearClose,
    FiscalYearCloseState,
)
from treasury_portal.errors import NotFound

TREASURY_ROLES = {Role.CONTROL_OFFICER, Role.APPROVER, Role.ADMINISTRATOR}
SIGNER_ROLES = (Role.CHIEF_ACCOUNTANT, Role.ACCOUNT_HOLDER)
# A voucher the treasury has not yet approved may be refused at the close; an
# approved one (a payment intent exists) or one whose payment failed is carried.
REFUSABLE_STATUSES = frozenset({"submitted", "in_control", "pending_approval"})


def default_cut_off(year: int) -> date:
    """The fiscal year is the calendar year."""
    return date(year, 12, 31)


def default_adjustment_until(year: int) -> date:
    """Spending of year N may be settled until 31 January of N+1."""
    return date(year + 1, 1, 31)


@dataclass(frozen=True)
class YearState:
    year: int
    phase: str  # "open" | "adjustment" | "closed"
    cut_off: date
    adjustment_until: date
    close: FiscalYearClose | None = None

    @property
    def is_closed(self) -> bool:
        return self.phase == "closed"


def _today() -> date:
    return timezone.localdate()


def fiscal_year_state(office_id: int | None, year: int, today: date | None = None) -> YearState:
    """Where the office's fiscal year `year` stands today. A year not yet ended
    is open without a query (the common case: the voucher hot path pays
    nothing; a year is closed only after it ended, `close_due`); an ended year
    reads the office's FiscalYearClose row, if any, whose dates replace the
    defaults (31 December, 31 January of N+1). Closed: the office closed it (or
    is closing it), or its adjustment period is over."""
    today = today or _today()
    if year >= today.year:
        return YearState(year, "open", default_cut_off(year), default_adjustment_until(year))
    row = FiscalYearClose.objects.filter(office_id=office_id, year=year).first() if office_id else None
    cut_off = row.cut_off if row else default_cut_off(year)
    until = row.adjustment_until if row else default_adjustment_until(year)
    if (row is not None and row.state != FiscalYearCloseState.OPEN) or today > until:
        phase = "closed"
    elif today > cut_off:
        phase = "adjustment"
    else:
        phase = "open"
    return YearState(year, phase, cut_off, until, row)


# --- treasury: the year ends of the offices a user sees ------------------------------


def closes_visible(user: User, *, year: int | None = None) -> QuerySet[FiscalYearClose]:
    """Treasury staff see the year ends of their offices and the offices below."""
    qs = FiscalYearClose.objects.select_related("office", "closed_by")
    if not user.is_superuser:
        qs = qs.filter(office_scope_q(user, roles=TREASURY_ROLES, field="office"))
    return qs.filter(year=year) if year is not None else qs


def access_close(user: User, pk: int) -> FiscalYearClose:
    try:
        return closes_visible(user).get(pk=int(pk))
    except (FiscalYearClose.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None


def offices_to_close(user: User) -> list[Organisation]:
    """The transaction offices (the ones with units) an administrator may set up a year end for."""
    paths = [m.organisation.path for m in memberships_of(user)
             if m.role == Role.ADMINISTRATOR and m.organisation.kind == OrgKind.TREASURY_OFFICE]
    if not paths and not user.is_superuser:
        return []
    qs = Organisation.objects.filter(kind=OrgKind.TREASURY_OFFICE, is_active=True, units__isnull=False).distinct()
    offices = list(qs.order_by("code"))
    if user.is_superuser:
        return offices
    return [o for o in offices if any(o.path.startswith(p) for p in paths)]


def can_manage_close(user: User, close: FiscalYearClose) -> bool:
    """An administrator of the office or an office above it."""
    return user.is_superuser or user_has_treasury_role_over(user, close.office, Role.ADMINISTRATOR)


def can_edit_close(user: User, close: FiscalYearClose) -> bool:
    return can_manage_close(user, close) and close.state == FiscalYearCloseState.OPEN


def close_due(close: FiscalYearClose, today: date | None = None) -> bool:
    """The year can be closed once it has ended and its cut-off date has passed."""
    today = today or _today()
    return today.year > close.year and today > close.cut_off


def can_close(user: User, close: FiscalYearClose, today: date | None = None) -> bool:
    return can_edit_close(user, close) and close_due(close, today)


# --- the vouchers a close decides (issue 15: payments never imports vouchers) ----------------
# The close is the office's fiscal year (payments'); the open vouchers it carries or
# refuses are vouchers'. The vouchers app registers how to find and decide them
# (VouchersConfig.ready: vouchers.yearend).


@dataclass(frozen=True)
class YearEndVouchers:
    open: Callable[[FiscalYearClose], QuerySet]  # what the close decides, oldest received first
    unsent_count: Callable[[FiscalYearClose], int]  # drafts and returned vouchers of the year
    refuse: Callable[..., object]  # (voucher=id, actor=, year=, note=): refused in its own transaction
    carry: Callable[..., object]  # (voucher=id, actor=, year=): truthy when carried now


_year_end_vouchers: YearEndVouchers | None = None


def year_end_vouchers_register(vouchers: YearEndVouchers) -> None:
    global _year_end_vouchers  # noqa: PLW0603 - the registry is this module's one slot
    _year_end_vouchers = vouchers


def year_end_vouchers() -> YearEndVouchers:
    if _year_end_vouchers is None:  # pragma: no cover - the vouchers app registers it at start-up
        raise RuntimeError("no year-end handler of vouchers is registered (vouchers app not installed)")
    return _year_end_vouchers


def open_vouchers(close: FiscalYearClose) -> QuerySet:
    """The vouchers of the office and year the close decides: every voucher
    the treasury holds (open statuses) and not yet carried by this close."""
    return year_end_vouchers().open(close)


def unsent_vouchers_count(close: FiscalYearClose) -> int:
    """Drafts and returned vouchers of the year: after the close the unit can no longer send them."""
    return year_end_vouchers().unsent_count(close)


def budget_line_counts(close: FiscalYearClose) -> dict[str, int]:
    """How many budget lines the office's units hold for the year and for the next."""
    base = BudgetLine.objects.filter(unit__office_id=close.office_id)
    return {
        "this_year": base.filter(fiscal_year=close.year).count(),
        "next_year": base.filter(fiscal_year=close.year + 1).count(),
    }


def close_progress(close: FiscalYearClose) -> int:
    """Percent of the open vouchers decided (100 when none)."""
    if not close.total:
        return 100 if close.state == FiscalYearCloseState.CLOSED else 0
    return min(100, (close.carried + close.refused) * 100 // close.total)


# --- the new year's matching budget line (autopay's roll-over) ------------------------------


def matching_line(line: BudgetLine, year: int) -> BudgetLine | None:
    """The unit's line of `year` with the same classification codes."""
    return BudgetLine.objects.filter(
        unit_id=line.unit_id, fiscal_year=year, chapter=line.chapter, sector=line.sector, ndkt=line.ndkt,
        funding_source=line.funding_source, programme=line.programme, budget_level=line.budget_level,
    ).first()
