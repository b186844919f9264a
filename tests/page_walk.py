"""Which pages to walk, as whom, with which data: shared by the page walk
(tests/test_page_languages.py) and the browser walk (tests/browser/test_page_walk.py).

The pages come from the URL patterns (tests/test_access_policy.py's walk) and
their declared policy (treasury_portal/access_policy.py), so a page added later
is walked without an edit here: every GET HTML route that is not the API, as
every role allowed to see it, with its object from tests/access_objects.py
(vouchers: one of each status). allauth's pages are walked as everyone.

The Django admin (`admin:`, governed by PortalAdminSite.has_permission, not the
policy) is walked as the treasury administrator: its index, each app's page, and
each registered model's list, one change form and (where adding is allowed) the
add form (`admin_visits`).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from accounts import selectors
from tests import access_objects
from tests.test_access_policy import ALL_ROUTES, Route, _url
from treasury_portal.access_policy import POLICY

# One person per role, all of unit B's side (the objects are unit B's), and nobody.
ROLES: dict[str, str | None] = {
    "unit preparer": "b_preparer",
    "chief accountant": "b_chief",
    "account holder": "b_holder",
    "control officer": "officer_b",
    "approver": "approver_b",
    "treasury administrator": "tadmin_b",
    "supplier clerk": "evn_clerk",
    "anonymous": None,
}
LANGUAGES = ("vi", "en")
# Routes that change something or answer a file even on GET, or only redirect.
NOT_PAGES = {"account_logout", "set_language", "mfa_download_recovery_codes", "mfa_generate_recovery_codes"}


@dataclass
class World:
    """The demo world with data in every state the pages show."""

    world: Any
    vouchers: dict[str, Any]
    objects: dict[str, list[Any]]


def build(world: Any) -> World:
    """Vouchers in every status, autopay invoices (paid, exception with codes,
    closed, retried), notifications, pending signing keys: through the real services."""
    from django.db.models import F

    from autopay import services as autopay
    from autopay.models import SupplierInvoice
    from autopay.tests.autopay_kit import autopay_kit
    from payments.models import Account, PaymentIntent
    from payments.services import ledger
    from vouchers import services
    from vouchers.payment.services import payment_intent_process

    kit = autopay_kit(world, "b")
    officer = world.users["officer_b"]

    def pay(voucher: Any) -> Any:
        payment_intent_process(intent_id=PaymentIntent.objects.get(voucher=voucher).pk, worker="walk")
        voucher.refresh_from_db()
        return voucher

    vouchers: dict[str, Any] = {"draft": kit.draft(1_100_000), "submitted": kit.submitted(1_234_567)}
    vouchers["in_control"] = services.voucher_claim(actor=officer, voucher=kit.submitted(1_300_000))
    returned = services.voucher_claim(actor=officer, voucher=kit.submitted(1_400_000))
    vouchers["returned"] = services.voucher_return_for_supplement(
        actor=officer, voucher=returned, deficiencies=[{"code": "TL03", "note": "Thiếu hóa đơn GTGT"}]
    )
    refused = services.voucher_claim(actor=officer, voucher=kit.submitted(1_500_000))
    vouchers["refused"] = services.voucher_refuse(
        actor=officer, voucher=refused, reasons=[{"code": "TC01", "note": "Sai định mức"}]
    )
    vouchers["pending_approval"] = kit.pending(1_600_000)
    # Approval queues the payment on commit: in a transactional test (the browser
    # walk) it is paid at once, so "approved" may already read "paid" there.
    vouchers["approved"] = kit.approved(1_700_000)
    vouchers["paid"] = pay(kit.approved(2_345_678))
    services.voucher_rate(actor=world.users["b_holder"], voucher=vouchers["paid"], score=4, comment="Nhanh")
    # A payment from the deposit account above its balance fails in the worker.
    failing = kit.pending(1_800_000, from_deposit=True)
    Account.objects.filter(pk=kit.deposit.pk).update(balance=F("balance") * 0)
    vouchers["payment_failed"] = pay(kit.approve(failing))
    vouchers["withdrawn"] = services.voucher_withdraw(actor=world.users["b_holder"], voucher=kit.submitted(1_900_000))
    ledger.deposit_credit(actor=None, account=kit.deposit, amount=12_345_678, reference="walk-deposit")
    for status, voucher in vouchers.items():
        voucher.refresh_from_db()
        assert voucher.status == status or (status, voucher.status) == ("approved", "paid"), (status, voucher.status)

    # Autopay: paid, over the cap, duplicate period, closed, retried.
    kit.active_authorization(codes=("PB0001", "PB0002"), cap_per_invoice=5_000_000)
    kit.invoice("PB0001", 1_234_000, period="2026-01")
    kit.invoice("PB0001", 9_999_000, period="2026-02")
    kit.invoice("PB0002", 2_000_000, period="2026-03")
    kit.invoice("PB0003", 800_000, period="2026-03")  # no authorization for this customer code
    autopay.autopay_run()
    kit.invoice("PB0002", 2_000_000, period="2026-03", number="HD-DUP-1")  # the period again
    autopay.autopay_run()
    exceptions = list(SupplierInvoice.objects.filter(status="exception", unit__isnull=False).order_by("id"))
    assert {i.exception_code for i in exceptions} >= {"over_cap", "duplicate_period"}, [
        i.exception_code for i in exceptions
    ]
    by_code = {i.exception_code: i for i in exceptions}
    autopay.autopay_invoice_close(
        actor=world.users["tadmin_b"], invoice=by_code["duplicate_period"], note="Đã thanh toán tại quầy"
    )
    autopay.autopay_invoice_retry(actor=world.users["b_holder"], invoice=by_code["over_cap"])
    autopay.autopay_run()

    objects: dict[str, list[Any]] = {"voucher": list(vouchers.values())}
    for kind, maker in access_objects.MAKERS.items():
        objects.setdefault(kind, []).append(maker(world))
    return World(world, vouchers, objects)


@dataclass(frozen=True)
class Visit:
    role: str
    username: str | None
    route: str
    url: str


def _roles(world: Any, username: str) -> set[str]:
    return selectors.roles_of(world.users[username])


def _page_routes() -> list[Route]:
    return [
        r for r in ALL_ROUTES
        if r.name and not r.is_api and r.name not in NOT_PAGES
        and not r.name.startswith("admin:")
        and "GET" in r.methods()
    ]


def visits(walk: World) -> Iterator[Visit]:
    """Every (role, page) to open: each page as every role that may see it."""
    world = walk.world
    for route in _page_routes():
        policy = POLICY.get(route.name)
        delegated = policy is None
        for role, username in ROLES.items():
            if not delegated:
                if policy.login and username is None:
                    continue
                if username is not None and policy.roles is not None and not (_roles(world, username) & policy.roles):
                    continue
            if not route.params:
                yield Visit(role, username, route.name, reverse(route.name))
                continue
            kind = policy.obj if policy else None
            if kind is None or (username is not None and username not in access_objects.owners(kind)):
                continue  # a public page with kwargs (verify) is reached from its object's page
            for obj in walk.objects.get(kind, []):
                yield Visit(role, username, route.name, _url(route, obj))
    yield from admin_visits(walk)


ADMIN_ROLE = "treasury administrator"


def admin_visits(walk: World) -> Iterator[Visit]:
    """The admin's pages as the treasury administrator who may see them."""
    from django.test import RequestFactory

    from treasury_portal.admin_site import portal_admin_site

    username = ROLES[ADMIN_ROLE]
    request = RequestFactory().get("/admin/")
    request.user = walk.world.users[username]

    def visit(name: str, *args: object) -> Visit:
        return Visit(ADMIN_ROLE, username, f"admin:{name}", reverse(f"admin:{name}", args=args))

    yield visit("index")
    for app_label in sorted({model._meta.app_label for model in portal_admin_site._registry}):
        yield Visit(ADMIN_ROLE, username, f"admin:app_list:{app_label}", reverse("admin:app_list", args=[app_label]))
    for model, model_admin in portal_admin_site._registry.items():
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        yield visit(f"{info}_changelist")
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            yield visit(f"{info}_change", obj.pk)
        if model_admin.has_add_permission(request):
            yield visit(f"{info}_add")
