"""Who may do what to an autopay authorization, and when: one home per rule.

`FLOW` is the authorization's workflow (treasury_portal.workflow, the engine
the vouchers use too): its transition table, its row lock, its event row. Each
action has one `check_<action>(user, authorization)` raising the service's
refusal (PermissionDenied for a role, `invalid_transition`) and one
`can_<action>`; the services (autopay.services) call the checks and the
page's buttons are `allowed_actions`. As for vouchers, the roles decide: a
superuser is the site's administrator, not a party to a unit's authorization
(no bypass here any more than in vouchers.policy).
"""

from collections.abc import Callable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role, User
from accounts.selectors import user_has_treasury_role_over, user_has_unit_role
from autopay.models import AuthorizationStatus, AutopayAuthorization, AutopayEvent
from treasury_portal.errors import ApplicationError, PermissionDenied
from treasury_portal.workflow import Workflow, passes

UNIT_ROLES = (Role.PREPARER, Role.CHIEF_ACCOUNTANT, Role.ACCOUNT_HOLDER)
SIGNER_ROLES = (Role.CHIEF_ACCOUNTANT, Role.ACCOUNT_HOLDER)

# action → (statuses it may start from, status it leads to)
TRANSITIONS = {
    "submit": ({AuthorizationStatus.DRAFT}, AuthorizationStatus.SUBMITTED),
    "confirm": ({AuthorizationStatus.SUBMITTED}, AuthorizationStatus.ACTIVE),
    "reject": ({AuthorizationStatus.SUBMITTED}, AuthorizationStatus.REJECTED),
    "revoke": (
        {AuthorizationStatus.DRAFT, AuthorizationStatus.SUBMITTED, AuthorizationStatus.ACTIVE},
        AuthorizationStatus.REVOKED,
    ),
}

FLOW = Workflow(
    model=AutopayAuthorization, transitions=TRANSITIONS, event_model=AutopayEvent, event_fk="authorization",
    invalid=gettext_lazy("Không thể thực hiện thao tác này khi ủy quyền đang ở trạng thái “%(status)s”."),
)


def require_unit(user: User, a: AutopayAuthorization, *roles: str) -> None:
    if not user_has_unit_role(user, a.unit, *(roles or UNIT_ROLES)):
        raise PermissionDenied(_("Bạn không có vai trò phù hợp tại đơn vị này để thực hiện thao tác."))


def require_admin(user: User, a: AutopayAuthorization) -> None:
    if not user_has_treasury_role_over(user, a.unit, Role.ADMINISTRATOR):
        raise PermissionDenied(_("Chỉ quản trị kho bạc quản lý đơn vị mới xác nhận được ủy quyền."))


def check_edit(user: User, a: AutopayAuthorization) -> None:
    require_unit(user, a)
    if a.status != AuthorizationStatus.DRAFT:
        raise ApplicationError("invalid_transition", _("Chỉ sửa được ủy quyền đang ở trạng thái nháp."))


def check_sign(user: User, a: AutopayAuthorization, role: str | None = None) -> None:
    """`role`: the role of the key the user signs with (any signer role for the button)."""
    require_unit(user, a, *((role,) if role else SIGNER_ROLES))
    if a.status != AuthorizationStatus.DRAFT:
        raise ApplicationError("invalid_transition", _("Chỉ ký được ủy quyền đang ở trạng thái nháp."))


def check_submit(user: User, a: AutopayAuthorization) -> None:
    require_unit(user, a, Role.ACCOUNT_HOLDER)
    FLOW.check(a, "submit")


def check_revoke(user: User, a: AutopayAuthorization) -> None:
    require_unit(user, a, *SIGNER_ROLES)
    FLOW.check(a, "revoke")


def check_confirm(user: User, a: AutopayAuthorization) -> None:
    require_admin(user, a)
    FLOW.check(a, "confirm")


def check_reject(user: User, a: AutopayAuthorization) -> None:
    require_admin(user, a)
    FLOW.check(a, "reject")


CHECKS: dict[str, Callable[[User, AutopayAuthorization], None]] = {
    "edit": check_edit, "sign": check_sign, "submit": check_submit, "revoke": check_revoke,
    "confirm": check_confirm, "reject": check_reject,
}


def can(action: str, user: User, a: AutopayAuthorization) -> bool:
    return passes(CHECKS[action], user, a)


def can_edit(user: User, a: AutopayAuthorization) -> bool:
    return can("edit", user, a)


def can_sign(user: User, a: AutopayAuthorization) -> bool:
    return can("sign", user, a)


def can_submit(user: User, a: AutopayAuthorization) -> bool:
    return can("submit", user, a)


def can_revoke(user: User, a: AutopayAuthorization) -> bool:
    return can("revoke", user, a)


def can_confirm(user: User, a: AutopayAuthorization) -> bool:
    return can("confirm", user, a)


def can_reject(user: User, a: AutopayAuthorization) -> bool:
    return can("reject", user, a)


def allowed_actions(user: User, a: AutopayAuthorization) -> set[str]:
    """What the page offers the user now: the actions whose check passes (the services run the same checks)."""
    return {action for action in CHECKS if can(action, user, a)}
