"""The vouchers' side of the year end (issue 15: the close is payments'
`FiscalYearClose`, the vouchers it carries or refuses are these): registered with
payments.selectors.yearend in VouchersConfig.ready."""

from django.db.models import Exists, OuterRef, QuerySet

from payments.models import FiscalYearClose
from payments.selectors.yearend import YearEndVouchers
from vouchers import services
from vouchers.models import EDITABLE_STATUSES, OPEN_STATUSES, Voucher, VoucherEvent


def open_vouchers(close: FiscalYearClose) -> QuerySet:
    """The vouchers of the office and year the close decides: every voucher
    the treasury holds (open statuses) and not yet carried by this close."""
    return (
        Voucher.objects.filter(office_id=close.office_id, fiscal_year=close.year, status__in=OPEN_STATUSES)
        # NOT EXISTS per voucher: walks the events' (voucher, created_at) index.
        .exclude(Exists(VoucherEvent.objects.filter(voucher=OuterRef("pk"), action="year_end_carry")))
        .select_related("unit")
        .order_by("received_at", "id")
    )


def unsent_vouchers_count(close: FiscalYearClose) -> int:
    """Drafts and returned vouchers of the year: after the close the unit can no longer send them."""
    return Voucher.objects.filter(office_id=close.office_id, fiscal_year=close.year,
                                  status__in=EDITABLE_STATUSES).count()


def year_end_vouchers() -> YearEndVouchers:
    return YearEndVouchers(
        open=open_vouchers, unsent_count=unsent_vouchers_count,
        refuse=services.voucher_year_end_refuse, carry=services.voucher_year_end_carry,
    )
