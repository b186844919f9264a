"""Helpers of the autopay tests: authorizations brought to `active` and
invoices received through the real services (as users do)."""

from datetime import datetime

from django.utils import timezone

from accounts import crypto
from accounts.demo import DemoWorld
from autopay import demo as autopay_demo
from autopay import services as autopay
from autopay.models import AutopayAuthorization, SupplierInvoice
from payments.tests.kit import ADMIN_OF, Kit, seed_money


class AutopayKit(Kit):
    """Unit `prefix` of the demo (budgets, accounts, approved signing keys)."""

    def __init__(self, world: DemoWorld, prefix: str = "a") -> None:
        super().__init__(world, prefix)
        autopay_demo.seed_collection_accounts(world)  # the suppliers' accounts (autopay's demo data)
        self.n = 0

    def draft_authorization(
        self, *, supplier: str = "evn", codes: tuple[str, ...] = ("PE0001",), ndkt: str | None = "6501",
        from_deposit: bool = False, cap_per_invoice: int = 10_000_000, cap_per_month: int = 20_000_000,
        valid_from: str | None = None, valid_to: str | None = None,
    ) -> AutopayAuthorization:
        year = self.fiscal_year
        funding = {"deposit_account": self.deposit} if from_deposit else {"budget_line": self.line(ndkt)}
        return autopay.authorization_create(
            actor=self.user(f"{self.prefix}_preparer"), unit=self.unit, supplier=self.world.suppliers[supplier],
            customer_codes=list(codes), cap_per_invoice=cap_per_invoice, cap_per_month=cap_per_month,
            valid_from=valid_from or f"{year}-01-01", valid_to=valid_to or f"{year}-12-31", **funding,
        )

    def sign_authorization(self, authorization: AutopayAuthorization, username: str) -> None:
        private, key = self.keys[username]
        authorization.refresh_from_db(fields=["content_hash"])
        autopay.authorization_sign(
            actor=self.user(username), authorization=authorization, key_id=key.pk,
            signature=crypto.sign(private, bytes.fromhex(authorization.content_hash)),
        )

    def submitted_authorization(self, **kw) -> AutopayAuthorization:  # noqa: ANN003
        a = self.draft_authorization(**kw)
        self.sign_authorization(a, f"{self.prefix}_chief")
        self.sign_authorization(a, f"{self.prefix}_holder")
        return autopay.authorization_submit(actor=self.user(f"{self.prefix}_holder"), authorization=a)

    def active_authorization(self, **kw) -> AutopayAuthorization:  # noqa: ANN003
        a = self.submitted_authorization(**kw)
        return autopay.authorization_confirm(actor=self.user(ADMIN_OF[self.prefix]), authorization=a)

    def invoice(
        self, code: str = "PE0001", amount: int = 1_000_000, *, period: str | None = None, supplier: str = "evn",
        number: str | None = None, issued_at: datetime | None = None,
    ) -> SupplierInvoice:
        self.n += 1
        invoice, _created = autopay.supplier_invoice_receive(
            actor=self.user(f"{supplier}_clerk"), invoice_number=number or f"HD{self.prefix}{self.n:06d}",
            customer_code=code, period=period or f"{self.fiscal_year}-{(self.n - 1) % 12 + 1:02d}", amount=amount,
            issued_at=issued_at or timezone.now(),
        )
        return invoice


def autopay_kit(world: DemoWorld, prefix: str = "a") -> AutopayKit:
    seed_money(world)
    return AutopayKit(world, prefix)
