"""Bank status reports (ISO 20022 pain.002) on our pain.001 files.

The bank answers a file with a status report naming the file (OrgnlMsgId) and,
for each transfer it refused, its end-to-end id (the voucher number) with
status RJCT and a reason code (ISO external status reason codes: AC01 wrong
account number, AC04 closed account, AM04 insufficient funds, …). A report whose
group or payment block is RJCT rejects every transfer of the file it does not
list otherwise.

Importing a report (`bank_status_report_import`: the API upload, the command
`import_bank_status`) checks it against the official XSD of the version it
declares, then, in ONE transaction, for every rejected transfer of a paid
voucher:

1. the ledger reverses the payment: the settlement account at the bank
   (`1113.BANK`, where the file's money went) pays back each account the
   payment debited, under the key `bankreject:<payment transfer id>`, so a
   transfer is reversed at most once whatever reports say;
2. the voucher reopens as `payment_failed` (vouchers' `bank_reject`
   transition: its spending becomes a reservation again, an event row and
   the unit's notification), and its payment intent fails with
   `bank_rejected`, out of the file: the treasury may retry it (a new round
   of payment keys, payments.services.payment) once the payee is corrected;
3. a `BankRejection` row records it, unique per report message id and
   end-to-end id, so importing the same report twice changes nothing.

Autopay transfers (`AP<invoice id>`) the report rejects are recorded with the
outcome `autopay_not_handled`, for the treasury to settle by hand.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.selectors import user_has_treasury_role_over
from payments import iso20022
from payments.models import (
    BankFile,
    BankRejection,
    BankStatusReport,
    PaymentIntentStatus,
    Transfer,
    TransferKind,
)
from payments.services import ledger
from treasury_portal.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed

IMPORT_ROLES = (Role.ADMINISTRATOR,)
REJECTED = "RJCT"
MAX_REPORT_BYTES = 10 * 1024 * 1024


@dataclass
class TransactionStatus:
    end_to_end_id: str
    status: str
    reason_code: str = ""
    reason: str = ""


@dataclass
class StatusReport:
    message_id: str
    original_message_id: str
    group_status: str
    transactions: list[TransactionStatus] = field(default_factory=list)
    # Payment blocks (or the whole group) rejected as one, with their reason.
    block_rejection: TransactionStatus | None = None


@dataclass
class ImportResult:
    report: BankStatusReport
    rejections: list[BankRejection]
    created: bool


def _reason(element, q) -> tuple[str, str]:  # noqa: ANN001
    info = element.find(q("StsRsnInf"))
    if info is None:
        return "", ""
    code = info.findtext(f"{q('Rsn')}/{q('Cd')}") or info.findtext(f"{q('Rsn')}/{q('Prtry')}") or ""
    text = " ".join(t.strip() for t in (e.text or "" for e in info.findall(q("AddtlInf"))) if t.strip())
    return code.strip(), text[:500]


def parse_status_report(content: bytes) -> StatusReport:
    """The report's identifiers and transaction statuses, after its XSD check.
    Raises ValidationFailed with a clear sentence for anything else."""
    if len(content) > MAX_REPORT_BYTES:
        raise ValidationFailed(_("Tệp báo cáo trạng thái quá lớn."), fields={"file": [_("Tối đa 10 MB.")]})
    try:
        root, _message = iso20022.validate(content, "pain.002")
    except iso20022.SchemaError as exc:
        raise ValidationFailed(
            _("Tệp không phải báo cáo trạng thái thanh toán pain.002 hợp lệ theo lược đồ ISO 20022: %(problem)s")
            % {"problem": str(exc)[:500]},
            fields={"file": [_("Phiên bản được hỗ trợ: %(versions)s.") % {
                "versions": ", ".join(iso20022.supported("pain.002"))}]},
        ) from exc
    ns = root.tag.partition("}")[0] + "}"

    def q(tag: str) -> str:
        return ns + tag

    body = root.find(q("CstmrPmtStsRpt"))
    group = body.find(q("OrgnlGrpInfAndSts"))
    group_status = (group.findtext(q("GrpSts")) or "").strip()
    report = StatusReport(
        message_id=body.findtext(f"{q('GrpHdr')}/{q('MsgId')}").strip(),
        original_message_id=group.findtext(q("OrgnlMsgId")).strip(),
        group_status=group_status,
    )
    if group_status == REJECTED:
        code, text = _reason(group, q)
        report.block_rejection = TransactionStatus("", REJECTED, code, text)
    for block in body.findall(q("OrgnlPmtInfAndSts")):
        if (block.findtext(q("PmtInfSts")) or "").strip() == REJECTED and report.block_rejection is None:
            code, text = _reason(block, q)
            report.block_rejection = TransactionStatus("", REJECTED, code, text)
        for tx in block.findall(q("TxInfAndSts")):
            end_to_end = (tx.findtext(q("OrgnlEndToEndId")) or "").strip()
            if not end_to_end:
                continue
            code, text = _reason(tx, q)
            report.transactions.append(
                TransactionStatus(end_to_end, (tx.findtext(q("TxSts")) or "").strip(), code, text)
            )
    return report


def _check_actor(actor, bank_file: BankFile) -> None:  # noqa: ANN001
    if actor is None or actor.is_superuser:  # the command, run by the operator
        return
    if bank_file.office is not None and user_has_treasury_role_over(actor, bank_file.office, *IMPORT_ROLES):
        return
    from payments.selectors.payment import bank_files_visible

    if bank_files_visible(actor).filter(pk=bank_file.pk).exists():
        raise PermissionDenied(_("Chỉ quản trị kho bạc mới nhập được báo cáo trạng thái của ngân hàng."))
    raise NotFound()


def _rejected(report: StatusReport, bank_file: BankFile) -> list[TransactionStatus]:
    """Every transfer the report rejects: listed RJCT ones, and, under a rejected
    group or block, the file's transfers it does not list with another status."""
    listed = {t.end_to_end_id: t for t in report.transactions}
    rejected = [t for t in report.transactions if t.status == REJECTED]
    if report.block_rejection is not None:
        block = report.block_rejection
        numbers = list(bank_file.intents.values_list("voucher__number", flat=True).order_by("id"))
        numbers += [f"AP{pk}" for pk in bank_file.autopay_invoices.values_list("pk", flat=True).order_by("pk")]
        rejected += [
            TransactionStatus(number, REJECTED, block.reason_code, block.reason)
            for number in numbers
            if number not in listed
        ]
    return rejected


def bank_status_report_import(*, actor, content: bytes, filename: str = "") -> ImportResult:  # noqa: ANN001
    """Import a pain.002 report: reverse every transfer it rejects, once."""
    report = parse_status_report(content)
    bank_file = BankFile.objects.select_related("bank", "office").filter(message_id=report.original_message_id).first()
    if bank_file is None:
        raise NotFound(
            _("Không có tệp chuyển tiền nào mang mã thông điệp %(id)s.") % {"id": report.original_message_id}
        )
    _check_actor(actor, bank_file)
    with transaction.atomic():
        row, created = _report_row(actor, report, bank_file, content)
        rejections = []
        for status in _rejected(report, bank_file):
            done = BankRejection.objects.filter(
                report_message_id=report.message_id, end_to_end_id=status.end_to_end_id
            ).first()
            rejections.append(done or _reject_one(actor, row, bank_file, status))
        if created:
            row.transactions = len(report.transactions)
            row.rejected = len(rejections)
            row.save(update_fields=["transactions", "rejected"])
    return ImportResult(report=row, rejections=rejections, created=created)


def _report_row(actor, report: StatusReport, bank_file: BankFile, content: bytes) -> tuple[BankStatusReport, bool]:  # noqa: ANN001
    existing = BankStatusReport.objects.select_for_update().filter(message_id=report.message_id).first()
    if existing is not None:
        if existing.bank_file_id != bank_file.pk:
            raise ApplicationError(
                "invalid_transition",
                _("Báo cáo %(id)s đã được nhập cho một tệp chuyển tiền khác.") % {"id": report.message_id},
            )
        return existing, False
    try:
        with transaction.atomic():
            row = BankStatusReport.objects.create(
                message_id=report.message_id, bank_file=bank_file, group_status=report.group_status,
                imported_by=actor,
            )
    except IntegrityError:  # imported meanwhile by someone else: theirs stands
        return BankStatusReport.objects.select_for_update().get(message_id=report.message_id), False
    row.file.save(f"{report.message_id}.xml", ContentFile(content), save=False)
    row.save(update_fields=["file"])
    return row, True


def _reject_one(actor, report: BankStatusReport, bank_file: BankFile, status: TransactionStatus) -> BankRejection:  # noqa: ANN001
    reason = status.reason_code + (f" – {status.reason}" if status.reason else "")
    outcome, voucher, amount = _reverse(actor, bank_file, status, reason)
    return BankRejection.objects.create(
        report=report, report_message_id=report.message_id, end_to_end_id=status.end_to_end_id,
        reason_code=status.reason_code[:35], reason=status.reason[:500], voucher=voucher, amount=amount,
        reversed=outcome == "reversed", outcome=outcome,
    )


def _reverse(actor, bank_file: BankFile, status: TransactionStatus, reason: str) -> tuple[str, object, int]:  # noqa: ANN001
    from vouchers import services as voucher_services
    from vouchers.models import VoucherStatus

    if status.end_to_end_id.startswith("AP") and status.end_to_end_id[2:].isdigit():
        return "autopay_not_handled", None, 0
    from payments.services.payment import lock_voucher_and_intent

    voucher, intent = lock_voucher_and_intent(number=status.end_to_end_id)  # parents before children
    if voucher is None:
        return "unknown_transaction", None, 0
    if voucher.status != VoucherStatus.PAID or intent is None or intent.bank_file_id != bank_file.pk:
        # Not (or no longer) a payment this file carries: reversed already, or never in it.
        return "not_in_file", voucher, 0
    bank = bank_file.bank
    clearing = ledger.bank_clearing_account(bank)
    settlement = ledger.bank_settlement_account(bank)
    payments = Transfer.objects.filter(
        voucher=voucher, kind=TransferKind.PAYMENT, credit_account=clearing
    ).select_related("debit_account").order_by("id")
    reversed_keys = set(
        Transfer.objects.filter(voucher=voucher, kind=TransferKind.REVERSAL).values_list("key", flat=True)
    )
    amount = 0
    # Stored texts are written in the portal's language (Vietnamese), whoever imports.
    description = f"Ngân hàng từ chối chuyển tiền ({status.reason_code or REJECTED}), tệp {bank_file.message_id}"
    for payment in payments:
        key = f"bankreject:{payment.pk}"
        if key in reversed_keys:
            continue
        ledger.transfer_post(
            debit=settlement, credit=payment.debit_account, amount=payment.amount, key=key,
            kind=TransferKind.REVERSAL, voucher=voucher, description=description[:500],
            counterparty_name=voucher.payee_name, counterparty_account=voucher.payee_account, actor=actor,
        )
        amount += payment.amount
    with translation.override(settings.LANGUAGE_CODE):
        note = _("Ngân hàng từ chối chuyển tiền: %(reason)s. Tiền đã hoàn về tài khoản của đơn vị.") % {
            "reason": reason or REJECTED,
        }
    voucher_services.voucher_mark_payment_rejected(
        voucher=voucher, actor=actor, reason=note, locked=True,
        data={"bank_file": bank_file.message_id, "reason_code": status.reason_code, "amount": amount},
    )
    intent.status = PaymentIntentStatus.FAILED
    intent.failure_code = "bank_rejected"
    intent.last_error = note[:1000]
    intent.bank_file = None
    intent.clearing_bank = None
    intent.save(update_fields=["status", "failure_code", "last_error", "bank_file", "clearing_bank", "updated_at"])
    return "reversed", voucher, amount
