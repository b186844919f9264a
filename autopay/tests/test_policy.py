"""One home per rule, for autopay authorizations: a button is shown exactly when
its service lets the user start the action (autopay.policy), checked as for the
vouchers (vouchers/tests/test_policy.py): every state, user and action run for
real in a rolled-back savepoint. And the old drift is gone: a superuser is no
party to an authorization, nor to a voucher."""

import pytest

from autopay import policy as autopay_policy
from autopay import services as autopay
from autopay.models import AutopayEvent
from autopay.tests.autopay_kit import AutopayKit
from payments.tests.kit import seed_money
from treasury_portal.errors import PermissionDenied
from vouchers import policy, services
from vouchers.tests.test_policy import _gate_refused


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
