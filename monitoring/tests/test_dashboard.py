"""The leader dashboard: its figures against the vouchers made through the real
services, its scope (an office and those below; 404 for another), the page in
both languages, the API, and the number of queries (pinned: one per figure group)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from conftest import api_client_for, enrol_totp
from monitoring import dashboard
from monitoring.daily import daily_figures_refresh_new_events
from monitoring.models import Alert
from monitoring.services import evaluate_new_events
from tests.test_query_counts import _data_queries
from treasury_portal.errors import NotFound
from vouchers import services as voucher_services
from vouchers.models import Voucher

pytestmark = pytest.mark.django_db


def _figs(world, username="approver", **kw):  # noqa: ANN001, ANN202
    daily_figures_refresh_new_events()  # the minute task: the period's figures are read from its summaries
    return dashboard.dashboard(world.users[username], **kw)


@pytest.fixture
def office_a(world, kit):  # noqa: ANN001, ANN201
    """Unit A (office 0101 under 0100): a paid, a refused, a returned-twice, an
    overdue and a dissatisfied rating."""
    paid = kit.paid(amount=2_000_000)
    refused = kit.refused(amount=3_000_000)
    twice = kit.returned(amount=4_000_000)
    Voucher.objects.filter(pk=twice.pk).update(return_count=2)  # as after a second return (an exception)
    late = kit.in_control(amount=5_000_000)
    Voucher.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(days=2))
    voucher_services.voucher_rate(actor=world.users["a_holder"], voucher=paid, score=1, comment="Chậm")
    voucher_services.voucher_rate(actor=world.users["a_holder"], voucher=refused, score=4)
    daily_figures_refresh_new_events()  # the minute task (the page and the API read its summaries)
    return {"paid": paid, "refused": refused, "twice": twice, "late": late}


def test_the_figures_count_what_happened(world, office_a):
    f = _figs(world)
    assert f["scope"].office.code == "0100"
    assert {o.code for o in f["scope"].offices if o.pk in f["scope"].office_ids} == {"0100", "0101"}
    s = f["statuses"]
    assert s["received"] == 4
    assert s["by_status"]["paid"] == 1 and s["by_status"]["refused"] == 1 and s["by_status"]["in_control"] == 1
    assert s["by_status"]["returned"] == 1 and s["second_returns"] == 1
    assert s["refused"] == 1 and s["refusal_rate"] == 25.0
    assert s["returned"] == 1 and s["return_rate"] == 25.0
    t = f["timing"]
    assert t["closed"] == 2 and t["on_time"] == 2 and t["on_time_rate"] == 100.0
    assert t["median_hours"] is not None and t["p90_hours"] >= t["median_hours"]
    assert [v.pk for v in f["overdue"]["rows"]] == [office_a["late"].pk] and f["overdue"]["count"] == 1
    assert f["reasons"]["refusals"][0]["code"] == "TC01" and f["reasons"]["refusals"][0]["count"] == 1
    assert f["reasons"]["returns"][0]["code"] == "TL03"
    assert f["second_returns"]["officers"] == [{"username": "officer", "name": "Nguyễn Văn Kiểm", "count": 1}]
    assert f["second_returns"]["offices"][0]["code"] == "0101"
    officers = {o["username"]: o for o in f["officers"]}
    assert officers["officer"]["in_control"] == 1 and officers["officer"]["closed"] == 2
    assert officers["officer"]["refused"] == 1
    sat = f["satisfaction"]
    assert (sat["ratings"], sat["satisfied"], sat["dissatisfied"], sat["satisfied_share"]) == (2, 1, 1, 50.0)
    assert [(o["code"], o["ratings"], o["satisfied_share"], o["closed"], o["on_time_rate"]) for o in f["offices"]] == [
        ("0101", 2, 50.0, 2, 100.0)]


def test_the_sql_and_the_python_timing_agree(world, office_a):
    scope = dashboard.dashboard_scope(world.users["approver"], None)
    period = dashboard.period_of(None, None)
    assert dashboard.timing_figures(scope, period, in_sql=True) == dashboard.timing_figures(
        scope, period, in_sql=False)


def test_an_office_below_counts_only_its_own(world, office_a, kit_b):
    kit_b.refused(officer="officer_b", amount=1_000_000)  # office 0201: not 0101's
    f = _figs(world, office="0101")
    assert f["statuses"]["received"] == 4
    assert f["scope"].office_ids == [world.offices["0101"].pk]


def test_another_province_and_other_roles_get_404(world, office_a):
    with pytest.raises(NotFound):
        _figs(world, "approver_b", office="0100")
    with pytest.raises(NotFound):
        _figs(world, "officer")  # control officers: not the dashboard (docs/architecture.md)
    f = _figs(world, "approver_b")
    assert f["statuses"]["received"] == 0 and f["satisfaction"]["ratings"] == 0


def test_a_period_outside_counts_nothing(world, office_a):
    today = timezone.localdate()
    f = _figs(world, start=today - timedelta(days=400), end=today - timedelta(days=40))
    assert f["statuses"]["received"] == 0 and f["timing"]["closed"] == 0
    assert f["overdue"]["count"] == 1  # overdue is now, whatever the period


def test_period_defaults_and_bounds():
    from datetime import date

    today = date(2026, 12, 5)
    p = dashboard.period_of(None, None, today=today)
    assert (p.start, p.end) == (date(2026, 12, 1), today)
    p = dashboard.period_of(date(2026, 3, 9), date(2026, 3, 1), today=today)
    assert (p.start, p.end) == (date(2026, 3, 1), date(2026, 3, 9))
    p = dashboard.period_of(date(2020, 1, 1), date(2026, 1, 1), today=today)
    assert (p.end - p.start).days == dashboard.MAX_PERIOD_DAYS - 1
    p = dashboard.period_of(date(2026, 2, 3), None, today=today)
    assert p.end == date(2026, 2, 28)


def test_open_alerts_by_rule(world, kit, office_a):
    kit.submitted(7_700_000)
    kit.submitted(7_700_000)
    evaluate_new_events()
    rules = {a["rule"]: a["count"] for a in _figs(world)["alerts"]}
    assert rules.get("duplicate_payment") == Alert.objects.filter(rule__code="duplicate_payment").count() == 1


def test_the_query_count_is_pinned(world, office_a):
    """One query per figure group, whatever the data: memberships, offices, statuses,
    timing, overdue (2), reasons (2), second returns, officers, alerts, autopay,
    satisfaction (2), per-office rates (2)."""
    user = world.users["approver"]
    dashboard.dashboard(user)  # warm the calendar cache
    user = type(user).objects.get(pk=user.pk)
    with CaptureQueriesContext(connection) as ctx:
        dashboard.dashboard(user)
    assert _data_queries(ctx) <= 16, [q["sql"][:120] for q in ctx.captured_queries]


# --- the page and the API ---------------------------------------------------------------


def _login(client, world, username):  # noqa: ANN001, ANN202
    user = world.users[username]
    if not user.authenticator_set.exists():
        enrol_totp(user)
    client.force_login(user)
    return client


def test_the_page_in_vietnamese_and_english(client, world, office_a):
    page = _login(client, world, "approver").get(reverse("monitoring-dashboard")).content.decode()
    assert "Bảng điều hành" in page and "Chứng từ quá hạn" in page
    assert office_a["late"].number in page
    assert "<svg" in page and "Xem số liệu dạng bảng" in page
    assert f'{reverse("voucher-list")}?status=paid' in page
    client.cookies["django_language"] = "en"
    page = client.get(reverse("monitoring-dashboard"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Dashboard" in page and "Overdue vouchers" in page


def test_the_page_filters_and_refuses_a_foreign_office(client, world, office_a):
    c = _login(client, world, "approver")
    page = c.get(reverse("monitoring-dashboard"), {"office": "0101"}).content.decode()
    assert office_a["late"].number in page
    assert c.get(reverse("monitoring-dashboard"), {"office": "0200"}).status_code == 404
    assert _login(client, world, "officer").get(reverse("monitoring-dashboard")).status_code == 404


def test_the_api_gives_the_same_figures(world, office_a):
    api = api_client_for(world.users["approver"])
    body = api.get("/api/v1/dashboard").json()
    assert body["office"]["code"] == "0100" and sorted(body["offices"]) == ["0100", "0101"]
    assert body["statuses"]["received"] == 4 and body["statuses"]["by_status"]["refused"] == 1
    assert body["timing"]["on_time_rate"] == 100.0
    assert body["overdue"]["vouchers"][0]["number"] == office_a["late"].number
    assert body["satisfaction"]["satisfied_share"] == 50.0
    assert body["office_rates"] == [{"code": "0101", "name": world.offices["0101"].name, "ratings": 2, "satisfied": 1,
                                     "satisfied_share": 50.0, "closed": 2, "on_time": 2, "on_time_rate": 100.0}]
    assert api.get("/api/v1/dashboard", {"office": "0200"}).status_code == 404
    assert api.get("/api/v1/dashboard", {"office": "x"}).json()["code"] == "validation_error"
    assert api_client_for(world.users["officer"]).get("/api/v1/dashboard").status_code == 403


@override_settings(LANGUAGE_CODE="vi")
def test_the_public_page_and_api(client, world, office_a):
    page = client.get(reverse("public-satisfaction")).content.decode()
    assert world.offices["0101"].name in page and "50%" in page and "100%" in page
    assert "Chậm" not in page  # no comment, no unit
    body = client.get("/api/v1/satisfaction").json()
    row = next(o for o in body["offices"] if o["code"] == "0101")
    assert (row["ratings"], row["satisfied_share"], row["closed"], row["on_time_rate"]) == (2, 50.0, 2, 100.0)
