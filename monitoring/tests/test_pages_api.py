"""The alert pages and API, and the voucher page's panel (before the decision)."""

import pytest
from django.urls import reverse

from conftest import api_client_for
from monitoring import services
from monitoring.models import Alert

pytestmark = pytest.mark.django_db


@pytest.fixture
def duplicate(kit) -> Alert:  # noqa: ANN001
    kit.submitted(8_000_000)
    kit.in_control(amount=8_000_000)
    services.evaluate_new_events()
    return Alert.objects.get(rule__code="duplicate_payment")


def test_the_officer_sees_a_high_alert_above_the_decision(login, duplicate):
    page = login("officer").get(reverse("voucher-detail", args=[duplicate.voucher_id])).content.decode()
    assert "Cảnh báo rủi ro mức cao" in page
    assert page.index("v-risk") < page.index("v-actions")  # before the buttons
    assert reverse("monitoring-alert", args=[duplicate.pk]) in page


def test_the_approver_sees_it_on_the_check_page(world, kit, login):
    kit.submitted(9_000_000)
    voucher = kit.pending(amount=9_000_000)
    services.evaluate_new_events()
    page = login("approver").get(reverse("voucher-approve", args=[voucher.pk])).content.decode()
    assert "Cảnh báo rủi ro mức cao" in page
    assert page.index("v-risk") < page.index("approve-confirm-h")


def test_no_panel_without_an_alert(login, kit):
    voucher = kit.submitted(1_000_000)
    page = login("officer").get(reverse("voucher-detail", args=[voucher.pk])).content.decode()
    assert "v-risk" not in page


def test_the_unit_explains_and_the_leader_resolves_on_the_pages(login, duplicate):
    url = reverse("monitoring-alert", args=[duplicate.pk])
    page = login("a_preparer").get(url).content.decode()
    assert "Gửi giải trình" in page and "Đánh dấu đã xử lý xong" not in page
    response = login("a_preparer").post(reverse("monitoring-alert-explain", args=[duplicate.pk]), {"explain-note": ""})
    assert response.status_code == 400
    response = login("a_preparer").post(
        reverse("monitoring-alert-explain", args=[duplicate.pk]), {"explain-note": "Hai hợp đồng khác nhau."}
    )
    assert response.status_code == 302
    page = login("approver").get(url).content.decode()
    assert "Hai hợp đồng khác nhau." in page and "Đánh dấu đã xử lý xong" in page
    response = login("approver").post(
        reverse("monitoring-alert-resolve", args=[duplicate.pk]), {"resolve-note": "Đã đối chiếu."}, follow=True
    )
    assert "Đã đánh dấu cảnh báo là xử lý xong." in response.content.decode()
    duplicate.refresh_from_db()
    assert duplicate.status == "resolved"
    # A second resolve: the sentence, not a crash.
    response = login("approver").post(reverse("monitoring-alert-resolve", args=[duplicate.pk]), {"resolve-note": "x"})
    assert response.status_code == 403 or response.status_code == 409


def test_the_list_filters(login, duplicate):
    base = reverse("monitoring-alerts")
    assert reverse("monitoring-alert", args=[duplicate.pk]) in login("officer").get(base).content.decode()
    assert reverse("monitoring-alert", args=[duplicate.pk]) not in login("officer").get(
        f"{base}?status=resolved").content.decode()
    assert reverse("monitoring-alert", args=[duplicate.pk]) in login("officer").get(
        f"{base}?rule=duplicate_payment&severity=high").content.decode()
    htmx = login("officer").get(f"{base}?status=active", HTTP_HX_REQUEST="true").content.decode()
    assert htmx.startswith('<div id="alert-rows">')
    assert reverse("monitoring-alert", args=[duplicate.pk]) not in login("b_holder").get(base).content.decode()


def test_the_home_page_counts_open_alerts_by_rule(login, duplicate):
    page = login("approver").get(reverse("home")).content.decode()
    assert "Cảnh báo rủi ro" in page and "Có thể thanh toán trùng: 1" in page


def test_the_api(world, duplicate):
    officer, unit, foreign = (api_client_for(world.users[u]) for u in ("officer", "a_holder", "b_holder"))
    rows = officer.get("/api/v1/alerts?status=active").json()["results"]
    assert [r["id"] for r in rows] == [duplicate.pk]
    assert rows[0]["rule"] == "duplicate_payment" and rows[0]["severity"] == "high"
    assert "8.000.000" in rows[0]["description"]
    assert foreign.get(f"/api/v1/alerts/{duplicate.pk}").json()["code"] == "not_found"
    response = unit.post(f"/api/v1/alerts/{duplicate.pk}/acknowledge", {}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    response = unit.post(f"/api/v1/alerts/{duplicate.pk}/explain", {}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    body = unit.post(f"/api/v1/alerts/{duplicate.pk}/explain", {"explanation": "Hai đợt."}, format="json").json()
    assert body["status"] == "explained" and body["allowed_actions"] == ["explain"]
    approver = api_client_for(world.users["approver"])
    response = approver.post(f"/api/v1/alerts/{duplicate.pk}/resolve", {"note": "OK"}, format="json",
                             HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.json()["status"] == "resolved"
    again = approver.post(f"/api/v1/alerts/{duplicate.pk}/resolve", {"note": "OK"}, format="json",
                          HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 200  # replayed
    response = approver.post(f"/api/v1/alerts/{duplicate.pk}/dismiss", {"note": "x"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    assert [e["action"] for e in approver.get(f"/api/v1/alerts/{duplicate.pk}").json()["events"]] == [
        "raise", "explain", "resolve"]


def test_the_schema_lists_the_alert_endpoints(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = set(schema["paths"])
    assert {"/api/v1/alerts", "/api/v1/alerts/{id}", "/api/v1/alerts/{id}/explain",
            "/api/v1/alerts/{id}/resolve"} <= paths
