"""Helpers of the payments tests: the demo with budgets and accounts, approved
signing keys, and vouchers brought to `approved` through the real vouchers
services (as users bring them)."""

from accounts import crypto
from accounts.demo import DemoWorld
from accounts.models import Role
from accounts.services import signing_key_approve, signing_key_register
from payments import demo as payments_demo
from payments.models import Account, AccountKind, BudgetLine
from vouchers import demo as vouchers_demo
from vouchers import services
from vouchers.models import Voucher

ADMIN_OF = {"a": "tadmin", "b": "tadmin_b"}
OFFICER_OF = {"a": "officer", "b": "officer_b"}
APPROVER_OF = {"a": "approver", "b": "approver_b"}
PAYEE = {"name": "Công ty TNHH Văn phòng phẩm Hồng Hà", "account_number": "0123456789", "bank_code": "VCB"}


def seed_money(world: DemoWorld) -> DemoWorld:
    vouchers_demo.seed(world)
    payments_demo.seed(world)
    return world


class Kit:
    """Unit `prefix` of the demo with its two signers' approved keys."""

    def __init__(self, world: DemoWorld, prefix: str = "a") -> None:
        self.world = world
        self.prefix = prefix
        self.keys = {}
        for role, username in ((Role.CHIEF_ACCOUNTANT, f"{prefix}_chief"), (Role.ACCOUNT_HOLDER, f"{prefix}_holder")):
            private, public = crypto.generate_keypair()
            key = signing_key_register(actor=world.users[username], unit=self.unit, role=role, public_key=public)
            key = signing_key_approve(actor=world.users[ADMIN_OF[prefix]], key_id=key.pk)
            self.keys[username] = (private, key)

    @property
    def unit(self):  # noqa: ANN201
        return self.world.units[self.prefix]

    def user(self, name: str):  # noqa: ANN201
        return self.world.users[name]

    @property
    def fiscal_year(self) -> int:
        from vouchers.selectors import local_today

        return local_today().year

    def line(self, ndkt: str = "7000") -> BudgetLine:
        return BudgetLine.objects.get(unit=self.unit, ndkt=ndkt, fiscal_year=self.fiscal_year)

    @property
    def deposit(self) -> Account:
        return Account.objects.get(unit=self.unit, kind=AccountKind.DEPOSIT)

    @property
    def estimate(self) -> Account:
        return Account.objects.get(unit=self.unit, kind=AccountKind.ESTIMATE)

    def draft(self, amount: int = 1_500_000, *, ndkt: str = "7000", from_deposit: bool = False,
              payee: dict | None = None) -> Voucher:
        extra = {"procedure": "C2-02a/NS"}
        if from_deposit:
            extra = {"procedure": "C4-02a/KB", "deposit_account": self.deposit.pk}
        return services.voucher_create(
            actor=self.user(f"{self.prefix}_preparer"), unit=self.unit, fiscal_year=self.fiscal_year,
            description="Mua văn phòng phẩm quý IV", payee=payee or PAYEE,
            lines=[{"budget_line": self.line(ndkt).pk, "amount": amount, "description": "Giấy, bút"}], **extra,
        )

    def sign(self, voucher: Voucher, username: str) -> None:
        private, key = self.keys[username]
        voucher.refresh_from_db(fields=["content_hash"])
        services.voucher_sign(
            actor=self.user(username), voucher=voucher, key_id=key.pk,
            signature=crypto.sign(private, bytes.fromhex(voucher.content_hash)),
        )

    def submitted(self, amount: int = 1_500_000, **kw) -> Voucher:  # noqa: ANN003
        voucher = self.draft(amount, **kw)
        self.sign(voucher, f"{self.prefix}_chief")
        self.sign(voucher, f"{self.prefix}_holder")
        return services.voucher_submit(actor=self.user(f"{self.prefix}_holder"), voucher=voucher)

    def pending(self, amount: int = 1_500_000, **kw) -> Voucher:  # noqa: ANN003
        officer = self.user(OFFICER_OF[self.prefix])
        voucher = services.voucher_claim(actor=officer, voucher=self.submitted(amount, **kw))
        return services.voucher_pass(actor=officer, voucher=voucher)

    def approve(self, voucher: Voucher) -> Voucher:
        return services.voucher_approve(actor=self.user(APPROVER_OF[self.prefix]), voucher=voucher)

    def approved(self, amount: int = 1_500_000, **kw) -> Voucher:  # noqa: ANN003
        return self.approve(self.pending(amount, **kw))
