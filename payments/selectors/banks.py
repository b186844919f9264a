"""The bank directory: the one place a bank is found by any of its identifiers.

A payee's bank may be named by its NAPAS BIN (six digits, as in VietQR: `970415`),
its BIC (`ICBVVNVX`, or the 11-character form of the head office, `ICBVVNVXXXX`) or
its short code (`CTG`); letters in any case. The directory is public reference data:
no permission check.
"""

import re
import time

from django.db.models import QuerySet

from payments.models import Bank

BIN = re.compile(r"^[0-9]{6}$")
HEAD_OFFICE_BIC = re.compile(r"^([A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2})XXX$")


# The directory, per process: every payee of every voucher names a bank, and the
# directory changes a few times a year. A save or delete of a bank drops this
# process's copy at once (payments.apps: post_save/post_delete); other processes
# see the change within DIRECTORY_SECONDS at most. The instances are shared:
# read them, never write.
DIRECTORY_SECONDS = 60
_directory: list[tuple[float, list[Bank]]] = []


def _banks() -> list[Bank]:
    now = time.monotonic()
    if not _directory or now - _directory[0][0] >= DIRECTORY_SECONDS:
        _directory[:] = [(now, list(Bank.objects.order_by("code", "id")))]
    return _directory[0][1]


def directory_invalidate(*args: object, **kwargs: object) -> None:
    """Drop this process's copy of the bank directory (a signal receiver too)."""
    _directory.clear()


def banks_list() -> QuerySet[Bank]:
    return Bank.objects.order_by("code")


def bank_find(identifier: object) -> Bank | None:
    """The bank named by `identifier` (BIN, BIC or short code), or None."""
    if not isinstance(identifier, str | int) or isinstance(identifier, bool):
        return None
    value = str(identifier).strip().upper()
    if not value or len(value) > 20:
        return None
    banks = _banks()
    if BIN.match(value):
        return next((b for b in banks if b.bin == value), None)
    bic = HEAD_OFFICE_BIC.sub(r"\1", value)
    # A short code that happens to look like another bank's BIC: the code wins.
    matches = [b for b in banks if b.code.upper() == value or b.bic in (value, bic)]
    for bank in matches:
        if bank.code.upper() == value:
            return bank
    return matches[0] if matches else None
