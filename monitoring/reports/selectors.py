"""Reads of the reports, scoped like every other read (accounts.selectors): a
unit's people see their unit's budget lines, treasury staff those of the units
of their offices and the offices below. A unit or office filter naming
something outside that scope is a 404; an export is its requester's (404 for
anyone else).

The figures come from the budget lines (allocation, the year's spending so
far, what is reserved) and from their movements in the period (spend and
autopay, less what a bank's rejection gave back: payments.models
.BudgetMovementKind). All sums are integers of đồng; a percent is kept in
tenths (`paid_to_date * 1000 // allocated`), so the page, the files and the
tests agree to the digit.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Sum, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import TREASURY_ROLES, Organisation, OrgKind, User
from accounts.selectors import offices_in_scope, unit_scope_q, visible_offices, visible_units
from monitoring.reports.models import ReportExport, ReportKind
from payments.models import BudgetLevel, BudgetLine, BudgetMovement, BudgetMovementKind, RevenueCollection
from treasury_portal.db_router import reporting_db
from treasury_portal.errors import NotFound
from vouchers.selectors import local_today

# Movements that are money paid out of a line (an UNSPEND gives a payment back).
PAID_KINDS = (BudgetMovementKind.SPEND, BudgetMovementKind.AUTOPAY, BudgetMovementKind.UNSPEND)
# The page shows this many rows; the exports have them all.
PAGE_ROWS = 200


@dataclass(frozen=True)
class ReportParams:
    """What a report is about: a fiscal year, a period of days (local dates,
    both included), and optionally one unit or one office (its units and those
    of the offices below), by code."""

    fiscal_year: int
    date_from: date
    date_to: date
    unit: str = ""
    office: str = ""

    @classmethod
    def default(cls) -> "ReportParams":
        today = local_today()
        return cls(fiscal_year=today.year, date_from=date(today.year, 1, 1), date_to=today)

    @classmethod
    def from_dict(cls, data: dict) -> "ReportParams":
        base = cls.default()
        return cls(
            fiscal_year=int(data.get("fiscal_year") or base.fiscal_year),
            date_from=_day(data.get("date_from")) or date(int(data.get("fiscal_year") or base.fiscal_year), 1, 1),
            date_to=_day(data.get("date_to")) or base.date_to,
            unit=str(data.get("unit") or ""),
            office=str(data.get("office") or ""),
        )

    def as_dict(self) -> dict:
        return {"fiscal_year": self.fiscal_year, "date_from": self.date_from.isoformat(),
                "date_to": self.date_to.isoformat(), "unit": self.unit, "office": self.office}


def _day(value: object) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def period_bounds(params: ReportParams) -> tuple[datetime, datetime]:
    """The period as [start, end) instants in the portal's time zone."""
    tz = timezone.get_default_timezone()
    start = datetime.combine(params.date_from, time.min, tzinfo=tz)
    end = datetime.combine(params.date_to + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


# --- the columns of each report ---------------------------------------------------------

# (key, header, kind): kind "text", "money" or "percent" (tenths of a percent).
COLUMNS: dict[str, list[tuple[str, object, str]]] = {
    ReportKind.EXPENDITURE: [
        ("office", _("Kho bạc"), "text"),
        ("unit", _("Mã đơn vị"), "text"),
        ("unit_name", _("Tên đơn vị"), "text"),
        ("chapter", _("Chương"), "text"),
        ("sector", _("Loại-khoản"), "text"),
        ("ndkt", _("Nội dung kinh tế"), "text"),
        ("funding_source", _("Nguồn"), "text"),
        ("allocated", _("Dự toán được giao"), "money"),
        ("paid_period", _("Đã chi trong kỳ"), "money"),
        ("paid_to_date", _("Lũy kế đã chi trong năm"), "money"),
        ("available", _("Dự toán còn lại"), "money"),
        ("percent_used", _("Tỷ lệ đã chi"), "percent"),
    ],
    ReportKind.SUMMARY: [
        ("office", _("Mã kho bạc"), "text"),
        ("office_name", _("Tên kho bạc"), "text"),
        ("units", _("Số đơn vị"), "count"),
        ("allocated", _("Dự toán được giao"), "money"),
        ("paid_period", _("Đã chi trong kỳ"), "money"),
        ("paid_to_date", _("Lũy kế đã chi trong năm"), "money"),
        ("reserved", _("Đang giữ chỗ"), "money"),
        ("available", _("Dự toán còn lại"), "money"),
        ("percent_used", _("Tỷ lệ đã chi"), "percent"),
    ],
    ReportKind.REVENUE: [
        ("office", _("Mã kho bạc"), "text"),
        ("office_name", _("Tên kho bạc"), "text"),
        ("budget_level", _("Cấp ngân sách"), "text"),
        ("chapter", _("Chương"), "text"),
        ("ndkt", _("Nội dung kinh tế"), "text"),
        ("revenue_period", _("Thu ngân sách trong kỳ"), "money"),
        ("paid_period", _("Đã chi trong kỳ"), "money"),
        ("balance", _("Chênh lệch thu – chi"), "money"),
        ("percent_used", _("Tỷ lệ chi trên thu"), "percent"),
    ],
}
SUM_KINDS = ("money", "count")


def report_title(kind: str) -> str:
    return str(ReportKind(kind).label)


# --- scope -----------------------------------------------------------------------------------


def _office_in_scope(user: User, code: str) -> Organisation:
    office = visible_offices(user).filter(code=code).first()
    if office is None:
        # A unit's people may name their own unit's office (or one above it).
        office = Organisation.objects.filter(kind=OrgKind.TREASURY_OFFICE, code=code).first()
        if office is None or not visible_units(user).filter(office__path__startswith=office.path).exists():
            raise NotFound()
    return office


def report_lines(user: User, params: ReportParams, *, using: str | None = None) -> QuerySet[BudgetLine]:
    """The budget lines of the report: the user's scope, the fiscal year, the
    unit or office asked for (404 when outside the scope)."""
    qs = BudgetLine.objects.using(using or reporting_db()).filter(unit_scope_q(user), fiscal_year=params.fiscal_year)
    if params.unit:
        if not visible_units(user).filter(code=params.unit).exists():
            raise NotFound()
        qs = qs.filter(unit__code=params.unit)
    if params.office:
        office = _office_in_scope(user, params.office)
        qs = qs.filter(unit__office__path__startswith=office.path)
    return qs


GROUPS = {
    ReportKind.EXPENDITURE: {
        "office": "unit__office__code", "office_name": "unit__office__name", "unit": "unit__code",
        "unit_name": "unit__name", "chapter": "chapter", "sector": "sector", "ndkt": "ndkt",
        "funding_source": "funding_source",
    },
    ReportKind.SUMMARY: {"office": "unit__office__code", "office_name": "unit__office__name"},
}


def report_rows(user: User, kind: str, params: ReportParams, *, using: str | None = None) -> list[dict]:
    """The report's rows, sorted by their keys (office, unit, classification).
    Two grouped queries: the lines' counters, and the movements of the period
    (for `revenue`: the collections and the movements of the period)."""
    if kind == ReportKind.REVENUE:
        return revenue_rows(user, params, using=using)
    groups = GROUPS[ReportKind(kind)]
    db = using or reporting_db()
    lines = report_lines(user, params, using=db)
    names = list(groups)
    counters = lines.order_by().values(**{f"g_{k}": F(v) for k, v in groups.items()}).annotate(
        allocated=Sum("allocated"), reserved=Sum("reserved"), paid_to_date=Sum("spent"),
        **({"units": _count_units()} if kind == ReportKind.SUMMARY else {}),
    )
    start, end = period_bounds(params)
    signed = Case(When(kind=BudgetMovementKind.UNSPEND, then=-F("amount")), default=F("amount"),
                  output_field=IntegerField())
    paid = (
        BudgetMovement.objects.using(db)
        .filter(budget_line__in=lines.values("pk"), kind__in=PAID_KINDS, created_at__gte=start, created_at__lt=end)
        .order_by().values(**{f"g_{k}": F(f"budget_line__{v}") for k, v in groups.items()})
        .annotate(paid=Coalesce(Sum(signed), 0))
    )
    by_key: dict[tuple, dict] = {}
    for row in counters:
        key = tuple(row[f"g_{k}"] for k in names)
        entry = {k: row[f"g_{k}"] for k in names}
        entry.update(allocated=row["allocated"] or 0, reserved=row["reserved"] or 0,
                     paid_to_date=row["paid_to_date"] or 0, paid_period=0)
        if kind == ReportKind.SUMMARY:
            entry["units"] = row["units"]
        by_key[key] = entry
    for row in paid:
        key = tuple(row[f"g_{k}"] for k in names)
        if key in by_key:
            by_key[key]["paid_period"] += row["paid"] or 0
    rows = []
    for key in sorted(by_key):
        entry = by_key[key]
        if not (entry["allocated"] or entry["paid_to_date"] or entry["paid_period"] or entry["reserved"]):
            continue
        entry["available"] = entry["allocated"] - entry["reserved"] - entry["paid_to_date"]
        entry["percent_used"] = percent_tenths(entry["paid_to_date"], entry["allocated"])
        rows.append(entry)
    return rows


def _count_units() -> Count:
    return Count("unit", distinct=True)


def percent_tenths(part: int, whole: int) -> int | None:
    """`part` of `whole` in tenths of a percent, rounded down; None without a whole."""
    return part * 1000 // whole if whole > 0 else None


def report_totals(kind: str, rows: list[dict]) -> dict:
    """The sums of the summed columns, and the percent of the sums."""
    totals = {key: sum(r[key] for r in rows) for key, _h, k in COLUMNS[ReportKind(kind)] if k in SUM_KINDS}
    if kind == ReportKind.REVENUE:
        totals["percent_used"] = percent_tenths(totals["paid_period"], totals["revenue_period"])
    else:
        totals["percent_used"] = percent_tenths(totals.get("paid_to_date", 0), totals.get("allocated", 0))
    return totals


# --- revenue and expenditure ---------------------------------------------------------------

REVENUE_KEYS = ("office", "office_name", "budget_level", "chapter", "ndkt")


def revenue_offices_q(user: User, params: ReportParams) -> Q:
    """The collecting offices of the revenue report: the treasury offices in the
    user's scope (accounts.selectors.offices_in_scope), or the office asked for
    and those below it. Revenue belongs to an office, not to a unit: a unit's
    people and a report of one unit see no revenue (only the expenditure)."""
    if params.unit:
        return Q(pk__in=[])
    ids = offices_in_scope(user, roles=set(TREASURY_ROLES))
    q = Q(office_id__in=ids) if ids else Q(pk__in=[])
    if params.office:
        q &= Q(office__path__startswith=_office_in_scope(user, params.office).path)
    return q


def revenue_rows(user: User, params: ReportParams, *, using: str | None = None) -> list[dict]:
    """The revenue collected in the period (payments.models.RevenueCollection,
    by the collecting office) next to the expenditure paid in the period (the
    movements of the budget lines of the units of the same office), by office,
    budget level, chapter and economic-content code. balance = revenue − paid;
    percent_used = paid × 1000 // revenue (None without revenue). Two grouped
    queries."""
    db = using or reporting_db()
    lines = report_lines(user, params, using=db)  # the scope check: NotFound for a unit or office outside it
    collected = (
        RevenueCollection.objects.using(db)
        .filter(revenue_offices_q(user, params), collected_on__gte=params.date_from, collected_on__lte=params.date_to)
        .order_by()
        .values(g_office=F("office__code"), g_office_name=F("office__name"), g_budget_level=F("budget_level"),
                g_chapter=F("chapter"), g_ndkt=F("ndkt"))
        .annotate(total=Sum("amount"))
    )
    start, end = period_bounds(params)
    signed = Case(When(kind=BudgetMovementKind.UNSPEND, then=-F("amount")), default=F("amount"),
                  output_field=IntegerField())
    paid = (
        BudgetMovement.objects.using(db)
        .filter(budget_line__in=lines.values("pk"), kind__in=PAID_KINDS, created_at__gte=start, created_at__lt=end)
        .order_by()
        .values(g_office=F("budget_line__unit__office__code"), g_office_name=F("budget_line__unit__office__name"),
                g_budget_level=F("budget_line__budget_level"), g_chapter=F("budget_line__chapter"),
                g_ndkt=F("budget_line__ndkt"))
        .annotate(total=Coalesce(Sum(signed), 0))
    )
    by_key: dict[tuple, dict] = {}

    def entry(row: dict) -> dict:
        key = tuple(row[f"g_{k}"] for k in REVENUE_KEYS)
        if key not in by_key:
            by_key[key] = {**dict(zip(REVENUE_KEYS, key, strict=True)), "revenue_period": 0, "paid_period": 0}
        return by_key[key]

    for row in collected:
        entry(row)["revenue_period"] += row["total"] or 0
    for row in paid:
        entry(row)["paid_period"] += row["total"] or 0
    rows = []
    for key in sorted(by_key):
        item = by_key[key]
        if not (item["revenue_period"] or item["paid_period"]):
            continue
        item["balance"] = item["revenue_period"] - item["paid_period"]
        item["percent_used"] = percent_tenths(item["paid_period"], item["revenue_period"])
        item["budget_level"] = f"{item['budget_level']} – {BudgetLevel(item['budget_level']).label}"
        rows.append(item)
    return rows


def revenue_by_level(rows: list[dict]) -> list[dict]:
    """The revenue report's rows summed by budget level (the page's chart):
    level label, revenue, paid, balance."""
    levels: dict[str, dict] = {}
    for row in rows:
        level = levels.setdefault(row["budget_level"], {"level": row["budget_level"], "revenue": 0, "paid": 0})
        level["revenue"] += row["revenue_period"]
        level["paid"] += row["paid_period"]
    out = [levels[k] for k in sorted(levels)]
    for level in out:
        level["balance"] = level["revenue"] - level["paid"]
    return out


def format_percent(tenths: int | None, language: str = "vi") -> str:
    if tenths is None:
        return ""
    whole, tenth = divmod(tenths, 10)
    return f"{whole}{',' if language.startswith('vi') else '.'}{tenth}%"


# --- exports --------------------------------------------------------------------------------


def exports_of(user: User) -> QuerySet[ReportExport]:
    """The exports the user asked for, newest first (nobody else's)."""
    if not user.is_authenticated:
        return ReportExport.objects.none()
    return ReportExport.objects.filter(requested_by=user).order_by("-created_at", "-id")


def access_export(user: User, pk: object) -> ReportExport:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    export = exports_of(user).filter(pk=pk).first()
    if export is None:
        raise NotFound()
    return export


def export_filename(export: ReportExport) -> str:
    params = ReportParams.from_dict(export.params)
    scope = params.unit or params.office or "tat-ca"
    return f"bao-cao-{export.kind}-{params.fiscal_year}-{scope}-{export.pk}.{export.format}"


def can_download(user: User, export: ReportExport) -> bool:
    return export.requested_by_id == user.pk and export.status == "done" and bool(export.file)


def params_label(params: ReportParams) -> str:
    """The filters as a line for the page and the files' heading."""
    text = gettext("Năm ngân sách %(year)s, từ %(start)s đến %(end)s") % {
        "year": params.fiscal_year, "start": params.date_from.strftime("%d/%m/%Y"),
        "end": params.date_to.strftime("%d/%m/%Y"),
    }
    if params.unit:
        text += " · " + gettext("đơn vị %(code)s") % {"code": params.unit}
    if params.office:
        text += " · " + gettext("kho bạc %(code)s") % {"code": params.office}
    return text


def visible_unit_choices(user: User) -> list[tuple[str, str]]:
    return [(u.code, f"{u.code} – {u.name}") for u in visible_units(user).order_by("code")[:500]]


def visible_office_choices(user: User) -> list[tuple[str, str]]:
    offices = visible_offices(user)
    if not offices.exists():
        ids = visible_units(user).values("office_id")
        offices = Organisation.objects.filter(pk__in=ids)
    return [(o.code, f"{o.code} – {o.name}") for o in offices.order_by("code")[:500]]
