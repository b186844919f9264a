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


# --- the leaders are told when one opens ------------------------------------------------


def test_opening_tells_the_office_leaders_through_the_outbox(world, kit):
    from accounts.models import Role
    from accounts.selectors import treasury_staff_over
    from payments.models import Channel, Notification, NotificationKind, NotificationPreference
    from payments.selectors.notifications import notification_text
    from payments.services.notifications import notification_preferences_set

    leader = world.users["approver"]
    # This leader wants no e-mail of this kind (and keeps SMS): the preference decides the channels.
    notification_preferences_set(actor=leader, enabled={(NotificationKind.SATISFACTION_FOLLOWUP, Channel.EMAIL): False})
    assert NotificationPreference.objects.filter(user=leader, enabled=False).count() == 1
    paid = kit.paid(amount=2_000_000)
    voucher_services.voucher_rate(actor=world.users["a_holder"], voucher=paid, score=1, comment="Phải chờ lâu")
    Notification.objects.all().delete()
    assert services.followups_open_new() == 1
    followup = FollowUp.objects.get()
    notes = list(Notification.objects.filter(kind=NotificationKind.SATISFACTION_FOLLOWUP).order_by("user_id"))
    leaders = set(treasury_staff_over(paid.unit, Role.APPROVER).values_list("pk", flat=True))
    assert leader.pk in leaders
    assert {n.user_id for n in notes} == leaders and len(notes) == len(leaders)
    for username in ("officer", "tadmin", "approver_b", "a_holder"):  # not the office's approvers
        assert world.users[username].pk not in leaders
    assert Notification.objects.exclude(kind=NotificationKind.SATISFACTION_FOLLOWUP).count() == 0
    note = next(n for n in notes if n.user_id == leader.pk)
    link = reverse("monitoring-followup", args=[followup.pk])
    assert note.data["url"] == link and note.data["followup_id"] == followup.pk and note.voucher_id == paid.pk
    assert paid.number in note.title and "Phải chờ lâu" in note.body  # stored in the portal's language (e-mail, SMS)
    assert set(note.deliveries.values_list("channel", flat=True)) == {Channel.SMS}
    others = [n for n in notes if n.user_id != leader.pk]
    for n in others:
        assert Channel.EMAIL in set(n.deliveries.values_list("channel", flat=True)) or not n.user.email
    # In the reader's language.
    from django.utils import translation

    with translation.override("en"):
        text = notification_text(note)
    assert text["title"] == f"Dissatisfied feedback on voucher {paid.number} needs follow-up"
    assert "Phải chờ lâu" in text["body"] and "follow-up has been opened" in text["body"]
    with translation.override("vi"):
        assert notification_text(note)["title"] == note.title
    # Once: a second run opens nothing and tells no one again.
    assert services.followups_open_new() == 0
    assert Notification.objects.filter(kind=NotificationKind.SATISFACTION_FOLLOWUP).count() == len(leaders)


def test_the_notice_links_to_the_followup_page(client, world, kit):
    from payments.models import Notification, NotificationKind

    paid = kit.paid(amount=2_000_000)
    voucher_services.voucher_rate(actor=world.users["a_holder"], voucher=paid, score=1)
    services.followups_open_new()
    note = Notification.objects.get(kind=NotificationKind.SATISFACTION_FOLLOWUP, user=world.users["approver"])
    leader = world.users["approver"]
    if not leader.authenticator_set.exists():
        enrol_totp(leader)
    client.force_login(leader)
    assert client.get(note.data["url"]).status_code == 200
