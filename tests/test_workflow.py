"""The workflow engine (treasury_portal/workflow.py) the vouchers, the autopay
authorizations, the alerts and the follow-ups share: the transition table, the
refusal of a move the table does not allow, the event row, and a lock that
locks and reads the document's own row only."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from autopay import policy as autopay_policy
from monitoring import services as alert_services
from monitoring.satisfaction import services as followup_services
from treasury_portal.errors import ApplicationError, NotFound
from treasury_portal.workflow import lock_row
from vouchers import policy, selectors
from vouchers.models import TRANSITIONS, Voucher, VoucherEvent, VoucherStatus
from vouchers.tests.kit import Kit, seed


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    seed(world)
    return Kit(world)


FLOWS = [policy.FLOW, autopay_policy.FLOW, alert_services.FLOW, followup_services.FLOW]


def test_every_flow_is_declared_by_its_table() -> None:
    """Each document's workflow is its one transition table: every action
    leads from statuses of the model to a status of the model."""
    for flow in FLOWS:
        statuses = {value for value, _label in flow.model._meta.get_field("status").choices}
        assert flow.transitions, flow.model
        for action, (sources, target) in flow.transitions.items():
            assert set(sources) <= statuses and target in statuses, (flow.model.__name__, action)
    assert policy.FLOW.transitions is TRANSITIONS


@pytest.mark.django_db
def test_the_lock_locks_and_reads_the_own_row_only(kit) -> None:  # noqa: ANN001
    voucher = kit.submitted()
    with CaptureQueriesContext(connection) as ctx:
        locked = policy.lock_voucher(voucher.pk)
    assert locked.pk == voucher.pk and locked.status == VoucherStatus.SUBMITTED
    [query] = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert "FOR UPDATE" in query
    assert "JOIN" not in query.upper(), query
    assert 'FOR UPDATE OF "vouchers_voucher"' in query, query


@pytest.mark.django_db
def test_the_lock_keeps_the_parents_the_caller_read(kit) -> None:  # noqa: ANN001
    """A view's voucher (read with its parents) is locked without reading its
    parents again; a parent the row no longer points at is not kept."""
    voucher = kit.in_control()
    read = Voucher.objects.select_related(*selectors.LOCK_RELATED).get(pk=voucher.pk)
    with CaptureQueriesContext(connection) as ctx:
        locked = policy.lock_voucher(read)
        assert (locked.unit.office.code, locked.procedure.code, locked.controller.username) == (
            read.unit.office.code, read.procedure.code, "officer"
        )
    assert len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]) == 1
    Voucher.objects.filter(pk=voucher.pk).update(controller=kit.user("officer2"))
    with CaptureQueriesContext(connection) as ctx:
        locked = policy.lock_voucher(read)
        assert locked.controller.username == "officer2"  # read again: another row now
    assert len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]) == 2


@pytest.mark.django_db
def test_the_lock_of_a_missing_row_is_not_found() -> None:
    with pytest.raises(NotFound):
        lock_row(Voucher, 987654321)


@pytest.mark.django_db
def test_check_refuses_a_move_the_table_does_not_allow(kit) -> None:  # noqa: ANN001
    draft = kit.draft()
    assert policy.FLOW.allows(draft, "submit") and not policy.FLOW.allows(draft, "approve")
    assert policy.FLOW.check(draft, "submit") == VoucherStatus.SUBMITTED
    with pytest.raises(ApplicationError) as refused:
        policy.FLOW.check(draft, "approve")
    assert refused.value.code == "invalid_transition"
    assert "Nháp" in str(refused.value.message) or "nháp" in str(refused.value.message).lower()


@pytest.mark.django_db
def test_move_saves_the_status_and_fields_and_writes_the_event(kit) -> None:  # noqa: ANN001
    voucher = kit.submitted()
    officer = kit.user("officer")
    locked = policy.lock_voucher(voucher.pk)
    event = policy.FLOW.move(locked, "claim", actor=officer, fields={"controller": officer}, note="n" * 5000,
                             data={"x": 1})
    fresh = Voucher.objects.get(pk=voucher.pk)
    assert (fresh.status, fresh.controller_id) == (VoucherStatus.IN_CONTROL, officer.pk)
    row = VoucherEvent.objects.get(pk=event.pk)
    assert (row.voucher_id, row.actor_id, row.action, row.from_status, row.to_status, row.data) == (
        voucher.pk, officer.pk, "claim", VoucherStatus.SUBMITTED, VoucherStatus.IN_CONTROL, {"x": 1}
    )
    assert len(row.note) == 4000
    # A refused move changes nothing and writes nothing.
    before = VoucherEvent.objects.filter(voucher=voucher).count()
    with pytest.raises(ApplicationError):
        policy.FLOW.move(fresh, "approve", actor=officer)
    assert Voucher.objects.get(pk=voucher.pk).status == VoucherStatus.IN_CONTROL
    assert VoucherEvent.objects.filter(voucher=voucher).count() == before


@pytest.mark.django_db
def test_a_followup_moves_through_the_engine_with_its_assignee(kit) -> None:  # noqa: ANN001
    """A follow-up's event records its assignee of the moment (event_defaults);
    a follow-up has no updated_at column (save_updated_at=False); a step the
    table does not allow is the follow-up's own sentence."""
    from monitoring.models import FollowUp, FollowUpEvent, FollowUpStatus
    from vouchers import services

    voucher = kit.paid()
    services.voucher_rate(actor=kit.user("a_holder"), voucher=voucher.pk, score=1, comment="Chậm")
    assert followup_services.followups_open_new() == 1
    followup = FollowUp.objects.get(voucher=voucher)
    officer = kit.user("officer")
    followup_services.followup_assign(actor=kit.user("approver"), followup=followup.pk, assignee=officer)
    followup_services.followup_close(actor=officer, followup=followup.pk, note="Đã gọi điện")
    events = list(FollowUpEvent.objects.filter(followup=followup).order_by("id"))
    assert [(e.action, e.from_status, e.to_status) for e in events][0] == ("open", "", FollowUpStatus.OPEN)
    assert [e.assignee_id for e in events] == [None, officer.pk, officer.pk]
    assert FollowUp.objects.get(pk=followup.pk).status == followup_services.FLOW.transitions["close"][1]
    with pytest.raises(ApplicationError) as refused:
        followup_services.followup_note(actor=officer, followup=followup.pk, note="Thêm")
    assert refused.value.code == "invalid_transition" and "Việc theo dõi" in str(refused.value.message)
