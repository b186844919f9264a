"""Out-of-office with a delegate (issue 14): a control officer or approver is
away for a period with a delegate of the same office and role, declared by them
or by a leader of the office. During the period the delegate's queue holds the
absent officer's vouchers and the delegate acts on them as their holder: the
first action hands the voucher over (a `delegate` event the unit sees) and
segregation of duties holds as for any controller. API and page."""

import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.models import Absence, Role, User
from accounts.services import membership_grant
from payments.models import Notification
from treasury_portal.errors import ApplicationError
from vouchers import selectors, services
from vouchers.models import Voucher, VoucherEvent

pytestmark = pytest.mark.django_db


def code_of(call) -> str:  # noqa: ANN001
    with pytest.raises(ApplicationError) as refused:
        call()
    return refused.value.code


def key() -> dict:
    return {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}


def today():  # noqa: ANN201
    return timezone.localdate()


def away(kit, user: str = "officer", delegate: str = "officer2", *, actor: str | None = None,  # noqa: ANN001
         role: str = Role.CONTROL_OFFICER, starts: int = 0, ends: int = 3) -> Absence:
    return account_services.absence_create(
        actor=kit.user(actor or user), user=kit.user(user), delegate=kit.user(delegate), role=role,
        starts_on=today() + timedelta(days=starts), ends_on=today() + timedelta(days=ends), note="Nghỉ phép",
    )


# --- the absence itself ------------------------------------------------------------


def test_an_officer_or_their_leader_declares_an_absence_and_its_rules(kit, world):  # noqa: ANN001
    absence = away(kit)
    assert (absence.office, absence.role, absence.created_by) == (world.offices["0100"], "control_officer",
                                                                 kit.user("officer"))
    # One absence at a time per person and role; the delegate must not be away too.
    assert code_of(lambda: away(kit, starts=2, ends=5)) == "absence_overlap"
    assert code_of(lambda: away(kit, "officer2", "officer", starts=1, ends=1)) == "delegate_absent"
    # Dates: not ending before it starts, not over already.
    assert code_of(lambda: away(kit, "officer2", "officer", starts=9, ends=8)) == "invalid_period"
    assert code_of(lambda: away(kit, "officer2", "officer", starts=-3, ends=-1)) == "invalid_period"
    # Same office, same role: an officer of another office, an approver, oneself.
    assert code_of(lambda: away(kit, "officer2", "officer_b", starts=10, ends=11)) == "delegate_not_colleague"
    assert code_of(lambda: away(kit, "officer2", "approver", starts=10, ends=11)) == "delegate_not_colleague"
    assert code_of(lambda: away(kit, "officer2", "officer2", starts=10, ends=11)) == "delegate_not_colleague"
    # Who declares: the person, or a leader (approver) of the office; not a colleague, not another office's leader.
    assert code_of(lambda: away(kit, "officer2", "officer", actor="officer", starts=10, ends=11)) == (
        "permission_denied")
    assert code_of(lambda: away(kit, "officer2", "officer", actor="approver_b", starts=10, ends=11)) == (
        "permission_denied")
    by_leader = away(kit, "officer2", "officer", actor="approver", starts=10, ends=11)
    assert by_leader.created_by == kit.user("approver")
    assert Absence.objects.filter(cancelled_at__isnull=True).count() == 2


def test_the_database_refuses_a_period_backwards_or_oneself_as_delegate(kit, world):  # noqa: ANN001
    from django.db import IntegrityError, transaction

    base = {"user": kit.user("officer"), "office": world.offices["0100"], "role": "control_officer",
            "created_by": kit.user("officer")}
    with pytest.raises(IntegrityError), transaction.atomic():
        Absence.objects.create(**base, delegate=kit.user("officer2"), starts_on=today(),
                               ends_on=today() - timedelta(days=1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Absence.objects.create(**base, delegate=kit.user("officer"), starts_on=today(), ends_on=today())


def test_cancelling_an_absence(kit):  # noqa: ANN001
    absence = away(kit)
    assert code_of(lambda: account_services.absence_cancel(actor=kit.user("officer2"), absence=absence)) == (
        "permission_denied")
    done = account_services.absence_cancel(actor=kit.user("approver"), absence=absence)
    assert done.cancelled_by == kit.user("approver") and done.cancelled_at is not None
    again = account_services.absence_cancel(actor=kit.user("officer"), absence=absence)
    assert again.cancelled_by == kit.user("approver")  # a repeat changes nothing
    assert account_selectors.absent_for(kit.user("officer2"), Role.CONTROL_OFFICER) == []
    # Cancelled, the period is free again.
    away(kit, starts=1, ends=2)


# --- the delegate's queue and actions ------------------------------------------------


def test_the_delegate_receives_the_queue_only_during_the_period(kit):  # noqa: ANN001
    voucher = kit.in_control()
    delegate = kit.user("officer2")
    mine = selectors.review_queue(delegate, mine=True)
    assert voucher not in mine and not selectors.holds(delegate, voucher)
    absence = away(kit, starts=1, ends=2)  # from tomorrow
    assert voucher not in selectors.review_queue(delegate, mine=True)
    Absence.objects.filter(pk=absence.pk).update(starts_on=today())  # the period has begun
    assert list(selectors.review_queue(delegate, mine=True)) == [voucher]
    rows = selectors.review_queue_rows(delegate, mine=True)
    assert [r["id"] for r in rows] == [voucher.pk]
    assert selectors.queue_profile(delegate)["mine"] == 1
    assert selectors.holds(delegate, voucher)
    assert {"pass", "refuse", "return", "release"} <= selectors.voucher_allowed_actions(delegate, voucher)
    # The absent officer's own queue still holds it (they may come back early).
    assert voucher in selectors.review_queue(kit.user("officer"), mine=True)
    # Another officer of the office does not receive it; the delegate of nobody neither.
    Absence.objects.filter(pk=absence.pk).update(ends_on=today() - timedelta(days=1), starts_on=today() - timedelta(
        days=2))
    assert list(selectors.review_queue(delegate, mine=True)) == []
    assert selectors.review_queue_rows(delegate, mine=True) == []
    assert not selectors.holds(delegate, voucher)


def test_the_delegate_acts_as_the_holder_and_the_unit_sees_the_hand_over(kit):  # noqa: ANN001
    voucher = kit.in_control()
    away(kit)
    delegate = kit.user("officer2")
    # Another officer of the office, not the delegate, still may not act.
    membership_grant(user=User.objects.get(username="a_preparer"), organisation=kit.world.offices["0100"],
                     role=Role.CONTROL_OFFICER)
    services.voucher_pass(actor=delegate, voucher=voucher, note="Đạt")
    voucher.refresh_from_db()
    assert voucher.status == "pending_approval" and voucher.controller == delegate
    actions = [(e.action, e.actor.username) for e in selectors.voucher_timeline(voucher)][-2:]
    assert actions == [("delegate", "officer2"), ("pass", "officer2")]
    handover = VoucherEvent.objects.get(voucher=voucher, action="delegate")
    assert handover.from_status == handover.to_status == "in_control"
    assert handover.data["from_controller"] == kit.user("officer").pk
    assert handover.data["to_controller"] == delegate.pk and handover.data["until"]
    # Segregation of duties: the delegate controlled it, so an approver-delegate may not approve it either.
    membership_grant(user=delegate, organisation=kit.world.offices["0100"], role=Role.APPROVER)
    fresh = User.objects.get(pk=delegate.pk)
    assert code_of(lambda: services.voucher_approve(actor=fresh, voucher=voucher)) == "same_person"


def test_a_delegate_who_prepared_or_signed_the_voucher_may_not_take_it_over(kit, world):  # noqa: ANN001
    for username in ("a_preparer", "a_chief"):
        membership_grant(user=kit.user(username), organisation=world.offices["0100"], role=Role.CONTROL_OFFICER)
    voucher = kit.in_control()
    for username in ("a_preparer", "a_chief"):
        Absence.objects.all().update(cancelled_at=timezone.now())
        fresh = User.objects.get(username=username)
        account_services.absence_create(actor=kit.user("approver"), user=kit.user("officer"), delegate=fresh,
                                        role=Role.CONTROL_OFFICER, starts_on=today(), ends_on=today())
        assert not selectors.holds(fresh, voucher)
        assert "pass" not in selectors.voucher_allowed_actions(fresh, voucher)
        assert code_of(lambda fresh=fresh: services.voucher_pass(actor=fresh, voucher=voucher)) == "same_person"
    voucher.refresh_from_db()
    assert voucher.controller == kit.user("officer")
    assert not VoucherEvent.objects.filter(voucher=voucher, action="delegate").exists()


def test_not_the_delegate_or_after_the_period_is_refused(kit):  # noqa: ANN001
    voucher = kit.in_control()
    absence = away(kit)
    account_services.absence_cancel(actor=kit.user("officer"), absence=absence)
    assert code_of(lambda: services.voucher_pass(actor=kit.user("officer2"), voucher=voucher)) == (
        "permission_denied")
    # The delegate releases it back to the office's queue during the period.
    away(kit, starts=0, ends=0)
    services.voucher_release(actor=kit.user("officer2"), voucher=voucher, note="Chuyển về hàng chờ")
    voucher.refresh_from_db()
    assert voucher.status == "submitted" and voucher.controller_id is None
    assert [e.action for e in selectors.voucher_timeline(voucher)][-2:] == ["delegate", "release"]


def test_an_away_leader_s_delegate_is_told_of_escalations(kit, world):  # noqa: ANN001
    second = User.objects.create_user(username="approver2", password="x")
    membership_grant(user=second, organisation=world.offices["0100"], role=Role.APPROVER)
    world.users["approver2"] = second
    away(kit, "approver", "approver2", role=Role.APPROVER)
    voucher = kit.in_control()
    Voucher.objects.filter(pk=voucher.pk).update(due_at=timezone.now() - timedelta(hours=1))
    event = services.voucher_escalate(voucher=voucher.pk)
    assert second.pk in event.data["leaders"] and kit.user("approver").pk in event.data["leaders"]
    assert Notification.objects.filter(user=second).exists()


# --- API -----------------------------------------------------------------------------------


def test_absences_through_the_api(kit, api):  # noqa: ANN001
    body = {"delegate": "officer2", "role": "control_officer", "starts_on": str(today()),
            "ends_on": str(today() + timedelta(days=2)), "note": "Công tác"}
    first = api("officer").post("/api/v1/absences", body, format="json", **key())
    assert first.status_code == 201, first.json()
    data = first.json()
    assert (data["user"], data["delegate"], data["office"], data["cancelled_at"]) == (
        "officer", "officer2", "0100", None)
    overlap = api("officer").post("/api/v1/absences", body, format="json", **key())
    assert overlap.status_code == 409 and overlap.json()["code"] == "absence_overlap"
    stranger = api("officer").post("/api/v1/absences", {**body, "delegate": "officer_b"}, format="json", **key())
    assert stranger.status_code == 404
    backwards = api("approver").post("/api/v1/absences", {**body, "user": "officer2", "delegate": "officer",
                                                           "ends_on": str(today() - timedelta(days=1))},
                                     format="json", **key())
    assert backwards.status_code == 409 and backwards.json()["code"] == "invalid_period"
    assert api("a_holder").get("/api/v1/absences").status_code == 403
    # Who sees it: the person, the delegate, the office's leader; not another office.
    for username, seen in (("officer", 1), ("officer2", 1), ("approver", 1), ("approver_b", 0), ("officer_b", 0)):
        assert api(username).get("/api/v1/absences").json()["count"] == seen, username
    url = f"/api/v1/absences/{data['id']}/cancel"
    assert api("officer_b").post(url, format="json", **key()).status_code == 404
    assert api("officer2").post(url, format="json", **key()).status_code == 403
    cancelled = api("approver").post(url, format="json", **key())
    assert cancelled.status_code == 200 and cancelled.json()["cancelled_by"] == "approver"


def test_the_schema_lists_the_absence_paths(api):  # noqa: ANN001
    paths = api("officer").get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    assert {"/api/v1/absences", "/api/v1/absences/{id}/cancel"} <= set(paths)


# --- pages ---------------------------------------------------------------------------------


def test_the_absences_page_declares_and_cancels(kit, login):  # noqa: ANN001
    page = login("officer").get("/account/absences/")
    assert page.status_code == 200 and 'value="officer2"' in page.text and 'name="user"' in page.text
    assert "Lịch vắng mặt của kho bạc" not in page.text  # not a leader
    bad = login("officer").post("/account/absences/", {
        "user": "officer", "role": "control_officer", "delegate": "officer2",
        "starts_on": str(today() + timedelta(days=3)), "ends_on": str(today() + timedelta(days=1)),
    })
    assert bad.status_code == 400 and "Ngày kết thúc phải từ ngày bắt đầu trở đi." in bad.text
    ok = login("officer").post("/account/absences/", {
        "user": "officer", "role": "control_officer", "delegate": "officer2",
        "starts_on": str(today()), "ends_on": str(today() + timedelta(days=1)), "note": "Nghỉ phép",
    })
    assert ok.status_code == 302
    absence = Absence.objects.get()
    leader = login("approver").get("/account/absences/")
    assert "Lịch vắng mặt của kho bạc" in leader.text and "Nguyễn Văn Kiểm" in leader.text
    assert f"/account/absences/{absence.pk}/cancel/" in leader.text
    assert login("officer_b").post(f"/account/absences/{absence.pk}/cancel/").status_code == 404
    assert login("a_holder").get("/account/absences/").status_code == 404
    cancelled = login("approver").post(f"/account/absences/{absence.pk}/cancel/")
    assert cancelled.status_code == 302
    absence.refresh_from_db()
    assert absence.cancelled_by == kit.user("approver")


def test_the_voucher_page_shows_the_delegate_and_the_hand_over(kit, login):  # noqa: ANN001
    voucher = kit.in_control()
    away(kit)
    unit_page = login("a_holder").get(f"/vouchers/{voucher.pk}/")
    assert "người thay: Trần Thị Soát" in unit_page.text
    delegate_page = login("officer2").get(f"/vouchers/{voucher.pk}/")
    assert "f-release" in delegate_page.text
    services.voucher_pass(actor=kit.user("officer2"), voucher=voucher)
    timeline = login("a_holder").get(f"/vouchers/{voucher.pk}/")
    assert "Người thay nhận chứng từ của cán bộ vắng mặt: Nguyễn Văn Kiểm → Trần Thị Soát" in timeline.text


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_absences_page_speaks_one_language(kit, login, lang):  # noqa: ANN001
    from tests import language_check

    voucher = kit.in_control()
    away(kit)
    services.voucher_pass(actor=kit.user("officer2"), voucher=voucher)
    allowed = language_check.allowed_from_database()
    for username, path in (("approver", "/account/absences/"), ("officer2", "/account/absences/"),
                           ("a_holder", f"/vouchers/{voucher.pk}/")):
        client = login(username)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
        page = client.get(path)
        assert page.status_code == 200, (username, path)
        assert language_check.findings(page.content.decode(), lang, allowed) == [], (username, path)
