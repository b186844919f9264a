"""Where webhook events come from: the event rows the lower apps already write
in the same transaction as the change (VoucherEvent, Transfer, AutopayEvent).
Each source reads its rows for a set of organisations between two ids (or
since a time) and names the events they make; vouchers/ and payments/ are not
changed and do not know this module (the monitoring app reads VoucherEvent the
same way)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import F, Q, QuerySet

from autopay.models import AutopayEvent, InvoiceStatus
from integrations.models import EventType
from payments.models import Transfer
from vouchers.models import VoucherEvent, VoucherStatus


@dataclass(frozen=True)
class Candidate:
    organisation_id: int
    type: str
    source: str
    payload: dict[str, Any]
    occurred_at: datetime


def _iso(value: datetime) -> str:
    return value.isoformat()


class Source:
    name: str
    model: type

    def rows(self, orgs: set[int]) -> QuerySet:
        raise NotImplementedError

    def candidates(self, rows: Iterable[Any], orgs: set[int]) -> list[Candidate]:
        raise NotImplementedError


class VoucherEvents(Source):
    """A voucher's status changes (and payment results) for its unit."""

    name = "voucher_event"
    model = VoucherEvent

    def rows(self, orgs: set[int]) -> QuerySet:
        return (
            VoucherEvent.objects.filter(voucher__unit_id__in=orgs)
            .exclude(to_status="")
            .exclude(to_status=F("from_status"))
            .select_related("voucher", "voucher__unit")
        )

    def candidates(self, rows: Iterable[VoucherEvent], orgs: set[int]) -> list[Candidate]:
        out = []
        for e in rows:
            v = e.voucher
            payload = {
                "voucher_id": v.pk, "voucher_number": v.number, "unit": v.unit.code,
                "from_status": e.from_status, "to_status": e.to_status, "action": e.action,
                "note": e.note[:500], "total_amount": v.total_amount, "occurred_at": _iso(e.created_at),
            }
            out.append(Candidate(v.unit_id, EventType.VOUCHER_STATUS_CHANGED, f"voucher_event:{e.pk}", payload,
                                 e.created_at))
            if e.to_status == VoucherStatus.PAID:
                out.append(Candidate(v.unit_id, EventType.PAYMENT_SUCCEEDED, f"voucher_event:{e.pk}", payload,
                                     e.created_at))
            elif e.to_status == VoucherStatus.PAYMENT_FAILED:
                out.append(Candidate(v.unit_id, EventType.PAYMENT_FAILED, f"voucher_event:{e.pk}", payload,
                                     e.created_at))
        return out


class Transfers(Source):
    """A movement of a unit's account: one event per side that is a unit's."""

    name = "transfer"
    model = Transfer

    def rows(self, orgs: set[int]) -> QuerySet:
        return Transfer.objects.filter(
            Q(debit_account__unit_id__in=orgs) | Q(credit_account__unit_id__in=orgs)
        ).select_related("debit_account", "credit_account", "voucher", "debit_account__unit", "credit_account__unit")

    def candidates(self, rows: Iterable[Transfer], orgs: set[int]) -> list[Candidate]:
        out = []
        for t in rows:
            for side, account, other, signed, balance in (
                ("debit", t.debit_account, t.credit_account, -t.amount, t.debit_balance_after),
                ("credit", t.credit_account, t.debit_account, t.amount, t.credit_balance_after),
            ):
                if account.unit_id not in orgs:
                    continue
                payload = {
                    "transfer_id": t.pk, "account": account.number, "unit": account.unit.code, "amount": signed,
                    "balance": balance, "kind": t.kind,
                    "counterparty": t.counterparty_name or other.name,
                    "counterparty_account": t.counterparty_account or other.number,
                    "voucher_id": t.voucher_id, "voucher_number": t.voucher.number if t.voucher_id else None,
                    "description": t.description, "occurred_at": _iso(t.created_at),
                }
                out.append(Candidate(account.unit_id, EventType.BALANCE_CHANGED, f"transfer:{t.pk}:{side}", payload,
                                     t.created_at))
        return out


class AutopayInvoiceEvents(Source):
    """An invoice paid by autopay or put in the exceptions: for its unit and its supplier."""

    name = "autopay_event"
    model = AutopayEvent

    def rows(self, orgs: set[int]) -> QuerySet:
        return (
            AutopayEvent.objects.filter(invoice__isnull=False,
                                        to_status__in=[InvoiceStatus.PAID, InvoiceStatus.EXCEPTION])
            .filter(Q(invoice__unit_id__in=orgs) | Q(invoice__supplier_id__in=orgs))
            .select_related("invoice", "invoice__supplier", "invoice__unit")
        )

    def candidates(self, rows: Iterable[AutopayEvent], orgs: set[int]) -> list[Candidate]:
        out = []
        for e in rows:
            inv = e.invoice
            paid = e.to_status == InvoiceStatus.PAID
            data = e.data if isinstance(e.data, dict) else {}
            payload = {
                "invoice_id": inv.pk, "invoice_number": inv.invoice_number, "supplier": inv.supplier.code,
                "unit": inv.unit.code if inv.unit_id else None, "customer_code": inv.customer_code,
                "period": inv.period, "amount": inv.amount, "status": e.to_status,
                "exception_code": "" if paid else (data.get("code") or inv.exception_code),
                "transfer_id": data.get("transfer_id") if paid else None, "occurred_at": _iso(e.created_at),
            }
            kind = EventType.AUTOPAY_INVOICE_PAID if paid else EventType.AUTOPAY_INVOICE_EXCEPTION
            for org in {inv.unit_id, inv.supplier_id} & orgs:
                out.append(Candidate(org, kind, f"autopay_event:{e.pk}", payload, e.created_at))
        return out


SOURCES: tuple[Source, ...] = (VoucherEvents(), Transfers(), AutopayInvoiceEvents())
