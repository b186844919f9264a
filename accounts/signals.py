"""Signals of the accounts app, for the apps above it (issue 15: accounts never
imports them; they connect their receivers in their AppConfig.ready)."""

from django.dispatch import Signal

# A unit moved to another transaction office (the admin's organisation form).
# Sent with `unit` (the Organisation) inside the save; vouchers' receiver moves
# the unit's vouchers to the new office (vouchers.services.vouchers_follow_unit_office).
unit_office_changed = Signal()
