"""Writes of the dashboard's pre-aggregation (monitoring.models_daily): the
per-office, per-day figures recomputed from the vouchers.

- `daily_figures_refresh(first, last, offices)`: every row of those days (and
  offices; None: all) recomputed from the vouchers in one transaction: each
  table gets an `INSERT … SELECT … GROUP BY office, day ON CONFLICT DO UPDATE`
  stamped with the run's time, then the rows of the same days and offices not
  stamped by it (nothing left to count) are deleted. A transaction-level
  advisory lock makes concurrent runs take turns, so running it twice (or the
  minute task during the nightly one) gives the same rows.
- `daily_figures_refresh_new_events()` (every minute): the (office, day) pairs
  touched by the voucher events after the cursor — each touched voucher's
  receipt day, closing day and the days of its events (a bank rejection
  re-opens a voucher closed on an earlier day) — refreshed, the cursor moved
  in the same transaction.
- `daily_figures_recompute(days)` (nightly): the last `days` days again for
  every office (an event committed after a later one moved the cursor is
  caught here); `days=None`: the whole history (installation, the benchmark).

PostgreSQL only (the working-seconds SQL of monitoring.dashboard); on SQLite the
dashboard reads the vouchers themselves."""

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from monitoring.dashboard import (
    _DAYS_CTE,
    CLOSED,
    RECEIPT_LOOKBACK_DAYS,
    calendar_params,
    use_summaries,
    working_seconds_sql,
)
from monitoring.models import (
    BUCKET_SECONDS,
    DailyOfficeFigures,
    DailyOfficeReason,
    DailyOfficerFigures,
    DailyOfficeTiming,
    EvaluationCursor,
)
from vouchers.models import Voucher, VoucherEvent, VoucherStatus
from vouchers.working_days import TZ

CURSOR = "dashboard_daily_figures"
LOCK_KEY = 0x7D_A1_17  # pg_advisory_xact_lock: one refresh at a time
NIGHTLY_DAYS = 35
STATUSES = [s for s in VoucherStatus.values if s != VoucherStatus.DRAFT]
_LOCAL = "AT TIME ZONE 'Asia/Ho_Chi_Minh'"


def _t(model: type) -> str:
    return model._meta.db_table


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    since = datetime.combine(first, datetime.min.time(), tzinfo=TZ)
    return since, datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=TZ)


def _statements(office_filter: str) -> list[str]:
    """The four upserts (the table names, columns and filters are this module's constants)."""
    v, f = _t(Voucher), office_filter
    status_cols = ", ".join(f"st_{s}" for s in STATUSES)
    status_aggs = ", ".join(f"count(*) FILTER (WHERE v.status = '{s}') AS st_{s}" for s in STATUSES)
    status_vals = ", ".join(f"coalesce(rec.st_{s}, 0)" for s in STATUSES)
    office_cols = ["received", *[f"st_{s}" for s in STATUSES], "returned", "second_returns", "closed", "on_time",
                   "late", "timed", "working_seconds", "refreshed_at"]
    joins, expr = working_seconds_sql("v.received_at", "v.closed_at")
    timed = (
        f"t AS (SELECT v.office_id, (v.closed_at {_LOCAL})::date AS day, v.due_at, v.closed_at, {expr} AS ws "  # noqa: S608
        f"FROM {v} v {joins} WHERE v.status = ANY(%(closed)s) AND v.received_at IS NOT NULL "
        f"AND v.closed_at >= %(since)s AND v.closed_at < %(until)s {f})"
    )
    received = f"v.received_at >= %(since)s AND v.received_at < %(until)s {f}"
    office = (
        f"WITH {_DAYS_CTE}, rec AS (SELECT v.office_id, (v.received_at {_LOCAL})::date AS day, count(*) AS received, "  # noqa: S608
        f"{status_aggs}, count(*) FILTER (WHERE v.return_count >= 1) AS returned, "
        f"count(*) FILTER (WHERE v.return_count >= 2) AS second_returns FROM {v} v WHERE {received} GROUP BY 1, 2), "
        f"{timed}, clo AS (SELECT office_id, day, count(*) AS closed, "
        "count(*) FILTER (WHERE closed_at <= due_at) AS on_time, count(*) FILTER (WHERE closed_at > due_at) AS late, "
        "count(ws) AS timed, coalesce(sum(ws), 0) AS working_seconds FROM t GROUP BY 1, 2) "
        f"INSERT INTO {_t(DailyOfficeFigures)} (office_id, day, received, {status_cols}, returned, second_returns, "
        "closed, on_time, late, timed, working_seconds, refreshed_at) "
        "SELECT coalesce(rec.office_id, clo.office_id), coalesce(rec.day, clo.day), coalesce(rec.received, 0), "
        f"{status_vals}, coalesce(rec.returned, 0), coalesce(rec.second_returns, 0), coalesce(clo.closed, 0), "
        "coalesce(clo.on_time, 0), coalesce(clo.late, 0), coalesce(clo.timed, 0), coalesce(clo.working_seconds, 0), "
        "%(stamp)s FROM rec FULL OUTER JOIN clo ON clo.office_id = rec.office_id AND clo.day = rec.day "
        "ON CONFLICT (office_id, day) DO UPDATE SET "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in office_cols)
    )
    timing = (
        f"WITH {_DAYS_CTE}, {timed} INSERT INTO {_t(DailyOfficeTiming)} (office_id, day, bucket, count, refreshed_at) "  # noqa: S608
        f"SELECT office_id, day, floor(ws / {BUCKET_SECONDS})::int, count(*), %(stamp)s FROM t WHERE ws IS NOT NULL "
        "GROUP BY 1, 2, 3 ON CONFLICT (office_id, day, bucket) DO UPDATE SET count = EXCLUDED.count, "
        "refreshed_at = EXCLUDED.refreshed_at"
    )

    def codes(column: str, kind: str, where: str) -> str:
        return (
            f"SELECT v.office_id, (v.received_at {_LOCAL})::date AS day, '{kind}' AS kind, "  # noqa: S608
            f"coalesce(e->>'code', '') AS code FROM {v} v CROSS JOIN LATERAL jsonb_array_elements("
            f"CASE WHEN jsonb_typeof(v.{column}) = 'array' THEN v.{column} ELSE '[]'::jsonb END) e "
            f"WHERE {received} AND ({where}) AND jsonb_typeof(e) = 'object'"
        )

    refused = f"v.status = '{VoucherStatus.REFUSED}'"
    reasons = (
        f"INSERT INTO {_t(DailyOfficeReason)} (office_id, day, kind, code, count, refreshed_at) "  # noqa: S608
        f"SELECT office_id, day, kind, left(code, 60), count(*), %(stamp)s FROM ("
        f"{codes('deficiencies', 'deficiency', f'v.return_count >= 1 OR {refused}')} UNION ALL "
        f"{codes('refusal_reasons', 'refusal', refused)}) x GROUP BY 1, 2, 3, 4 "
        "ON CONFLICT (office_id, day, kind, code) DO UPDATE SET count = EXCLUDED.count, "
        "refreshed_at = EXCLUDED.refreshed_at"
    )
    officers = (
        f"INSERT INTO {_t(DailyOfficerFigures)} (office_id, day, controller_id, closed, refused, second_returns, "  # noqa: S608
        "refreshed_at) SELECT office_id, day, controller_id, sum(closed), sum(refused), sum(second), %(stamp)s FROM ("
        f"SELECT v.office_id, (v.closed_at {_LOCAL})::date AS day, v.controller_id, 1 AS closed, "
        f"({refused})::int AS refused, 0 AS second FROM {v} v WHERE v.status = ANY(%(closed)s) "
        f"AND v.controller_id IS NOT NULL AND v.closed_at >= %(since)s AND v.closed_at < %(until)s {f} "
        f"UNION ALL SELECT v.office_id, (v.received_at {_LOCAL})::date, v.controller_id, 0, 0, 1 FROM {v} v "
        f"WHERE {received} AND v.return_count >= 2) x GROUP BY 1, 2, 3 "
        "ON CONFLICT (office_id, day, controller_id) DO UPDATE SET closed = EXCLUDED.closed, "
        "refused = EXCLUDED.refused, second_returns = EXCLUDED.second_returns, refreshed_at = EXCLUDED.refreshed_at"
    )
    return [office, timing, reasons, officers]


def _refresh(first: date, last: date, offices: list[int] | None, stamp: datetime) -> None:
    """The rows of [first, last] × offices, recomputed (inside the caller's transaction, lock held)."""
    since, until = _bounds(first, last)
    office_filter = "AND v.office_id = ANY(%(offices)s)" if offices is not None else ""
    params = calendar_params(first - timedelta(days=RECEIPT_LOOKBACK_DAYS), last) | {
        "since": since, "until": until, "closed": list(CLOSED), "offices": offices, "stamp": stamp,
    }
    prune_filter = "AND office_id = ANY(%(offices)s)" if offices is not None else ""
    with connection.cursor() as cursor:
        for sql in _statements(office_filter):
            cursor.execute(sql, params)
        for model in (DailyOfficeFigures, DailyOfficeTiming, DailyOfficeReason, DailyOfficerFigures):
            cursor.execute(
                f"DELETE FROM {_t(model)} WHERE day >= %(first_day)s AND day <= %(last_day)s "  # noqa: S608
                f"{prune_filter} AND refreshed_at <> %(stamp)s",
                {"first_day": first, "last_day": last, "offices": offices, "stamp": stamp},
            )


def _lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def daily_figures_refresh(first: date, last: date, offices: list[int] | None = None) -> None:
    """Recompute the rows of the days [first, last] (and of these offices; None: all)."""
    with transaction.atomic():
        _lock()
        _refresh(first, last, offices, timezone.now())


def daily_figures_recompute(days: int | None = NIGHTLY_DAYS, *, today: date | None = None) -> int:
    """The last `days` local days (today included) for every office; None: from
    the first voucher on, a year at a time (one transaction each). Returns the
    number of days recomputed."""
    if not use_summaries():
        return 0
    today = today or timezone.localdate()
    if days is None:
        oldest = Voucher.objects.filter(received_at__isnull=False).order_by("received_at").values_list(
            "received_at", flat=True).first()
        first = oldest.astimezone(TZ).date() if oldest else today
    else:
        first = today - timedelta(days=days - 1)
    start = first
    while start <= today:
        end = min(today, start + timedelta(days=365))
        daily_figures_refresh(start, end)
        start = end + timedelta(days=1)
    return (today - first).days + 1


def _local_day(at: datetime | None) -> date | None:
    return at.astimezone(TZ).date() if at is not None else None


def daily_figures_refresh_new_events(*, batch: int = 2000, batches: int = 20) -> int:
    """The (office, day) pairs touched by the voucher events after the cursor,
    refreshed; the cursor moves in the same transaction. Returns the number of
    vouchers whose days were refreshed."""
    touched = 0
    if not use_summaries():
        return 0
    for _n in range(batches):
        with transaction.atomic():
            _lock()
            EvaluationCursor.objects.get_or_create(name=CURSOR)
            cursor = EvaluationCursor.objects.select_for_update().get(name=CURSOR)
            rows = list(
                VoucherEvent.objects.filter(pk__gt=cursor.last_event_id).order_by("pk")
                .values_list("pk", "voucher_id")[:batch]
            )
            if not rows:
                return touched
            ids = sorted({v for _pk, v in rows})
            days: dict[date, set[int]] = defaultdict(set)
            office_of = {}
            for pk, office_id, received_at, closed_at in Voucher.objects.filter(pk__in=ids).values_list(
                "pk", "office_id", "received_at", "closed_at"
            ):
                office_of[pk] = office_id
                for day in (_local_day(received_at), _local_day(closed_at)):
                    if day is not None:
                        days[day].add(office_id)
            for voucher_id, created_at in VoucherEvent.objects.filter(voucher_id__in=ids).values_list(
                "voucher_id", "created_at"
            ):
                if voucher_id in office_of:
                    days[_local_day(created_at)].add(office_of[voucher_id])
            stamp = timezone.now()
            for day in sorted(days):
                _refresh(day, day, sorted(days[day]), stamp)
            touched += len(ids)
            cursor.last_event_id = rows[-1][0]
            cursor.save(update_fields=["last_event_id", "updated_at"])
        if len(rows) < batch:
            break
    return touched


def cursor_start_now() -> int:
    """Start the minute task from the newest event (after a full recompute)."""
    last = VoucherEvent.objects.aggregate(m=Max("pk"))["m"] or 0
    EvaluationCursor.objects.update_or_create(name=CURSOR, defaults={"last_event_id": last})
    return last
