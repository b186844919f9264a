"""Who may do what to a voucher, and when: one home per rule.

`FLOW` is the voucher's workflow (treasury_portal.workflow: the transition
table of vouchers.models.TRANSITIONS, the row lock, the event row). Each action
has one `check_<action>(user, voucher)` that raises the service's refusal
(PermissionDenied for a role, `invalid_transition`, `same_person`,
`already_returned_once`, with the sentences the API has always given) and one
`can_<action>(user, voucher)`: the same check as a yes/no. The services call
the check (after their "is this a repeat?" test) and the buttons come from
`allowed_actions`, so a button is shown exactly when the service would let the
user start the action (what the service checks of the content — signatures,
documents, budget — is the preflight's, selectors.voucher_preflight).

`lock_voucher` and `lock_return_exception` name the lock order of the domain:
the voucher's row first (the parent), then the rows under it.
"""

from collections.abc import Callable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role, User
from accounts.selectors import user_has_treasury_role_over, user_has_unit_role
from treasury_portal.errors import ApplicationError, PermissionDenied
from treasury_portal.workflow import Workflow, lock_row, passes
from vouchers import selectors
from vouchers.models import (
    EDITABLE_STATUSES,
    TRANSITIONS,
    Rating,
    ReturnException,
    Voucher,
    VoucherEvent,
    VoucherStatus,
)

UNIT_ROLES = (Role.PREPARER, Role.CHIEF_ACCOUNTANT, Role.ACCOUNT_HOLDER)
SIGNER_ROLES = (Role.CHIEF_ACCOUNTANT, Role.ACCOUNT_HOLDER)
CLOSED_FOR_RATING = (VoucherStatus.PAID, VoucherStatus.REFUSED)
EXCEPTION_STATUSES = (VoucherStatus.SUBMITTED, VoucherStatus.IN_CONTROL)

FLOW = Workflow(
    model=Voucher,
    transitions=TRANSITIONS,
    invalid=gettext_lazy("Không thể thực hiện thao tác này khi chứng từ đang ở trạng thái “%(status)s”."),
    event_model=VoucherEvent,
    event_fk="voucher",
)


# --- the lock order of the vouchers domain ------------------------------------------


def lock_voucher(voucher: "Voucher | int | selectors.VoucherForWrite") -> Voucher:
    """The voucher's row locked, first of all (the parent of every other row a
    voucher's write touches: then its return exceptions, then the budget lines
    in id order and the deposit account — payments.services.budget — and last
    the payment intent it creates). Only the voucher's row: no join; the parents
    an instance passed in already holds are kept (treasury_portal.workflow)."""
    if isinstance(voucher, selectors.VoucherForWrite):  # the access check and the lock in one statement
        return voucher.lock()
    return lock_row(Voucher, voucher)


def lock_return_exception(voucher: Voucher) -> ReturnException | None:
    """Under the voucher's lock: the oldest unused return exception, locked."""
    return (
        ReturnException.objects.select_for_update().filter(voucher=voucher, used_at__isnull=True)
        .order_by("created_at", "id").first()
    )


# --- the pieces the checks are made of ------------------------------------------------


def require_unit(user: User, voucher: Voucher, *roles: str) -> None:
    if not user_has_unit_role(user, voucher.unit, *(roles or UNIT_ROLES)):
        raise PermissionDenied(_("Bạn không có vai trò phù hợp tại đơn vị này để thực hiện thao tác."))


def require_treasury(user: User, voucher: Voucher, role: str) -> None:
    if not user_has_treasury_role_over(user, voucher.unit, role):
        raise PermissionDenied(_("Bạn không có vai trò phù hợp tại kho bạc quản lý đơn vị này."))


def _editable(voucher: Voucher, sentence: str) -> None:
    if voucher.status not in EDITABLE_STATUSES:
        raise ApplicationError("invalid_transition", sentence)


def check_holder(user: User, voucher: Voucher) -> None:
    """The user holds the voucher in control: its controller, or the delegate
    of its controller away today who did not prepare, sign or approve it
    (services._require_controller then hands it over to the delegate)."""
    if voucher.controller_id == user.pk:
        return
    memo = getattr(voucher, "_holder_memo", None)  # allowed_actions asks up to four times
    if memo is not None and user.pk in memo:
        if memo[user.pk] is not None:
            raise memo[user.pk]
        return
    refusal: Exception | None = None
    absence = selectors.holder_absence(voucher)
    if absence is None or absence.delegate_id != user.pk:
        refusal = PermissionDenied(_("Chứng từ đang do cán bộ kiểm soát khác xử lý."))
    elif user.pk in selectors.delegate_excluded(voucher):
        refusal = ApplicationError(
            "same_person",
            _("Bạn đã lập, đã ký hoặc đã phê duyệt chứng từ này: không được kiểm soát thay người vắng mặt."),
        )
    if memo is not None:
        memo[user.pk] = refusal
    if refusal is not None:
        raise refusal


def may_return_again(voucher: Voucher) -> bool:
    """"Return only once": a voucher is returned for more documents once,
    again only with an approver's exception not yet used."""
    return voucher.return_count == 0 or voucher.return_exceptions.filter(used_at__isnull=True).exists()


# --- one check per action ---------------------------------------------------------------


def check_update(user: User, voucher: Voucher) -> None:
    require_unit(user, voucher)
    _editable(voucher, _("Chỉ sửa được chứng từ nháp hoặc chứng từ bị trả lại để bổ sung."))


def check_attach(user: User, voucher: Voucher) -> None:
    require_unit(user, voucher)
    _editable(voucher, _("Chỉ đính kèm được vào chứng từ nháp hoặc bị trả lại."))


def check_detach(user: User, voucher: Voucher) -> None:
    require_unit(user, voucher)
    _editable(voucher, _("Chỉ gỡ được tệp của chứng từ nháp hoặc bị trả lại."))


def check_sign(user: User, voucher: Voucher, role: str | None = None) -> None:
    """`role`: the role of the key the user signs with (any signer role for the button)."""
    require_unit(user, voucher, *((role,) if role else SIGNER_ROLES))
    _editable(voucher, _("Chỉ ký được chứng từ nháp hoặc chứng từ bị trả lại."))


def check_submit(user: User, voucher: Voucher) -> None:
    require_unit(user, voucher, Role.ACCOUNT_HOLDER)
    FLOW.check(voucher, "submit")


def check_withdraw(user: User, voucher: Voucher) -> None:
    require_unit(user, voucher)
    FLOW.check(voucher, "withdraw")


def check_rate(user: User, voucher: Voucher, *, rated: bool | None = None) -> None:
    """Once closed, rated once. `rated`: whether a rating exists, when the caller read it."""
    require_unit(user, voucher)
    if voucher.status not in CLOSED_FOR_RATING:
        raise ApplicationError("invalid_transition", _("Chỉ đánh giá được khi chứng từ đã kết thúc xử lý."))
    if rated if rated is not None else Rating.objects.filter(voucher=voucher).exists():
        raise ApplicationError("invalid_transition", _("Chứng từ này đã được đánh giá."))


def check_claim(user: User, voucher: Voucher) -> None:
    require_treasury(user, voucher, Role.CONTROL_OFFICER)
    FLOW.check(voucher, "claim")


def _check_held(user: User, voucher: Voucher, action: str) -> None:
    require_treasury(user, voucher, Role.CONTROL_OFFICER)
    FLOW.check(voucher, action)
    check_holder(user, voucher)


def check_pass(user: User, voucher: Voucher) -> None:
    _check_held(user, voucher, "pass")


def check_refuse(user: User, voucher: Voucher) -> None:
    _check_held(user, voucher, "refuse")


def check_release(user: User, voucher: Voucher) -> None:
    _check_held(user, voucher, "release")


def check_return(user: User, voucher: Voucher) -> None:
    _check_held(user, voucher, "return")
    if not may_return_again(voucher):
        raise ApplicationError(
            "already_returned_once",
            _(
                "Chứng từ đã được trả lại bổ sung một lần: chỉ được trả lại lần nữa khi lãnh đạo "
                "ghi nhận ngoại lệ có lý do."
            ),
        )


def check_approve(user: User, voucher: Voucher) -> None:
    require_treasury(user, voucher, Role.APPROVER)
    FLOW.check(voucher, "approve")
    if voucher.controller_id == user.pk:
        raise ApplicationError("same_person", _("Người phê duyệt không được là người đã kiểm soát chứng từ này."))


def check_send_back(user: User, voucher: Voucher) -> None:
    require_treasury(user, voucher, Role.APPROVER)
    FLOW.check(voucher, "send_back")


def check_reassign(user: User, voucher: Voucher) -> None:
    require_treasury(user, voucher, Role.APPROVER)
    FLOW.check(voucher, "reassign")


def check_return_exception(user: User, voucher: Voucher) -> None:
    require_treasury(user, voucher, Role.APPROVER)
    if voucher.status not in EXCEPTION_STATUSES:
        raise ApplicationError(
            "invalid_transition", _("Chỉ ghi nhận ngoại lệ cho chứng từ đang chờ hoặc đang kiểm soát.")
        )
    if voucher.return_count < 1:
        raise ApplicationError("invalid_transition", _("Chứng từ chưa bị trả lại lần nào: không cần ngoại lệ."))


CHECKS: dict[str, Callable[[User, Voucher], None]] = {
    "update": check_update,
    "attach": check_attach,
    "sign": check_sign,
    "submit": check_submit,
    "withdraw": check_withdraw,
    "rate": check_rate,
    "claim": check_claim,
    "pass": check_pass,
    "refuse": check_refuse,
    "return": check_return,
    "release": check_release,
    "approve": check_approve,
    "send_back": check_send_back,
    "reassign": check_reassign,
    "return_exception": check_return_exception,
}
# The refusals a check raises: anything else a service raises is about the
# content or the input, not about who may act and when.
REFUSAL_CODES = frozenset({"invalid_transition", "same_person", "already_returned_once"})


def can(action: str, user: User, voucher: Voucher) -> bool:
    return passes(CHECKS[action], user, voucher, refusals=REFUSAL_CODES)


def can_update(user: User, voucher: Voucher) -> bool:
    return can("update", user, voucher)


def can_attach(user: User, voucher: Voucher) -> bool:
    return can("attach", user, voucher)


def can_sign(user: User, voucher: Voucher) -> bool:
    return can("sign", user, voucher)


def can_submit(user: User, voucher: Voucher) -> bool:
    return can("submit", user, voucher)


def can_withdraw(user: User, voucher: Voucher) -> bool:
    return can("withdraw", user, voucher)


def can_rate(user: User, voucher: Voucher) -> bool:
    return can("rate", user, voucher)


def can_claim(user: User, voucher: Voucher) -> bool:
    return can("claim", user, voucher)


def can_pass(user: User, voucher: Voucher) -> bool:
    return can("pass", user, voucher)


def can_refuse(user: User, voucher: Voucher) -> bool:
    return can("refuse", user, voucher)


def can_return(user: User, voucher: Voucher) -> bool:
    return can("return", user, voucher)


def can_release(user: User, voucher: Voucher) -> bool:
    return can("release", user, voucher)


def can_approve(user: User, voucher: Voucher) -> bool:
    return can("approve", user, voucher)


def can_send_back(user: User, voucher: Voucher) -> bool:
    return can("send_back", user, voucher)


def can_reassign(user: User, voucher: Voucher) -> bool:
    return can("reassign", user, voucher)


def can_return_exception(user: User, voucher: Voucher) -> bool:
    return can("return_exception", user, voucher)


def allowed_actions(user: User, voucher: Voucher) -> set[str]:
    """The actions the user may start on the voucher now (the buttons): the
    actions whose check passes — the services run the same checks."""
    voucher._holder_memo = {}  # type: ignore[attr-defined]
    try:
        return {action for action in CHECKS if can(action, user, voucher)}
    finally:
        del voucher._holder_memo  # type: ignore[attr-defined]


def return_used_up(user: User, voucher: Voucher, allowed: set[str] | None = None) -> bool:
    """The holder could return the voucher but for "return only once" (the
    detail page says why the button is missing): "pass" and "return" ask the
    same role, status and holder, so only that rule tells them apart."""
    allowed = allowed_actions(user, voucher) if allowed is None else allowed
    return "pass" in allowed and "return" not in allowed
