"""Reads of the leader dashboard: one treasury office and the offices below it,
over a period of local days. Each figure group is one aggregate query (GROUP BY
in the database), so the page costs the same at a thousand vouchers or a million:
the query count is pinned in monitoring/tests/test_dashboard.py.

Who: the approvers and administrators (the office's leaders) of the office or of
an office above it. Control officers do not see it: it counts their colleagues'
work one by one, which is the leaders' business (docs/architecture.md).

Definitions (the same for the page and the API):
- "received in the period": received_at within [from 00:00, to+1 00:00) local;
  vouchers by status, return and refusal rates, second returns count those;
- "closed in the period": paid or refused with closed_at in the period; the
  on-time rate, processing times and officers' throughput count those;
- processing time: office hours (08:00–12:00, 13:00–17:00) on working days of
  the calendar (vouchers.working_days) from receipt to closing: on PostgreSQL in
  SQL (percentile_cont), on SQLite (`make run`) the same in Python
  (monitoring.figures);
- satisfaction: ratings given in the period of the offices' vouchers; satisfied
  = "satisfied" or "very satisfied".
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connections, router
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, OrgKind, Role, User
from accounts.selectors import offices_in_scope
from autopay.models import InvoiceStatus, SupplierInvoice
from monitoring import figures
from monitoring.models import (
    ACTIVE_STATUSES,
    BUCKET_SECONDS,
    Alert,
    DailyOfficeFigures,
    DailyOfficeReason,
    DailyOfficerFigures,
    DailyOfficeTiming,
    FollowUp,
    FollowUpStatus,
    RuleCode,
)
from treasury_portal.errors import NotFound
from vouchers.models import Rating, ReasonCode, ReasonKind, Voucher, VoucherStatus
from vouchers.selectors import RUNNING, local_today, localized, work_calendar
from vouchers.working_days import TZ

LEADER_ROLES = frozenset({Role.APPROVER, Role.ADMINISTRATOR})
CLOSED = (VoucherStatus.PAID, VoucherStatus.REFUSED)
SATISFIED_MIN = Rating.Score.SATISFIED
MAX_PERIOD_DAYS = 366
OVERDUE_ROWS = 20
TOP_REASONS = 5
# How far before the period a voucher closed in it may have been received and
# still have its working hours counted (the calendar series of the SQL).
RECEIPT_LOOKBACK_DAYS = 730


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, datetime.min.time(), tzinfo=TZ)

    @property
    def until(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.end + timedelta(days=1), datetime.min.time(), tzinfo=TZ)


def period_of(start: date | None, end: date | None, *, today: date | None = None) -> Period:
    """The period asked for; by default this month up to today. Dates given in
    the wrong order are taken in order; a period longer than a year is cut to
    the year ending on its last day (never refused: any two dates make a period)."""
    today = today or local_today()
    if start is None and end is None:
        return Period(today.replace(day=1), today)
    if start is None:
        start = end.replace(day=1)
    if end is None:
        end = max(start, today) if start.year == today.year and start.month == today.month else _month_end(start)
    start, end = min(start, end), max(start, end)
    if (end - start).days >= MAX_PERIOD_DAYS:
        start = end - timedelta(days=MAX_PERIOD_DAYS - 1)
    return Period(start, end)


def _month_end(day: date) -> date:
    first_next = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first_next - timedelta(days=1)


# --- scope -------------------------------------------------------------------------


def dashboard_offices(user: User) -> list[Organisation]:
    """The offices whose dashboard the user may open (where they lead, and below), tree order."""
    ids = offices_in_scope(user, roles=set(LEADER_ROLES))
    if not ids:
        return []
    return list(Organisation.objects.filter(pk__in=ids).only("id", "code", "name", "path").order_by("path"))


def can_view_dashboard(user: User) -> bool:
    return bool(offices_in_scope(user, roles=set(LEADER_ROLES)))


@dataclass
class Scope:
    office: Organisation
    office_ids: list[int]  # the office and the offices below it
    offices: list[Organisation]  # every office the user may choose


def dashboard_scope(user: User, code: str | None) -> Scope:
    """The office asked for (by code; default the user's highest) and the offices
    below it; an office outside the user's leadership is a 404."""
    offices = dashboard_offices(user)
    if not offices:
        raise NotFound()
    office = next((o for o in offices if o.code == code), None) if code else offices[0]
    if office is None:
        raise NotFound()
    below = [o.pk for o in offices if o.path.startswith(office.path)]
    return Scope(office, below, offices)


# --- the figure groups -------------------------------------------------------------


def status_figures(scope: Scope, period: Period) -> dict:
    """Vouchers received in the period by status, with the return and refusal
    rates and the second returns (exceptions to "ask only once")."""
    rows = (
        Voucher.objects.filter(office_id__in=scope.office_ids, received_at__gte=period.since,
                               received_at__lt=period.until)
        .order_by().values("status")
        .annotate(n=Count("id"), returned=Count("id", filter=Q(return_count__gte=1)),
                  second=Count("id", filter=Q(return_count__gte=2)))
    )
    by_status = {s: 0 for s in VoucherStatus.values if s != VoucherStatus.DRAFT}
    total = returned = second = 0
    for row in rows:
        by_status[row["status"]] = row["n"]
        total += row["n"]
        returned += row["returned"]
        second += row["second"]
    refused = by_status.get(VoucherStatus.REFUSED, 0)
    return {
        "received": total, "by_status": by_status, "returned": returned, "second_returns": second,
        "refused": refused, "return_rate": figures.share(returned, total),
        "refusal_rate": figures.share(refused, total),
    }


# The working seconds of each closed voucher, in SQL: W(t) = (working days before
# t's local day) × 8 h + office seconds elapsed on t's day (if it is a working
# day); the processing time is W(closed) − W(received). The calendar is a series
# of days with the holidays and make-up days as parameters.
_OFFICE_SECONDS = (
    "(LEAST(GREATEST({s}, 28800), 43200) - 28800 + LEAST(GREATEST({s}, 46800), 61200) - 46800)"
)
_DAYS_CTE = """
days AS (
  SELECT d::date AS day,
         ((extract(isodow FROM d) < 6 AND NOT (d::date = ANY(%(holidays)s::date[])))
          OR d::date = ANY(%(makeups)s::date[])) AS working
  FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d
),
cal AS (
  SELECT day, working,
         count(*) FILTER (WHERE working) OVER (ORDER BY day) - CASE WHEN working THEN 1 ELSE 0 END AS before
  FROM days
)"""


def _local_seconds(column: str) -> str:
    return _OFFICE_SECONDS.format(
        s=f"extract(epoch FROM ({column} AT TIME ZONE 'Asia/Ho_Chi_Minh')::time)"
    )


def working_seconds_sql(received: str, closed: str) -> tuple[str, str]:
    """The joins and the expression of the working seconds between two columns
    (the calendar CTE `cal` must be in the WITH clause)."""
    joins = (
        f"LEFT JOIN cal rs ON rs.day = ({received} AT TIME ZONE 'Asia/Ho_Chi_Minh')::date "
        f"LEFT JOIN cal ce ON ce.day = ({closed} AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"
    )
    expr = (
        f"((ce.before - rs.before) * {figures.WORKDAY_SECONDS} "
        f"+ CASE WHEN ce.working THEN {_local_seconds(closed)} ELSE 0 END "
        f"- CASE WHEN rs.working THEN {_local_seconds(received)} ELSE 0 END)"
    )
    return joins, expr


def calendar_params(first: date, last: date) -> dict:
    cal = work_calendar()
    return {
        "holidays": sorted(d.isoformat() for d in cal.holidays),
        "makeups": sorted(d.isoformat() for d in cal.makeup_workdays),
        "first": first.isoformat(), "last": last.isoformat(),
    }


def timing_figures(scope: Scope, period: Period, *, in_sql: bool | None = None) -> dict:
    """Of the vouchers closed in the period: how many, how many on time (closed
    by their due time), and the median and 90th percentile of their processing
    time in working hours. `in_sql`: computed by PostgreSQL (the default there)
    or in Python over the period's rows (SQLite; the tests compare the two)."""
    db = router.db_for_read(Voucher)
    conn = connections[db]
    table = Voucher._meta.db_table
    if in_sql is None:
        in_sql = conn.vendor == "postgresql"
    if in_sql:
        joins, expr = working_seconds_sql("v.received_at", "v.closed_at")
        # The table, the joins and the expression are this module's constants; every value is a parameter.
        sql = (
            f"WITH {_DAYS_CTE}, t AS (SELECT v.due_at, v.closed_at, {expr} AS ws FROM {table} v {joins} "  # noqa: S608
            "WHERE v.office_id = ANY(%(offices)s) AND v.status = ANY(%(closed)s) AND v.received_at IS NOT NULL "
            "AND v.closed_at >= %(since)s AND v.closed_at < %(until)s) "
            "SELECT count(*), count(*) FILTER (WHERE closed_at <= due_at), "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY ws), percentile_cont(0.9) WITHIN GROUP (ORDER BY ws) FROM t"
        )
        params = calendar_params(period.start - timedelta(days=RECEIPT_LOOKBACK_DAYS), period.end) | {
            "offices": scope.office_ids, "closed": list(CLOSED), "since": period.since, "until": period.until,
        }
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            closed, on_time, median, p90 = cursor.fetchone()
    else:
        columns = list(
            Voucher.objects.using(db).filter(
                office_id__in=scope.office_ids, status__in=CLOSED, received_at__isnull=False,
                closed_at__gte=period.since, closed_at__lt=period.until,
            ).values_list("received_at", "closed_at", "due_at")
        )
        cal = work_calendar()
        seconds = [figures.working_seconds(r, c, cal) for r, c, _d in columns]
        closed = len(columns)
        on_time = sum(1 for _r, c, d in columns if d is not None and c <= d)
        median, p90 = figures.percentile_cont(seconds, 0.5), figures.percentile_cont(seconds, 0.9)
    return {
        "closed": closed, "on_time": on_time, "on_time_rate": figures.share(on_time, closed),
        "median_hours": figures.hours(median), "p90_hours": figures.hours(p90),
    }


def overdue_figures(scope: Scope, now: datetime) -> dict:
    """The running vouchers past their due time (now, whatever the period), the
    oldest first, each with the explanation of its overdue alert if one was written."""
    base = Voucher.objects.filter(office_id__in=scope.office_ids, status__in=RUNNING, due_at__lt=now)
    explanation = Alert.objects.filter(
        voucher_id=OuterRef("pk"), rule__code=RuleCode.OVERDUE,
    ).exclude(explanation="").order_by("-updated_at").values("explanation")[:1]
    # The page's ids first (an index-only top-N over monitoring/0007's partial index), then their rows:
    # sorting a province's overdue rows in full cost 70 ms of PostgreSQL at the benchmark's scale.
    first = base.order_by("due_at", "id").values("id")[:OVERDUE_ROWS]
    rows = list(
        Voucher.objects.filter(pk__in=Subquery(first)).select_related("unit", "controller")
        .annotate(explanation=Subquery(explanation)).order_by("due_at", "id")
    )
    return {"count": base.count() if len(rows) == OVERDUE_ROWS else len(rows), "rows": rows}


def reason_figures(scope: Scope, period: Period) -> dict:
    """The most frequent deficiency codes (returns) and refusal reasons of the
    vouchers received in the period."""
    returned, refused = Counter(), Counter()
    for deficiencies, reasons, status in Voucher.objects.filter(
        Q(return_count__gte=1) | Q(status=VoucherStatus.REFUSED),
        office_id__in=scope.office_ids, received_at__gte=period.since, received_at__lt=period.until,
    ).values_list("deficiencies", "refusal_reasons", "status"):
        returned.update(i.get("code", "") for i in (deficiencies or []) if isinstance(i, dict))
        if status == VoucherStatus.REFUSED:
            refused.update(i.get("code", "") for i in (reasons or []) if isinstance(i, dict))
    return _top_reasons(returned, refused)


def _top_reasons(returned: Counter, refused: Counter) -> dict:
    codes = {c for c in returned} | {c for c in refused}
    texts = {
        (r.kind, r.code): localized(r, "text") for r in ReasonCode.objects.filter(code__in=codes)
    } if codes else {}

    def top(counter: Counter, kind: str) -> list[dict]:
        return [
            {"code": code, "text": texts.get((kind, code)) or _("Lý do khác"), "count": n}
            for code, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REASONS]
        ]

    return {"returns": top(returned, ReasonKind.DEFICIENCY), "refusals": top(refused, ReasonKind.REFUSAL)}


def _person(first: str | None, last: str | None, username: str | None) -> str:
    name = f"{last or ''} {first or ''}".strip()
    return name or username or ""


def second_return_figures(scope: Scope, period: Period) -> dict:
    """The vouchers received in the period and returned more than once, per
    control officer and per office."""
    rows = list(
        Voucher.objects.filter(office_id__in=scope.office_ids, received_at__gte=period.since,
                               received_at__lt=period.until, return_count__gte=2)
        .order_by().values("controller__username", "controller__first_name", "controller__last_name",
                           "office__code", "office__name")
        .annotate(n=Count("id"))
    )
    return _second_returns(rows)


def _second_returns(rows: list[dict]) -> dict:
    officers: Counter = Counter()
    offices: Counter = Counter()
    for r in rows:
        officers[(r["controller__username"] or "", _person(r["controller__first_name"], r["controller__last_name"],
                                                         r["controller__username"]))] += r["n"]
        offices[(r["office__code"], r["office__name"])] += r["n"]
    return {
        "officers": [{"username": u, "name": n or _("Chưa có cán bộ"), "count": c}
                     for (u, n), c in sorted(officers.items(), key=lambda kv: (-kv[1], kv[0]))],
        "offices": [{"code": code, "name": name, "count": c}
                    for (code, name), c in sorted(offices.items(), key=lambda kv: (-kv[1], kv[0]))],
    }


def officer_figures(scope: Scope, period: Period) -> list[dict]:
    """Per control officer: the vouchers in control now (workload) and those closed
    in the period (throughput: paid, refused)."""
    rows = (
        Voucher.objects.filter(
            Q(status=VoucherStatus.IN_CONTROL)
            | Q(status__in=CLOSED, closed_at__gte=period.since, closed_at__lt=period.until),
            office_id__in=scope.office_ids, controller__isnull=False,
        )
        .order_by().values("controller__username", "controller__first_name", "controller__last_name")
        .annotate(
            in_control=Count("id", filter=Q(status=VoucherStatus.IN_CONTROL)),
            closed=Count("id", filter=Q(status__in=CLOSED)),
            refused=Count("id", filter=Q(status=VoucherStatus.REFUSED)),
        )
    )
    return _officers(rows)


def _officers(rows: list[dict]) -> list[dict]:
    out = [
        {"username": r["controller__username"],
         "name": _person(r["controller__first_name"], r["controller__last_name"], r["controller__username"]),
         "in_control": r["in_control"], "closed": r["closed"], "refused": r["refused"]}
        for r in rows
    ]
    return sorted(out, key=lambda r: (-r["in_control"] - r["closed"], r["username"]))


def alert_figures(scope: Scope) -> list[dict]:
    """The active alerts (open, acknowledged, explained) of the offices' units, per rule."""
    rows = (
        Alert.objects.filter(status__in=ACTIVE_STATUSES, unit__office_id__in=scope.office_ids)
        .order_by().values("rule__code", "rule__name_vi", "rule__name_en").annotate(n=Count("id"))
    )
    out = []
    for r in rows:
        rule = type("R", (), {"name_vi": r["rule__name_vi"], "name_en": r["rule__name_en"]})
        out.append({"rule": r["rule__code"], "name": localized(rule, "name"), "count": r["n"]})
    return sorted(out, key=lambda r: (-r["count"], r["rule"]))


def autopay_figures(scope: Scope) -> dict:
    """The automatic payments' exceptions still open for the offices' units."""
    n = SupplierInvoice.objects.filter(status=InvoiceStatus.EXCEPTION, unit__office_id__in=scope.office_ids).count()
    return {"open_exceptions": n}


def satisfaction_figures(scope: Scope, period: Period) -> dict:
    """Ratings given in the period on the offices' vouchers; the follow-ups still open."""
    agg = Rating.objects.filter(
        voucher__office_id__in=scope.office_ids, created_at__gte=period.since, created_at__lt=period.until,
    ).aggregate(
        total=Count("id"), satisfied=Count("id", filter=Q(score__gte=SATISFIED_MIN)),
        dissatisfied=Count("id", filter=Q(score=Rating.Score.DISSATISFIED)),
    )
    open_followups = FollowUp.objects.filter(office_id__in=scope.office_ids).exclude(
        status=FollowUpStatus.CLOSED).count()
    return {
        "ratings": agg["total"], "satisfied": agg["satisfied"], "dissatisfied": agg["dissatisfied"],
        "satisfied_share": figures.share(agg["satisfied"], agg["total"]), "open_followups": open_followups,
    }


def dashboard(user: User, *, office: str | None = None, start: date | None = None, end: date | None = None,
              now: datetime | None = None, summaries: bool | None = None) -> dict:
    """Every figure of the dashboard for the user's office `office` (code) and the period.
    `summaries`: the period's figures from the per-day summary tables (the
    default on PostgreSQL; as of their last refresh, every minute) or from the
    vouchers themselves (SQLite; the tests compare the two). Overdue vouchers,
    officers' workload, alerts, autopay exceptions and satisfaction are read live."""
    now = now or timezone.now()
    period = period_of(start, end)
    scope = dashboard_scope(user, office)
    if summaries is None:
        summaries = use_summaries()
    within = [o for o in scope.offices if o.pk in set(scope.office_ids)]
    if summaries:
        sums = daily_office_sums(scope.office_ids, period)
        period_figures = {
            "statuses": status_figures_daily(sums),
            "timing": timing_figures_daily(scope, period, sums),
            "reasons": reason_figures_daily(scope, period),
            "second_returns": second_return_figures_daily(scope, period),
            "officers": officer_figures_daily(scope, period),
        }
        offices = public_office_rates(period, within=within, closed_sums=sums)
    else:
        period_figures = {
            "statuses": status_figures(scope, period),
            "timing": timing_figures(scope, period),
            "reasons": reason_figures(scope, period),
            "second_returns": second_return_figures(scope, period),
            "officers": officer_figures(scope, period),
        }
        offices = public_office_rates(period, within=within)
    return {
        "scope": scope,
        "period": period,
        **period_figures,
        "overdue": overdue_figures(scope, now),
        "alerts": alert_figures(scope),
        "autopay": autopay_figures(scope),
        "satisfaction": satisfaction_figures(scope, period),
        "offices": offices,
    }


# --- the same figures from the per-day summaries (monitoring.models_daily) ----------------

_SUM_COLUMNS = ("received", *(f"st_{s}" for s in VoucherStatus.values if s != VoucherStatus.DRAFT), "returned",
                "second_returns", "closed", "on_time", "late", "timed", "working_seconds")


def use_summaries() -> bool:
    """The summaries are filled by PostgreSQL SQL (monitoring.daily): read them there."""
    return connections[router.db_for_read(Voucher)].vendor == "postgresql"


def _daily(model: type, office_ids: list[int] | None, period: Period):  # noqa: ANN202
    qs = model.objects.filter(day__gte=period.start, day__lte=period.end)
    return qs if office_ids is None else qs.filter(office_id__in=office_ids)


def daily_office_sums(office_ids: list[int] | None, period: Period) -> dict[int, dict]:
    """Per office, the period's sums of DailyOfficeFigures (one query)."""
    rows = _daily(DailyOfficeFigures, office_ids, period).order_by().values("office_id").annotate(
        **{f"s_{c}": Sum(c) for c in _SUM_COLUMNS})
    return {r["office_id"]: {c: r[f"s_{c}"] or 0 for c in _SUM_COLUMNS} for r in rows}


def _total(sums: dict[int, dict], column: str) -> int:
    return sum(row[column] for row in sums.values())


def status_figures_daily(sums: dict[int, dict]) -> dict:
    by_status = {s: _total(sums, f"st_{s}") for s in VoucherStatus.values if s != VoucherStatus.DRAFT}
    total, returned = _total(sums, "received"), _total(sums, "returned")
    refused = by_status.get(VoucherStatus.REFUSED, 0)
    return {
        "received": total, "by_status": by_status, "returned": returned,
        "second_returns": _total(sums, "second_returns"), "refused": refused,
        "return_rate": figures.share(returned, total), "refusal_rate": figures.share(refused, total),
    }


def timing_figures_daily(scope: Scope, period: Period, sums: dict[int, dict]) -> dict:
    """Closed and on time from the sums; the percentiles from the summed
    histograms (within BUCKET_SECONDS / 2 of the exact ones, before rounding to 0.1 h)."""
    buckets = list(
        _daily(DailyOfficeTiming, scope.office_ids, period).order_by().values("bucket")
        .annotate(n=Sum("count")).values_list("bucket", "n")
    )
    closed, on_time = _total(sums, "closed"), _total(sums, "on_time")
    median = figures.histogram_percentile(buckets, 0.5, BUCKET_SECONDS)
    p90 = figures.histogram_percentile(buckets, 0.9, BUCKET_SECONDS)
    return {
        "closed": closed, "on_time": on_time, "on_time_rate": figures.share(on_time, closed),
        "median_hours": figures.hours(median), "p90_hours": figures.hours(p90),
    }


def reason_figures_daily(scope: Scope, period: Period) -> dict:
    returned, refused = Counter(), Counter()
    for kind, code, n in (
        _daily(DailyOfficeReason, scope.office_ids, period).order_by().values("kind", "code")
        .annotate(n=Sum("count")).values_list("kind", "code", "n")
    ):
        (returned if kind == ReasonKind.DEFICIENCY else refused)[code] += n
    return _top_reasons(returned, refused)


def second_return_figures_daily(scope: Scope, period: Period) -> dict:
    rows = list(
        _daily(DailyOfficerFigures, scope.office_ids, period).filter(second_returns__gt=0)
        .order_by().values("controller__username", "controller__first_name", "controller__last_name",
                           "office__code", "office__name")
        .annotate(n=Sum("second_returns"))
    )
    return _second_returns(rows)


def officer_figures_daily(scope: Scope, period: Period) -> list[dict]:
    """The workload now (live: the vouchers in control) and the throughput of the period (summaries)."""
    names = ("controller__username", "controller__first_name", "controller__last_name")
    rows: dict[str, dict] = {}
    for r in (
        Voucher.objects.filter(office_id__in=scope.office_ids, status=VoucherStatus.IN_CONTROL,
                               controller__isnull=False)
        .order_by().values(*names).annotate(n=Count("id"))
    ):
        rows[r["controller__username"]] = {**r, "in_control": r["n"], "closed": 0, "refused": 0}
    for r in (
        _daily(DailyOfficerFigures, scope.office_ids, period).filter(controller__isnull=False, closed__gt=0)
        .order_by().values(*names).annotate(c=Sum("closed"), f=Sum("refused"))
    ):
        row = rows.setdefault(r["controller__username"], {**r, "in_control": 0, "closed": 0, "refused": 0})
        row["closed"], row["refused"] = r["c"], r["f"]
    return _officers(list(rows.values()))


# --- the public page: every office's satisfaction and on-time rates ---------------------


def public_office_rates(period: Period, *, within: list[Organisation] | None = None,
                        closed_sums: dict[int, dict] | None = None, summaries: bool = False) -> list[dict]:
    """Per transaction office with ratings or closed vouchers in the period: the
    share of satisfied ratings and the on-time rate. Nothing about a unit or a
    person. `within`: only these offices (the dashboard's scope; their rows known).
    `closed_sums` (daily_office_sums, already read) or `summaries`: the closed
    vouchers counted from the per-day summaries instead of the vouchers."""
    ratings_qs = Rating.objects.filter(created_at__gte=period.since, created_at__lt=period.until)
    closed_qs = Voucher.objects.filter(
        status__in=CLOSED, closed_at__gte=period.since, closed_at__lt=period.until, received_at__isnull=False,
    )
    if within is not None:
        ids = [o.pk for o in within]
        ratings_qs = ratings_qs.filter(voucher__office_id__in=ids)
        closed_qs = closed_qs.filter(office_id__in=ids)
    ratings = {
        r["voucher__office_id"]: r for r in ratings_qs.order_by().values("voucher__office_id").annotate(
            total=Count("id"), satisfied=Count("id", filter=Q(score__gte=SATISFIED_MIN)))
    }
    if summaries and closed_sums is None:
        closed_sums = daily_office_sums([o.pk for o in within] if within is not None else None, period)
    if closed_sums is not None:
        closed = {pk: {"total": r["closed"], "on_time": r["on_time"]} for pk, r in closed_sums.items() if r["closed"]}
    else:
        closed = {
            r["office_id"]: r for r in closed_qs.order_by().values("office_id").annotate(
                total=Count("id"), on_time=Count("id", filter=Q(closed_at__lte=F("due_at"))))
        }
    ids = set(ratings) | set(closed)
    if within is not None:
        offices = sorted((o for o in within if o.pk in ids), key=lambda o: o.code)
    else:
        offices = Organisation.objects.filter(pk__in=ids, kind=OrgKind.TREASURY_OFFICE).order_by("code") if ids else []
    out = []
    for o in offices:
        r = ratings.get(o.pk, {"total": 0, "satisfied": 0})
        c = closed.get(o.pk, {"total": 0, "on_time": 0})
        out.append({
            "code": o.code, "name": o.name, "ratings": r["total"], "satisfied": r["satisfied"],
            "satisfied_share": figures.share(r["satisfied"], r["total"]), "closed": c["total"],
            "on_time": c["on_time"], "on_time_rate": figures.share(c["on_time"], c["total"]),
        })
    return out
