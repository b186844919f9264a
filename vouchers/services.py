"""Writes of the vouchers app: one function per business action.

Every transition has the same shape: one transaction; the voucher row locked
(`policy.lock_voucher`: its own row only), then the rows money depends on
(budget lines in id order, a deposit account, an advance); a repeat of the same
request returns the same result; who may act and when is `policy.check_<action>`
(the role, the transition table `TRANSITIONS` through the workflow engine
`policy.FLOW`, segregation of duties, "return once": the same checks decide the
buttons); the content rules (budget, signatures, documents, the due time);
`FLOW.move` (status and fields saved, the VoucherEvent written). The event row
is the notification outbox: the worker drains it into notifications
(vouchers.notifications), woken when the transaction commits.
"""

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import F, prefetch_related_objects
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Organisation, Role, User
from accounts.selectors import active_absences, treasury_staff_over, user_has_unit_role
from accounts.services import document_sign, live_signatures_verify, signed_content_store, signing_start
from payments.models import Account, AccountKind, Bank, BudgetLine
from payments.selectors.banks import bank_find
from payments.services import budget as budget_services
from treasury_portal.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed
from treasury_portal.workflow import refuse_unknown_fields
from vouchers import policy, selectors
from vouchers.models import (
    NOTIFY_SAME_STATUS_ACTIONS,
    OPEN_STATUSES,
    Attachment,
    DocumentKind,
    NumberSequence,
    Rating,
    ReasonCode,
    ReasonKind,
    ReturnException,
    Signature,
    Voucher,
    VoucherEvent,
    VoucherLine,
    VoucherMode,
    VoucherStatus,
)
from vouchers.selectors import deposit_headroom
from vouchers.working_days import TZ, extend_due_for_pause

UNIT_ROLES = policy.UNIT_ROLES
FLOW = policy.FLOW
MAX_AMOUNT = 10**15
MAX_LINES = 100
SETTLEMENT_CODE = "C2-03/NS"
DEPOSIT_CODE = "C4-02a/KB"
ADVANCE_CODE = "C2-02a/NS"
ACCOUNT_NUMBER = re.compile(r"[0-9A-Za-z.\-]{4,34}")
# Content types recognised by their first bytes, never by the name or the header.
MAGIC = (
    (b"%PDF-", "application/pdf", ("pdf",)),
    (b"\xff\xd8\xff", "image/jpeg", ("jpg", "jpeg")),
    (b"\x89PNG\r\n\x1a\n", "image/png", ("png",)),
)


# --- shared helpers ---------------------------------------------------------


def _pk(obj: Any) -> int:
    return obj.pk if hasattr(obj, "pk") else int(obj)


_lock = policy.lock_voucher  # the voucher's own row (no join); the parents a caller read are kept


def _load_content(voucher: Voucher) -> None:
    """Lines (with budget lines), attachments and every signature (with key and
    signer), read once under the voucher's lock: the content hash, the rules, the
    signature checks, the notification's recipients and the API's answer all use
    them. Relations already read are not read again."""
    prefetch_related_objects(
        [voucher], selectors.lines_prefetch(), selectors.attachments_prefetch(), selectors.signatures_prefetch()
    )


def _next_in_sequence(scope: str) -> int:
    """The next number of a gap-free sequence: one upsert, which holds the row's
    lock until the transaction ends (a rollback takes the number back)."""
    table = connection.ops.quote_name(NumberSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO {table} (scope, "last") VALUES (%s, 1) '  # noqa: S608 - the model's own table name
            f'ON CONFLICT (scope) DO UPDATE SET "last" = {table}."last" + 1 RETURNING "last"',
            [scope],
        )
        return cursor.fetchone()[0]


def _require_unit_role(actor: User, unit: Organisation, *roles: str) -> None:
    if not user_has_unit_role(actor, unit, *roles):
        raise PermissionDenied(_("Bạn không có vai trò phù hợp tại đơn vị này để thực hiện thao tác."))


def _late(voucher: Voucher, explanation: str) -> bool:
    """A transition after the due time needs a written explanation."""
    if voucher.due_at and timezone.now() > voucher.due_at:
        if not (explanation or "").strip():
            raise ValidationFailed(
                _(
                    "Chứng từ đã quá hạn xử lý (hạn %(due)s): cần nhập giải trình lý do chậm "
                    "(trường “explanation”)."
                )
                % {"due": voucher.due_at.astimezone(TZ).strftime("%H:%M %d/%m/%Y")},
                fields={"explanation": [_("Bắt buộc khi xử lý quá hạn.")]},
            )
        return True
    return False


def _event(
    voucher: Voucher,
    *,
    actor: User | None,
    action: str,
    from_status: str,
    to_status: str,
    note: str = "",
    data: dict | None = None,
    is_late: bool = False,
    notify: bool = True,
) -> VoucherEvent:
    event = FLOW.event(
        voucher, actor=actor, action=action, from_status=from_status, to_status=to_status, note=note,
        data=data or {}, is_late=is_late,
    )
    if notify:
        _notify(voucher, event)
    return event


def _notify(voucher: Voucher, event: VoucherEvent) -> None:  # noqa: ARG001 - the voucher: its event is the outbox
    """The unit told of a change of status: the event row just written is the
    outbox (pending while NOTIFY_PENDING holds), drained into notifications by the
    worker (vouchers.notifications); here only the deliverer's wake-up on commit
    (at most one publish a second across processes), without SQL."""
    if event.from_status != event.to_status or event.action in NOTIFY_SAME_STATUS_ACTIONS:
        from payments.services import notifications

        notifications.notifications_wake()


def _move(
    voucher: Voucher,
    action: str,
    *,
    actor: User | None,
    fields: Mapping[str, Any] | None = None,
    note: str = "",
    data: dict | None = None,
    is_late: bool = False,
    explanation: str = "",
) -> VoucherEvent:
    """Apply a checked transition (FLOW.move: status and fields saved, event
    written), then tell the people concerned."""
    data = dict(data or {})
    if explanation:
        data["explanation"] = explanation
    event = FLOW.move(
        voucher, action, actor=actor, fields=fields, note=note or explanation, data=data, is_late=is_late
    )
    _notify(voucher, event)
    return event


def _check_year_open(office_id: int | None, fiscal_year: int, *, voucher: Voucher | None = None) -> None:
    """A voucher of a fiscal year whose adjustment period is over (or that its
    office closed) is refused: `fiscal_year_closed`, unless the close carried
    it. A year not yet ended costs no query
    (payments.selectors.yearend.fiscal_year_state)."""
    from payments.selectors.yearend import fiscal_year_state

    state = fiscal_year_state(office_id, fiscal_year)
    if state.is_closed and not (voucher is not None and _carried(voucher)):
        raise ApplicationError(
            "fiscal_year_closed",
            _(
                "Năm ngân sách %(year)s đã khóa sổ (thời gian chỉnh lý đến hết ngày %(until)s): không lập hoặc "
                "gửi chứng từ của năm này được nữa; hãy lập chứng từ của năm ngân sách mới."
            )
            % {"year": fiscal_year, "until": state.adjustment_until.strftime("%d/%m/%Y")},
            fields={"fiscal_year": [_("Năm ngân sách đã khóa sổ.")]},
        )


def _carried(voucher: Voucher) -> bool:
    """The office's year end carried this voucher to the new year: it goes on."""
    return VoucherEvent.objects.filter(voucher=voucher, action="year_end_carry").exists()


def _last_event(voucher: Voucher, action: str) -> VoucherEvent | None:
    return VoucherEvent.objects.filter(voucher=voucher, action=action).order_by("-created_at", "-id").first()


def _repeat(voucher: Voucher, action: str, actor: User | None, *statuses: str) -> bool:
    """True when the voucher is already where this action by this actor put it."""
    if voucher.status not in statuses:
        return False
    last = _last_event(voucher, action)
    return last is not None and (actor is None or last.actor_id == actor.pk)


def _recompute_content(voucher: Voucher) -> bool:
    """Store the current content hash; when it changed, void the live signatures
    and bump the content version. Returns whether the content changed."""
    return signed_content_store(voucher, selectors.voucher_content_hash(voucher))


# --- input checks -----------------------------------------------------------


def _int_amount(value: Any, field: str, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.isascii() and value.isdigit():
            value = int(value)
        else:
            raise ValidationFailed(
                _("Số tiền phải là số nguyên đồng."), fields={field: [_("Phải là số nguyên dương.")]}
            )
    if value <= 0 or value > MAX_AMOUNT:
        raise ValidationFailed(_("Số tiền phải là số nguyên dương."), fields={field: [_("Phải là số nguyên dương.")]})
    return value


def _clean_lines(unit: Organisation, fiscal_year: int, lines: Any) -> list[tuple[BudgetLine, int, str]]:
    if not isinstance(lines, list | tuple) or not lines:
        raise ValidationFailed(_("Chứng từ phải có ít nhất một dòng chi."), fields={"lines": [_("Bắt buộc.")]})
    if len(lines) > MAX_LINES:
        raise ValidationFailed(
            _("Chứng từ có quá nhiều dòng."), fields={"lines": [_("Tối đa %(n)s dòng.") % {"n": MAX_LINES}]}
        )
    ids = []
    for i, raw in enumerate(lines):
        if not isinstance(raw, Mapping):
            raise ValidationFailed(_("Dòng chi không hợp lệ."), fields={f"lines[{i}]": [_("Không hợp lệ.")]})
        bl = raw.get("budget_line")
        try:
            ids.append(_pk(bl))
        except (TypeError, ValueError):
            raise ValidationFailed(
                _("Dòng %(n)s: thiếu dòng dự toán.") % {"n": i + 1},
                fields={f"lines[{i}].budget_line": [_("Bắt buộc.")]},
            ) from None
    found = {b.pk: b for b in BudgetLine.objects.filter(pk__in=ids, unit=unit)}
    cleaned = []
    for i, (raw, bl_id) in enumerate(zip(lines, ids, strict=True)):
        bl = found.get(bl_id)
        if bl is None:
            raise ValidationFailed(
                _("Dòng %(n)s: dòng dự toán không thuộc đơn vị này.") % {"n": i + 1},
                fields={f"lines[{i}].budget_line": [_("Không tìm thấy.")]},
            )
        if bl.fiscal_year != fiscal_year:
            raise ValidationFailed(
                _("Dòng %(n)s: dòng dự toán thuộc năm ngân sách %(year)s, không phải %(fy)s.")
                % {"n": i + 1, "year": bl.fiscal_year, "fy": fiscal_year},
                fields={f"lines[{i}].budget_line": [_("Sai năm ngân sách.")]},
            )
        amount = _int_amount(raw.get("amount"), f"lines[{i}].amount")
        description = str(raw.get("description") or "")[:500]
        cleaned.append((bl, amount, description))
    total = sum(a for _b, a, _d in cleaned)
    if total > MAX_AMOUNT:
        raise ValidationFailed(_("Tổng số tiền quá lớn."), fields={"lines": [_("Quá lớn.")]})
    return cleaned


def _clean_payee(payee: Any) -> tuple[str, str, Bank]:
    if not isinstance(payee, Mapping):
        raise ValidationFailed(_("Thiếu thông tin đơn vị nhận tiền."), fields={"payee": [_("Bắt buộc.")]})
    name = str(payee.get("name") or "").strip()
    account = str(payee.get("account_number") or "").strip()
    bank_code = str(payee.get("bank_code") or "").strip()
    errors: dict[str, list[str]] = {}
    if not name or len(name) > 255:
        errors["payee.name"] = [_("Bắt buộc, tối đa 255 ký tự.")]
    if not ACCOUNT_NUMBER.fullmatch(account):
        errors["payee.account_number"] = [_("Số tài khoản gồm 4–34 chữ số hoặc chữ cái.")]
    bank = bank_find(bank_code) if bank_code else None
    if bank is None:
        errors["payee.bank_code"] = [
            _("Không có ngân hàng nào có mã BIN, BIC hoặc mã viết tắt này trong danh mục ngân hàng.")
        ]
    if errors:
        raise ValidationFailed(_("Thông tin đơn vị nhận tiền không hợp lệ."), fields=errors)
    return name, account, bank  # type: ignore[return-value]


def _clean_description(description: Any) -> str:
    text = str(description or "").strip()
    if not text or len(text) > 2000:
        raise ValidationFailed(
            _("Nội dung chi là bắt buộc (tối đa 2000 ký tự)."), fields={"description": [_("Bắt buộc.")]}
        )
    return text


def _clean_deposit_account(unit: Organisation, value: Any) -> Account:
    account = None
    if value not in (None, ""):
        qs = Account.objects.filter(kind=AccountKind.DEPOSIT, unit=unit)
        account = qs.filter(pk=value.pk).first() if hasattr(value, "pk") else (
            qs.filter(pk=int(value)).first() if str(value).isdigit() else qs.filter(number=str(value)).first()
        )
    if account is None:
        raise ValidationFailed(
            _("Ủy nhiệm chi C4-02a/KB phải chi từ một tài khoản tiền gửi của chính đơn vị."),
            fields={"deposit_account": [_("Không tìm thấy tài khoản tiền gửi của đơn vị.")]},
        )
    return account


def _clean_settles(unit: Organisation, value: Any, total: int | None) -> Voucher:
    advance = None
    if value not in (None, ""):
        advance = selectors.outstanding_advances(unit.pk).filter(pk=_pk(value)).first()
    if advance is None:
        raise ValidationFailed(
            _(
                "Thanh toán tạm ứng C2-03/NS phải chỉ ra một khoản tạm ứng đã chi, chưa thanh toán hết, "
                "của chính đơn vị."
            ),
            fields={"settles": [_("Không tìm thấy khoản tạm ứng còn dư.")]},
        )
    if total is not None and total > advance.total_amount - advance.settled_amount:
        raise ValidationFailed(
            _("Số thanh toán (%(total)s đồng) vượt số tạm ứng còn phải thanh toán (%(left)s đồng).")
            % {
                "total": f"{total:,}".replace(",", "."),
                "left": f"{advance.total_amount - advance.settled_amount:,}".replace(",", "."),
            },
            fields={"settles": [_("Vượt số còn phải thanh toán.")]},
        )
    return advance


def _check_rules(voucher: Voucher) -> None:
    problems = selectors.voucher_rule_problems(voucher)
    if problems:
        raise ValidationFailed(" ".join(problems), fields={"rules": problems})


# --- drafting -----------------------------------------------------------------


def voucher_create(
    *,
    actor: User,
    unit: Organisation,
    procedure: str,
    mode: str = VoucherMode.PAYMENT,
    fiscal_year: int,
    description: str,
    payee: Mapping[str, str],
    lines: list[Mapping[str, Any]],
    contract_number: str = "",
    contract_value: int | None = None,
    deposit_account: Any = None,
    settles: Any = None,
) -> Voucher:
    """A unit user drafts a voucher: C2-02a/NS (payment or advance), C2-03/NS
    (settles a paid advance of the unit) or C4-02a/KB (payment order from a
    deposit account of the unit)."""
    _require_unit_role(actor, unit, *UNIT_ROLES)
    mode = mode or VoucherMode.PAYMENT
    if mode not in VoucherMode.values:
        raise ValidationFailed(_("Hình thức phải là thanh toán hoặc tạm ứng."), fields={"mode": [mode]})
    proc = selectors.procedure_for(procedure, mode)
    if proc is None or not proc.files_voucher:
        raise ValidationFailed(
            _("Thủ tục %(code)s không lập chứng từ trên cổng.") % {"code": procedure}, fields={"procedure": [procedure]}
        )
    if mode == VoucherMode.ADVANCE and proc.code != ADVANCE_CODE:
        raise ValidationFailed(
            _("Chỉ thủ tục C2-02a/NS có hình thức tạm ứng."), fields={"mode": [_("Không áp dụng cho thủ tục này.")]}
        )
    try:
        fiscal_year = int(fiscal_year)
    except (TypeError, ValueError):
        raise ValidationFailed(_("Năm ngân sách không hợp lệ."), fields={"fiscal_year": [_("Không hợp lệ.")]}) from None
    if not 2000 <= fiscal_year <= 2100:
        raise ValidationFailed(_("Năm ngân sách không hợp lệ."), fields={"fiscal_year": [_("Không hợp lệ.")]})
    _check_year_open(unit.office_id, fiscal_year)
    description = _clean_description(description)
    payee_name, payee_account, bank = _clean_payee(payee)
    cleaned = _clean_lines(unit, fiscal_year, lines)
    total = sum(a for _b, a, _d in cleaned)
    contract_value = _int_amount(contract_value, "contract_value", allow_none=True)
    account = _clean_deposit_account(unit, deposit_account) if proc.code == DEPOSIT_CODE else None
    advance = _clean_settles(unit, settles, total) if proc.code == SETTLEMENT_CODE else None
    # No savepoint of its own inside a caller's transaction (the API's
    # Idempotency-Key record): an error here rolls that transaction back to the
    # caller's own savepoint, whose answer is then stored; a caller that went on
    # after an error without a savepoint of its own would be refused by Django.
    with transaction.atomic(savepoint=False):
        seq = _next_in_sequence(f"voucher:{unit.code}:{fiscal_year}")
        voucher = Voucher(
            number=f"{unit.code}-{fiscal_year}-{seq:06d}", unit=unit, office_id=unit.office_id, procedure=proc,
            mode=mode,
            fiscal_year=fiscal_year, description=description, payee_name=payee_name, payee_account=payee_account,
            payee_bank=bank, deposit_account=account, settles=advance, contract_number=str(contract_number or "")[:100],
            contract_value=contract_value, total_amount=total, created_by=actor,
        )
        lines_ = [
            VoucherLine(voucher=voucher, budget_line=bl, amount=amount, description=desc, position=i)
            for i, (bl, amount, desc) in enumerate(cleaned)
        ]
        # Hashed before it is written: the content is all in hand, no attachment yet.
        voucher.content_hash = selectors.voucher_content_hash(voucher, lines=lines_, attachments=[])
        voucher.save(force_insert=True)
        for line in lines_:
            line.voucher = voucher  # the voucher's id, now that it has one
        VoucherLine.objects.bulk_create(lines_)
        # The lines as written, with their budget lines (read by _clean_lines):
        # what the answer shows, not read again.
        selectors.set_prefetched(voucher, "lines", lines_)
        _event(
            voucher, actor=actor, action="create", from_status="", to_status=VoucherStatus.DRAFT,
            data={"content_hash": voucher.content_hash}, notify=False,
        )
    return voucher


def vouchers_follow_unit_office(*, unit: Organisation) -> int:
    """After a unit moved to another transaction office: its vouchers follow
    (Voucher.office scopes the review queues)."""
    return Voucher.objects.filter(unit=unit).exclude(office_id=unit.office_id).update(office_id=unit.office_id)


EDITABLE_FIELDS = {
    "description", "payee", "lines", "contract_number", "contract_value", "deposit_account", "settles", "mode",
}


def voucher_update(*, actor: User, voucher: Voucher | int, data: Mapping[str, Any]) -> Voucher:
    """Change a draft or returned voucher. Any change of content voids the live
    signatures, bumps the content version and gives a new content hash."""
    refuse_unknown_fields(data, EDITABLE_FIELDS)
    with transaction.atomic():
        voucher = _lock(voucher)
        policy.check_update(actor, voucher)
        update: list[str] = []
        if "mode" in data and data["mode"] != voucher.mode:
            mode = data["mode"]
            if mode not in VoucherMode.values:
                raise ValidationFailed(_("Hình thức phải là thanh toán hoặc tạm ứng."), fields={"mode": [str(mode)]})
            proc = selectors.procedure_for(voucher.procedure.code, mode)
            if proc is None or (mode == VoucherMode.ADVANCE and proc.code != ADVANCE_CODE):
                raise ValidationFailed(_("Chỉ thủ tục C2-02a/NS có hình thức tạm ứng."), fields={"mode": [str(mode)]})
            voucher.mode, voucher.procedure = mode, proc
            update += ["mode", "procedure"]
        if "description" in data:
            voucher.description = _clean_description(data["description"])
            update.append("description")
        if "payee" in data:
            voucher.payee_name, voucher.payee_account, voucher.payee_bank = _clean_payee(data["payee"])
            update += ["payee_name", "payee_account", "payee_bank"]
        if "contract_number" in data:
            voucher.contract_number = str(data["contract_number"] or "")[:100]
            update.append("contract_number")
        if "contract_value" in data:
            voucher.contract_value = _int_amount(data["contract_value"], "contract_value", allow_none=True)
            update.append("contract_value")
        if "deposit_account" in data:
            if voucher.procedure.code != DEPOSIT_CODE:
                raise ValidationFailed(_("Chỉ ủy nhiệm chi C4-02a/KB chi từ tài khoản tiền gửi."))
            voucher.deposit_account = _clean_deposit_account(voucher.unit, data["deposit_account"])
            update.append("deposit_account")
        if "lines" in data:
            cleaned = _clean_lines(voucher.unit, voucher.fiscal_year, data["lines"])
            voucher.lines.all().delete()
            VoucherLine.objects.bulk_create(
                [
                    VoucherLine(voucher=voucher, budget_line=bl, amount=amount, description=desc, position=i)
                    for i, (bl, amount, desc) in enumerate(cleaned)
                ]
            )
            voucher.total_amount = sum(a for _b, a, _d in cleaned)
            update.append("total_amount")
        if "settles" in data:
            if voucher.procedure.code != SETTLEMENT_CODE:
                raise ValidationFailed(_("Chỉ chứng từ C2-03/NS thanh toán một khoản tạm ứng."))
            voucher.settles = _clean_settles(voucher.unit, data["settles"], None)
            update.append("settles")
        if voucher.settles_id:
            _clean_settles(voucher.unit, voucher.settles_id, voucher.total_amount)
        if update:
            voucher.save(update_fields=[*update, "updated_at"])
        before_hash = voucher.content_hash
        if _recompute_content(voucher):
            _event(
                voucher, actor=actor, action="update", from_status=voucher.status, to_status=voucher.status,
                data={"fields": sorted(set(data)), "content_hash": voucher.content_hash, "previous_hash": before_hash},
            )
    return voucher


def _safe_original_name(name: str) -> str:
    """The user's file name, kept only as a label: refuse anything path-like."""
    name = (name or "").strip()
    if (
        not name
        or len(name) > 200
        or "/" in name
        or "\\" in name
        or "\x00" in name
        or name in (".", "..")
        or ".." in name
        or name.startswith(".")
        or any(ord(c) < 32 for c in name)
        or re.match(r"^[A-Za-z]:", name)
    ):
        raise ApplicationError(
            "invalid_file_name",
            _("Tên tệp không hợp lệ: không được chứa đường dẫn, “..”, ký tự điều khiển hoặc bắt đầu bằng dấu chấm."),
            status=400,
            fields={"file": [_("Tên tệp không hợp lệ.")]},
        )
    return name


def _read_upload(file: Any) -> bytes:
    limit = settings.ATTACHMENT_MAX_BYTES
    size = getattr(file, "size", None)
    if size is not None and size > limit:
        raise ValidationFailed(
            _("Tệp quá lớn: tối đa %(mb)s MB.") % {"mb": round(limit / 1024 / 1024, 1)},
            fields={"file": [_("Quá dung lượng cho phép.")]},
        )
    chunks = []
    total = 0
    for chunk in file.chunks() if hasattr(file, "chunks") else [file.read()]:
        total += len(chunk)
        if total > limit:
            raise ValidationFailed(
                _("Tệp quá lớn: tối đa %(mb)s MB.") % {"mb": round(limit / 1024 / 1024, 1)},
                fields={"file": [_("Quá dung lượng cho phép.")]},
            )
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        raise ValidationFailed(_("Tệp rỗng."), fields={"file": [_("Tệp rỗng.")]})
    return data


def attachment_add(*, actor: User, voucher: Voucher | int, file: Any, kind: str, name: str | None = None) -> Attachment:
    """Attach a PDF, JPEG or PNG (recognised by its first bytes) to a draft or
    returned voucher. The file is stored under its SHA-256 in private storage;
    the user's file name is kept as a label only, and refused (never trimmed)
    when it carries a path or control characters: the name as sent
    (`raw_name`, treasury_portal.parsers), not Django's cleaned one. The same
    bytes again under the same kind are the attachment already there; under
    another kind they are refused (one paper cannot count as two documents).
    Voids live signatures."""
    if kind not in DocumentKind.values:
        raise ValidationFailed(_("Loại tài liệu không hợp lệ."), fields={"kind": [str(kind)]})
    if name is None:
        name = getattr(file, "raw_name", None) or getattr(file, "name", "")
    original = _safe_original_name(name)
    data = _read_upload(file)
    content_type = next((ct for magic, ct, _exts in MAGIC if data.startswith(magic)), None)
    if content_type is None:
        raise ValidationFailed(
            _("Chỉ nhận tệp PDF, JPEG hoặc PNG (kiểm tra theo nội dung tệp)."),
            fields={"file": [_("Loại tệp không được chấp nhận.")]},
        )
    extension = original.rsplit(".", 1)[-1].lower() if "." in original else ""
    exts = next(e for _m, ct, e in MAGIC if ct == content_type)
    if extension and extension not in exts:
        raise ValidationFailed(
            _("Phần mở rộng “.%(ext)s” không khớp với nội dung tệp (%(type)s).")
            % {"ext": extension, "type": content_type},
            fields={"file": [_("Phần mở rộng không khớp nội dung.")]},
        )
    sha256 = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        voucher = _lock(voucher)
        policy.check_attach(actor, voucher)
        existing = voucher.attachments.filter(sha256=sha256).first()
        if existing is not None:
            if existing.kind == kind:
                return existing
            raise ApplicationError(
                "duplicate_attachment",
                _("Tệp này đã được đính kèm với loại “%(kind)s” (tệp “%(name)s”). Mỗi tài liệu chỉ đính kèm một "
                  "lần; nếu loại đó sai, hãy gỡ tệp rồi đính kèm lại với loại đúng.")
                % {"kind": DocumentKind(existing.kind).label, "name": existing.original_name},
                fields={"file": [_("Tệp đã được đính kèm với loại khác.")]},
            )
        attachment = Attachment(
            voucher=voucher, kind=kind, original_name=original, content_type=content_type, size=len(data),
            sha256=sha256, uploaded_by=actor,
        )
        path = f"attachments/{voucher.pk}/{sha256}"
        if not default_storage.exists(path):
            stored = default_storage.save(path, ContentFile(data))
        else:
            stored = path
        attachment.file.name = stored
        attachment.save()
        _recompute_content(voucher)
        _event(
            voucher, actor=actor, action="attach", from_status=voucher.status, to_status=voucher.status,
            data={"attachment": attachment.pk, "kind": kind, "name": original, "sha256": sha256,
                  "content_hash": voucher.content_hash},
        )
    return attachment


def attachment_remove(*, actor: User, voucher: Voucher | int, attachment_id: int) -> None:
    with transaction.atomic():
        voucher = _lock(voucher)
        policy.check_detach(actor, voucher)
        attachment = voucher.attachments.filter(pk=attachment_id).first()
        if attachment is None:
            raise NotFound()
        info = {"attachment": attachment.pk, "kind": attachment.kind, "name": attachment.original_name,
                "sha256": attachment.sha256}
        attachment.delete()  # the stored bytes stay: an earlier signed content may cite them
        _recompute_content(voucher)
        _event(voucher, actor=actor, action="detach", from_status=voucher.status, to_status=voucher.status, data=info)


# --- signing and submission -------------------------------------------------


def _verify_live_signatures(voucher: Voucher) -> dict[str, Signature]:
    """Both live signatures, each re-verified now on the current content."""
    _load_content(voucher)
    current = selectors.voucher_content_hash(voucher)
    if current != voucher.content_hash:  # never trust a stale stored hash
        voucher.content_hash = current
        voucher.save(update_fields=["content_hash"])
    return live_signatures_verify(
        live=selectors.live_signatures(voucher), content_hash=current, unit_id=voucher.unit_id,
        missing=_("Chứng từ chưa đủ hai chữ ký (thiếu: %(roles)s)."),
        invalid=_("Chữ ký của %(role)s không hợp lệ trên nội dung hiện tại của chứng từ."),
    )


def voucher_sign(*, actor: User, voucher: Voucher | int, key_id: int, signature: str) -> Signature:
    """The actor signs the voucher's current content hash with their approved
    key; the key's role decides which of the two signatures it is."""
    with transaction.atomic():
        voucher = _lock(voucher)
        # The stored content hash, not recomputed from the lines and attachments:
        # every write of the content stores it (_recompute_content), and submit
        # and approve recompute it and verify both live signatures on the current
        # content before anything moves (_verify_live_signatures), so a hash gone
        # stale otherwise (a budget line's codes changed) is caught there.
        key, current = signing_start(
            actor=actor, document=voucher, key_id=key_id, check=policy.check_sign,
            current_hash=lambda: voucher.content_hash,
            wrong_unit=_("Khóa ký này không được đăng ký cho đơn vị của chứng từ."),
        )
        prefetch_related_objects([voucher], selectors.signatures_prefetch())  # one query: the rules and a repeat
        sig, new = document_sign(
            actor=actor, key=key, live=selectors.live_signatures(voucher), content_hash=current, signature=signature,
            create=lambda **fields: Signature.objects.create(voucher=voucher, **fields),
        )
        if not new:
            return sig  # a repeat
        # The newest signature comes last (ordered by signed_at, id), `mine` voided in place.
        selectors.set_prefetched(voucher, "signatures", [*voucher.signatures.all(), sig])
        _event(
            voucher, actor=actor, action="sign", from_status=voucher.status, to_status=voucher.status,
            data={"role": key.role, "key_fingerprint": key.fingerprint, "content_hash": current, "signature": sig.pk},
        )
    return sig


def voucher_submit(*, actor: User, voucher: Voucher | int) -> Voucher:
    """The account holder sends the voucher. Checks both signatures again on the
    current content, the documents and rules, reserves the budget (or checks the
    deposit account), then sets the receipt number, received and due times. A
    resubmission after a return keeps them, the due time pushed by the pause."""
    with transaction.atomic():
        voucher = _lock(voucher)
        policy.require_unit(actor, voucher, Role.ACCOUNT_HOLDER)
        # The rules, the content hash, the documents and signature checks all
        # read the lines, attachments and signatures: once each, under the lock.
        _load_content(voucher)
        if voucher.status == VoucherStatus.SUBMITTED:  # a repeat of this submission?
            last = _last_event(voucher, "submit")
            if last is not None and last.actor_id == actor.pk and last.data.get("content_hash") == voucher.content_hash:
                return voucher
        policy.check_submit(actor, voucher)
        _check_year_open(voucher.office_id, voucher.fiscal_year, voucher=voucher)
        resubmission = voucher.status == VoucherStatus.RETURNED
        _check_rules(voucher)
        _verify_live_signatures(voucher)
        now = timezone.now()
        cal = selectors.work_calendar()
        # The procedure's versions with their documents from the per-process
        # catalogue (selectors.procedure_versions), not read for each voucher.
        versions = selectors.procedure_versions(voucher.procedure_id)
        if resubmission and voucher.procedure_version_id:
            version = next((v for v in versions if v.pk == voucher.procedure_version_id), voucher.procedure_version)
        else:
            voucher.procedure._versions_desc = versions  # procedure_version_in_force reads them
            terms = selectors.receipt_terms(voucher.procedure, now, cal)
            version = terms["version"]
            if version is None:
                raise ApplicationError(
                    "procedure_not_in_force", _("Thủ tục này chưa có quy định có hiệu lực vào ngày tiếp nhận.")
                )
        missing = selectors.voucher_missing_documents(voucher, version)
        if missing:
            raise ValidationFailed(
                _("Hồ sơ còn thiếu tài liệu bắt buộc: %(docs)s.") % {"docs": ", ".join(d["label"] for d in missing)},
                fields={"documents": [d["kind"] for d in missing]},
            )
        if voucher.settles_id:
            _clean_settles(voucher.unit, voucher.settles_id, voucher.total_amount)
        if voucher.deposit_account_id:
            # Locked after the voucher (policy.lock_voucher: parents first).
            account = Account.objects.select_for_update().get(pk=voucher.deposit_account_id)
            available = deposit_headroom(account, exclude_voucher=voucher.pk)
            if available < voucher.total_amount:
                raise ApplicationError(
                    "insufficient_balance",
                    _("Số dư khả dụng của tài khoản %(account)s (%(available)s đồng) không đủ để chi %(total)s đồng.")
                    % {
                        "account": account.number,
                        "available": f"{available:,}".replace(",", "."),
                        "total": f"{voucher.total_amount:,}".replace(",", "."),
                    },
                )
        # A draft was never submitted (no transition leads back to draft): it holds
        # no reservation, so its movements are not read; the submission's
        # transaction rolls the reservation back with it (no savepoint of its own).
        budget_services.budget_reserve(
            voucher=voucher, actor=actor, holds_nothing=voucher.status == VoucherStatus.DRAFT, savepoint=False
        )
        fields: dict[str, Any] = {}
        data: dict[str, Any] = {"content_hash": voucher.content_hash, "resubmission": resubmission}
        if resubmission and voucher.due_at and voucher.returned_at:
            fields["due_at"] = extend_due_for_pause(voucher.due_at, voucher.returned_at, now, cal)
            fields["returned_at"] = None
            data["paused_from"] = voucher.returned_at.isoformat()
        else:
            office = voucher.unit.office
            local_day = now.astimezone(TZ).strftime("%Y%m%d")
            number = _next_in_sequence(f"receipt:{office.code}:{local_day}")
            fields.update(
                receipt_number=f"{office.code}-{local_day}-{number:05d}", received_at=now,
                due_at=selectors.voucher_due_at(received_at=now, version=version, cal=cal),
                procedure_version=version,
            )
        data["due_at"] = fields["due_at"].isoformat()
        if "receipt_number" in fields:
            data["receipt_number"] = fields["receipt_number"]
        _move(voucher, "submit", actor=actor, fields=fields, data=data)
    return voucher


def voucher_withdraw(*, actor: User, voucher: Voucher | int, note: str = "") -> Voucher:
    """The unit takes back a submitted voucher before control starts; its
    reservation is released."""
    with transaction.atomic():
        voucher = _lock(voucher)
        policy.require_unit(actor, voucher)
        if _repeat(voucher, "withdraw", actor, VoucherStatus.WITHDRAWN):
            return voucher
        policy.check_withdraw(actor, voucher)
        budget_services.budget_release(voucher=voucher, actor=actor)
        _move(voucher, "withdraw", actor=actor, fields={"closed_at": timezone.now()}, note=note)
    return voucher


# --- treasury control -------------------------------------------------------


def voucher_claim(*, actor: User, voucher: Voucher | int, explanation: str = "") -> Voucher:
    """A control officer over the unit's office takes the voucher into control.
    Under concurrency one officer wins; the other gets invalid_transition."""
    with transaction.atomic():
        voucher = _lock(voucher)
        policy.require_treasury(actor, voucher, Role.CONTROL_OFFICER)
        if voucher.status == VoucherStatus.IN_CONTROL and voucher.controller_id == actor.pk:
            return voucher
        policy.check_claim(actor, voucher)
        late = _late(voucher, explanation)
        _move(voucher, "claim", actor=actor, fields={"controller": actor}, is_late=late, explanation=explanation)
    return voucher


def _require_controller(actor: User, voucher: Voucher) -> None:
    """The actor holds the voucher: its controller, or the delegate of its
    controller away today (accounts.Absence). A delegate first takes the voucher
    over: the controller becomes the delegate and a `delegate` event (status
    unchanged) names both and the absence, so the timeline shows who holds it and
    segregation of duties holds as for any controller (the delegate may then not
    approve it). Whoever prepared or signed it, or approved it, may not take it
    over (`same_person`)."""
    policy.check_holder(actor, voucher)  # raises unless the controller or an allowed delegate
    if voucher.controller_id == actor.pk:
        return
    absence = selectors.holder_absence(voucher)
    previous = voucher.controller
    voucher.controller = actor
    voucher.save(update_fields=["controller", "updated_at"])
    _event(
        voucher, actor=actor, action="delegate", from_status=voucher.status, to_status=voucher.status,
        note=absence.note,
        data={
            "absence": absence.pk, "until": absence.ends_on.isoformat(),
            "from_controller": previous.pk, "from_name": _person(previous),
            "to_controller": actor.pk, "to_name": _person(actor),
        },
        notify=False,
    )


def voucher_release(*, actor: User, voucher: Voucher | int, note: str) -> Voucher:
    """The controller gives the voucher back to the office's queue (away, or the
    wrong desk), with a reason: it is submitted again, nobody holds it, its due
    time runs on. A repeat of the same release returns the voucher as it is."""
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(_("Phải ghi lý do trả chứng từ về hàng chờ."), fields={"note": [_("Bắt buộc.")]})
    with transaction.atomic():
        voucher = _lock(voucher)
        policy.require_treasury(actor, voucher, Role.CONTROL_OFFICER)
        if voucher.status == VoucherStatus.SUBMITTED:  # a repeat of this release?
            last = VoucherEvent.objects.filter(voucher=voucher).order_by("-created_at", "-id").first()
            if last is not None and last.action == "release" and last.actor_id == actor.pk:
                return voucher
        policy.check_release(actor, voucher)
        _require_controller(actor, voucher)
        _move(voucher, "release", actor=actor, fields={"controller": None}, note=note,
              data={"from_controller": actor.pk})
    return voucher


def _person(user: User) -> str:
    return user.get_full_name() or user.username


def voucher_reassign(*, actor: User, voucher: Voucher | int, officer: User | str | None, note: str = "") -> Voucher:
    """A leader (approver of the unit's office or an office above) gives a voucher
    in control to another control officer of the office; the status stays. The
    new holder may not be whoever prepared or signed it, its approver or the
    leader. The new and the previous holder are told. Reassigning to the officer
    who already holds it changes nothing (a repeat)."""
    note = (note or "").strip()
    if isinstance(officer, str):
        officer = User.objects.filter(username=officer).first() if officer.strip() else None
    with transaction.atomic():
        voucher = _lock(voucher)
        policy.require_treasury(actor, voucher, Role.APPROVER)
        if voucher.status == VoucherStatus.IN_CONTROL and officer is not None and voucher.controller_id == officer.pk:
            return voucher
        policy.check_reassign(actor, voucher)
        selectors.reassign_target_check(voucher, actor, officer)
        previous = voucher.controller
        event = _move(
            voucher, "reassign", actor=actor, fields={"controller": officer}, note=note,
            data={
                "from_controller": previous.pk if previous else None,
                "from_name": _person(previous) if previous else "",
                "to_controller": officer.pk, "to_name": _person(officer),
            },
        )
        from payments.services.notifications import notify_voucher_staff

        with translation.override(settings.LANGUAGE_CODE):
            to_title = _("Chứng từ %(number)s được giao cho bạn kiểm soát") % {"number": voucher.number}
            from_title = _("Chứng từ %(number)s đã được giao cho %(name)s kiểm soát") % {
                "number": voucher.number, "name": _person(officer),
            }
        notify_voucher_staff(voucher=voucher, event=event, user_ids={officer.pk}, title=to_title)
        if previous is not None and previous.pk != actor.pk:
            notify_voucher_staff(voucher=voucher, event=event, user_ids={previous.pk}, title=from_title)
    return voucher


def voucher_escalate(*, voucher: Voucher | int, now: datetime | None = None) -> VoucherEvent | None:
    """Tell the office's leaders that a running voucher is overdue or due soon:
    once per voucher, due time and state (the event is the record; a second run
    finds it). None when there is nothing (more) to escalate."""
    with transaction.atomic():
        voucher = _lock(voucher)
        state = selectors.due_state(voucher, now)
        if state not in selectors.ESCALATION_STATES:
            return None
        key = selectors.escalation_key(voucher, state)
        if VoucherEvent.objects.filter(voucher=voucher, action="escalate", data__key=key).exists():
            return None
        leaders = set(treasury_staff_over(voucher.unit, Role.APPROVER).values_list("pk", flat=True))
        # A leader away today: their delegate is told too (accounts.Absence).
        leaders |= set(
            active_absences().filter(user_id__in=leaders, role=Role.APPROVER).values_list("delegate_id", flat=True)
        )
        event = _event(
            voucher, actor=None, action="escalate", from_status=voucher.status, to_status=voucher.status,
            data={"key": key, "state": state, "due_at": voucher.due_at.isoformat(), "leaders": sorted(leaders),
                  "controller": voucher.controller_id},
            notify=False,
        )
        from payments.services.notifications import notify_voucher_staff

        with translation.override(settings.LANGUAGE_CODE):
            due = voucher.due_at.astimezone(TZ).strftime("%H:%M %d/%m/%Y")
            args = {"number": voucher.number, "due": due}
            if state == "overdue":
                title = _("Chứng từ %(number)s đã quá hạn xử lý (hạn %(due)s)") % args
            else:
                title = _("Chứng từ %(number)s sắp đến hạn xử lý (hạn %(due)s)") % args
        notify_voucher_staff(voucher=voucher, event=event, user_ids=leaders, title=title)
    return event


def vouchers_escalate_due(*, now: datetime | None = None, limit: int = 2000) -> int:
    """The scheduled escalation: every running voucher overdue or due within
    NEAR_DUE not yet escalated in that state is escalated (one transaction each).
    Safe to run twice. Returns how many were escalated."""
    now = now or timezone.now()
    rows = list(selectors.escalation_candidates(now).values_list("pk", "status", "due_at")[:limit])
    done = {
        (voucher_id, key)
        for voucher_id, key in VoucherEvent.objects.filter(
            voucher_id__in=[pk for pk, _s, _d in rows], action="escalate"
        ).values_list("voucher_id", "data__key")
    }
    count = 0
    for pk, status, due in rows:
        state = selectors.due_state_of(status, due, now)
        probe = Voucher(pk=pk, status=status, due_at=due)
        if state in selectors.ESCALATION_STATES and (pk, selectors.escalation_key(probe, state)) in done:
            continue
        if voucher_escalate(voucher=pk, now=now) is not None:
            count += 1
    return count


def _coded(reasons: Any, kind: str, field: str) -> list[dict]:
    if not isinstance(reasons, list | tuple) or not reasons:
        raise ValidationFailed(_("Phải nêu ít nhất một lý do có mã."), fields={field: [_("Bắt buộc.")]})
    codes = {r.code: r for r in ReasonCode.objects.filter(kind=kind, is_active=True)}
    out, errors, seen = [], {}, set()
    for i, raw in enumerate(reasons):
        code = str(raw.get("code", "")) if isinstance(raw, Mapping) else ""
        note = str(raw.get("note") or "").strip()[:1000] if isinstance(raw, Mapping) else ""
        reason = codes.get(code)
        if reason is None:
            errors[f"{field}[{i}].code"] = [_("Mã %(code)s không có trong danh mục.") % {"code": code or "∅"}]
            continue
        if code in seen:
            errors[f"{field}[{i}].code"] = [_("Mã %(code)s bị lặp.") % {"code": code}]
            continue
        seen.add(code)
        out.append({"code": code, "text": reason.text_vi, "text_en": reason.text_en, "note": note})
    if errors:
        raise ValidationFailed(_("Có mã lý do không hợp lệ."), fields=errors)
    return out


def voucher_return_for_supplement(
    *, actor: User, voucher: Voucher | int, deficiencies: list[Mapping[str, str]], explanation: str = ""
) -> Voucher:
    """Return the voucher to the unit listing every deficiency at once. Only
    once, unless an approver recorded an exception (which this return uses up).
    The reservation stays; the clock pauses until the resubmission."""
    with transaction.atomic():
        voucher = _lock(voucher)
        policy.require_treasury(actor, voucher, Role.CONTROL_OFFICER)
        if _repeat(voucher, "return", actor, VoucherStatus.RETURNED):
            return voucher
        policy.check_return(actor, voucher)  # the role, the status, the holder, "return only once"
        _require_controller(actor, voucher)
        items = _coded(deficiencies, ReasonKind.DEFICIENCY, "deficiencies")
        # A second return uses up the exception check_return found (the voucher's lock keeps it unused).
        exception = policy.lock_return_exception(voucher) if voucher.return_count >= 1 else None
        late = _late(voucher, explanation)
        now = timezone.now()
        data: dict[str, Any] = {
            "deficiencies": items, "snapshot": selectors.voucher_signable_content(voucher),
            "content_hash": voucher.content_hash, "return_number": voucher.return_count + 1,
        }
        if exception is not None:
            exception.used_at = now
            exception.save(update_fields=["used_at"])
            data["exception"] = {"id": exception.pk, "justification": exception.justification,
                                 "granted_by": exception.granted_by_id}
        _move(
            voucher, "return", actor=actor,
            fields={"returned_at": now, "return_count": voucher.return_count + 1, "deficiencies": items},
            note="; ".join(f"{d['code']}: {d['note'] or d['text']}" for d in items),
            data=data, is_late=late, explanation=explanation,
        )
    return voucher


def voucher_grant_return_exception(*, actor: User, voucher: Voucher | int, justification: str) -> ReturnException:
    """An approver records the exception that allows one more return (counted)."""
    justification = (justification or "").strip()
    if len(justification) < 10:
        raise ValidationFailed(
            _("Phải ghi lý do của ngoại lệ (ít nhất 10 ký tự)."), fields={"justification": [_("Bắt buộc.")]}
        )
    with transaction.atomic():
        voucher = _lock(voucher)
        policy.check_return_exception(actor, voucher)
        unused = ReturnException.objects.filter(voucher=voucher, used_at__isnull=True).first()
        if unused is not None:
            return unused
        exception = ReturnException.objects.create(
            voucher=voucher, granted_by=actor, justification=justification[:4000]
        )
        _event(
            voucher, actor=actor, action="return_exception", from_status=voucher.status, to_status=voucher.status,
            note=justification, data={"exception": exception.pk},
        )
    return exception


def voucher_pass(
    *, actor: User, voucher: Voucher | int, note: str = "", checklist: Iterable[str] | None = None,
    explanation: str = "",
) -> Voucher:
    """The controller found the dossier complete and correct: on to approval.
    `checklist`, when given, must confirm every item of the procedure's list."""
    with transaction.atomic():
        voucher = _lock(voucher)
        policy.require_treasury(actor, voucher, Role.CONTROL_OFFICER)
        if _repeat(voucher, "pass", actor, VoucherStatus.PENDING_APPROVAL):
            return voucher
        policy.check_pass(actor, voucher)
        _require_controller(actor, voucher)
        data: dict[str, Any] = {}
        if checklist is not None:
            expected = (
                set(voucher.procedure_version.checklist.values_list("code", flat=True))
                if voucher.procedure_version_id
                else set()
            )
            confirmed = {str(c) for c in checklist}
            missing = sorted(expected - confirmed)
            if missing:
                raise ValidationFailed(
                    _("Chưa xác nhận đủ các mục kiểm soát: %(items)s.") % {"items": ", ".join(missing)},
                    fields={"checklist": missing},
                )
            data["checklist"] = sorted(confirmed & expected)
        late = _late(voucher, explanation)
        _move(voucher, "pass", actor=actor, note=note, data=data, is_late=late, explanation=explanation)
    return voucher


def voucher_refuse(
    *, actor: User, voucher: Voucher | int, reasons: list[Mapping[str, str]], explanation: str = ""
) -> Voucher:
    """Refuse with coded reasons; the reservation is released."""
    with transaction.atomic():
        voucher = _lock(voucher)
        policy.require_treasury(actor, voucher, Role.CONTROL_OFFICER)
        if _repeat(voucher, "refuse", actor, VoucherStatus.REFUSED):
            return voucher
        policy.check_refuse(actor, voucher)
        _require_controller(actor, voucher)
        items = _coded(reasons, ReasonKind.REFUSAL, "reasons")
        late = _late(voucher, explanation)
        budget_services.budget_release(voucher=voucher, actor=actor)
        _move(
            voucher, "refuse", actor=actor, fields={"refusal_reasons": items, "closed_at": timezone.now()},
            note="; ".join(f"{r['code']}: {r['note'] or r['text']}" for r in items),
            data={"reasons": items}, is_late=late, explanation=explanation,
        )
    return voucher


# --- year end (payments.services.yearend decides; these are the transitions) ---------


def voucher_year_end_carry(*, voucher: Voucher | int, actor: User | None, year: int) -> VoucherEvent | None:
    """The office closes fiscal year `year`: this open voucher goes on in the
    new year, charged to the budget of its year (its reservation stays). The
    status does not change; the event is the record (a second call finds it)
    and the unit is told (the event is drained like a change of status)."""
    with transaction.atomic():
        voucher = _lock(voucher)
        if voucher.status not in OPEN_STATUSES or voucher.fiscal_year != year:
            return None
        if VoucherEvent.objects.filter(voucher=voucher, action="year_end_carry").exists():
            return None
        event = _event(
            voucher, actor=actor, action="year_end_carry", from_status=voucher.status, to_status=voucher.status,
            data={"year": year, "to_year": year + 1},
        )
    return event


def voucher_year_end_refuse(*, voucher: Voucher | int, actor: User | None, year: int, note: str) -> Voucher:
    """The office closes fiscal year `year` and refuses this voucher, which it
    had not approved: the reservation is released and the unit is told why."""
    with transaction.atomic():
        voucher = _lock(voucher)
        if voucher.fiscal_year != year:
            raise ValidationFailed(
                _("Chứng từ không thuộc năm ngân sách %(year)s.") % {"year": year}, fields={"year": [str(year)]}
            )
        if voucher.status == VoucherStatus.REFUSED and _last_event(voucher, "year_end_refuse") is not None:
            return voucher  # a repeat
        FLOW.check(voucher, "year_end_refuse")
        with translation.override("vi"):
            text = _("Năm ngân sách %(year)s đã khóa sổ") % {"year": year}
        with translation.override("en"):
            text_en = _("Năm ngân sách %(year)s đã khóa sổ") % {"year": year}
        items = [{"code": "KSNS", "text": text, "text_en": text_en, "note": (note or "").strip()[:1000]}]
        budget_services.budget_release(voucher=voucher, actor=actor)
        _move(
            voucher, "year_end_refuse", actor=actor, fields={"refusal_reasons": items, "closed_at": timezone.now()},
            note=items[0]["note"], data={"reasons": items, "year": year},
        )
    return voucher


def voucher_approve(*, actor: User, voucher: Voucher | int, note: str = "", explanation: str = "") -> Voucher:
    """An approver (never the controller) approves: both signatures are checked
    again and the payment intent is written in the same transaction. A C2-03/NS
    settlement moves no money: it settles the advance and closes at once."""
    with transaction.atomic():
        voucher = _lock(voucher)
        policy.require_treasury(actor, voucher, Role.APPROVER)
        if voucher.approver_id == actor.pk and _repeat(
            voucher, "approve", actor, VoucherStatus.APPROVED, VoucherStatus.PAID, VoucherStatus.PAYMENT_FAILED
        ):
            return voucher
        policy.check_approve(actor, voucher)
        _verify_live_signatures(voucher)
        late = _late(voucher, explanation)
        _move(voucher, "approve", actor=actor, fields={"approver": actor}, note=note, is_late=late,
              explanation=explanation)
        if voucher.settles_id:
            _settle_advance(voucher, actor)
        else:
            from vouchers.payment.services import payment_intent_create

            payment_intent_create(voucher=voucher)
    return voucher


def _settle_advance(voucher: Voucher, actor: User) -> None:
    updated = Voucher.objects.filter(
        pk=voucher.settles_id, settled_amount__lte=F("total_amount") - voucher.total_amount
    ).update(settled_amount=F("settled_amount") + voucher.total_amount)
    if updated != 1:
        raise ApplicationError(
            "invalid_transition", _("Khoản tạm ứng không còn đủ số dư để thanh toán bằng chứng từ này.")
        )
    _move(
        voucher, "pay", actor=actor, fields={"closed_at": timezone.now()},
        data={"settlement": True, "advance": voucher.settles_id},
        note=_("Đã thanh toán tạm ứng (không phát sinh chuyển tiền)."),
    )


def voucher_send_back(*, actor: User, voucher: Voucher | int, note: str, explanation: str = "") -> Voucher:
    """The approver sends the voucher back to its controller with a note."""
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(_("Phải ghi lý do chuyển lại cho cán bộ kiểm soát."), fields={"note": [_("Bắt buộc.")]})
    with transaction.atomic():
        voucher = _lock(voucher)
        policy.require_treasury(actor, voucher, Role.APPROVER)
        if _repeat(voucher, "send_back", actor, VoucherStatus.IN_CONTROL):
            last_pass = _last_event(voucher, "pass")
            last_back = _last_event(voucher, "send_back")
            if last_pass is None or (last_back and last_back.pk > last_pass.pk):
                return voucher
        policy.check_send_back(actor, voucher)
        late = _late(voucher, explanation)
        _move(voucher, "send_back", actor=actor, note=note, is_late=late, explanation=explanation)
    return voucher


# --- payment outcome (called by the payments worker) -------------------------


def voucher_mark_paid(
    *, voucher: Voucher | int, actor: User | None = None, note: str = "", data: dict | None = None,
    locked: bool = False,
) -> Voucher:
    """The payment posted: the reservation becomes spending, the voucher closes.
    Safe to call twice. `locked`: the caller locked and read this instance in
    the current transaction (the payments worker) and changed nothing of it
    since, so it is not read again."""
    with transaction.atomic():
        if not (locked and isinstance(voucher, Voucher)):
            voucher = _lock(voucher)
        if voucher.status == VoucherStatus.PAID:
            return voucher
        FLOW.check(voucher, "pay")
        budget_services.budget_spend(voucher=voucher, actor=actor)
        _move(voucher, "pay", actor=actor, fields={"closed_at": timezone.now()}, note=note, data=data)
    return voucher


def voucher_mark_payment_failed(*, voucher: Voucher | int, actor: User | None = None, error: str = "") -> Voucher:
    with transaction.atomic():
        voucher = _lock(voucher)
        if voucher.status == VoucherStatus.PAYMENT_FAILED:
            return voucher
        FLOW.check(voucher, "fail_payment")
        _move(voucher, "fail_payment", actor=actor, note=error, data={"error": error[:1000]})
    return voucher


def voucher_mark_payment_rejected(
    *, voucher: Voucher | int, actor: User | None = None, reason: str = "", data: dict | None = None,
    locked: bool = False,
) -> Voucher:
    """The bank rejected the paid voucher's transfer and the payments side has
    reversed it in the ledger (payments.services.bank_status): the spending
    becomes a reservation again and the voucher reopens as payment failed, the
    unit told (the event's notification). Call it inside that transaction."""
    with transaction.atomic():
        if not (locked and isinstance(voucher, Voucher)):
            voucher = _lock(voucher)
        if voucher.status == VoucherStatus.PAYMENT_FAILED:
            return voucher
        FLOW.check(voucher, "bank_reject")
        budget_services.budget_unspend(voucher=voucher, actor=actor)
        _move(voucher, "bank_reject", actor=actor, fields={"closed_at": None}, note=reason, data=data)
    return voucher


def voucher_retry_payment(*, voucher: Voucher | int, actor: User | None = None, note: str = "") -> Voucher:
    with transaction.atomic():
        voucher = _lock(voucher)
        if voucher.status == VoucherStatus.APPROVED:
            return voucher
        FLOW.check(voucher, "retry_payment")
        _move(voucher, "retry_payment", actor=actor, note=note)
    return voucher


# --- after closing --------------------------------------------------------------


def voucher_rate(*, actor: User, voucher: Voucher | int, score: int, comment: str = "") -> Rating:
    """The unit rates the service once the voucher is closed (paid or refused)."""
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 4:
        raise ValidationFailed(_("Điểm đánh giá từ 1 đến 4."), fields={"score": [_("Từ 1 đến 4.")]})
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise ValidationFailed(_("Nhận xét tối đa 2000 ký tự."), fields={"comment": [_("Quá dài.")]})
    with transaction.atomic():
        voucher = _lock(voucher)
        existing = Rating.objects.filter(voucher=voucher).first()
        repeat = existing is not None and existing.score == score and existing.comment == comment
        policy.check_rate(actor, voucher, rated=existing is not None and not repeat)
        if repeat:
            return existing
        try:
            with transaction.atomic():
                rating = Rating.objects.create(voucher=voucher, score=score, comment=comment, rated_by=actor)
        except IntegrityError:
            raise ApplicationError("invalid_transition", _("Chứng từ này đã được đánh giá.")) from None
        _event(
            voucher, actor=actor, action="rate", from_status=voucher.status, to_status=voucher.status,
            note=comment, data={"score": score},
        )
    return rating


def due_at_for(received_at: datetime, voucher: Voucher) -> datetime | None:
    """The due time a voucher would get for a receipt at `received_at`."""
    return selectors.receipt_terms(voucher.procedure, received_at)["due_at"]
