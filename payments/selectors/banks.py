"""The bank directory: the one place a bank is found by any of its identifiers.

A payee's bank may be named by its NAPAS BIN (six digits, as in VietQR: `970415`),
its BIC (`ICBVVNVX`, or the 11-character form of the head office, `ICBVVNVXXXX`) or
its short code (`CTG`); letters in any case. The directory is public reference data:
no permission check.
"""

import re

from django.db.models import Q, QuerySet

from payments.models import Bank

BIN = re.compile(r"^[0-9]{6}$")
HEAD_OFFICE_BIC = re.compile(r"^([A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2})XXX$")


def banks_list() -> QuerySet[Bank]:
    return Bank.objects.order_by("code")


def bank_find(identifier: object) -> Bank | None:
    """The bank named by `identifier` (BIN, BIC or short code), or None."""
    if not isinstance(identifier, str | int) or isinstance(identifier, bool):
        return None
    value = str(identifier).strip().upper()
    if not value or len(value) > 20:
        return None
    if BIN.match(value):
        return Bank.objects.filter(bin=value).first()
    bic = HEAD_OFFICE_BIC.sub(r"\1", value)
    # A short code that happens to look like another bank's BIC: the code wins.
    matches = list(Bank.objects.filter(Q(code__iexact=value) | Q(bic=value) | Q(bic=bic))[:3])
    for bank in matches:
        if bank.code.upper() == value:
            return bank
    return matches[0] if matches else None
