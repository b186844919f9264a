"""The dashboard's per-day summaries (monitoring.daily) against the vouchers:
random vouchers (seeded), then every figure of dashboard(summaries=True) equals
dashboard(summaries=False) — the percentiles within the bucket precision — after
the full recompute, after changes picked up by the minute task (including a
voucher re-opened by a bank rejection, whose old closing day must lose it), and
after running both again (idempotent)."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring import dashboard, figures
from monitoring.daily import daily_figures_recompute, daily_figures_refresh, daily_figures_refresh_new_events
from monitoring.models import (
    BUCKET_SECONDS,
    DailyOfficeFigures,
    DailyOfficeReason,
    DailyOfficerFigures,
    DailyOfficeTiming,
)
from vouchers.models import Voucher, VoucherEvent, VoucherStatus

pytestmark = pytest.mark.django_db

STATUSES = [s for s in VoucherStatus.values if s != VoucherStatus.DRAFT]
DEFICIENCIES = ["TL01", "TL02", "TL03", "ZZ9"]
REFUSALS = ["TC01", "TC02", "TC03"]
# The summaries' percentiles are within half a bucket of the exact ones; both are then rounded to 0.1 h.
HOURS_TOLERANCE = BUCKET_SECONDS / 2 / 3600 + 0.05 + 1e-9


def _randomize(v: Voucher, rng: random.Random, now, controllers, *, received: bool = True) -> None:  # noqa: ANN001
    """Random figures; `received=False`: the receipt stays (it never changes once made)."""
    v.status = rng.choice(STATUSES)
    if received:
        v.received_at = now - timedelta(days=rng.randint(0, 80), seconds=rng.randint(0, 86_399))
    if v.status in (VoucherStatus.PAID, VoucherStatus.REFUSED, VoucherStatus.WITHDRAWN):
        v.closed_at = min(now, v.received_at + timedelta(seconds=rng.randint(0, 12 * 86_400)))
    else:
        v.closed_at = None
    v.due_at = rng.choice([None, v.received_at + timedelta(seconds=rng.randint(3600, 6 * 86_400))])
    v.return_count = rng.choice([0, 0, 0, 1, 1, 2, 3])
    v.deficiencies = [{"code": rng.choice(DEFICIENCIES)} for _ in range(rng.randint(0, 3))] if (
        v.return_count or rng.random() < 0.2) else []
    v.refusal_reasons = [{"code": rng.choice(REFUSALS)} for _ in range(rng.randint(1, 2))] if (
        v.status == VoucherStatus.REFUSED) else []
    v.controller = rng.choice(controllers)


@pytest.fixture
def random_vouchers(world, kit, kit_b):  # noqa: ANN001, ANN201
    rng = random.Random(20261206)  # noqa: S311 - test data
    now = timezone.now()
    controllers = [world.users["officer"], world.users["approver"], None]
    made = []
    for k, base in ((kit, kit.paid(amount=1_000_000)), (kit_b, kit_b.refused(officer="officer_b", amount=1_000))):
        for i in range(120 if k is kit else 30):
            v = Voucher.objects.get(pk=base.pk)
            v.pk = v.id = None
            v.number = f"{base.number}-R{i}"
            v.receipt_number = f"{base.receipt_number}-R{i}"
            _randomize(v, rng, now, controllers)
            made.append(v)
    made = Voucher.objects.bulk_create(made)
    _events(made)
    return {"vouchers": made, "rng": rng, "now": now, "controllers": controllers}


def _events(vouchers: list[Voucher]) -> None:
    """As the services write them: the receipt's event at received_at, the closing's at closed_at."""
    events = VoucherEvent.objects.bulk_create(
        [VoucherEvent(voucher=v, action="receive", to_status=VoucherStatus.IN_CONTROL) for v in vouchers]
        + [VoucherEvent(voucher=v, action="close", to_status=v.status) for v in vouchers if v.closed_at])
    for e in events:
        VoucherEvent.objects.filter(pk=e.pk).update(
            created_at=e.voucher.received_at if e.action == "receive" else e.voucher.closed_at)


def _periods(now):  # noqa: ANN001, ANN202
    today = timezone.localdate(now)
    return [(None, None), (today - timedelta(days=90), today), (today - timedelta(days=40), today - timedelta(days=9)),
            (today - timedelta(days=1), today - timedelta(days=1))]


def _assert_same(world, now) -> int:  # noqa: ANN001
    """Every figure from the summaries equals the one from the vouchers; returns how many vouchers were closed."""
    closed = 0
    for username in ("approver", "approver_b", "tadmin"):
        user = world.users[username]
        for start, end in _periods(now):
            raw = dashboard.dashboard(user, start=start, end=end, now=now, summaries=False)
            summ = dashboard.dashboard(user, start=start, end=end, now=now, summaries=True)
            for key in ("statuses", "reasons", "second_returns", "officers", "offices", "alerts", "autopay",
                        "satisfaction"):
                assert summ[key] == raw[key], (username, start, end, key)
            assert [v.pk for v in summ["overdue"]["rows"]] == [v.pk for v in raw["overdue"]["rows"]]
            rt, st = dict(raw["timing"]), dict(summ["timing"])
            for pct in ("median_hours", "p90_hours"):
                a, b = rt.pop(pct), st.pop(pct)
                assert (a is None) == (b is None), (username, start, end, pct)
                if a is not None:
                    assert abs(a - b) <= HOURS_TOLERANCE, (username, start, end, pct, a, b)
            assert st == rt, (username, start, end)
            closed += rt["closed"]
    return closed


def _rows() -> list:
    out = []
    for model in (DailyOfficeFigures, DailyOfficeTiming, DailyOfficeReason, DailyOfficerFigures):
        out.append(sorted((tuple(r.values()) for r in model.objects.values().order_by()
                           for r in [{k: v for k, v in r.items() if k not in ("id", "refreshed_at")}]), key=str))
    return out


def test_summaries_equal_the_vouchers_after_the_full_recompute(world, random_vouchers):
    now = random_vouchers["now"]
    assert daily_figures_recompute(None) >= 80
    assert _assert_same(world, now) > 0  # the data closes vouchers: the timing figures are compared
    before = _rows()
    daily_figures_recompute(None)  # twice: the same rows
    assert _rows() == before
    assert DailyOfficeTiming.objects.exists() and DailyOfficeReason.objects.exists()


def test_the_minute_task_follows_changes(world, random_vouchers):
    rng, now = random_vouchers["rng"], random_vouchers["now"]
    daily_figures_refresh_new_events()  # the set-up's events: everything
    _assert_same(world, now)
    changed = rng.sample(random_vouchers["vouchers"], 40)
    for v in changed:
        _randomize(v, rng, now, random_vouchers["controllers"], received=False)
    # A paid voucher re-opened by the bank: its old closing day (its "close" event's) must lose it.
    reopened = next(v for v in random_vouchers["vouchers"] if v.status == VoucherStatus.PAID and v not in changed
                    and timezone.localdate(v.closed_at) != timezone.localdate())
    reopened.status, reopened.closed_at = VoucherStatus.PAYMENT_FAILED, None
    changed.append(reopened)
    Voucher.objects.bulk_update(changed, ["status", "closed_at", "due_at", "return_count",
                                          "deficiencies", "refusal_reasons", "controller"])
    VoucherEvent.objects.bulk_create([VoucherEvent(voucher=v, action="change", to_status=v.status) for v in changed])
    _events([v for v in changed if v.closed_at])
    with pytest.raises(AssertionError):
        _assert_same(world, now)  # stale until the task runs
    assert daily_figures_refresh_new_events() == len({v.pk for v in changed})
    _assert_same(world, now)
    rows = _rows()
    assert daily_figures_refresh_new_events() == 0  # nothing new: nothing changes
    daily_figures_recompute(None)
    assert _rows() == rows  # the nightly recompute finds the minute task's rows right


def test_a_day_without_vouchers_left_loses_its_rows(world, random_vouchers):
    daily_figures_recompute(None)
    day = DailyOfficeFigures.objects.order_by("day").first().day
    Voucher.objects.filter(pk__in=[v.pk for v in random_vouchers["vouchers"]]).delete()
    daily_figures_refresh(day - timedelta(days=1), timezone.localdate())
    assert not DailyOfficeFigures.objects.filter(office__code__in=["0101", "0201"], received__gt=0,
                                                 day__gte=day).exclude(day=timezone.localdate()).exists()
    _assert_same(world, random_vouchers["now"])


@pytest.mark.parametrize("seed", range(20))
def test_histogram_percentiles_are_within_half_a_bucket(seed):
    rng = random.Random(seed)  # noqa: S311 - test data
    values = [rng.uniform(0, 200 * 3600) ** rng.choice([1, 1, 0.9]) for _ in range(rng.randint(1, 400))]
    buckets: dict[int, int] = {}
    for v in values:
        buckets[int(v // BUCKET_SECONDS)] = buckets.get(int(v // BUCKET_SECONDS), 0) + 1
    for q in (0.5, 0.9, 0.0, 1.0):
        exact = figures.percentile_cont(values, q)
        approx = figures.histogram_percentile(list(buckets.items()), q, BUCKET_SECONDS)
        assert abs(exact - approx) <= BUCKET_SECONDS / 2 + 1e-6
    assert figures.histogram_percentile([], 0.5, BUCKET_SECONDS) is None
