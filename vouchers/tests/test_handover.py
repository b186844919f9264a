"""Hand-over and escalation: an officer releases a voucher, a leader reassigns it,
the refused cases (role, office, status, segregation of duties), the predicates
that show the buttons agree with the services, the API and the pages, and the
scheduled escalation that tells the office's leaders once."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import membership_grant
from payments.models import Notification
from tests.factories import UserFactory
from treasury_portal.errors import ApplicationError
from vouchers import policy, selectors, services
from vouchers.models import Voucher, VoucherEvent
from vouchers.tasks import escalate_due_vouchers

pytestmark = pytest.mark.django_db


def code_of(call) -> str:  # noqa: ANN001
    with pytest.raises(ApplicationError) as refused:
        call()
    return refused.value.code


def key() -> dict:
    return {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}


# --- release ---------------------------------------------------------------------


def test_the_controller_releases_with_a_reason_and_the_voucher_is_back_in_the_queue(kit):  # noqa: ANN001
    voucher = kit.in_control()
    due = voucher.due_at
    services.voucher_release(actor=kit.user("officer"), voucher=voucher, note="Nghỉ phép đột xuất")
    voucher.refresh_from_db()
    assert voucher.status == "submitted" and voucher.controller_id is None and voucher.due_at == due
    event = VoucherEvent.objects.filter(voucher=voucher).latest("id")
    assert (event.action, event.from_status, event.to_status, event.note) == (
        "release", "in_control", "submitted", "Nghỉ phép đột xuất"
    )
    assert selectors.voucher_holder(voucher) == {"side": "treasury", "user": None}
    # A repeat returns the voucher as it is; another officer may now claim it.
    services.voucher_release(actor=kit.user("officer"), voucher=voucher, note="Nghỉ phép đột xuất")
    assert VoucherEvent.objects.filter(voucher=voucher, action="release").count() == 1
    services.voucher_claim(actor=kit.user("officer2"), voucher=voucher)
    voucher.refresh_from_db()
    assert voucher.controller == kit.user("officer2")


def test_release_refusals(kit):  # noqa: ANN001
    voucher = kit.in_control()
    officer = kit.user("officer")
    assert code_of(lambda: services.voucher_release(actor=officer, voucher=voucher, note="  ")) == "validation_error"
    # Another officer of the office does not hold it; an approver is not an officer;
    # an officer of another office is not over the unit.
    assert code_of(lambda: services.voucher_release(actor=kit.user("officer2"), voucher=voucher, note="x")) == (
        "permission_denied"
    )
    assert code_of(lambda: services.voucher_release(actor=kit.user("approver"), voucher=voucher, note="x")) == (
        "permission_denied"
    )
    assert code_of(lambda: services.voucher_release(actor=kit.user("officer_b"), voucher=voucher, note="x")) == (
        "permission_denied"
    )
    pending = kit.pending()
    assert code_of(lambda: services.voucher_release(actor=officer, voucher=pending, note="x")) == (
        "invalid_transition"
    )
    voucher.refresh_from_db()
    assert voucher.status == "in_control" and voucher.controller == officer


# --- reassign --------------------------------------------------------------------


def test_a_leader_reassigns_and_the_new_holder_is_told(kit):  # noqa: ANN001
    voucher = kit.in_control()
    before = Notification.objects.count()
    services.voucher_reassign(
        actor=kit.user("approver"), voucher=voucher, officer=kit.user("officer2"), note="Anh Kiểm nghỉ ốm"
    )
    voucher.refresh_from_db()
    assert voucher.status == "in_control" and voucher.controller == kit.user("officer2")
    event = VoucherEvent.objects.filter(voucher=voucher).latest("id")
    assert event.action == "reassign" and event.actor == kit.user("approver")
    assert event.data["from_controller"] == kit.user("officer").pk
    assert event.data["to_controller"] == kit.user("officer2").pk
    assert selectors.voucher_holder(voucher)["user"] == kit.user("officer2")
    new = Notification.objects.filter(pk__gt=0).order_by("id")[before:]
    told = {n.user_id: n.title for n in new}
    assert set(told) == {kit.user("officer2").pk, kit.user("officer").pk}
    assert "giao cho bạn" in told[kit.user("officer2").pk]
    # The unit sees the hand-over in the timeline (the events API reads the same rows).
    assert "reassign" in [e.action for e in selectors.voucher_timeline(voucher)]
    # Reassigning to the officer who already holds it changes nothing.
    services.voucher_reassign(actor=kit.user("approver"), voucher=voucher, officer="officer2")
    assert VoucherEvent.objects.filter(voucher=voucher, action="reassign").count() == 1
    # The previous holder may no longer act on it; the new holder carries on.
    assert code_of(lambda: services.voucher_pass(actor=kit.user("officer"), voucher=voucher)) == "permission_denied"
    services.voucher_pass(actor=kit.user("officer2"), voucher=voucher)


def test_reassign_refusals(kit, world):  # noqa: ANN001
    voucher = kit.in_control()
    approver, officer2 = kit.user("approver"), kit.user("officer2")

    def reassign(actor, officer):  # noqa: ANN001, ANN202
        return lambda: services.voucher_reassign(actor=actor, voucher=voucher, officer=officer)

    # Wrong role: an officer cannot reassign; another office's leader cannot either.
    assert code_of(reassign(kit.user("officer"), officer2)) == "permission_denied"
    assert code_of(reassign(kit.user("approver_b"), officer2)) == "permission_denied"
    # The target must be a control officer over the unit.
    assert code_of(reassign(approver, kit.user("officer_b"))) == "validation_error"
    assert code_of(reassign(approver, kit.user("a_preparer"))) == "validation_error"
    assert code_of(reassign(approver, "nobody-by-that-name")) == "validation_error"
    # Segregation of duties: not whoever prepared or signed it, nor the leader.
    for username in ("a_preparer", "a_chief", "approver"):
        membership_grant(user=kit.user(username), organisation=world.offices["0100"], role=Role.CONTROL_OFFICER)
    fresh = User.objects.get  # memberships are read once per user object
    assert code_of(reassign(approver, fresh(username="a_preparer"))) == "same_person"
    assert code_of(reassign(approver, fresh(username="a_chief"))) == "same_person"
    assert code_of(reassign(approver, fresh(username="approver"))) == "same_person"
    # Not in control.
    pending = kit.pending()
    assert code_of(lambda: services.voucher_reassign(actor=approver, voucher=pending, officer=officer2)) == (
        "invalid_transition"
    )
    submitted = kit.submitted()
    assert code_of(lambda: services.voucher_reassign(actor=approver, voucher=submitted, officer=officer2)) == (
        "invalid_transition"
    )
    voucher.refresh_from_db()
    assert voucher.controller == kit.user("officer")
    assert not VoucherEvent.objects.filter(action="reassign").exists()


def test_a_leader_of_the_office_above_may_reassign(kit, world):  # noqa: ANN001
    top = UserFactory(username="top_leader")
    membership_grant(user=top, organisation=world.offices["0001"], role=Role.APPROVER)
    voucher = kit.in_control()
    services.voucher_reassign(actor=top, voucher=voucher, officer="officer2")
    voucher.refresh_from_db()
    assert voucher.controller == kit.user("officer2")


def test_the_predicates_agree_with_the_services(kit):  # noqa: ANN001
    in_control = kit.in_control()
    pending = kit.pending()
    submitted = kit.submitted()
    users = ["officer", "officer2", "approver", "approver_b", "officer_b", "a_holder"]
    for voucher in (in_control, pending, submitted):
        for name in users:
            user = kit.user(name)
            v = Voucher.objects.get(pk=voucher.pk)
            allowed = selectors.voucher_allowed_actions(user, v)
            assert ("release" in allowed) == policy.can_release(user, v)
            assert ("reassign" in allowed) == policy.can_reassign(user, v)
            # release: the predicate says yes exactly when the service would run.
            try:
                services.voucher_release(actor=user, voucher=v, note="Bàn giao")
                ran = True
            except ApplicationError:
                ran = False
            assert ran == policy.can_release(user, v), (name, v.status)
            if ran:  # put it back under its controller for the next users
                services.voucher_claim(actor=user, voucher=v)
            v = Voucher.objects.get(pk=voucher.pk)
            candidates = selectors.reassign_candidates(v, user) if policy.can_reassign(user, v) else []
            if policy.can_reassign(user, v):
                assert [c.username for c in candidates] == ["officer2"], name
                services.voucher_reassign(actor=user, voucher=v, officer=candidates[0])
                services.voucher_reassign(actor=user, voucher=v, officer="officer")  # and back
            else:
                code = code_of(lambda: services.voucher_reassign(actor=user, voucher=v, officer="officer2"))  # noqa: B023
                assert code in {"permission_denied", "invalid_transition"}, (name, v.status, code)


# --- API -------------------------------------------------------------------------


def test_api_release_and_reassign(kit, api):  # noqa: ANN001
    voucher = kit.in_control()
    url = f"/api/v1/vouchers/{voucher.pk}"
    # Reassign: the target officer is required; an unknown one is a 400 with the field.
    missing = api("approver").post(f"{url}/reassign", {}, format="json", **key())
    assert missing.status_code == 400 and missing.json()["code"] == "validation_error"
    assert "officer" in missing.json()["fields"]
    wrong = api("approver").post(f"{url}/reassign", {"officer": "officer_b"}, format="json", **key())
    assert wrong.status_code == 400 and "officer" in wrong.json()["fields"]
    same = api("approver").post(f"{url}/reassign", {"officer": "approver"}, format="json", **key())
    assert same.status_code == 400  # the approver is no control officer: not a candidate at all
    denied = api("officer").post(f"{url}/reassign", {"officer": "officer2"}, format="json", **key())
    assert denied.status_code == 403 and denied.json()["code"] == "permission_denied"
    other = api("approver_b").post(f"{url}/reassign", {"officer": "officer2"}, format="json", **key())
    assert other.status_code == 404 and other.json()["code"] == "not_found"
    headers = key()
    done = api("approver").post(f"{url}/reassign", {"officer": "officer2", "note": "Nghỉ ốm"}, format="json",
                                **headers)
    assert done.status_code == 200, done.json()
    # The transition's small answer: the controller's id (the whole voucher only on Prefer: return=representation).
    assert done.json()["status"] == "in_control" and done.json()["controller_id"] == kit.user("officer2").pk
    replay = api("approver").post(f"{url}/reassign", {"officer": "officer2", "note": "Nghỉ ốm"}, format="json",
                                  **headers)
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    conflict = api("approver").post(f"{url}/reassign", {"officer": "officer"}, format="json", **headers)
    assert conflict.status_code == 409 and conflict.json()["code"] == "idempotency_conflict"
    # Release: only the holder, with a note.
    no_note = api("officer2").post(f"{url}/release", {}, format="json", **key())
    assert no_note.status_code == 400 and "note" in no_note.json()["fields"]
    not_holder = api("officer").post(f"{url}/release", {"note": "x"}, format="json", **key())
    assert not_holder.status_code == 403 and not_holder.json()["code"] == "permission_denied"
    released = api("officer2").post(f"{url}/release", {"note": "Sai bộ phận"}, format="json", **key())
    assert released.status_code == 200 and released.json()["status"] == "submitted"
    assert released.json()["controller_id"] is None
    again = api("officer2").post(f"{url}/release", {"note": "Sai bộ phận"}, format="json", **key())
    assert again.status_code == 200 and again.json()["status"] == "submitted"
    late = api("approver").post(f"{url}/reassign", {"officer": "officer2"}, format="json", **key())
    assert late.status_code == 409 and late.json()["code"] == "invalid_transition"
    events = api("a_holder").get(f"{url}/events").json()
    actions = [e["action"] for e in (events["results"] if isinstance(events, dict) else events)]
    assert actions[-2:] == ["reassign", "release"]


def test_the_schema_lists_the_new_paths(kit, api):  # noqa: ANN001
    schema = api("approver").get("/api/schema/", HTTP_ACCEPT="application/json")
    if schema.status_code != 200:
        pytest.skip("schema served elsewhere")
    paths = schema.json()["paths"]
    assert "/api/v1/vouchers/{id}/release" in paths and "/api/v1/vouchers/{id}/reassign" in paths


# --- pages -----------------------------------------------------------------------


def test_pages_offer_and_run_the_hand_over(kit, login):  # noqa: ANN001
    voucher = kit.in_control()
    page = login("approver").get(f"/vouchers/{voucher.pk}/")
    assert page.status_code == 200 and "f-reassign" in page.text and "f-release" not in page.text
    assert 'value="officer2"' in page.text and 'value="a_preparer"' not in page.text
    bad = login("approver").post(f"/vouchers/{voucher.pk}/reassign/", {"reassign-officer": "officer_b"})
    assert bad.status_code == 400
    ok = login("approver").post(f"/vouchers/{voucher.pk}/reassign/", {"reassign-officer": "officer2",
                                                                      "reassign-note": "Nghỉ ốm"})
    assert ok.status_code == 302
    voucher.refresh_from_db()
    assert voucher.controller == kit.user("officer2")
    unit_page = login("a_holder").get(f"/vouchers/{voucher.pk}/")
    assert "Trần Thị Soát" in unit_page.text  # who holds it now, and the timeline
    officer_page = login("officer2").get(f"/vouchers/{voucher.pk}/")
    assert "f-release" in officer_page.text and "f-reassign" not in officer_page.text
    no_note = login("officer2").post(f"/vouchers/{voucher.pk}/release/", {"release-note": ""})
    assert no_note.status_code == 400
    released = login("officer2").post(f"/vouchers/{voucher.pk}/release/", {"release-note": "Sai bộ phận"})
    assert released.status_code == 302
    voucher.refresh_from_db()
    assert voucher.status == "submitted"


# --- escalation ------------------------------------------------------------------


def _due_in(voucher: Voucher, delta: timedelta) -> Voucher:
    Voucher.objects.filter(pk=voucher.pk).update(due_at=timezone.now() + delta)
    voucher.refresh_from_db()
    return voucher


def test_escalation_tells_the_leaders_once_per_state(kit, world):  # noqa: ANN001
    top = UserFactory(username="top_leader")
    membership_grant(user=top, organisation=world.offices["0001"], role=Role.APPROVER)
    overdue = _due_in(kit.in_control(), -timedelta(hours=2))
    near = _due_in(kit.submitted(), timedelta(hours=3))
    later = _due_in(kit.submitted(), timedelta(days=3))
    draft = kit.draft()
    leaders = {kit.user("approver").pk, kit.user("approver2").pk if "approver2" in world.users else None, top.pk}
    leaders.discard(None)
    assert escalate_due_vouchers.apply().get() == 2
    assert escalate_due_vouchers.apply().get() == 0  # run twice: told once
    escalations = VoucherEvent.objects.filter(action="escalate")
    assert {(e.voucher_id, e.data["state"]) for e in escalations} == {(overdue.pk, "overdue"), (near.pk, "near")}
    for voucher in (overdue, near):
        told = set(Notification.objects.filter(voucher=voucher, data__action="escalate").values_list(
            "user_id", flat=True))
        assert told == leaders
        assert Notification.objects.filter(voucher=voucher, data__action="escalate").count() == len(leaders)
    assert not VoucherEvent.objects.filter(voucher__in=[later, draft], action="escalate").exists()
    # Another office's leader is not told.
    assert not Notification.objects.filter(user=kit.user("approver_b"), data__action="escalate").exists()
    # The near voucher becomes overdue: one more escalation, in the new state.
    _due_in(near, -timedelta(minutes=5))
    assert services.vouchers_escalate_due() == 1
    assert services.vouchers_escalate_due() == 0
    # The leaders' list: escalated and still overdue or due soon, in their offices only.
    assert {v.pk for v in selectors.escalated_vouchers(kit.user("approver"))} == {overdue.pk, near.pk}
    assert list(selectors.escalated_vouchers(kit.user("approver_b"))) == []


def test_the_leaders_see_escalated_vouchers_on_home_and_queue(kit, login):  # noqa: ANN001
    overdue = _due_in(kit.in_control(), -timedelta(hours=2))
    services.vouchers_escalate_due()
    home = login("approver").get("/")
    assert home.status_code == 200 and overdue.receipt_number in home.text
    queue = login("approver").get("/treasury/queue/?escalated=1")
    assert queue.status_code == 200 and overdue.receipt_number in queue.text
    detail = login("a_holder").get(f"/vouchers/{overdue.pk}/")
    assert "Báo lãnh đạo đôn đốc" in detail.text


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_hand_over_pages_speak_one_language(kit, login, lang):  # noqa: ANN001
    from django.conf import settings

    from tests import language_check

    voucher = _due_in(kit.in_control(), -timedelta(hours=2))
    services.vouchers_escalate_due()
    services.voucher_reassign(actor=kit.user("approver"), voucher=voucher, officer="officer2", note="Nghỉ ốm")
    allowed = language_check.allowed_from_database()
    for username, path in (
        ("approver", f"/vouchers/{voucher.pk}/"),
        ("officer2", f"/vouchers/{voucher.pk}/"),
        ("a_holder", f"/vouchers/{voucher.pk}/"),
        ("approver", "/treasury/queue/?escalated=1"),
        ("approver", "/"),
    ):
        client = login(username)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
        page = client.get(path)
        assert page.status_code == 200, (username, path)
        assert language_check.findings(page.content.decode(), lang, allowed) == [], (username, path)
