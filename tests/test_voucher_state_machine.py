"""The voucher workflow against its one transition table, and a Hypothesis
state machine of submit / withdraw / claim / release / return / resubmit /
refuse / pass / approve / pay against a model of the budget counters, checking the invariants
after every step."""

import os

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from accounts.models import Role
from accounts.services import membership_grant
from payments.models import BudgetLine, BudgetMovement
from payments.services.budget import budget_allocate, budget_line_get_or_create
from tests.factories import UserFactory
from treasury_portal.errors import ApplicationError
from vouchers import services
from vouchers.models import TRANSITIONS, VoucherEvent, VoucherStatus
from vouchers.tests.kit import Kit, seed

pytestmark = pytest.mark.django_db

STATES = [s.value for s in VoucherStatus]


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    seed(world)
    # Second holders of each role, so that a refused repeat is not mistaken for
    # an idempotent one (a repeat by the same person returns the first result).
    for username, org, role in (
        ("holder2", world.units["a"], Role.ACCOUNT_HOLDER),
        ("approver2", world.offices["0100"], Role.APPROVER),
    ):
        user = UserFactory(username=username)
        membership_grant(user=user, organisation=org, role=role)
        world.users[username] = user
    return Kit(world)


def build(kit: Kit, state: str):  # noqa: ANN201
    """A voucher in `state`, reached through the real services."""
    return {
        "draft": lambda: _signed_draft(kit),
        "submitted": kit.submitted,
        "in_control": kit.in_control,
        "returned": kit.returned,
        "pending_approval": kit.pending,
        "approved": kit.approved,
        "paid": kit.paid,
        "payment_failed": kit.payment_failed,
        "refused": kit.refused,
        "withdrawn": kit.withdrawn,
    }[state]()


def _signed_draft(kit: Kit):  # noqa: ANN202
    voucher = kit.draft()
    kit.sign_both(voucher)
    return voucher


def perform(kit: Kit, action: str, voucher, *, allowed: bool):  # noqa: ANN001, ANN201
    """Call the action's service as someone entitled to it. For a move the table
    forbids, the caller is a second person of the same role, so that the answer
    cannot be an idempotent replay of that person's own earlier action."""
    u = kit.user
    deficiencies = [{"code": "TL01", "note": "Thiếu hợp đồng"}]
    reasons = [{"code": "TC02", "note": "Ngoài dự toán"}]
    officer = u("officer") if allowed else u("officer2")
    calls = {
        "submit": lambda: services.voucher_submit(actor=u("a_holder") if allowed else u("holder2"), voucher=voucher),
        "withdraw": lambda: services.voucher_withdraw(actor=u("a_holder") if allowed else u("a_preparer"),
                                                      voucher=voucher),
        "claim": lambda: services.voucher_claim(actor=officer, voucher=voucher),
        "return": lambda: services.voucher_return_for_supplement(actor=officer, voucher=voucher,
                                                                 deficiencies=deficiencies),
        "pass": lambda: services.voucher_pass(actor=officer, voucher=voucher),
        "refuse": lambda: services.voucher_refuse(actor=officer, voucher=voucher, reasons=reasons),
        "approve": lambda: services.voucher_approve(actor=u("approver") if allowed else u("approver2"),
                                                    voucher=voucher),
        "send_back": lambda: services.voucher_send_back(actor=u("approver") if allowed else u("approver2"),
                                                        voucher=voucher, note="Xem lại chứng từ"),
        "release": lambda: services.voucher_release(actor=officer, voucher=voucher, note="Bàn giao"),
        # The leader hands it to the officer who does not hold it (officer2 when
        # "officer" claimed it); refused moves name officer2 too.
        "reassign": lambda: services.voucher_reassign(actor=u("approver") if allowed else u("approver2"),
                                                      voucher=voucher, officer=u("officer2")),
        "pay": lambda: services.voucher_mark_paid(voucher=voucher),
        "fail_payment": lambda: services.voucher_mark_payment_failed(voucher=voucher, error="timeout"),
        "retry_payment": lambda: services.voucher_retry_payment(voucher=voucher),
        "bank_reject": lambda: services.voucher_mark_payment_rejected(voucher=voucher, reason="AC04"),
        # The office's year end (payments.services.yearend decides which vouchers).
        "year_end_refuse": lambda: services.voucher_year_end_refuse(
            voucher=voucher, actor=u("tadmin"), year=voucher.fiscal_year, note="Khóa sổ năm"
        ),
    }
    return calls[action]()


def test_the_table_names_every_status_and_only_known_ones():
    for action, (sources, target) in TRANSITIONS.items():
        assert sources and set(sources) <= set(STATES), action
        assert target in STATES, action
    reachable = {t for _s, t in TRANSITIONS.values()} | {"draft"}
    assert reachable == set(STATES)


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_each_allowed_transition_works_and_every_other_is_invalid(kit, action):  # noqa: ANN001
    sources, target = TRANSITIONS[action]
    for state in STATES:
        voucher = build(kit, state)
        assert voucher.status == state
        events_before = VoucherEvent.objects.filter(voucher=voucher).count()
        if state in sources:
            result = perform(kit, action, voucher, allowed=True)
            result.refresh_from_db()
            assert result.status == target, (action, state)
            event = VoucherEvent.objects.filter(voucher=voucher).latest("id")
            assert (event.action, event.from_status, event.to_status) == (action, state, target)
        elif state == target and action in {"pay", "fail_payment", "retry_payment", "bank_reject"}:
            # The payment worker's outcomes are idempotent: a repeat changes nothing.
            perform(kit, action, voucher, allowed=True)
            assert VoucherEvent.objects.filter(voucher=voucher).count() == events_before
        else:
            with pytest.raises(ApplicationError) as refused:
                perform(kit, action, voucher, allowed=False)
            assert refused.value.code == "invalid_transition", (action, state, refused.value.code)
            voucher.refresh_from_db()
            assert voucher.status == state
            assert VoucherEvent.objects.filter(voucher=voucher).count() == events_before


def test_a_repeat_by_the_same_person_returns_the_first_result(kit):  # noqa: ANN001
    voucher = kit.in_control()
    again = services.voucher_claim(actor=kit.user("officer"), voucher=voucher)
    assert again.status == "in_control"
    services.voucher_pass(actor=kit.user("officer"), voucher=voucher)
    services.voucher_pass(actor=kit.user("officer"), voucher=voucher)
    services.voucher_approve(actor=kit.user("approver"), voucher=voucher)
    services.voucher_approve(actor=kit.user("approver"), voucher=voucher)
    actions = list(VoucherEvent.objects.filter(voucher=voucher).values_list("action", flat=True))
    assert actions.count("claim") == 1 and actions.count("pass") == 1 and actions.count("approve") == 1


# --- the stateful model test -------------------------------------------------------

OPEN = {"submitted", "in_control", "returned", "pending_approval", "approved"}


class VoucherBudgetMachine(RuleBasedStateMachine):
    """Vouchers on one fresh budget line per example, against a model: the
    counters, each voucher's status, amount and the amount it holds reserved."""

    kit: Kit = None  # set by the test
    counter = 0

    def __init__(self) -> None:
        super().__init__()
        cls = type(self)
        cls.counter += 1
        kit = self.kit
        self.line = budget_line_get_or_create(
            actor=None, unit=kit.unit, fiscal_year=kit.fiscal_year, chapter="422", sector="073", ndkt="7001",
            funding_source="13", programme=f"{cls.counter:05d}", budget_level="2",
        )
        self.allocated = 0
        self.reserved = 0
        self.spent = 0
        self.vouchers: dict[int, dict] = {}
        self._allocate(10_000_000)

    def _allocate(self, amount: int) -> None:
        budget_allocate(actor=None, budget_line=self.line, amount=amount, key=f"sm:{self.line.pk}:{self.allocated}")
        self.allocated += amount

    def _with(self, status: str) -> list[int]:
        return sorted(pk for pk, v in self.vouchers.items() if v["status"] == status)

    def _pick(self, data, status: str) -> tuple[int, dict]:  # noqa: ANN001
        pk = data.draw(st.sampled_from(self._with(status)))
        return pk, self.vouchers[pk]

    # --- rules ---

    @rule(amount=st.integers(min_value=1, max_value=6_000_000))
    def submit_new(self, amount: int) -> None:
        kit = self.kit
        voucher = kit.draft(amount, lines=[{"budget_line": self.line.pk, "amount": amount}])
        kit.sign_both(voucher)
        available = self.allocated - self.reserved - self.spent
        if amount <= available:
            services.voucher_submit(actor=kit.user("a_holder"), voucher=voucher)
            self.reserved += amount
            self.vouchers[voucher.pk] = {"status": "submitted", "amount": amount, "held": amount, "returns": 0}
        else:
            with pytest.raises(ApplicationError) as refused:
                services.voucher_submit(actor=kit.user("a_holder"), voucher=voucher)
            assert refused.value.code == "insufficient_budget"
            voucher.refresh_from_db()
            assert voucher.status == "draft"

    @rule(amount=st.integers(min_value=1, max_value=5_000_000))
    def allocate_more(self, amount: int) -> None:
        self._allocate(amount)

    @precondition(lambda self: self._with("submitted"))
    @rule(data=st.data())
    def withdraw(self, data) -> None:  # noqa: ANN001
        pk, v = self._pick(data, "submitted")
        services.voucher_withdraw(actor=self.kit.user("a_holder"), voucher=pk)
        self.reserved -= v["held"]
        v.update(status="withdrawn", held=0)

    @precondition(lambda self: self._with("submitted"))
    @rule(data=st.data())
    def claim(self, data) -> None:  # noqa: ANN001
        pk, v = self._pick(data, "submitted")
        services.voucher_claim(actor=self.kit.user("officer"), voucher=pk)
        v["status"] = "in_control"

    @precondition(lambda self: self._with("in_control"))
    @rule(data=st.data())
    def release(self, data) -> None:  # noqa: ANN001
        """Back to the office's queue: the reservation stays, nobody holds it."""
        pk, v = self._pick(data, "in_control")
        services.voucher_release(actor=self.kit.user("officer"), voucher=pk, note="Bàn giao")
        v["status"] = "submitted"

    @precondition(lambda self: self._with("in_control"))
    @rule(data=st.data())
    def return_for_supplement(self, data) -> None:  # noqa: ANN001
        pk, v = self._pick(data, "in_control")
        call = lambda: services.voucher_return_for_supplement(  # noqa: E731
            actor=self.kit.user("officer"), voucher=pk, deficiencies=[{"code": "TL03", "note": "Thiếu hóa đơn"}]
        )
        if v["returns"] == 0:
            call()
            v.update(status="returned", returns=1)
        else:
            with pytest.raises(ApplicationError) as refused:
                call()
            assert refused.value.code == "already_returned_once"

    @precondition(lambda self: self._with("returned"))
    @rule(data=st.data(), new_amount=st.none() | st.integers(min_value=1, max_value=6_000_000))
    def resubmit(self, data, new_amount) -> None:  # noqa: ANN001
        pk, v = self._pick(data, "returned")
        kit = self.kit
        if new_amount is not None:
            services.voucher_update(
                actor=kit.user("a_preparer"), voucher=pk,
                data={"lines": [{"budget_line": self.line.pk, "amount": new_amount}]},
            )
            v["amount"] = new_amount
            kit.sign_both(self._voucher(pk))  # the change voided both signatures
        delta = v["amount"] - v["held"]
        if delta <= self.allocated - self.reserved - self.spent:
            services.voucher_submit(actor=kit.user("a_holder"), voucher=pk)
            self.reserved += delta
            v.update(status="submitted", held=v["amount"])
        else:
            with pytest.raises(ApplicationError) as refused:
                services.voucher_submit(actor=kit.user("a_holder"), voucher=pk)
            assert refused.value.code == "insufficient_budget"

    @precondition(lambda self: self._with("in_control"))
    @rule(data=st.data())
    def refuse(self, data) -> None:  # noqa: ANN001
        pk, v = self._pick(data, "in_control")
        services.voucher_refuse(actor=self.kit.user("officer"), voucher=pk, reasons=[{"code": "TC01", "note": ""}])
        self.reserved -= v["held"]
        v.update(status="refused", held=0)

    @precondition(lambda self: self._with("in_control"))
    @rule(data=st.data())
    def pass_to_approval(self, data) -> None:  # noqa: ANN001
        pk, v = self._pick(data, "in_control")
        services.voucher_pass(actor=self.kit.user("officer"), voucher=pk)
        v["status"] = "pending_approval"

    @precondition(lambda self: self._with("pending_approval"))
    @rule(data=st.data())
    def approve(self, data) -> None:  # noqa: ANN001
        pk, v = self._pick(data, "pending_approval")
        services.voucher_approve(actor=self.kit.user("approver"), voucher=pk)
        v["status"] = "approved"

    @precondition(lambda self: self._with("approved"))
    @rule(data=st.data())
    def pay(self, data) -> None:  # noqa: ANN001
        pk, v = self._pick(data, "approved")
        services.voucher_mark_paid(voucher=pk)
        self.reserved -= v["held"]
        self.spent += v["held"]
        v.update(status="paid", held=0)

    @staticmethod
    def _voucher(pk: int):  # noqa: ANN205
        from vouchers.models import Voucher

        return Voucher.objects.get(pk=pk)

    # --- invariants ---

    @invariant()
    def counters_match_the_model_and_the_movements(self) -> None:
        line = BudgetLine.objects.get(pk=self.line.pk)
        assert (line.allocated, line.reserved, line.spent) == (self.allocated, self.reserved, self.spent)
        assert 0 <= line.reserved and 0 <= line.spent and line.reserved + line.spent <= line.allocated
        sums = dict(
            BudgetMovement.objects.filter(budget_line=line).values_list("kind").annotate(total=Sum("amount"))
        )
        assert sums.get("allocate", 0) == line.allocated
        assert sums.get("reserve", 0) - sums.get("release", 0) - sums.get("spend", 0) == line.reserved
        assert sums.get("spend", 0) == line.spent

    @invariant()
    def reserved_is_what_open_vouchers_hold(self) -> None:
        assert self.reserved == sum(v["held"] for v in self.vouchers.values() if v["status"] in OPEN)
        assert self.spent == sum(v["amount"] for v in self.vouchers.values() if v["status"] == "paid")

    @invariant()
    def statuses_match(self) -> None:
        if not self.vouchers:
            return
        from vouchers.models import Voucher

        rows = Voucher.objects.filter(pk__in=self.vouchers).values_list("pk", "status", "controller_id")
        assert {pk: status for pk, status, _c in rows} == {pk: v["status"] for pk, v in self.vouchers.items()}
        # A voucher in control has its officer (a release clears it, a claim sets it again).
        for _pk, status, controller in rows:
            if status == "in_control":
                assert controller is not None


def _examples() -> int:
    """500 in CI (reliability.md; about 3 minutes on 2 busy cores), fewer on a
    developer's machine; VOUCHER_MACHINE_EXAMPLES overrides both."""
    default = "500" if os.environ.get("CI") == "true" else "120"
    return int(os.environ.get("VOUCHER_MACHINE_EXAMPLES", default))


@pytest.mark.slow
def test_vouchers_and_budget_counters_stay_consistent(kit):  # noqa: ANN001
    VoucherBudgetMachine.kit = kit
    run_state_machine_as_test(
        VoucherBudgetMachine,
        settings=settings(
            max_examples=_examples(), stateful_step_count=10, deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
        ),
    )
