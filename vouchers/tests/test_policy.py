"""One home per rule: a voucher's button is shown exactly when its service lets
the user start the action (vouchers.policy), and the same for an autopay
authorization (payments.autopay_policy). For every state, user and action the
service is run for real in a savepoint (rolled back): it refuses with the
check's refusal (PermissionDenied, invalid_transition, same_person,
already_returned_once) iff the button is missing. What it refuses about the
content (signatures, documents, input) is past the button: the action started."""

import pytest
from django.db import transaction

from payments import autopay_policy
from payments.models import AutopayEvent
from payments.services import autopay
from payments.tests.autopay_kit import AutopayKit
from payments.tests.kit import seed_money
from treasury_portal.errors import ApplicationError, PermissionDenied
from vouchers import policy, selectors, services
from vouchers.models import ReturnException, Voucher, VoucherEvent
from vouchers.tests.kit import PDF, Upload

USERS = ["a_preparer", "a_chief", "a_holder", "officer", "officer2", "approver", "officer_b"]


class _Rollback(Exception):
    pass


def _gate_refused(run, event_model=VoucherEvent, refusals=policy.REFUSAL_CODES) -> bool | None:  # noqa: ANN001
    """Run the service in a savepoint that is always rolled back: True when the
    check refused, False when the action started, None for a repeat (nothing
    written: the service answered an earlier identical request)."""
    outcome: bool | None = None
    try:
        with transaction.atomic():
            before = event_model.objects.count()
            try:
                run()
            except PermissionDenied:
                outcome = True
            except ApplicationError as exc:
                outcome = exc.code in refusals
            else:
                outcome = False if event_model.objects.count() > before else None
            raise _Rollback
    except _Rollback:
        pass
    return outcome


def _services(kit, user, voucher_pk: int) -> dict:  # noqa: ANN001
    target = "officer2" if Voucher.objects.get(pk=voucher_pk).controller_id != kit.user("officer2").pk else "officer"
    runs = {
        "update": lambda: services.voucher_update(actor=user, voucher=voucher_pk, data={"description": "Sửa lại"}),
        "attach": lambda: services.attachment_add(actor=user, voucher=voucher_pk, file=Upload("hd.pdf", PDF),
                                                  kind="contract"),
        "submit": lambda: services.voucher_submit(actor=user, voucher=voucher_pk),
        "withdraw": lambda: services.voucher_withdraw(actor=user, voucher=voucher_pk),
        "rate": lambda: services.voucher_rate(actor=user, voucher=voucher_pk, score=4),
        "claim": lambda: services.voucher_claim(actor=user, voucher=voucher_pk),
        "pass": lambda: services.voucher_pass(actor=user, voucher=voucher_pk),
        "refuse": lambda: services.voucher_refuse(actor=user, voucher=voucher_pk, reasons=[{"code": "TC01"}]),
        "return": lambda: services.voucher_return_for_supplement(
            actor=user, voucher=voucher_pk, deficiencies=[{"code": "TL03", "note": "Thiếu"}]),
        "release": lambda: services.voucher_release(actor=user, voucher=voucher_pk, note="Đi công tác"),
        "approve": lambda: services.voucher_approve(actor=user, voucher=voucher_pk),
        "send_back": lambda: services.voucher_send_back(actor=user, voucher=voucher_pk, note="Xem lại"),
        "reassign": lambda: services.voucher_reassign(actor=user, voucher=voucher_pk, officer=kit.user(target)),
        "return_exception": lambda: services.voucher_grant_return_exception(
            actor=user, voucher=voucher_pk, justification="Lãnh đạo đồng ý trả lại lần hai"),
    }
    if user.username in kit.keys:
        from vouchers.tests.kit import signature_for

        private, key = kit.keys[user.username]
        runs["sign"] = lambda: services.voucher_sign(
            actor=user, voucher=voucher_pk, key_id=key.pk,
            signature=signature_for(private, Voucher.objects.get(pk=voucher_pk)),
        )
    return runs


def _second_time_in_control(kit, *, exception: bool):  # noqa: ANN001, ANN202
    """Returned once, resubmitted, claimed again: a second return needs an exception."""
    voucher = kit.returned()
    services.voucher_submit(actor=kit.user("a_holder"), voucher=voucher.pk)
    voucher = services.voucher_claim(actor=kit.user("officer"), voucher=voucher.pk)
    if exception:
        ReturnException.objects.create(voucher=voucher, granted_by=kit.user("approver"), justification="x" * 12)
    return voucher


@pytest.mark.django_db
def test_a_voucher_button_is_shown_iff_its_service_lets_the_user_start(kit) -> None:  # noqa: ANN001
    signed = kit.draft()
    kit.sign_both(signed)
    states = {
        "draft": kit.draft(), "signed": signed, "submitted": kit.submitted(), "in_control": kit.in_control(),
        "returned": kit.returned(), "second_in_control": _second_time_in_control(kit, exception=False),
        "second_with_exception": _second_time_in_control(kit, exception=True), "pending": kit.pending(),
        "approved": kit.approved(), "refused": kit.refused(), "withdrawn": kit.withdrawn(), "paid": kit.paid(),
    }
    mismatches, compared = [], 0
    for state, voucher in states.items():
        for name in USERS:
            user = kit.user(name)
            fresh = Voucher.objects.select_related(*selectors.LOCK_RELATED).get(pk=voucher.pk)
            allowed = policy.allowed_actions(user, fresh)
            assert allowed == selectors.voucher_allowed_actions(user, fresh)
            for action, run in _services(kit, user, voucher.pk).items():
                refused = _gate_refused(run)
                if refused is None:
                    continue  # a repeat of what the user did before: answered, not started
                compared += 1
                if (action in allowed) == refused:
                    mismatches.append((state, name, action, "shown" if action in allowed else "hidden"))
                assert getattr(policy, f"can_{action}")(user, fresh) == (action in allowed)
    assert not mismatches, mismatches
    assert compared > 500


@pytest.mark.django_db
def test_return_only_once_has_one_home(kit) -> None:  # noqa: ANN001
    """The rule decides the service's refusal, the button and the page's note."""
    officer = kit.user("officer")
    voucher = _second_time_in_control(kit, exception=False)
    assert not policy.may_return_again(voucher)
    assert "return" not in policy.allowed_actions(officer, voucher) and policy.return_used_up(officer, voucher)
    with pytest.raises(ApplicationError) as refused:
        services.voucher_return_for_supplement(actor=officer, voucher=voucher.pk,
                                               deficiencies=[{"code": "TL03", "note": "Thiếu"}])
    assert refused.value.code == "already_returned_once"
    ReturnException.objects.create(voucher=voucher, granted_by=kit.user("approver"), justification="x" * 12)
    assert policy.may_return_again(voucher) and "return" in policy.allowed_actions(officer, voucher)
    assert not policy.return_used_up(officer, voucher)


@pytest.mark.django_db
def test_an_authorization_button_is_shown_iff_its_service_lets_the_user_start(world) -> None:  # noqa: ANN001
    seed_money(world)
    kit = AutopayKit(world)
    states = {
        "draft": kit.draft_authorization(codes=("PE0101",)),
        "submitted": kit.submitted_authorization(codes=("PE0102",)),
        "active": kit.active_authorization(codes=("PE0103",)),
    }
    rejected = kit.submitted_authorization(codes=("PE0104",))
    states["rejected"] = autopay.authorization_reject(actor=kit.user("tadmin"), authorization=rejected, note="Sai")
    revoked = kit.draft_authorization(codes=("PE0105",))
    states["revoked"] = autopay.authorization_revoke(actor=kit.user("a_chief"), authorization=revoked)
    users = ["a_preparer", "a_chief", "a_holder", "tadmin", "officer", "tadmin_b"]
    mismatches, compared = [], 0
    for state, a in states.items():
        for name in users:
            user = kit.user(name)
            fresh = type(a).objects.select_related("unit", "supplier").get(pk=a.pk)
            allowed = autopay_policy.allowed_actions(user, fresh)
            runs = {
                "edit": lambda u=user, pk=a.pk: autopay.authorization_update(
                    actor=u, authorization=pk, data={"cap_per_invoice": 9_000_000}),
                "submit": lambda u=user, pk=a.pk: autopay.authorization_submit(actor=u, authorization=pk),
                "revoke": lambda u=user, pk=a.pk: autopay.authorization_revoke(actor=u, authorization=pk),
                "confirm": lambda u=user, pk=a.pk: autopay.authorization_confirm(actor=u, authorization=pk),
                "reject": lambda u=user, pk=a.pk: autopay.authorization_reject(actor=u, authorization=pk, note="Sai"),
            }
            for action, run in runs.items():
                refused = _gate_refused(run, AutopayEvent, frozenset({"invalid_transition"}))
                if refused is None:
                    continue
                compared += 1
                if (action in allowed) == refused:
                    mismatches.append((state, name, action, "shown" if action in allowed else "hidden"))
    assert not mismatches, mismatches
    assert compared > 100


@pytest.mark.django_db
def test_a_superuser_is_no_party_to_an_authorization_nor_to_a_voucher(world, kit) -> None:  # noqa: ANN001
    """The drift is gone: neither workflow lets a superuser act without the role."""
    boss = kit.user("officer_b")
    boss.is_superuser = True
    boss.save(update_fields=["is_superuser"])
    voucher = kit.submitted()
    assert not policy.can_claim(boss, voucher)
    with pytest.raises(PermissionDenied):
        services.voucher_claim(actor=boss, voucher=voucher.pk)
    seed_money(world)
    a = AutopayKit(world).submitted_authorization(codes=("PE0201",))  # new keys: after the voucher's signatures
    assert not autopay_policy.can_confirm(boss, a)
    with pytest.raises(PermissionDenied):
        autopay.authorization_confirm(actor=boss, authorization=a.pk)
