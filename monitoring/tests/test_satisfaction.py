"""Satisfaction follow-ups: a "dissatisfied" rating opens one (once), a leader
assigns it, the officer notes the contact and closes it, every step an event;
who may do what; the pages and the API."""

import pytest
from django.urls import reverse

from conftest import api_client_for, enrol_totp
from monitoring.models import FollowUp, FollowUpEvent
from monitoring.satisfaction import selectors, services
from treasury_portal.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed
from vouchers import services as voucher_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def followup(world, kit) -> FollowUp:  # noqa: ANN001
    paid = kit.paid(amount=2_000_000)
    voucher_services.voucher_rate(actor=world.users["a_holder"], voucher=paid, score=1, comment="Phải chờ lâu")
    assert services.followups_open_new() == 1
    return FollowUp.objects.get()


def test_only_a_dissatisfied_rating_opens_one_and_only_once(world, kit, followup):
    other = kit.paid(amount=3_000_000)
    voucher_services.voucher_rate(actor=world.users["a_holder"], voucher=other, score=2)
    assert services.followups_open_new() == 0
    assert FollowUp.objects.count() == 1
    assert followup.status == "open" and followup.office == world.offices["0101"]
    assert list(FollowUpEvent.objects.values_list("action", flat=True)) == ["open"]


def test_the_life_of_a_followup(world, followup):
    leader, officer = world.users["approver"], world.users["officer"]
    assert services.allowed_actions(officer, followup) == set()
    assert services.allowed_actions(leader, followup) == {"assign", "note", "close"}
    with pytest.raises(PermissionDenied):
        services.followup_note(actor=officer, followup=followup, note="Đã gọi")
    followup = services.followup_assign(actor=leader, followup=followup, assignee=officer)
    assert followup.status == "in_progress" and followup.assignee == officer
    assert services.allowed_actions(officer, followup) == {"note", "close"}
    with pytest.raises(ValidationFailed):
        services.followup_note(actor=officer, followup=followup, note="  ")
    services.followup_note(actor=officer, followup=followup, note="Đã gọi điện cho kế toán trưởng")
    followup = services.followup_close(actor=officer, followup=followup, note="Đơn vị đã hiểu lý do")
    assert followup.status == "closed" and followup.closed_at and followup.outcome == "Đơn vị đã hiểu lý do"
    events = list(followup.events.order_by("id").values_list("action", "actor__username", "to_status"))
    assert events == [("open", None, "open"), ("assign", "approver", "in_progress"),
                      ("note", "officer", "in_progress"), ("close", "officer", "closed")]
    with pytest.raises(ApplicationError) as exc:
        services.followup_note(actor=leader, followup=followup, note="x")
    assert exc.value.code == "invalid_transition"


def test_an_assignee_must_be_treasury_staff_over_the_unit(world, followup):
    for wrong in ("officer_b", "a_preparer", None):
        with pytest.raises(ValidationFailed):
            services.followup_assign(actor=world.users["approver"], followup=followup,
                                     assignee=world.users[wrong] if wrong else None)


def test_scope_other_province_and_units_get_404(world, followup):
    for username in ("officer_b", "approver_b", "a_holder"):
        with pytest.raises(NotFound):
            selectors.access_followup(world.users[username], followup.pk)
    assert selectors.access_followup(world.users["officer"], followup.pk) == followup


def _login(client, world, username):  # noqa: ANN001, ANN202
    user = world.users[username]
    if not user.authenticator_set.exists():
        enrol_totp(user)
    client.force_login(user)
    return client


def test_the_pages(client, world, followup):
    c = _login(client, world, "approver")
    page = c.get(reverse("monitoring-followups")).content.decode()
    assert reverse("monitoring-followup", args=[followup.pk]) in page and "Phải chờ lâu" in page
    url = reverse("monitoring-followup", args=[followup.pk])
    assert "Giao việc" in c.get(url).content.decode()
    response = c.post(reverse("monitoring-followup-assign", args=[followup.pk]),
                      {"assign-assignee": "officer", "assign-note": ""})
    assert response.status_code == 302
    c = _login(client, world, "officer")
    assert c.post(reverse("monitoring-followup-close", args=[followup.pk]), {"close-note": ""}).status_code == 400
    response = c.post(reverse("monitoring-followup-close", args=[followup.pk]), {"close-note": "Đã giải thích"},
                      follow=True)
    assert "Đã đóng việc theo dõi." in response.content.decode()
    followup.refresh_from_db()
    assert followup.status == "closed"


def test_the_api(world, followup):
    api = api_client_for(world.users["approver"])
    rows = api.get("/api/v1/satisfaction/followups", {"status": "active"}).json()["results"]
    assert [r["id"] for r in rows] == [followup.pk] and rows[0]["score"] == 1
    body = api.post(f"/api/v1/satisfaction/followups/{followup.pk}/assign", {"assignee": "officer"},
                    format="json").json()
    assert body["status"] == "in_progress" and body["assignee"] == "officer"
    officer = api_client_for(world.users["officer"])
    body = officer.post(f"/api/v1/satisfaction/followups/{followup.pk}/note", {"note": "Đã gọi"},
                        format="json").json()
    assert [e["action"] for e in body["events"]] == ["open", "assign", "note"]
    body = officer.post(f"/api/v1/satisfaction/followups/{followup.pk}/close", {"note": "Xong"}, format="json").json()
    assert body["status"] == "closed" and body["allowed_actions"] == []
    again = officer.post(f"/api/v1/satisfaction/followups/{followup.pk}/close", {"note": "Xong"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    assert api_client_for(world.users["approver_b"]).get(
        f"/api/v1/satisfaction/followups/{followup.pk}").status_code == 404
    assert api_client_for(world.users["a_holder"]).get("/api/v1/satisfaction/followups").status_code == 403


def test_the_task_opens_them(world, kit):
    from monitoring.tasks import open_satisfaction_followups

    paid = kit.paid(amount=2_000_000)
    voucher_services.voucher_rate(actor=world.users["a_holder"], voucher=paid, score=1)
    assert open_satisfaction_followups() == 1
    assert open_satisfaction_followups() == 0


def test_the_home_page_counts_the_open_followups(client, world, followup):
    page = _login(client, world, "approver").get(reverse("home")).content.decode()
    assert "phản ánh không hài lòng đang chờ liên hệ lại." in page
    assert f'{reverse("monitoring-followups")}?status=active' in page and reverse("monitoring-dashboard") in page
    page = _login(client, world, "officer_b").get(reverse("home")).content.decode()
    assert "phản ánh không hài lòng đang chờ liên hệ lại." not in page  # another province, no leader
