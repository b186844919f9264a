"""Automatic utility payments (autopay): authorizations, supplier invoices and the run.

Authorizations follow a voucher's shape: a unit drafts one (supplier, customer
codes, the budget line or deposit account to charge, caps per invoice and per
month, validity), the chief accountant and then the account holder sign its
content hash (Ed25519, `accounts.crypto`; RFC 8785 canonical JSON,
`accounts.canonical`), the account holder submits it, a treasury administrator
over the unit confirms it (→ active) and the unit may revoke it. Any change of
content voids the signatures. `AuthorizationCustomerCode.active` mirrors the
active status so that a partial unique index forbids two active authorizations
for one (supplier, customer code).

Suppliers send invoices (`supplier_invoice_receive`, idempotent by invoice
number). `autopay_run` settles pending invoices in batches, each batch one
transaction (docs/ledger.md, "Autopay"):

1. claim up to `batch_size` pending invoices, oldest first, with
   `SELECT … FOR UPDATE SKIP LOCKED` (two runs or workers never take the same one);
2. read what decides them in a handful of set-based queries: the active
   authorizations of their customer codes (locked, in id order: month caps are
   counted under that lock), the periods already paid, the month totals per
   authorization, each customer code's last paid amounts; then lock the ledger
   accounts (id order, as `transfer_post` does) and the budget lines (id order)
   and read their balances and counters;
3. decide every invoice in Python: paid, or an exception with its code;
4. write the batch set-based: one conditional UPDATE per table for the budget
   counters and the balances (row counts checked), bulk inserts of transfers
   (key `autopay:<invoice id>`), budget movements, events and the outbox's
   notifications, one UPDATE of the invoices, the run's counters.

If a batch's write fails, the batch is settled again one invoice at a time in
savepoints; an invoice that still fails goes to the exceptions
(`processing_error`), the others are paid. The database is the backstop: an
invoice is paid at most once per (authorization, customer code, period) and per
(supplier, customer code, period) (partial unique indexes), a transfer at most
once per invoice (its key, and the invoice's one-to-one transfer), and the
budget and account CHECK constraints hold whatever happens.
"""

import logging
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import (
    F,
    JSONField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from accounts.canonical import content_hash
from accounts.models import Membership, Organisation, OrgKind, Role, User
from accounts.selectors import user_has_unit_role
from accounts.services import (
    document_sign,
    live_signatures_verify,
    signed_content_store,
    signing_start,
)
from autopay import policy
from autopay import reasons as autopay_reasons
from autopay import selectors as autopay_selectors
from autopay.models import (
    AuthorizationCustomerCode,
    AuthorizationSignature,
    AuthorizationStatus,
    AutopayAuthorization,
    AutopayEvent,
    AutopayRun,
    ExceptionCode,
    InvoiceStatus,
    RunStatus,
    SupplierCollectionAccount,
    SupplierInvoice,
)
from payments.models import (
    Account,
    AccountKind,
    BudgetLine,
    BudgetMovementKind,
    Notification,
    NotificationKind,
    TransferKind,
)
from payments.selectors import yearend as yearend_selectors
from payments.services import budget, ledger
from payments.services.bulk_sql import as_json, insert_rows, sql_row
from payments.services.notifications import (
    balance_notification_rows,
    balance_recipients,
    balance_recipients_by_unit,
    notifications_write,
    notifications_write_many,
)
from treasury_portal.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed
from treasury_portal.workflow import refuse_unknown_fields
from vouchers.selectors import deposits_committed

logger = logging.getLogger(__name__)

MAX_AMOUNT = 10**15
MAX_CUSTOMER_CODES = 100
CUSTOMER_CODE = re.compile(r"[0-9A-Za-z._\-]{1,40}")
INVOICE_NUMBER = re.compile(r"[0-9A-Za-z._/\-]{1,60}")
PERIOD = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
UNIT_ROLES = (Role.PREPARER, Role.CHIEF_ACCOUNTANT, Role.ACCOUNT_HOLDER)
SIGNER_ROLES = (Role.CHIEF_ACCOUNTANT, Role.ACCOUNT_HOLDER)
SIGNATURE_ROLES = (Role.CHIEF_ACCOUNTANT, Role.ACCOUNT_HOLDER)
# An invoice far above its customer code's history: more than ANOMALY_FACTOR
# times the median of its last ANOMALY_HISTORY paid invoices, when it has at
# least ANOMALY_MIN_HISTORY of them.
ANOMALY_FACTOR = 3
ANOMALY_HISTORY = 6
ANOMALY_MIN_HISTORY = 3
PROCESSING_ERROR = ExceptionCode.PROCESSING_ERROR
DEFAULT_BATCH_SIZE = 500

EDITABLE_FIELDS = {
    "customer_codes", "budget_line", "deposit_account", "cap_per_invoice", "cap_per_month", "valid_from", "valid_to",
}
# The transition table, the workflow (lock, check, event) and who may act: autopay.policy.
TRANSITIONS = policy.TRANSITIONS
FLOW = policy.FLOW


def _money_text(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def _pk(obj: Any) -> int:
    return obj.pk if hasattr(obj, "pk") else int(obj)


# --- authorizations: content, checks, events ----------------------------------------


def authorization_content(authorization: AutopayAuthorization, codes: list[str] | None = None) -> dict:
    """The signable content: what the signatures bind to (RFC 8785 canonical JSON)."""
    a = authorization
    if codes is None:
        codes = [c.customer_code for c in a.customer_codes.all()]
    line = a.budget_line
    return {
        "document": "autopay_authorization",
        "id": a.pk,
        "unit": a.unit.code,
        "supplier": a.supplier.code,
        "customer_codes": sorted(codes),
        "budget_line": (
            {"id": line.pk, "fiscal_year": line.fiscal_year, "classification": line.classification} if line else None
        ),
        "deposit_account": a.deposit_account.number if a.deposit_account_id else None,
        "cap_per_invoice": a.cap_per_invoice,
        "cap_per_month": a.cap_per_month,
        "valid_from": a.valid_from.isoformat(),
        "valid_to": a.valid_to.isoformat(),
    }


def authorization_content_hash(authorization: AutopayAuthorization, codes: list[str] | None = None) -> str:
    return content_hash(authorization_content(authorization, codes))


_lock = FLOW.lock  # the authorization's own row (no join); the parents a caller read are kept


def _require_unit_role(actor: User, unit: Organisation, *roles: str) -> None:
    if not user_has_unit_role(actor, unit, *roles):
        raise PermissionDenied(_("Bạn không có vai trò phù hợp tại đơn vị này để thực hiện thao tác."))


def _authorization_recipients(authorization: AutopayAuthorization) -> list[int]:
    ids = set(
        Membership.objects.filter(
            organisation_id=authorization.unit_id, role__in=SIGNER_ROLES, is_active=True
        ).values_list("user_id", flat=True)
    )
    ids.add(authorization.created_by_id)
    return sorted(ids)


def _event(
    authorization: AutopayAuthorization, *, actor: User | None, action: str, from_status: str, to_status: str,
    note: str = "", data: dict | None = None,
) -> AutopayEvent:
    event = FLOW.event(authorization, actor=actor, action=action, from_status=from_status, to_status=to_status,
                       note=note, data=data or {})
    _notify_authorization(authorization, event)
    return event


def _notify_authorization(authorization: AutopayAuthorization, event: AutopayEvent) -> None:
    from_status, to_status, action, note = event.from_status, event.to_status, event.action, event.note
    if from_status != to_status:
        with translation.override(settings.LANGUAGE_CODE):
            title = _("Ủy quyền thanh toán tự động UQ-%(id)s (%(supplier)s): %(status)s") % {
                "id": authorization.pk, "supplier": authorization.supplier.name,
                "status": AuthorizationStatus(to_status).label,
            }
        notifications_write(
            [
                Notification(
                    user_id=user_id, kind=NotificationKind.AUTOPAY, title=title[:255],
                    body=title + (f" — {note}" if note else ""), unit_id=authorization.unit_id,
                    data={"authorization_id": authorization.pk, "status": to_status, "from_status": from_status,
                          "action": action, "note": (note or "")[:500], "supplier": authorization.supplier.name},
                )
                for user_id in _authorization_recipients(authorization)
            ]
        )


def _move(
    authorization: AutopayAuthorization, action: str, *, actor: User, fields: Mapping[str, Any], note: str = "",
    data: dict | None = None,
) -> AutopayEvent:
    event = FLOW.move(authorization, action, actor=actor, fields=fields, note=note, data=data or {})
    _notify_authorization(authorization, event)
    return event


def _int_amount(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_AMOUNT:
        raise ValidationFailed(
            _("Số tiền phải là số nguyên dương (đồng)."), fields={name: [_("Phải là số nguyên dương (đồng).")]}
        )
    return value


def _date(value: Any, name: str) -> date:
    parsed = value if isinstance(value, date) and not isinstance(value, datetime) else None
    if parsed is None and isinstance(value, str):
        try:
            parsed = parse_date(value)
        except ValueError:
            parsed = None
    if parsed is None:
        raise ValidationFailed(_("Ngày không hợp lệ (YYYY-MM-DD)."), fields={name: [_("Ngày không hợp lệ.")]})
    return parsed


def _clean_codes(codes: Any) -> list[str]:
    if not isinstance(codes, list | tuple) or not codes or len(codes) > MAX_CUSTOMER_CODES:
        raise ValidationFailed(
            _("Cần từ 1 đến %(max)s mã khách hàng.") % {"max": MAX_CUSTOMER_CODES},
            fields={"customer_codes": [_("Cần ít nhất một mã khách hàng.")]},
        )
    cleaned = []
    for code in codes:
        if not isinstance(code, str) or not CUSTOMER_CODE.fullmatch(code.strip()):
            raise ValidationFailed(
                _("Mã khách hàng chỉ gồm chữ, số, dấu chấm, gạch (tối đa 40 ký tự)."),
                fields={"customer_codes": [str(code)[:50]]},
            )
        cleaned.append(code.strip())
    if len(set(cleaned)) != len(cleaned):
        raise ValidationFailed(_("Mã khách hàng bị trùng."), fields={"customer_codes": [_("Trùng mã.")]})
    return sorted(cleaned)


def _clean_supplier(supplier: Any) -> Organisation:
    if isinstance(supplier, Organisation):
        org = supplier if supplier.kind == OrgKind.SUPPLIER and supplier.is_active else None
    else:
        org = Organisation.objects.filter(kind=OrgKind.SUPPLIER, code=str(supplier), is_active=True).first()
    if org is None:
        raise ValidationFailed(_("Không tìm thấy nhà cung cấp."), fields={"supplier": [str(supplier)[:50]]})
    return org


def _clean_funding(
    unit: Organisation, budget_line: Any, deposit_account: Any
) -> tuple[BudgetLine | None, Account | None]:
    if (budget_line in (None, "")) == (deposit_account in (None, "")):
        raise ValidationFailed(
            _("Chọn đúng một nguồn chi: một dòng dự toán hoặc một tài khoản tiền gửi của đơn vị."),
            fields={"budget_line": [_("Chọn dòng dự toán hoặc tài khoản tiền gửi.")]},
        )
    if budget_line not in (None, ""):
        try:
            line = BudgetLine.objects.filter(pk=_pk(budget_line), unit=unit).first()
        except (TypeError, ValueError):
            line = None
        if line is None:
            raise ValidationFailed(
                _("Dòng dự toán không thuộc đơn vị."), fields={"budget_line": [_("Không tìm thấy.")]}
            )
        return line, None
    try:
        account = Account.objects.filter(pk=_pk(deposit_account), unit=unit, kind=AccountKind.DEPOSIT).first()
    except (TypeError, ValueError):
        account = None
    if account is None:
        raise ValidationFailed(
            _("Tài khoản tiền gửi không thuộc đơn vị."), fields={"deposit_account": [_("Không tìm thấy.")]}
        )
    return None, account


def _check_terms(a: AutopayAuthorization) -> None:
    if a.cap_per_month < a.cap_per_invoice:
        raise ValidationFailed(
            _("Hạn mức mỗi tháng phải không nhỏ hơn hạn mức mỗi hóa đơn."),
            fields={"cap_per_month": [_("Nhỏ hơn hạn mức mỗi hóa đơn.")]},
        )
    if a.valid_to < a.valid_from:
        raise ValidationFailed(
            _("Ngày hết hiệu lực phải sau ngày bắt đầu."), fields={"valid_to": [_("Trước ngày bắt đầu.")]}
        )
    if a.budget_line_id and not (a.valid_from.year == a.valid_to.year == a.budget_line.fiscal_year):
        raise ValidationFailed(
            _("Ủy quyền chi từ dòng dự toán năm %(year)s chỉ có hiệu lực trong năm ngân sách đó.")
            % {"year": a.budget_line.fiscal_year},
            fields={"valid_to": [_("Ngoài năm ngân sách của dòng dự toán.")]},
        )


def _recompute_content(a: AutopayAuthorization, codes: list[str] | None = None) -> bool:
    """Store the current content hash; when it changed, void the live signatures."""
    return signed_content_store(a, authorization_content_hash(a, codes))


# --- authorizations: the actions -----------------------------------------------------


def authorization_create(
    *,
    actor: User,
    unit: Organisation,
    supplier: Organisation | str,
    customer_codes: list[str],
    budget_line: BudgetLine | int | None = None,
    deposit_account: Account | int | None = None,
    cap_per_invoice: int,
    cap_per_month: int,
    valid_from: date | str,
    valid_to: date | str,
) -> AutopayAuthorization:
    """A unit user drafts an authorization (status `draft`)."""
    _require_unit_role(actor, unit, *UNIT_ROLES)
    supplier = _clean_supplier(supplier)
    codes = _clean_codes(customer_codes)
    line, account = _clean_funding(unit, budget_line, deposit_account)
    a = AutopayAuthorization(
        unit=unit, supplier=supplier, budget_line=line, deposit_account=account,
        cap_per_invoice=_int_amount(cap_per_invoice, "cap_per_invoice"),
        cap_per_month=_int_amount(cap_per_month, "cap_per_month"),
        valid_from=_date(valid_from, "valid_from"), valid_to=_date(valid_to, "valid_to"), created_by=actor,
    )
    _check_terms(a)
    with transaction.atomic():
        a.save(force_insert=True)
        AuthorizationCustomerCode.objects.bulk_create(
            [AuthorizationCustomerCode(authorization=a, supplier=supplier, customer_code=c) for c in codes]
        )
        a.content_hash = authorization_content_hash(a, codes)
        a.save(update_fields=["content_hash"])
        _event(a, actor=actor, action="create", from_status="", to_status=AuthorizationStatus.DRAFT,
               data={"content_hash": a.content_hash})
    return a


def authorization_update(
    *, actor: User, authorization: AutopayAuthorization | int, data: Mapping[str, Any]
) -> AutopayAuthorization:
    """Change a draft. Any change of content voids the signatures made before."""
    refuse_unknown_fields(data, EDITABLE_FIELDS)
    with transaction.atomic():
        a = _lock(authorization)
        policy.check_edit(actor, a)
        update: list[str] = []
        if "budget_line" in data or "deposit_account" in data:
            a.budget_line, a.deposit_account = _clean_funding(
                a.unit, data.get("budget_line"), data.get("deposit_account")
            )
            update += ["budget_line", "deposit_account"]
        for name in ("cap_per_invoice", "cap_per_month"):
            if name in data:
                setattr(a, name, _int_amount(data[name], name))
                update.append(name)
        for name in ("valid_from", "valid_to"):
            if name in data:
                setattr(a, name, _date(data[name], name))
                update.append(name)
        _check_terms(a)
        codes = None
        if "customer_codes" in data:
            codes = _clean_codes(data["customer_codes"])
            a.customer_codes.all().delete()
            AuthorizationCustomerCode.objects.bulk_create(
                [AuthorizationCustomerCode(authorization=a, supplier=a.supplier, customer_code=c) for c in codes]
            )
        if update:
            a.save(update_fields=[*update, "updated_at"])
        before = a.content_hash
        if _recompute_content(a, codes):
            _event(a, actor=actor, action="update", from_status=a.status, to_status=a.status,
                   data={"fields": sorted(data), "content_hash": a.content_hash, "previous_hash": before})
    return a


def authorization_sign(
    *, actor: User, authorization: AutopayAuthorization | int, key_id: int, signature: str
) -> AuthorizationSignature:
    """The actor signs the current content hash with an approved key of the
    unit; the key's role decides which of the two signatures it is. The chief
    accountant signs first, the account holder last."""
    with transaction.atomic():
        a = _lock(authorization)
        key, current = signing_start(
            actor=actor, document=a, key_id=key_id, check=policy.check_sign,
            wrong_unit=_("Khóa ký này không được đăng ký cho đơn vị của ủy quyền."),
            current_hash=lambda: authorization_content_hash(a),
        )
        sig, new = document_sign(
            actor=actor, key=key, live={s.role: s for s in a.signatures.filter(voided_at__isnull=True)},
            content_hash=current, signature=signature,
            create=lambda **fields: AuthorizationSignature.objects.create(authorization=a, **fields),
        )
        if not new:
            return sig  # a repeat
        _event(a, actor=actor, action="sign", from_status=a.status, to_status=a.status,
               data={"role": key.role, "key_fingerprint": key.fingerprint, "content_hash": current})
    return sig


def _verify_live_signatures(a: AutopayAuthorization) -> dict[str, AuthorizationSignature]:
    """Both live signatures, each verified again now on the current content."""
    return live_signatures_verify(
        live={s.role: s for s in a.signatures.filter(voided_at__isnull=True).select_related("key")},
        content_hash=authorization_content_hash(a), unit_id=a.unit_id,
        missing=_("Ủy quyền chưa đủ hai chữ ký (thiếu: %(roles)s)."),
        invalid=_("Chữ ký của %(role)s không hợp lệ trên nội dung hiện tại của ủy quyền."),
    )


def _release_expired_codes(a: AutopayAuthorization) -> int:
    """The customer codes of `a` still held by an active authorization whose
    validity has ended are let go (its code rows stay as its history): a unit
    renewing its authorization for a new period is not told to revoke the old
    one first. The run pays nothing under an expired authorization anyway."""
    mine = AuthorizationCustomerCode.objects.filter(authorization=a).values("customer_code")
    return (
        AuthorizationCustomerCode.objects.filter(
            supplier_id=a.supplier_id, active=True, customer_code__in=mine,
            authorization__valid_to__lt=timezone.localdate(),
        )
        .exclude(authorization=a)
        .update(active=False)
    )


def _codes_taken(a: AutopayAuthorization, *, predecessor_ok: bool = False) -> list[str]:
    """The codes of `a` another active authorization holds. With
    `predecessor_ok` (a submission), the codes the authorization `a` was
    rolled over from still holds are not counted: they pass to `a` when the
    old one ends (payments.services.yearend.authorization_roll_over)."""
    _release_expired_codes(a)
    mine = AuthorizationCustomerCode.objects.filter(authorization=a).values("customer_code")
    taken = AuthorizationCustomerCode.objects.filter(
        supplier_id=a.supplier_id, active=True, customer_code__in=mine
    ).exclude(authorization=a)
    if predecessor_ok and a.rolled_over_from_id:
        taken = taken.exclude(authorization_id=a.rolled_over_from_id)
    return sorted(taken.values_list("customer_code", flat=True))


def _predecessor_still_valid(a: AutopayAuthorization) -> ApplicationError | None:
    """The year's authorization `a` rolls over still holds the codes: confirm from the day after it ends."""
    if not a.rolled_over_from_id:
        return None
    old = AutopayAuthorization.objects.filter(pk=a.rolled_over_from_id).first()
    held = AuthorizationCustomerCode.objects.filter(authorization_id=a.rolled_over_from_id, active=True).exists()
    if old is None or not held:
        return None
    return ApplicationError(
        "customer_code_taken",
        _("Ủy quyền năm trước UQ-%(id)s còn hiệu lực đến hết ngày %(date)s: xác nhận ủy quyền năm mới từ ngày hôm sau.")
        % {"id": old.pk, "date": old.valid_to.strftime("%d/%m/%Y")},
        fields={"customer_codes": sorted(a.customer_codes.values_list("customer_code", flat=True))},
    )


def _code_taken_error(codes: list[str]) -> ApplicationError:
    return ApplicationError(
        "customer_code_taken",
        _("Mã khách hàng %(codes)s đang thuộc một ủy quyền khác còn hiệu lực: thu hồi ủy quyền đó trước.")
        % {"codes": ", ".join(codes)},
        fields={"customer_codes": codes},
    )


def authorization_submit(*, actor: User, authorization: AutopayAuthorization | int) -> AutopayAuthorization:
    """The account holder sends the signed authorization to the treasury."""
    with transaction.atomic():
        a = _lock(authorization)
        policy.require_unit(actor, a, Role.ACCOUNT_HOLDER)
        if a.status == AuthorizationStatus.SUBMITTED and a.submitted_by_id == actor.pk:
            return a  # a repeat
        policy.check_submit(actor, a)
        _check_terms(a)
        _verify_live_signatures(a)
        taken = _codes_taken(a, predecessor_ok=True)
        if taken:
            raise _code_taken_error(taken)
        _move(a, "submit", actor=actor, fields={"submitted_by": actor, "submitted_at": timezone.now()},
              data={"content_hash": a.content_hash})
    return a


def authorization_confirm(
    *, actor: User, authorization: AutopayAuthorization | int, note: str = ""
) -> AutopayAuthorization:
    """A treasury administrator over the unit's office confirms it: `active`.
    The signatures are verified again; a customer code held by another active
    authorization is refused (`customer_code_taken`; the database's partial
    unique index is the backstop)."""
    with transaction.atomic():
        a = _lock(authorization)
        policy.require_admin(actor, a)
        if a.status == AuthorizationStatus.ACTIVE and a.confirmed_by_id == actor.pk:
            return a
        policy.check_confirm(actor, a)
        _verify_live_signatures(a)
        taken = _codes_taken(a)
        if taken and (waiting := _predecessor_still_valid(a)) is not None:
            raise waiting
        if taken:
            raise _code_taken_error(taken)
        try:
            with transaction.atomic():
                AuthorizationCustomerCode.objects.filter(authorization=a).update(active=True)
        except IntegrityError:  # a concurrent confirmation took a code first
            raise _code_taken_error(_codes_taken(a)) from None
        _move(a, "confirm", actor=actor, fields={"confirmed_by": actor, "confirmed_at": timezone.now()}, note=note)
    return a


def authorization_reject(
    *, actor: User, authorization: AutopayAuthorization | int, note: str
) -> AutopayAuthorization:
    """A treasury administrator refuses a submitted authorization, with the reason."""
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(_("Cần ghi lý do từ chối."), fields={"note": [_("Bắt buộc.")]})
    with transaction.atomic():
        a = _lock(authorization)
        policy.require_admin(actor, a)
        if a.status == AuthorizationStatus.REJECTED:
            return a
        policy.check_reject(actor, a)
        _move(a, "reject", actor=actor, fields={}, note=note)
    return a


def authorization_revoke(
    *, actor: User, authorization: AutopayAuthorization | int, note: str = ""
) -> AutopayAuthorization:
    """The unit's chief accountant or account holder ends it (`revoked`): no
    invoice is paid under it from now on."""
    with transaction.atomic():
        a = _lock(authorization)
        policy.require_unit(actor, a, *SIGNER_ROLES)
        if a.status == AuthorizationStatus.REVOKED:
            return a
        policy.check_revoke(actor, a)
        AuthorizationCustomerCode.objects.filter(authorization=a, active=True).update(active=False)
        _move(a, "revoke", actor=actor, fields={"revoked_by": actor, "revoked_at": timezone.now()}, note=note)
    return a


# --- supplier invoices --------------------------------------------------------------


def _actor_supplier(actor: User, supplier: Organisation | str | None) -> Organisation:
    from accounts.selectors import organisations_with_role

    suppliers = [o for o in organisations_with_role(actor, Role.SUPPLIER_CLERK) if o.kind == OrgKind.SUPPLIER]
    if supplier is not None:
        code = supplier.code if isinstance(supplier, Organisation) else str(supplier)
        suppliers = [o for o in suppliers if o.code == code]
    if not suppliers:
        raise PermissionDenied(_("Chỉ nhân viên của nhà cung cấp mới gửi được hóa đơn."))
    if len(suppliers) > 1:
        raise ValidationFailed(
            _("Bạn làm việc cho nhiều nhà cung cấp: ghi rõ mã nhà cung cấp."), fields={"supplier": [_("Bắt buộc.")]}
        )
    return suppliers[0]


def _clean_invoice(
    invoice_number: Any, customer_code: Any, period: Any, amount: Any, issued_at: Any
) -> tuple[str, str, str, int, datetime]:
    errors: dict[str, list[str]] = {}
    if not isinstance(invoice_number, str) or not INVOICE_NUMBER.fullmatch(invoice_number.strip()):
        errors["invoice_number"] = [_("Số hóa đơn gồm chữ, số, . _ / - (tối đa 60 ký tự).")]
    if not isinstance(customer_code, str) or not CUSTOMER_CODE.fullmatch(customer_code.strip()):
        errors["customer_code"] = [_("Mã khách hàng gồm chữ, số, . _ - (tối đa 40 ký tự).")]
    if not isinstance(period, str) or not PERIOD.fullmatch(period):
        errors["period"] = [_("Kỳ cước có dạng YYYY-MM.")]
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
        errors["amount"] = [_("Phải là số nguyên dương (đồng).")]
    issued = issued_at if isinstance(issued_at, datetime) else None
    if issued is None and isinstance(issued_at, str):
        try:
            issued = parse_datetime(issued_at)
        except ValueError:
            issued = None
    if issued is None or timezone.is_naive(issued):
        errors["issued_at"] = [_("Thời điểm phát hành theo ISO 8601, có múi giờ.")]
    if errors:
        raise ValidationFailed(_("Hóa đơn không hợp lệ."), fields=errors)
    return invoice_number.strip(), customer_code.strip(), period, amount, issued  # type: ignore[return-value]


def supplier_invoice_receive(
    *,
    actor: User,
    invoice_number: str,
    customer_code: str,
    period: str,
    amount: int,
    issued_at: datetime | str,
    supplier: Organisation | str | None = None,
) -> tuple[SupplierInvoice, bool]:
    """A supplier clerk sends an invoice for automatic payment (status
    `pending`). Returns (invoice, created): the same invoice number again with
    the same content returns the first invoice; with another content it is
    `idempotency_conflict` (409)."""
    supplier = _actor_supplier(actor, supplier)
    number, code, period, amount, issued = _clean_invoice(invoice_number, customer_code, period, amount, issued_at)
    if not SupplierCollectionAccount.objects.filter(supplier=supplier).exists():
        raise ApplicationError(
            "collection_account_missing",
            _("Kho bạc chưa đăng ký tài khoản nhận tiền của nhà cung cấp: chưa nhận được hóa đơn."),
        )
    existing = SupplierInvoice.objects.filter(supplier=supplier, invoice_number=number).first()
    if existing is None:
        try:
            with transaction.atomic():
                invoice = SupplierInvoice.objects.create(
                    supplier=supplier, invoice_number=number, customer_code=code, period=period, amount=amount,
                    issued_at=issued, received_by=actor,
                )
                AutopayEvent.objects.create(
                    invoice=invoice, actor=actor, action="receive", to_status=InvoiceStatus.PENDING,
                    data={"amount": amount, "period": period, "customer_code": code},
                )
            return invoice, True
        except IntegrityError:  # the same number sent twice at once: the first one won
            existing = SupplierInvoice.objects.get(supplier=supplier, invoice_number=number)
    if (existing.customer_code, existing.period, existing.amount, existing.issued_at) != (code, period, amount, issued):
        raise ApplicationError(
            "idempotency_conflict",
            _("Hóa đơn số %(number)s đã được gửi với nội dung khác.") % {"number": number},
            fields={"invoice_number": [number], "invoice_id": existing.pk},
        )
    return existing, False


# --- a supplier's statement uploaded in the browser (CSV or XLSX) ---------------------------
#
# Each row is one `supplier_invoice_receive` (its own savepoint within the
# file's one transaction: one commit, not one per row): the rules are that
# service's, a row it refuses is reported with its sentence and does not stop
# the others, and the same file uploaded again reports every row as a
# duplicate (the invoice number is the idempotency key, as in the API).

STATEMENT_COLUMNS = ("invoice_number", "customer_code", "period", "amount", "issued_at")
# A statement is read and written within the request (gunicorn's 30 s timeout):
# each row is about 6 queries (~11.6 ms a row measured on the shared 2-core test
# machine), so 2,000 rows stay well within it. Longer statements: several files,
# or the API.
MAX_STATEMENT_ROWS = 2000


@dataclass
class StatementRow:
    line: int  # in the file, the header being line 1
    invoice_number: str
    outcome: str  # accepted | duplicate | rejected
    reason: str = ""
    invoice: SupplierInvoice | None = None


def statement_template_csv() -> bytes:
    """The statement template supplier clerks download: the header and two example rows (UTF-8 with BOM,
    so that spreadsheet programs read the Vietnamese right)."""
    lines = [
        ",".join(STATEMENT_COLUMNS),
        "HD-2026-000123,PE0001,2026-10,1250000,2026-11-02T08:30:00+07:00",
        "HD-2026-000124,PE0002,2026-10,987000,2026-11-02T08:30:00+07:00",
    ]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def _cell_amount(value: Any) -> Any:
    """A cell as the service's amount: whole numbers (digits, a spreadsheet
    number); anything else goes as it is, for the service to refuse."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def _cell_datetime(value: Any) -> Any:
    """A spreadsheet date-time cell has no zone: it is read in the portal's time zone."""
    if isinstance(value, datetime) and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def _cell_text(value: Any) -> Any:
    """A cell as text: a spreadsheet number as its digits."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _cell_period(value: Any) -> Any:
    """A spreadsheet turns "2026-10" into the date 1 October 2026: its year and month."""
    return f"{value.year:04d}-{value.month:02d}" if isinstance(value, datetime | date) else _cell_text(value)


def _refusal(exc: ApplicationError) -> str:
    fields = exc.fields if isinstance(exc, ValidationFailed) else {}
    details = [  # the service's sentences name their field ("Kỳ cước có dạng YYYY-MM.")
        str(m) for name, messages in fields.items()
        if name in STATEMENT_COLUMNS and isinstance(messages, list | tuple) for m in messages
    ]
    return " ".join([str(exc.message), *details]) if details else str(exc.message)


def supplier_statement_import(
    *, actor: User, content: bytes, filename: str = "", supplier: Organisation | str | None = None
) -> list[StatementRow]:
    """A supplier clerk's statement (CSV or XLSX, columns STATEMENT_COLUMNS, at
    most MAX_STATEMENT_ROWS rows): every row goes through
    `supplier_invoice_receive`; the answer says for each row whether it was
    accepted (a new invoice), a duplicate (sent before with the same content) or
    rejected, with the service's reason in the active language. A file that
    cannot be read, lacks a column or is too long is refused whole
    (ValidationFailed); so is a clerk of no supplier (PermissionDenied)."""
    from payments.services.csv_upload import upload_rows

    supplier = _actor_supplier(actor, supplier)
    rows = upload_rows(content, filename, STATEMENT_COLUMNS, max_rows=MAX_STATEMENT_ROWS)
    report: list[StatementRow] = []
    with transaction.atomic():
        for line, row in enumerate(rows, start=2):
            report.append(_statement_row(actor, supplier, line, row))
    return report


def _statement_row(actor: User, supplier: Organisation, line: int, row: Mapping[str, Any]) -> StatementRow:
    """One row of a statement through `supplier_invoice_receive`, its refusal reported, not raised."""
    number = _cell_text(row.get("invoice_number"))
    try:
        invoice, created = supplier_invoice_receive(
            actor=actor, supplier=supplier, invoice_number=number,
            customer_code=_cell_text(row.get("customer_code")), period=_cell_period(row.get("period")),
            amount=_cell_amount(row.get("amount")), issued_at=_cell_datetime(row.get("issued_at")),
        )
    except ApplicationError as exc:
        return StatementRow(line, str(number or ""), "rejected", _refusal(exc))
    return StatementRow(line, invoice.invoice_number, "accepted" if created else "duplicate", invoice=invoice)


# --- the exception list: retry, close ------------------------------------------------------
#
# An exception is not final: once the unit raised its cap, got budget, or the
# treasury fixed what failed, the unit's chief accountant or account holder (or
# the treasury's administrator or control officer over the unit's office) puts
# it back to `pending`, and the next run decides it again under the rules of
# that moment (paid, or an exception with the current reason). An exception
# handled another way (paid by a voucher, disputed with the supplier) is closed
# with a note instead. Both keep the history as an invoice event.


def _lock_invoice(invoice: SupplierInvoice | int) -> SupplierInvoice:
    try:
        return (
            SupplierInvoice.objects.select_for_update(of=("self",))
            .select_related("unit", "supplier", "closed_by")
            .get(pk=_pk(invoice))
        )
    except SupplierInvoice.DoesNotExist:
        raise NotFound() from None


def _require_exception_handler(actor: User, invoice: SupplierInvoice) -> None:
    from autopay.selectors import can_handle_exceptions_of

    if invoice.unit_id is None and not actor.is_superuser:
        raise NotFound()  # nobody ever authorized its customer code: only its supplier sees it
    if not can_handle_exceptions_of(actor, invoice.unit):
        raise PermissionDenied(
            _("Chỉ kế toán trưởng, chủ tài khoản của đơn vị hoặc quản trị, cán bộ kiểm soát của kho bạc quản lý "
              "đơn vị mới xử lý được hóa đơn ngoại lệ.")
        )


def _require_open_exception(invoice: SupplierInvoice) -> None:
    if invoice.status != InvoiceStatus.EXCEPTION:
        raise ApplicationError(
            "invoice_not_in_exception",
            _("Hóa đơn %(number)s không còn trong danh sách ngoại lệ (trạng thái hiện tại: %(status)s).")
            % {"number": invoice.invoice_number, "status": InvoiceStatus(invoice.status).label},
        )
    if invoice.closed_at is not None:
        raise ApplicationError(
            "exception_closed",
            _("Ngoại lệ của hóa đơn %(number)s đã được đóng ngày %(date)s (%(note)s): không xử lý lại được.")
            % {
                "number": invoice.invoice_number,
                "date": timezone.localtime(invoice.closed_at).strftime("%d/%m/%Y"),
                "note": invoice.close_note[:200],
            },
        )


def autopay_invoice_retry(*, actor: User, invoice: SupplierInvoice | int, note: str = "") -> SupplierInvoice:
    """An open exception goes back to `pending`: the next run decides it again
    under the rules of that moment. Its code and reason leave the row and stay in
    the `retry` event (who, the old code and reason, the note). A run is asked
    for on commit (`sweep_autopay`); the scheduled run, every 10 minutes, picks
    it up anyway. An invoice whose period is paid (`duplicate_period`) or whose
    exception was closed is refused; so is an unusual amount (`amount_anomaly`),
    which the same history would hold again: its unit's account holder confirms
    it instead (`autopay_invoice_confirm_amount`). A second retry finds it no
    longer in the exceptions (`invoice_not_in_exception`)."""
    note = (note or "").strip()[:4000]
    with transaction.atomic():
        inv = _lock_invoice(invoice)
        _require_exception_handler(actor, inv)
        _require_open_exception(inv)
        if inv.exception_code == ExceptionCode.DUPLICATE_PERIOD:
            raise ApplicationError(
                "period_already_paid",
                _("Kỳ cước %(period)s của mã khách hàng %(customer)s đã được thanh toán: hóa đơn %(number)s không "
                  "được thanh toán lại. Nếu đã xử lý với nhà cung cấp, hãy đóng ngoại lệ.")
                % {"period": inv.period, "customer": inv.customer_code, "number": inv.invoice_number},
            )
        if inv.exception_code == ExceptionCode.AMOUNT_ANOMALY:
            raise ApplicationError(
                "amount_needs_confirmation",
                _("Số tiền của hóa đơn %(number)s bất thường so với các kỳ trước: thử lại sẽ bị giữ lại lần nữa. "
                  "Chủ tài khoản của đơn vị xác nhận số tiền để thanh toán, hoặc đóng ngoại lệ.")
                % {"number": inv.invoice_number},
            )
        _back_to_pending(inv, actor, "retry", note)
    inv.refresh_from_db()
    return inv


def autopay_invoice_confirm_amount(
    *, actor: User, invoice: SupplierInvoice | int, note: str = ""
) -> SupplierInvoice:
    """The release of an amount held as unusual (`amount_anomaly`): the unit's
    account holder confirms the amount and the invoice goes back to `pending`;
    the next run pays it without the anomaly check (the `confirm_amount` event,
    which names the amount, is what it reads), every other rule (authorization,
    caps, budget, balance) still applying. Only the account holder may: the
    money is the unit's, and the chief accountant's retry would be held again."""
    from autopay.selectors import can_confirm_amounts_of

    note = (note or "").strip()[:4000]
    with transaction.atomic():
        inv = _lock_invoice(invoice)
        _require_exception_handler(actor, inv)
        if not can_confirm_amounts_of(actor, inv.unit):
            raise PermissionDenied(_("Chỉ chủ tài khoản của đơn vị mới xác nhận được số tiền bất thường."))
        _require_open_exception(inv)
        if inv.exception_code != ExceptionCode.AMOUNT_ANOMALY:
            raise ApplicationError(
                "amount_not_held",
                _("Hóa đơn %(number)s không bị giữ lại vì số tiền bất thường: không có gì để xác nhận.")
                % {"number": inv.invoice_number},
            )
        _back_to_pending(inv, actor, "confirm_amount", note, amount=inv.amount)
    inv.refresh_from_db()
    return inv


def _back_to_pending(inv: SupplierInvoice, actor: User, action: str, note: str, **data: object) -> None:
    """An open exception back to `pending` (retry, confirm_amount), with its
    event, the signers' notice and a run asked for on commit."""
    old_code, old_reason = inv.exception_code, inv.exception_reason
    # The row lock the caller holds serializes two clicks; the condition is the backstop.
    updated = SupplierInvoice.objects.filter(pk=inv.pk, status=InvoiceStatus.EXCEPTION, closed_at__isnull=True).update(
        status=InvoiceStatus.PENDING, exception_code="", exception_reason="", exception_params={}, settled_at=None
    )
    if updated != 1:
        raise ApplicationError(
            "invoice_not_in_exception",
            _("Hóa đơn %(number)s không còn trong danh sách ngoại lệ.") % {"number": inv.invoice_number},
        )
    AutopayEvent.objects.create(
        invoice=inv, actor=actor, action=action, from_status=InvoiceStatus.EXCEPTION,
        to_status=InvoiceStatus.PENDING, note=note,
        data={"code": old_code, "reason": old_reason, "run_id": inv.run_id, **data},
    )
    _exception_handled_notice(inv, actor, action, note)
    transaction.on_commit(_queue_autopay_sweep)


def autopay_invoice_close(*, actor: User, invoice: SupplierInvoice | int, note: str) -> SupplierInvoice:
    """An open exception is marked handled another way (paid by a voucher,
    disputed with the supplier), with a required note. Its status stays
    `exception`; it leaves the open list and is never retried. The same actor
    closing it again with the same note gets the same invoice (a repeat)."""
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(
            _("Cần ghi cách đã xử lý hóa đơn (ví dụ: đã thanh toán bằng chứng từ số…, đang đối chiếu với nhà cung "
              "cấp)."),
            fields={"note": [_("Bắt buộc.")]},
        )
    note = note[:4000]
    with transaction.atomic():
        inv = _lock_invoice(invoice)
        _require_exception_handler(actor, inv)
        if inv.closed_at is not None and inv.closed_by_id == actor.pk and inv.close_note == note:
            return inv  # a repeat
        _require_open_exception(inv)
        now = timezone.now()
        updated = SupplierInvoice.objects.filter(
            pk=inv.pk, status=InvoiceStatus.EXCEPTION, closed_at__isnull=True
        ).update(closed_at=now, closed_by=actor, close_note=note)
        if updated != 1:
            raise ApplicationError(
                "exception_closed", _("Ngoại lệ của hóa đơn %(number)s đã được đóng.") % {"number": inv.invoice_number}
            )
        AutopayEvent.objects.create(
            invoice=inv, actor=actor, action="close", from_status=InvoiceStatus.EXCEPTION,
            to_status=InvoiceStatus.EXCEPTION, note=note,
            data={"code": inv.exception_code, "reason": inv.exception_reason, "run_id": inv.run_id},
        )
        _exception_handled_notice(inv, actor, "close", note)
    inv.refresh_from_db()
    return inv


def _exception_handled_notice(invoice: SupplierInvoice, actor: User, action: str, note: str) -> None:
    """The unit's account holder and chief accountant, told of the exceptions
    the run reported to them, are told too when someone else retries or closes
    one (the treasury, or the other signer): in the same transaction."""
    user_ids = [pk for pk in balance_recipients(invoice.unit_id) if pk != actor.pk]
    with translation.override(settings.LANGUAGE_CODE):
        who = actor.get_full_name() or actor.username
        facts = {"number": invoice.invoice_number, "period": invoice.period, "who": who}
        if action == "retry":
            title = _("Hóa đơn %(number)s kỳ %(period)s được đưa lại vào lần chạy thanh toán tự động tới (%(who)s)")
            title %= facts
        elif action == "confirm_amount":
            title = _("Số tiền hóa đơn %(number)s kỳ %(period)s đã được xác nhận; hóa đơn được thanh toán ở lần "
                      "chạy tới (%(who)s)") % facts
        else:
            title = _("Ngoại lệ của hóa đơn %(number)s kỳ %(period)s đã được đóng (%(who)s)") % facts
    notifications_write(
        [
            Notification(
                user_id=user_id, kind=NotificationKind.AUTOPAY, title=title[:255],
                body=title + (f" — {note}" if note else ""), unit_id=invoice.unit_id,
                data={"invoice_id": invoice.pk, "invoice_number": invoice.invoice_number, "action": action,
                      "actor_id": actor.pk, "note": note[:500], "period": invoice.period, "who": who},
            )
            for user_id in user_ids
        ]
    )


def _queue_autopay_sweep() -> None:
    """After a retry: ask for a run now (the beat's entry: it starts one unless
    one is under way, whose batch tasks take the invoice anyway)."""
    from autopay.tasks import sweep_autopay
    from payments.tasks import enqueue

    enqueue(sweep_autopay)


# --- the run -------------------------------------------------------------------------------


@dataclass
class _Decision:
    invoice: dict
    auth: AutopayAuthorization | None = None
    unit_id: int | None = None
    code: str = ""  # exception code; "" when paid
    reason: str = ""


@dataclass
class _Batch:
    invoices: list[dict]
    decisions: list[_Decision] = field(default_factory=list)


def _reason(code: str, **kw: Any) -> str:
    """The exception's sentence (in the active language: Vietnamese in a run),
    carrying its key and values (`.data`) so that readers render it in theirs."""
    return autopay_reasons.reason(code, **kw)


def _clearing_accounts(banks: set[int]) -> dict[int, Account]:
    from payments.models import Bank

    return {bank.pk: ledger.bank_clearing_account(bank) for bank in Bank.objects.filter(pk__in=banks)}


def _sync_estimates(auths: list[AutopayAuthorization]) -> None:
    """Post any allocation of the charged units' budget lines the ledger does not
    hold yet, so estimate accounts hold allocated − paid (payments.services.ledger)."""
    ledger.estimate_allocations_sync_many(a.unit_id for a in auths if a.budget_line_id)


def _funding_account_numbers(auths: list[AutopayAuthorization]) -> dict[int, str]:
    return {
        a.pk: ledger.estimate_account_number(a.unit, a.budget_line.budget_level)
        for a in auths
        if a.budget_line_id
    }


def _settle(invoices: list[dict], run: AutopayRun, now: datetime, *, wait: bool = True) -> list[dict]:
    """Decide and write one batch of claimed (locked) invoices, inside the
    caller's transaction. Returns the invoices it left pending (none when `wait`).

    With `wait=False` the authorizations, unit accounts and budget lines are
    locked with SKIP LOCKED: an invoice whose rows another transaction holds
    (another batch settling the same unit, a voucher payment from its account)
    is left pending for a later batch instead of waiting for that commit. Two
    batches running side by side then never queue behind each other (they did
    at every unit they shared: a full-size run kept the two processes half idle)."""
    suppliers = {i["supplier_id"] for i in invoices}
    codes = {i["customer_code"] for i in invoices}
    periods = {i["period"] for i in invoices}

    # 1. The active authorizations of these customer codes, locked in id order:
    #    month caps are counted under this lock, so two batches cannot both
    #    spend the same month's room.
    by_code: dict[tuple[int, str], int] = {}
    for supplier_id, code, auth_id in AuthorizationCustomerCode.objects.filter(
        active=True, supplier_id__in=suppliers, customer_code__in=codes
    ).values_list("supplier_id", "customer_code", "authorization_id"):
        by_code[(supplier_id, code)] = auth_id
    auth_ids = set(by_code.values())
    auths = {
        a.pk: a
        for a in AutopayAuthorization.objects.select_for_update(of=("self",), skip_locked=not wait)
        .filter(pk__in=auth_ids, status=AuthorizationStatus.ACTIVE)
        .select_related("unit", "supplier", "budget_line", "deposit_account")
        .order_by("pk")
    }
    busy: set[int] = set()  # active authorizations another transaction holds
    if not wait and len(auths) < len(auth_ids):
        busy = set(
            AutopayAuthorization.objects.filter(pk__in=auth_ids - auths.keys(), status=AuthorizationStatus.ACTIVE)
            .values_list("pk", flat=True)
        )
    invoices, deferred = _set_aside(invoices, by_code, busy)
    if not invoices:
        return deferred
    # Who sees an invoice nobody authorizes now: the unit that authorized its code last.
    unknown = {(i["supplier_id"], i["customer_code"]) for i in invoices} - {
        k for k, v in by_code.items() if v in auths
    }
    last_unit: dict[tuple[int, str], int] = {}
    if unknown:
        for supplier_id, code, unit_id in (
            AuthorizationCustomerCode.objects.filter(
                supplier_id__in={s for s, _c in unknown}, customer_code__in={c for _s, c in unknown}
            )
            .exclude(authorization__status=AuthorizationStatus.DRAFT)
            .order_by("authorization_id")
            .values_list("supplier_id", "customer_code", "authorization__unit_id")
        ):
            last_unit[(supplier_id, code)] = unit_id

    # 2. What was paid before: periods, month totals, each code's recent amounts.
    paid_periods = set(
        SupplierInvoice.objects.filter(
            status=InvoiceStatus.PAID, supplier_id__in=suppliers, customer_code__in=codes, period__in=periods
        ).values_list("supplier_id", "customer_code", "period")
    )
    month_paid: dict[tuple[int, str], int] = defaultdict(int)
    if auths:
        for auth_id, period, total in (
            SupplierInvoice.objects.filter(status=InvoiceStatus.PAID, authorization_id__in=auths, period__in=periods)
            .order_by()
            .values("authorization_id", "period")
            .annotate(total=Sum("amount"))
            .values_list("authorization_id", "period", "total")
        ):
            month_paid[(auth_id, period)] = total
    history: dict[tuple[int, str], list[int]] = defaultdict(list)
    for supplier_id, code, amount in (
        SupplierInvoice.objects.filter(status=InvoiceStatus.PAID, supplier_id__in=suppliers, customer_code__in=codes)
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("supplier_id"), F("customer_code")], order_by=F("period").desc())
        )
        .filter(rank__lte=ANOMALY_HISTORY)
        .values_list("supplier_id", "customer_code", "amount")
    ):
        history[(supplier_id, code)].append(amount)

    # 3. The money. The unit accounts charged are locked now (id order), then the
    #    budget lines (id order): the order every payment takes (transfer_post
    #    locks unit accounts before treasury accounts, then budget_spend the lines).
    #    The banks' clearing accounts, which every batch credits, are locked
    #    last, when the batch writes (_write), so batches overlap until then.
    auth_list = list(auths.values())
    _sync_estimates(auth_list)
    estimate_numbers = _funding_account_numbers(auth_list)
    collection = {
        c.supplier_id: c
        for c in SupplierCollectionAccount.objects.filter(supplier_id__in={a.supplier_id for a in auth_list})
        .select_related("bank")
    }
    clearing = _clearing_accounts({c.bank_id for c in collection.values()})
    numbers = set(estimate_numbers.values())
    existing = dict(Account.objects.filter(number__in=numbers).values_list("number", "pk")) if numbers else {}
    for a in auth_list:
        if a.budget_line_id and estimate_numbers[a.pk] not in existing:
            ledger.account_open(actor=None, unit=a.unit, kind=AccountKind.ESTIMATE, level=a.budget_line.budget_level)
    account_filter = Q(pk__in={a.deposit_account_id for a in auth_list if a.deposit_account_id})
    if numbers:
        account_filter |= Q(number__in=numbers)
    accounts = {
        row["id"]: row
        for row in Account.objects.select_for_update(skip_locked=not wait)
        .filter(account_filter, unit__isnull=False)
        .order_by("pk")
        .values("id", "number", "name", "balance", "allow_negative", "unit_id")
    } if auth_list else {}
    for acc in clearing.values():  # not locked here, and not read for decisions: credits are never refused
        accounts[acc.pk] = {"id": acc.pk, "number": acc.number, "name": acc.name, "balance": None,
                            "allow_negative": acc.allow_negative, "unit_id": None}
    account_by_number = {row["number"]: row["id"] for row in accounts.values()}
    lines = {
        row["id"]: row
        for row in BudgetLine.objects.select_for_update(skip_locked=not wait)
        .filter(pk__in={a.budget_line_id for a in auth_list if a.budget_line_id})
        .order_by("pk")
        .values("id", "allocated", "reserved", "spent", "ndkt", "chapter", "sector", "funding_source", "programme",
                "budget_level")
    } if auth_list else {}
    if not wait:  # an account or line skipped (held elsewhere): its authorizations' invoices wait
        locked_numbers = {row["number"] for row in accounts.values()}  # every needed account exists by now
        held = {
            a.pk for a in auth_list
            if (a.budget_line_id and (a.budget_line_id not in lines or estimate_numbers[a.pk] not in locked_numbers))
            or (a.deposit_account_id and a.deposit_account_id not in accounts)
        }
        if held:
            invoices, more = _set_aside(invoices, by_code, held)
            deferred += more
            if not invoices:
                return deferred
            for pk in held:
                auths.pop(pk)
            auth_list = list(auths.values())
    committed = deposits_committed(a.deposit_account_id for a in auth_list if a.deposit_account_id)

    # 4. Decide, in claim order, with running totals (reasons in Vietnamese, the stored language).
    with translation.override(settings.LANGUAGE_CODE):
        paid, excepted = _decide(invoices, auths, by_code, last_unit, paid_periods, month_paid, history, accounts,
                                 account_by_number, estimate_numbers, lines, collection, clearing, committed)
    _write(paid, excepted, accounts, lines, collection, run, now)
    return deferred


def _set_aside(invoices: list[dict], by_code: dict, auth_ids: set[int]) -> tuple[list[dict], list[dict]]:
    """(the invoices to settle now, those of `auth_ids`: left pending)."""
    if not auth_ids:
        return invoices, []
    now, later = [], []
    for inv in invoices:
        (later if by_code.get((inv["supplier_id"], inv["customer_code"])) in auth_ids else now).append(inv)
    return now, later


def _decide(  # noqa: PLR0913 - the batch's reads, passed once
    invoices: list[dict], auths: dict, by_code: dict, last_unit: dict, paid_periods: set, month_paid: dict,
    history: dict, accounts: dict, account_by_number: dict, estimate_numbers: dict, lines: dict, collection: dict,
    clearing: dict, committed: dict,
) -> tuple[list[tuple[dict, AutopayAuthorization, int, int]], list[_Decision]]:
    tz = timezone.get_current_timezone()
    balance = {pk: row["balance"] for pk, row in accounts.items() if row["balance"] is not None}
    available = {pk: row["allocated"] - row["reserved"] - row["spent"] for pk, row in lines.items()}
    paid: list[tuple[dict, AutopayAuthorization, int, int]] = []  # invoice, auth, debit id, credit id
    excepted: list[_Decision] = []
    for inv in invoices:
        key = (inv["supplier_id"], inv["customer_code"])
        auth = auths.get(by_code.get(key, 0))
        amount, period = inv["amount"], inv["period"]
        issued_day = inv["issued_at"].astimezone(tz).date()
        if auth is None or not auth.valid_from <= issued_day <= auth.valid_to:
            excepted.append(_Decision(inv, auth, auth.unit_id if auth else last_unit.get(key),
                                      ExceptionCode.NO_AUTHORIZATION,
                                      _reason(ExceptionCode.NO_AUTHORIZATION, customer=inv["customer_code"])))
            continue
        decision = _Decision(inv, auth, auth.unit_id)
        past = history.get(key, [])
        if (*key, period) in paid_periods:
            decision.code = ExceptionCode.DUPLICATE_PERIOD
            decision.reason = _reason(ExceptionCode.DUPLICATE_PERIOD, period=period, customer=inv["customer_code"])
        elif amount > auth.cap_per_invoice:
            decision.code = ExceptionCode.OVER_CAP
            decision.reason = _reason("over_cap_invoice", amount=amount, cap=auth.cap_per_invoice, auth=auth.pk)
        elif month_paid[(auth.pk, period)] + amount > auth.cap_per_month:
            decision.code = ExceptionCode.OVER_CAP
            decision.reason = _reason(
                "over_cap_month", period=period, paid=month_paid[(auth.pk, period)], amount=amount,
                cap=auth.cap_per_month, auth=auth.pk,
            )
        elif (
            not inv["amount_confirmed"]
            and len(past) >= ANOMALY_MIN_HISTORY
            and amount > ANOMALY_FACTOR * statistics.median(past)
        ):
            decision.code = ExceptionCode.AMOUNT_ANOMALY
            decision.reason = _reason(
                ExceptionCode.AMOUNT_ANOMALY, amount=amount, factor=ANOMALY_FACTOR,
                median=int(statistics.median(past)), n=len(past),
            )
        else:
            bank_account = collection.get(auth.supplier_id)
            credit_id = clearing[bank_account.bank_id].pk if bank_account else None
            if auth.budget_line_id:
                debit_id = account_by_number.get(estimate_numbers[auth.pk])
                line_id = auth.budget_line_id
                if available.get(line_id, 0) < amount or balance.get(debit_id, 0) < amount:
                    row = lines.get(line_id) or {}
                    decision.code = ExceptionCode.INSUFFICIENT_BUDGET
                    decision.reason = _reason(
                        "insufficient_budget", line=auth.budget_line.classification,
                        available=max(available.get(line_id, 0), 0), amount=amount,
                    ) if row else _reason(PROCESSING_ERROR)
            else:
                debit_id = auth.deposit_account_id
                room = balance.get(debit_id, 0) - committed.get(debit_id, 0)
                if room < amount:
                    decision.code = ExceptionCode.INSUFFICIENT_BUDGET
                    decision.reason = _reason(
                        "insufficient_balance", account=auth.deposit_account.number, available=max(room, 0),
                        amount=amount,
                    )
            if not decision.code and (credit_id is None or debit_id is None):
                decision.code, decision.reason = PROCESSING_ERROR, _reason(PROCESSING_ERROR)
            if not decision.code:
                if auth.budget_line_id:
                    available[auth.budget_line_id] -= amount
                balance[debit_id] -= amount
                month_paid[(auth.pk, period)] += amount
                paid_periods.add((*key, period))
                paid.append((inv, auth, debit_id, credit_id))
                continue
        excepted.append(decision)
    return paid, excepted


# A batch whose conditional UPDATE did not move every row rolls back (status 500).
WRITE_REFUSED = "autopay_write_refused"


def _write(
    paid: list[tuple[dict, AutopayAuthorization, int, int]],
    excepted: list[_Decision],
    accounts: dict[int, dict],
    lines: dict[int, dict],
    collection: dict[int, SupplierCollectionAccount],
    run: AutopayRun,
    now: datetime,
) -> None:
    # Counters and debits: one conditional UPDATE per table (rows already locked),
    # through payments' services; the spend movements under their keys.
    debits: dict[int, int] = defaultdict(int)
    for inv, _auth, debit_id, _credit_id in paid:
        debits[debit_id] -= inv["amount"]
    budget.budget_spend_many(
        movements=[(auth.budget_line_id, inv["amount"], f"autopay:{inv['id']}",
                    f"{auth.supplier.code} {inv['invoice_number']}"[:255])
                   for inv, auth, _d, _c in paid if auth.budget_line_id],
        kind=BudgetMovementKind.AUTOPAY, now=now, refused_code=WRITE_REFUSED,
    )
    ledger.balances_move_many(deltas=debits, refused_code=WRITE_REFUSED)

    # The banks' clearing accounts, which every batch and every voucher payment
    # credits, are locked now and kept to the commit, and the transfers' ids are
    # taken under that lock: on every account the transfer with the highest id
    # then carries its balance. (Ids taken before the lock let two batches, or a
    # batch and a voucher payment, credit in the other order than their ids.)
    credits: dict[int, int] = defaultdict(int)
    for inv, _auth, _debit_id, credit_id in paid:
        credits[credit_id] += inv["amount"]
    running = {pk: row["balance"] for pk, row in accounts.items()}
    if credits:
        running.update(ledger.accounts_lock(credits))
    ids = ledger.transfer_ids_reserve(len(paid))
    transfers: list[SimpleNamespace] = []
    for (inv, auth, debit_id, credit_id), pk in zip(paid, ids or [None] * len(paid), strict=True):
        running[debit_id] -= inv["amount"]
        running[credit_id] += inv["amount"]
        transfers.append(
            SimpleNamespace(
                pk=pk, key=f"autopay:{inv['id']}", debit_account_id=debit_id, credit_account_id=credit_id,
                amount=inv["amount"], voucher_id=None, voucher=None, created_at=now,
                description=f"Thanh toán tự động hóa đơn {inv['invoice_number']} kỳ {inv['period']} "
                f"(mã KH {inv['customer_code']}, UQ-{auth.pk})"[:500],
                counterparty_name=auth.supplier.name[:255],
                counterparty_account=collection[auth.supplier_id].account_number,
                debit_balance_after=running[debit_id], credit_balance_after=running[credit_id],
            )
        )
    if ids is None:  # not PostgreSQL: the ORM assigns the ids, so the transfers go first
        _post_credits(transfers, credits, run, paid, excepted)
    _invoices_update(
        [(inv["id"], InvoiceStatus.PAID, "", "", as_json({}), auth.unit_id, auth.pk, t.pk, run.pk, now)
         for (inv, auth, _d, _c), t in zip(paid, transfers, strict=True)]
        + [(d.invoice["id"], InvoiceStatus.EXCEPTION, d.code, str(d.reason), as_json(_reason_data(d.reason)),
            d.unit_id, d.auth.pk if d.auth else None, None, run.pk, now) for d in excepted]
    )
    insert_rows(
        AutopayEvent,
        ["invoice_id", "action", "from_status", "to_status", "note", "data", "created_at"],
        [(inv["id"], "pay", InvoiceStatus.PENDING, InvoiceStatus.PAID, "",
          as_json({"transfer_id": t.pk, "amount": inv["amount"], "authorization_id": auth.pk, "run_id": run.pk}), now)
         for (inv, auth, _d, _c), t in zip(paid, transfers, strict=True)]
        + [(d.invoice["id"], "except", InvoiceStatus.PENDING, InvoiceStatus.EXCEPTION, d.reason,
            as_json({"code": d.code, "run_id": run.pk}), now) for d in excepted],
    )
    _notify(paid, transfers, excepted, accounts)
    if ids is not None:
        # The invoices point at their transfers already: foreign keys are checked at commit.
        _post_credits(transfers, credits, run, paid, excepted)


def _post_credits(
    transfers: list[SimpleNamespace], credits: dict[int, int], run: AutopayRun, paid: list, excepted: list
) -> None:
    """Last: credit the clearing accounts (locked by _write), insert the
    transfers with the balances after (payments.services.ledger), count the run."""
    ledger.transfers_post_many(
        transfers=transfers, credits=credits, kind=TransferKind.AUTOPAY, refused_code=WRITE_REFUSED
    )
    AutopayRun.objects.filter(pk=run.pk).update(
        processed=F("processed") + len(paid) + len(excepted), paid=F("paid") + len(paid),
        excepted=F("excepted") + len(excepted), paid_amount=F("paid_amount") + sum(t.amount for t in transfers),
    )


_INVOICE_FIELDS = ["status", "exception_code", "exception_reason", "exception_params", "unit_id", "authorization_id",
                   "transfer_id", "run_id", "settled_at"]


def _reason_data(reason: str) -> dict:
    return getattr(reason, "data", {})


def _invoices_update(rows: list[tuple]) -> None:
    """One UPDATE of the settled invoices: (id, status, exception_code,
    exception_reason, exception_params, unit_id, authorization_id, transfer_id, run_id, settled_at),
    only where still pending (the row count is checked)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        objs = [SupplierInvoice(pk=r[0], **dict(zip(_INVOICE_FIELDS, r[1:], strict=True))) for r in rows]
        for obj in objs:
            obj.exception_params = obj.exception_params.value  # the JSON wrapper is for the raw statement
        SupplierInvoice.objects.bulk_update(
            objs, ["status", "exception_code", "exception_reason", "exception_params", "unit", "authorization",
                   "transfer", "run", "settled_at"]
        )
        return
    # PostgreSQL: one UPDATE … FROM (VALUES …), several times cheaper to build than bulk_update's CASEs.
    template = "(%s, %s, %s, %s, %s::jsonb, %s::bigint, %s::bigint, %s::bigint, %s::bigint, %s::timestamptz)"
    table = SupplierInvoice._meta.db_table
    sets = ", ".join(f"{c} = v.{c}" for c in _INVOICE_FIELDS)
    with connection.cursor() as cursor:
        values = ",".join(cursor.cursor.mogrify(template, sql_row(r)).decode() for r in rows)
        cursor.execute(
            f"UPDATE {table} AS i SET {sets} FROM (VALUES {values}) AS v(id, {', '.join(_INVOICE_FIELDS)}) "  # noqa: S608 - rendered by psycopg2
            "WHERE i.id = v.id AND i.status = 'pending'"
        )
        if cursor.rowcount != len(rows):
            raise ApplicationError(
                "autopay_write_refused", f"invoices: {cursor.rowcount} of {len(rows)} rows updated", status=500
            )


def _notify(
    paid: list[tuple[dict, AutopayAuthorization, int, int]],
    transfers: list[SimpleNamespace],
    excepted: list[_Decision],
    accounts: dict[int, dict],
) -> None:
    """The unit's account holders and chief accountants: a balance notice for
    every payment, a notice for every exception (the outbox, this transaction)."""
    units = {auth.unit_id for _i, auth, _d, _c in paid} | {d.unit_id for d in excepted if d.unit_id}
    if not units:
        return
    recipients = balance_recipients_by_unit(units)
    account_rows = {pk: SimpleNamespace(pk=pk, number=r["number"], name=r["name"], unit_id=r["unit_id"])
                    for pk, r in accounts.items()}
    urls: dict[int, str] = {}
    rows: list[Notification] = []
    with translation.override(settings.LANGUAGE_CODE):
        for (inv, auth, debit_id, credit_id), transfer in zip(paid, transfers, strict=True):
            if debit_id not in urls:
                urls[debit_id] = _account_url(debit_id)
            reference = _("Hóa đơn %(number)s kỳ %(period)s") % {
                "number": inv["invoice_number"], "period": inv["period"],
            }
            rows += balance_notification_rows(
                transfer, account_rows[debit_id], account_rows[credit_id], -inv["amount"],
                user_ids=recipients.get(auth.unit_id, []), reference=reference, url=urls[debit_id],
                data={"invoice_id": inv["id"], "invoice_number": inv["invoice_number"]},
            )
        for d in excepted:
            if not d.unit_id:
                continue
            label = ExceptionCode(d.code).label if d.code in ExceptionCode.values else d.code
            title = _("Hóa đơn %(number)s chưa được thanh toán tự động: %(code)s") % {
                "number": d.invoice["invoice_number"], "code": label,
            }
            data = {"invoice_id": d.invoice["id"], "invoice_number": d.invoice["invoice_number"],
                    "exception_code": d.code, "amount": d.invoice["amount"], "period": d.invoice["period"],
                    "reason": _reason_data(d.reason)}
            for user_id in recipients.get(d.unit_id, []):
                rows.append(
                    Notification(
                        user_id=user_id, kind=NotificationKind.AUTOPAY, title=title[:255],
                        body=f"{title}. {d.reason}", unit_id=d.unit_id, data=data,
                    )
                )
    notifications_write_many(rows)


def _account_url(account_id: int) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("account-detail", args=[account_id])
    except NoReverseMatch:
        return ""


_CLAIM_FIELDS = ("id", "supplier_id", "invoice_number", "customer_code", "period", "amount", "issued_at")


def _claim(batch_size: int, ids: list[int] | None = None) -> list[dict]:
    qs = SupplierInvoice.objects.select_for_update(skip_locked=True, of=("self",)).filter(
        status=InvoiceStatus.PENDING
    )
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    # The account holder's confirmation of an unusual amount (that amount) releases it from the anomaly check.
    confirmed = AutopayEvent.objects.filter(invoice=OuterRef("pk"), action="confirm_amount").order_by("-pk")
    qs = qs.annotate(confirmed_amount=Subquery(confirmed.values("data__amount")[:1], output_field=JSONField()))
    rows = list(qs.order_by("pk").values(*_CLAIM_FIELDS, "confirmed_amount")[:batch_size])
    for row in rows:
        row["amount_confirmed"] = row.pop("confirmed_amount") == row["amount"]
    return rows


def autopay_settle_batch(*, run: AutopayRun, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Claim and settle one batch in one transaction; on a failed write, settle
    that batch's invoices one by one in savepoints (the failing one goes to
    the exceptions). Returns how many invoices were settled (0: none pending)."""
    claimed_ids: list[int] = []
    try:
        with transaction.atomic():
            invoices = _claim(batch_size)
            claimed_ids = [i["id"] for i in invoices]
            if not invoices:
                return 0
            deferred = _settle(invoices, run, timezone.now(), wait=False)
            if len(deferred) == len(invoices):
                # Nothing else to do: wait for the rows' holder, as one batch alone would.
                _settle(deferred, run, timezone.now())
                deferred = []
            return len(invoices) - len(deferred)
    except Exception:
        if not claimed_ids:
            raise
        logger.exception("autopay batch of %s invoices failed; settling them one by one", len(claimed_ids))
    return _settle_one_by_one(claimed_ids, run)


def _settle_one_by_one(ids: list[int], run: AutopayRun) -> int:
    settled = 0
    with transaction.atomic():
        invoices = _claim(len(ids), ids)
        for inv in invoices:
            now = timezone.now()
            try:
                with transaction.atomic():
                    _settle([inv], run, now)
            except Exception:
                logger.exception("autopay: invoice %s could not be settled", inv["id"])
                with transaction.atomic():
                    decision = _Decision(inv, None, _last_unit_of(inv), PROCESSING_ERROR, _reason(PROCESSING_ERROR))
                    _write([], [decision], {}, {}, {}, run, now)
            settled += 1
    return settled


def _last_unit_of(inv: dict) -> int | None:
    return (
        AuthorizationCustomerCode.objects.filter(supplier_id=inv["supplier_id"], customer_code=inv["customer_code"])
        .exclude(authorization__status=AuthorizationStatus.DRAFT)
        .order_by("-authorization_id")
        .values_list("authorization__unit_id", flat=True)
        .first()
    )


def autopay_run_start(*, trigger: str = "schedule") -> AutopayRun:
    """A run row (its progress: total pending at the start, then counts)."""
    total = SupplierInvoice.objects.filter(status=InvoiceStatus.PENDING).count()
    return AutopayRun.objects.create(trigger=trigger[:20], total=total)


def _run_lease() -> timedelta:
    return timedelta(seconds=settings.AUTOPAY_RUN_LEASE)


def _run_heartbeat(run_id: int) -> bool:
    """The run is alive: refresh its heartbeat. False when it is no longer
    running (finished, or abandoned by a later start): its work stops."""
    return bool(
        AutopayRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(heartbeat_at=timezone.now())
    )


# How long a worker that finds nothing to claim waits for the invoices another
# worker of the run holds before it stops (and leaves that worker to finish the run).
HELD_WAIT_SECONDS = 5.0


def autopay_run_batches(
    *, run_id: int, batch_size: int = DEFAULT_BATCH_SIZE, max_seconds: float | None = None
) -> int:
    """Settle batches for the run until nothing is pending (or `max_seconds`
    passed). Safe to run in several processes at once: SKIP LOCKED gives each
    its own invoices. Each batch refreshes the run's heartbeat (its lease); a
    run abandoned meanwhile is not worked on. Returns how many invoices this
    call settled."""
    run = AutopayRun.objects.get(pk=run_id)
    started = time.monotonic()
    settled = 0
    idle_since: float | None = None
    while _run_heartbeat(run.pk):
        n = autopay_settle_batch(run=run, batch_size=batch_size)
        settled += n
        if n == 0:
            if not SupplierInvoice.objects.filter(status=InvoiceStatus.PENDING).exists():
                now = timezone.now()
                AutopayRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
                    status=RunStatus.FINISHED, finished_at=now, heartbeat_at=now
                )
                break
            # Pending invoices this worker could not claim: another worker of the
            # run holds them (or left them for a later batch of its own). The run is
            # not finished until they are settled: wait a little for them, then
            # leave the finishing to the worker that holds them (a dead one's run
            # is abandoned at its lease, and the next run takes them).
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > HELD_WAIT_SECONDS:
                break
            time.sleep(0.1)
        else:
            idle_since = None
        if max_seconds is not None and time.monotonic() - started > max_seconds:
            break
    return settled


def autopay_run(*, trigger: str = "command", batch_size: int = DEFAULT_BATCH_SIZE) -> AutopayRun:
    """One whole run in this process (the command, tests): every pending invoice
    is paid or goes to the exceptions."""
    run = autopay_run_start(trigger=trigger)
    autopay_run_batches(run_id=run.pk, batch_size=batch_size)
    run.refresh_from_db()
    return run


def autopay_runs_abandon_stale(*, now: datetime | None = None) -> list[int]:
    """Finish as `abandoned` every running run whose heartbeat is older than the
    lease (its worker died: killed, out of memory, machine lost), each with an
    event. Its invoices that were not settled are still pending: the next run
    takes them. Returns the ids."""
    now = now or timezone.now()
    abandoned = []
    with transaction.atomic():
        stale = AutopayRun.objects.select_for_update(skip_locked=True).filter(
            status=RunStatus.RUNNING, heartbeat_at__lt=now - _run_lease()
        )
        for run in stale:
            AutopayRun.objects.filter(pk=run.pk).update(status=RunStatus.ABANDONED, finished_at=now)
            AutopayEvent.objects.create(
                run=run, action="run_abandoned", from_status=RunStatus.RUNNING, to_status=RunStatus.ABANDONED,
                data={"heartbeat_at": run.heartbeat_at.isoformat(), "lease_seconds": settings.AUTOPAY_RUN_LEASE,
                      "processed": run.processed, "total": run.total},
            )
            logger.warning(
                "autopay run %s abandoned: no heartbeat since %s (lease %s s), %s of %s invoices settled",
                run.pk, run.heartbeat_at.isoformat(), settings.AUTOPAY_RUN_LEASE, run.processed, run.total,
            )
            abandoned.append(run.pk)
    return abandoned


def autopay_runs_start_scheduled(*, workers: int = 2) -> AutopayRun | None:
    """The beat's entry: finish the runs whose lease expired as abandoned, then
    start a run unless a live one is still going (never two at once), and queue
    `workers` batch tasks for it (on commit)."""
    autopay_runs_abandon_stale()
    if not SupplierInvoice.objects.filter(status=InvoiceStatus.PENDING).exists():
        return None
    with transaction.atomic():
        _lock_run_start()
        if AutopayRun.objects.filter(status=RunStatus.RUNNING).exists():
            return None
        run = autopay_run_start(trigger="schedule")
        transaction.on_commit(lambda: _queue_batches(run.pk, workers))
    return run


RUN_START_LOCK = 0x4155_544F  # "AUTO": the advisory lock that serialises run starts


def _lock_run_start() -> None:
    """Two starts at once (the beat and a retry's sweep) see each other's run:
    PostgreSQL serialises them on a transaction advisory lock; SQLite already
    serialises writers."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RUN_START_LOCK])


def _queue_batches(run_id: int, workers: int) -> None:
    from autopay.tasks import pay_autopay_batches
    from payments.tasks import enqueue

    for _n in range(workers):
        enqueue(pay_autopay_batches, run_id)


# --- the roll-over into the next fiscal year (moved from payments.services.yearend) ------


def authorization_roll_over(*, actor: User, authorization: AutopayAuthorization | int) -> AutopayAuthorization:
    """A signer of the unit rolls an active authorization on a budget line of
    year N over to year N+1: a new draft with the same supplier, customer
    codes and caps, on the unit's line of N+1 with the same classification
    codes, valid for the new year. The unit's two signers confirm it by signing
    it and the account holder submits it, as any authorization change; the
    treasury's administrator confirms it (from the day the old one ends, when
    the customer codes pass to it). Rolled over once: a repeat returns it."""
    pk = authorization.pk if isinstance(authorization, AutopayAuthorization) else int(authorization)
    with transaction.atomic():
        old = (
            AutopayAuthorization.objects.select_for_update(of=("self",))
            .select_related("unit", "supplier", "budget_line").filter(pk=pk).first()
        )
        if old is None:
            raise NotFound()
        _require_unit_role(actor, old.unit, Role.CHIEF_ACCOUNTANT, Role.ACCOUNT_HOLDER)
        successor = AutopayAuthorization.objects.filter(rolled_over_from=old).first()
        if successor is not None:
            return successor
        if not autopay_selectors.can_roll_over(actor, old):
            raise ApplicationError(
                "invalid_transition", _("Chỉ chuyển sang năm mới được ủy quyền đang hiệu lực chi từ dòng dự toán.")
            )
        year = old.budget_line.fiscal_year + 1
        line = yearend_selectors.matching_line(old.budget_line, year)
        if line is None:
            raise ApplicationError(
                "budget_line_missing",
                _("Đơn vị chưa có dòng dự toán năm %(year)s cùng mã phân loại %(codes)s: đề nghị kho bạc tạo dòng "
                  "dự toán năm mới trước.") % {"year": year, "codes": old.budget_line.classification},
            )
        codes = list(old.customer_codes.values_list("customer_code", flat=True))
        new = authorization_create(
            actor=actor, unit=old.unit, supplier=old.supplier, customer_codes=codes, budget_line=line,
            cap_per_invoice=old.cap_per_invoice, cap_per_month=old.cap_per_month,
            valid_from=date(year, 1, 1), valid_to=date(year, 12, 31),
        )
        new.rolled_over_from = old
        new.save(update_fields=["rolled_over_from"])
        _event(
            old, actor=actor, action="roll_over", from_status=old.status, to_status=old.status,
            data={"to_authorization": new.pk, "year": year},
        )
    return new
