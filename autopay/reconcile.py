"""autopay's check in payments.selectors.reconcile.reconcile() (registered by
autopay.apps): moved from payments.selectors.reconcile."""

from autopay.models import InvoiceStatus, SupplierInvoice
from payments.models import BudgetMovement, BudgetMovementKind, Transfer, TransferKind
from payments.selectors.reconcile import Report


def check_autopay(report: Report) -> None:
    """Each paid invoice was paid exactly its amount by its one transfer (and,
    charged to a budget line, spent it there once); no autopay transfer or
    movement exists without a paid invoice."""
    transfers = {
        t["key"]: t for t in Transfer.objects.filter(kind=TransferKind.AUTOPAY).values("id", "key", "amount")
    }
    movements = dict(
        BudgetMovement.objects.filter(kind=BudgetMovementKind.AUTOPAY).values_list("key", "amount")
    )
    paid = 0
    for invoice in SupplierInvoice.objects.exclude(status=InvoiceStatus.PENDING).values(
        "id", "invoice_number", "status", "amount", "transfer_id", "authorization__budget_line_id"
    ):
        key = f"autopay:{invoice['id']}"
        transfer = transfers.pop(key, None)
        movement = movements.pop(key, None)
        if invoice["status"] != InvoiceStatus.PAID:
            if transfer or movement:
                report.add(f"invoice {invoice['invoice_number']} ({invoice['status']}): money moved without payment")
            continue
        paid += 1
        if transfer is None or transfer["id"] != invoice["transfer_id"] or transfer["amount"] != invoice["amount"]:
            report.add(f"invoice {invoice['invoice_number']}: paid, but its transfer is not exactly its amount")
        if invoice["authorization__budget_line_id"] and movement != invoice["amount"]:
            report.add(f"invoice {invoice['invoice_number']}: budget spent {movement}, invoiced {invoice['amount']}")
    for key in sorted(set(transfers) | set(movements)):
        report.add(f"autopay {key}: money moved for an invoice that is not settled")
    report.facts["invoices_paid"] = paid
