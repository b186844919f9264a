"""Outgoing credit transfers gathered into ISO 20022 pain.001 files.

A paid voucher whose payee banks elsewhere credited that bank's clearing
account `3856.BANK`. A treasury administrator generates the files of their
office: one per bank and cycle, carrying every such payment not yet filed.
Generating a file moves the money out of the clearing account into the
treasury's settlement account at that bank (`1113.BANK`), in the same
transaction, under the key `bankfile:<id>`; the intents are locked with SKIP
LOCKED, so two administrators generating at once never file a payment twice.
Autopay payments (paid supplier invoices of the office's units) credited the
supplier's bank's clearing account the same way: they go in the same files
(end-to-end id `AP<invoice id>`), locked the same way.
"""

import logging
from collections import defaultdict
from datetime import datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import OrgKind, Role
from accounts.selectors import organisations_with_role
from payments.models import BankFile, PaymentIntent, PaymentIntentStatus, Transfer, TransferKind
from payments.pain001 import CreditTransfer, Party, build_pain001
from payments.services import ledger
from treasury_portal.errors import ApplicationError, PermissionDenied

logger = logging.getLogger(__name__)

GENERATE_ROLES = (Role.ADMINISTRATOR,)


def _offices(actor) -> list:  # noqa: ANN001
    return [o for o in organisations_with_role(actor, *GENERATE_ROLES) if o.kind == OrgKind.TREASURY_OFFICE]


def bank_files_generate(*, actor, now: datetime | None = None) -> list[BankFile]:  # noqa: ANN001
    """Generate the pain.001 files of the actor's offices for every bank with
    payments waiting. Returns the new files (none when nothing waits)."""
    offices = _offices(actor)
    if not offices:
        raise PermissionDenied(_("Chỉ quản trị kho bạc mới lập được tệp chuyển tiền ngân hàng."))
    now = now or timezone.now()
    files: list[BankFile] = []
    for office in sorted(offices, key=lambda o: o.path):
        files += _generate_for_office(actor, office, now)
    return files


# Other credits a bank file carries besides the vouchers' payments: sources
# registered by the apps above payments (autopay.apps.AutopayConfig.ready adds
# the paid supplier invoices), so that payments imports none of them. A source
# has `unfiled(office)` (its rows not yet in a file, locked SKIP LOCKED, as
# (bank, row) pairs in order), `credit_transfers(rows, bank)` and
# `mark_filed(rows, bank_file)`.
CREDIT_SOURCES: list = []


def _generate_for_office(actor, office, now: datetime) -> list[BankFile]:  # noqa: ANN001
    files = []
    with transaction.atomic():
        intents = list(
            PaymentIntent.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=PaymentIntentStatus.SUCCEEDED, bank_file__isnull=True, clearing_bank__isnull=False,
                voucher__unit__path__startswith=office.path,
            )
            .select_related("voucher", "clearing_bank")
            .order_by("id")
        )
        by_bank = defaultdict(list)
        for intent in intents:
            by_bank[intent.clearing_bank].append(intent)
        # e.g. autopay's payments, which credited the supplier's bank's clearing account too
        others_by_bank: dict = defaultdict(lambda: defaultdict(list))
        for n, source in enumerate(CREDIT_SOURCES):
            for bank, row in source.unfiled(office):
                others_by_bank[bank][n].append(row)
        for bank in sorted(set(by_bank) | set(others_by_bank), key=lambda b: b.code):
            files.append(_one_file(actor, office, bank, by_bank.get(bank, []), now, others_by_bank.get(bank, {})))
    return files


def _one_file(actor, office, bank, intents: list[PaymentIntent], now: datetime, others=None) -> BankFile:  # noqa: ANN001
    others = others or {}
    clearing = ledger.bank_clearing_account(bank)
    settlement = ledger.bank_settlement_account(bank)
    vouchers = [i.voucher for i in intents]
    # A payment a bank rejected was reversed (bank_status, key `bankreject:<payment id>`)
    # and paid again under new keys: only the live payment goes in the file.
    reversed_ids = [
        int(key.removeprefix("bankreject:"))
        for key in Transfer.objects.filter(voucher__in=vouchers, kind=TransferKind.REVERSAL).values_list(
            "key", flat=True
        )
    ]
    amounts = dict(
        Transfer.objects.filter(voucher__in=vouchers, kind=TransferKind.PAYMENT, credit_account=clearing)
        .exclude(pk__in=reversed_ids)
        .values_list("voucher_id")
        .annotate(total=Sum("amount"))
    )
    day = timezone.localtime(now).strftime("%Y%m%d")
    sequence = BankFile.objects.filter(office=office, bank=bank, cycle__startswith=f"{day}-").count() + 1
    cycle = f"{day}-{sequence:02d}"
    message_id = f"KB{office.code}-{bank.code}-{cycle}"[:35]
    transfers = [
        CreditTransfer(
            end_to_end_id=v.number, amount=amounts[v.pk],
            creditor=Party(v.payee_name, v.payee_account, bank.code, bank.bic),
            remittance=f"{v.number} {v.description}",
        )
        for v in vouchers
        if amounts.get(v.pk)
    ]
    for n, rows in sorted(others.items()):
        transfers += CREDIT_SOURCES[n].credit_transfers(rows, bank)
    debtor = Party(f"Kho bạc Nhà nước – {office.name}", settlement.number, bank.code, bank.bic)
    try:
        xml = build_pain001(message_id, now, debtor, timezone.localdate(now), transfers)
    except ValueError as exc:  # iso20022.SchemaError included: never send a file that breaks its XSD
        logger.error("pain.001 %s not generated: %s", message_id, exc)
        raise ApplicationError(
            "bank_file_invalid",
            _(
                "Không lập được tệp chuyển tiền cho ngân hàng %(bank)s: dữ liệu không đúng chuẩn ISO 20022 "
                "(%(problem)s). Không khoản nào được ghi sổ; hãy báo quản trị hệ thống."
            ) % {"bank": bank.name, "problem": str(exc)[:300]},
        ) from exc
    control_sum = sum(t.amount for t in transfers)
    bank_file = BankFile.objects.create(
        bank=bank, office=office, cycle=cycle, message_id=message_id, transfer_count=len(transfers),
        control_sum=control_sum, created_by=actor,
    )
    bank_file.file.save(f"{message_id}.xml", ContentFile(xml), save=False)
    bank_file.save(update_fields=["file"])
    PaymentIntent.objects.filter(pk__in=[i.pk for i in intents]).update(bank_file=bank_file, updated_at=now)
    for n, rows in sorted(others.items()):
        CREDIT_SOURCES[n].mark_filed(rows, bank_file)
    if control_sum:
        ledger.transfer_post(
            debit=clearing, credit=settlement, amount=control_sum, key=f"bankfile:{bank_file.pk}",
            kind=TransferKind.BANK_SETTLEMENT, description=f"pain.001 {message_id}", actor=actor,
        )
    return bank_file
