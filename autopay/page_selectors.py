"""Reads that only the autopay pages need (the home sections, the runs page's
chart, the unit's invoice list), scoped like autopay.selectors."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import TREASURY_ROLES, UNIT_ROLES, User
from accounts.selectors import unit_scope_q
from autopay.models import AutopayRun, InvoiceStatus, RunStatus, SupplierInvoice

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
RECENT_DAYS = 30


# The unit page's extra status filter: the exceptions closed (handled another way).
CLOSED = "closed"


def unit_invoices(user: User, *, status: str | None = None, code: str | None = None) -> QuerySet[SupplierInvoice]:
    """The invoices decided for the units the user belongs to (unit roles only:
    a supplier clerk's own supplier invoices are another page), newest first.
    `status="exception"` lists the open exceptions, `status="closed"` the closed ones."""
    qs = SupplierInvoice.objects.filter(unit_scope_q(user, roles=set(UNIT_ROLES)))
    if status == CLOSED:
        qs = qs.filter(status=InvoiceStatus.EXCEPTION, closed_at__isnull=False)
    elif status == InvoiceStatus.EXCEPTION:
        qs = qs.filter(status=InvoiceStatus.EXCEPTION, closed_at__isnull=True)
    elif status:
        qs = qs.filter(status=status)
    if code:
        qs = qs.filter(exception_code=code)
    return qs.select_related("supplier", "unit", "authorization", "closed_by").order_by("-created_at", "-id")


def recent_exceptions(user: User, *, roles: frozenset[str], days: int = RECENT_DAYS) -> QuerySet[SupplierInvoice]:
    """Open exceptions decided in the last `days` days for the user's units (through `roles`)."""
    since = timezone.now() - timedelta(days=days)
    return SupplierInvoice.objects.filter(
        unit_scope_q(user, roles=set(roles)), status=InvoiceStatus.EXCEPTION, closed_at__isnull=True,
        settled_at__gte=since,
    )


def unit_recent_exceptions(user: User, *, days: int = RECENT_DAYS) -> QuerySet[SupplierInvoice]:
    return recent_exceptions(user, roles=UNIT_ROLES, days=days)


def treasury_recent_exceptions(user: User, *, days: int = RECENT_DAYS) -> QuerySet[SupplierInvoice]:
    return recent_exceptions(user, roles=TREASURY_ROLES, days=days)


def settled_per_day(user: User, *, days: int = 14, today: date | None = None) -> list[tuple[date, int, int]]:
    """(day, paid, excepted) for each of the last `days` local days, today
    included, of the invoices of the user's offices' units (zeros kept)."""
    today = today or timezone.localdate(timezone=LOCAL_TZ)
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time.min, tzinfo=LOCAL_TZ)
    rows = (
        SupplierInvoice.objects.filter(
            unit_scope_q(user, roles=set(TREASURY_ROLES)),
            status__in=[InvoiceStatus.PAID, InvoiceStatus.EXCEPTION],
            settled_at__gte=start,
        )
        .annotate(day=TruncDate("settled_at", tzinfo=LOCAL_TZ))
        .values("day")
        .annotate(
            paid=Count("pk", filter=Q(status=InvoiceStatus.PAID)),
            excepted=Count("pk", filter=Q(status=InvoiceStatus.EXCEPTION)),
        )
        .order_by("day")
    )
    by_day = {r["day"]: (r["paid"], r["excepted"]) for r in rows}
    return [(d, *by_day.get(d, (0, 0))) for d in (first + timedelta(days=i) for i in range(days))]


def runs_in_progress() -> list[AutopayRun]:
    return list(AutopayRun.objects.filter(status=RunStatus.RUNNING).order_by("-started_at", "-id")[:10])
