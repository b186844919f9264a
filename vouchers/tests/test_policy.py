"""One home per rule: a voucher's button is shown exactly when its service lets
the user start the action (vouchers.policy; autopay/tests/test_policy.py does
the same for an autopay authorization). For every state, user and action the
service is run for real in a savepoint (rolled back): it refuses with the
check's refusal (PermissionDenied, invalid_transition, same_person,
already_returned_once) iff the button is missing. What it refuses about the
content (signatures, documents, input) is past the button: the action started."""

import pytest
from django.db import transaction

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
