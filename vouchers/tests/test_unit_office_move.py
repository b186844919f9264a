"""A unit moved to another transaction office in the admin takes its vouchers
along: accounts' admin sends accounts.signals.unit_office_changed, vouchers'
receiver (VouchersConfig.ready) moves them (issue 15: accounts never imports vouchers)."""

from types import SimpleNamespace

from django.test import RequestFactory

from accounts.admin import OrganisationAdmin
from accounts.models import Organisation
from treasury_portal.admin_site import portal_admin_site
from vouchers.models import Voucher


def test_moving_a_unit_in_the_admin_moves_its_vouchers(kit, world):
    voucher = kit.submitted()
    unit = kit.unit
    other = next(o for o in world.offices.values() if o.pk != unit.office_id)
    assert voucher.office_id == unit.office_id

    unit.office = other
    form = SimpleNamespace(changed_data=["office"])
    request = RequestFactory().post("/admin/")
    OrganisationAdmin(Organisation, portal_admin_site).save_model(request, unit, form, change=True)

    assert Voucher.objects.get(pk=voucher.pk).office_id == other.pk
