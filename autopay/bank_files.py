"""autopay's credits in the banks' pain.001 files (registered by autopay.apps as
a payments.services.bank_files.CREDIT_SOURCES source; moved from there): each
paid invoice credited its supplier's bank's clearing account, and goes once
into that bank's next file (end-to-end id `AP<invoice id>`, which
payments.services.bank_status leaves to the treasury: `autopay_not_handled`)."""

from autopay.models import InvoiceStatus, SupplierInvoice
from payments.pain001 import CreditTransfer, Party


class PaidInvoices:
    """Paid invoices not yet in a bank file, of an office's units."""

    def unfiled(self, office) -> list:  # noqa: ANN001
        invoices = (
            SupplierInvoice.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=InvoiceStatus.PAID, bank_file__isnull=True, unit__path__startswith=office.path)
            .select_related("transfer__credit_account__bank", "supplier")
            .order_by("id")
        )
        return [
            (invoice.transfer.credit_account.bank, invoice)
            for invoice in invoices
            if invoice.transfer.credit_account.bank is not None
        ]

    def credit_transfers(self, invoices: list, bank) -> list[CreditTransfer]:  # noqa: ANN001
        return [
            CreditTransfer(
                end_to_end_id=f"AP{invoice.pk}", amount=invoice.transfer.amount,
                creditor=Party(invoice.transfer.counterparty_name or invoice.supplier.name,
                               invoice.transfer.counterparty_account, bank.code, bank.bic),
                remittance=f"{invoice.invoice_number} {invoice.customer_code} {invoice.period}",
            )
            for invoice in invoices
        ]

    def mark_filed(self, invoices: list, bank_file) -> None:  # noqa: ANN001
        SupplierInvoice.objects.filter(pk__in=[i.pk for i in invoices]).update(bank_file=bank_file)
