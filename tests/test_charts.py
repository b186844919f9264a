"""Charts: the geometry of treasury_portal.charts, the selectors behind the
three charted pages (an account's daily balances, payments per day, the review
queue by due state), and the pages drawing them with their data tables."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from payments.models import PaymentIntent, TransferKind
from payments.selectors import ledger as ledger_selectors
from payments.selectors import payment as payment_selectors
from payments.services import ledger
from payments.tests.kit import Kit, seed_money
from payments.tests.test_pages import browser, pay
from treasury_portal import charts
from vouchers import selectors as voucher_selectors
from vouchers.models import Voucher


def test_bars_are_proportional_to_the_largest_value_and_zero_stays_visible():
    chart = charts.bar_chart("c", "t", "s", [charts.Bar("a", 10), charts.Bar("b", 5), charts.Bar("z", 0)],
                             width=600, label_width=100, value_room=100)
    widths = [row["w"] for row in chart.rows]
    assert widths == ["400", "200", "2"]
    assert [row["y"] for row in chart.rows] == ["0", "38", "76"]
    assert chart.height == 3 * 26 + 2 * 12
    assert chart.rows[0]["value_x"] == "508"


def test_bars_of_an_empty_or_all_zero_set():
    assert charts.bar_chart("c", "t", "s", []).rows == []
    assert [r["w"] for r in charts.bar_chart("c", "t", "s", [charts.Bar("a", 0)]).rows] == ["2"]


def test_line_is_a_step_with_zero_on_the_axis():
    d0 = date(2026, 11, 1)
    series = [(d0, 100), (d0 + timedelta(days=1), 100), (d0 + timedelta(days=2), 50)]
    chart = charts.line_chart("c", "t", "s", series, width=230, height=140, left=30, right=0, top=0, bottom=40)
    points = [tuple(map(float, p.split(","))) for p in chart.points.split()]
    # three days, each after the first drawn as a horizontal then a vertical move
    assert len(points) == 5
    assert points[0] == (30.0, 0.0)  # the maximum at the top
    assert points[-1] == (230.0, 50.0)  # half the maximum, half way down the 100 px plot
    assert [t["value"] for t in chart.y_ticks] == [0, 100]
    assert [t["day"] for t in chart.x_ticks] == [d0, d0 + timedelta(days=1), d0 + timedelta(days=2)]
    assert chart.area.startswith("30,100 ") and chart.area.endswith(" 230,100")


def test_line_with_negative_values_keeps_zero_between():
    d0 = date(2026, 1, 1)
    chart = charts.line_chart("c", "t", "s", [(d0, -10), (d0 + timedelta(days=1), 30)])
    assert [t["value"] for t in chart.y_ticks] == [-10, 0, 30]


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    seed_money(world)
    return Kit(world, "a")


@pytest.mark.django_db
def test_daily_balances_follow_the_transfers_and_carry_forward(kit):  # noqa: ANN001
    deposit = kit.deposit
    start = deposit.balance
    today = timezone.localdate()
    ledger.deposit_credit(actor=None, account=deposit, amount=7_000_000, reference="chart-1")
    series = ledger_selectors.account_daily_balances(deposit, days=5, today=today + timedelta(days=2))
    assert [d for d, _ in series] == [today + timedelta(days=i) for i in range(-2, 3)]
    # the earlier balance (from the demo's opening credit, before the window or
    # inside it) holds until today's credit; today and after show the new balance
    assert series[2][1] == series[3][1] == series[4][1] == start + 7_000_000
    ledger.transfer_post(debit=deposit, credit=ledger.treasury_cash_account(), amount=1_000_000,
                         key="chart-2", kind=TransferKind.DEPOSIT)
    assert ledger_selectors.account_daily_balances(deposit, days=1)[-1] == (today, start + 6_000_000)


@pytest.mark.django_db
def test_paid_per_day_counts_and_sums_todays_payments_in_the_users_offices(kit):  # noqa: ANN001
    pay(kit.approved(2_000_000))
    pay(kit.approved(3_000_000))
    today = timezone.localdate()
    rows = payment_selectors.paid_per_day(kit.user("approver"), days=3)
    assert [r[0] for r in rows] == [today - timedelta(days=2), today - timedelta(days=1), today]
    assert rows[-1][1:] == (2, 5_000_000) and rows[0][1:] == (0, 0)
    assert payment_selectors.paid_per_day(kit.user("approver_b"), days=3)[-1][1:] == (0, 0)
    assert PaymentIntent.objects.filter(status="succeeded").count() == 2


@pytest.mark.django_db
def test_queue_profile_splits_the_queue_by_due_state(kit):  # noqa: ANN001
    first = kit.submitted(1_000_000)
    second = kit.submitted(1_200_000)
    Voucher.objects.filter(pk=first.pk).update(due_at=timezone.now() - timedelta(hours=1))
    Voucher.objects.filter(pk=second.pk).update(due_at=timezone.now() + timedelta(hours=2))
    officer = kit.user("officer")
    profile = voucher_selectors.queue_profile(officer)
    assert (profile["total"], profile["submitted"], profile["overdue"], profile["soon"], profile["later"]) == (
        2, 2, 1, 1, 0)
    assert voucher_selectors.queue_profile(kit.user("officer_b"))["total"] == 0


def _table_cells(html: str, chart_id: str) -> list[str]:
    figure = html[html.index(f'id="{chart_id}-cap"'):]
    figure = figure[:figure.index("</figure>")]
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", figure)]


@pytest.mark.django_db
def test_pages_draw_their_charts_with_data_tables(kit):  # noqa: ANN001
    pay(kit.approved(2_000_000))
    holder = browser(kit.user("a_holder"))
    html = holder.get(reverse("account-detail", args=[kit.estimate.pk])).content.decode()
    assert '<svg class="chart-svg chart-wide"' in html and 'role="img"' in html and "<polyline" in html
    assert html.count("<polyline") == 2  # the wide drawing and the phone's
    cells = _table_cells(html, "balance-30d")
    assert cells[-1] == f"{kit.estimate.balance:,}".replace(",", ".") + " ₫"

    overview = browser(kit.user("approver")).get(reverse("payments-overview")).content.decode()
    cells = _table_cells(overview, "paid-14d")
    assert len(cells) == 28 and cells[-1] == "2.000.000 ₫" and cells[-2].endswith("· 1")

    Voucher.objects.filter(pk=kit.submitted(1_000_000).pk).update(due_at=timezone.now() - timedelta(hours=1))
    queue = browser(kit.user("officer")).get(reverse("review-queue")).content.decode()
    cells = _table_cells(queue, "queue-due")
    assert cells == ["Quá hạn", "1", "Đến hạn trong 8 giờ", "0", "Còn hạn", "0"]
    assert "?due_before=" in queue


def test_coordinates_use_a_dot_whatever_the_language():
    from django.template.loader import render_to_string
    from django.utils import translation

    chart = charts.bar_chart("c", "t", "s", [charts.Bar("a", 3), charts.Bar("b", 1)], bar_height=26)
    with translation.override("vi"):
        html = render_to_string("includes/chart_bars.html", {"chart": chart})
    assert 'y="17.7"' in html and "17,7" not in html


def test_every_chart_has_a_narrow_drawing_for_phones_within_its_width():
    """A phone shows the NARROW_WIDTH drawing (its text then stays near its
    nominal size): bars fit across it, under their label line; the line chart's
    points stay inside it."""
    bars = charts.bar_chart("c", "t", "s", [charts.Bar("Quá hạn", 10), charts.Bar("Còn hạn", 40)])
    narrow = bars.narrow
    assert narrow["width"] == charts.NARROW_WIDTH
    assert [r["w"] for r in narrow["rows"]] == ["80", str(charts.NARROW_WIDTH)]
    for row in narrow["rows"]:
        assert float(row["text_y"]) < float(row["bar_y"])  # the label line, then the bar
        assert float(row["bar_y"]) + narrow["bar_height"] <= narrow["height"]
    d0 = date(2026, 11, 1)
    line = charts.line_chart("c", "t", "s", [(d0 + timedelta(days=i), v) for i, v in enumerate([5, 9, 2])])
    small = line.narrow
    assert small.width == charts.NARROW_WIDTH and small.narrow is None
    xs = [float(p.split(",")[0]) for p in small.points.split()]
    assert min(xs) >= 0 and max(xs) <= charts.NARROW_WIDTH
