"""Test helpers for vouchers: the catalogue and budgets seeded, approved signing
keys, and vouchers brought to each state through the real services."""

from dataclasses import dataclass, field

from accounts import crypto
from accounts.demo import DemoWorld
from accounts.models import Organisation, Role, SigningKey, User
from accounts.services import signing_key_approve, signing_key_register
from payments.models import BudgetLine
from vouchers import demo, services
from vouchers.models import Voucher

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32

ADMIN_OF = {"a": "tadmin", "b": "tadmin_b"}


class Upload:
    """A minimal uploaded file (name, size, chunks) for the services."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name = name
        self.data = data
        self.size = len(data)

    def chunks(self):  # noqa: ANN201
        yield self.data


def register_key(world: DemoWorld, username: str, role: str, unit_prefix: str = "a"):  # noqa: ANN201
    """An approved signing key for the demo user; returns (private key, SigningKey)."""
    user = world.users[username]
    unit = world.units[unit_prefix]
    private, public = crypto.generate_keypair()
    key = signing_key_register(actor=user, unit=unit, role=role, public_key=public)
    key = signing_key_approve(actor=world.users[ADMIN_OF[unit_prefix]], key_id=key.pk)
    return private, key


def signature_for(private, voucher: Voucher) -> str:  # noqa: ANN001
    voucher.refresh_from_db(fields=["content_hash"])
    return crypto.sign(private, bytes.fromhex(voucher.content_hash))


@dataclass
class Kit:
    """Unit "a" (1012345, office 0101 under 0100) with its signers' keys."""

    world: DemoWorld
    prefix: str = "a"
    keys: dict[str, tuple] = field(default_factory=dict)

    def __post_init__(self) -> None:
        p = self.prefix
        self.keys[f"{p}_chief"] = register_key(self.world, f"{p}_chief", Role.CHIEF_ACCOUNTANT, p)
        self.keys[f"{p}_holder"] = register_key(self.world, f"{p}_holder", Role.ACCOUNT_HOLDER, p)

    @property
    def unit(self) -> Organisation:
        return self.world.units[self.prefix]

    def user(self, name: str) -> User:
        return self.world.users[name]

    def line(self, ndkt: str = "7000") -> BudgetLine:
        return BudgetLine.objects.get(unit=self.unit, ndkt=ndkt, fiscal_year=self.fiscal_year)

    @property
    def fiscal_year(self) -> int:
        from vouchers.selectors import local_today

        return local_today().year

    def draft(  # noqa: ANN201
        self, amount: int = 1_500_000, *, ndkt: str = "7000", mode: str = "payment", lines=None, **extra  # noqa: ANN001, ANN003
    ) -> Voucher:
        fields = {
            "procedure": "C2-02a/NS",
            "description": "Mua văn phòng phẩm quý IV",
            "payee": {"name": "Công ty TNHH Văn phòng phẩm Hồng Hà", "account_number": "0123456789",
                      "bank_code": "VCB"},
            "lines": lines if lines is not None else [
                {"budget_line": self.line(ndkt).pk, "amount": amount, "description": "Giấy, bút"}
            ],
            **extra,
        }
        return services.voucher_create(
            actor=self.user(f"{self.prefix}_preparer"), unit=self.unit, mode=mode, fiscal_year=self.fiscal_year,
            **fields,
        )

    def sign(self, voucher: Voucher, username: str) -> None:
        private, key = self.keys[username]
        services.voucher_sign(
            actor=self.user(username), voucher=voucher, key_id=key.pk, signature=signature_for(private, voucher)
        )

    def sign_both(self, voucher: Voucher) -> None:
        self.sign(voucher, f"{self.prefix}_chief")
        self.sign(voucher, f"{self.prefix}_holder")

    def submitted(self, amount: int = 1_500_000, **kw) -> Voucher:  # noqa: ANN003
        voucher = self.draft(amount, **kw)
        self.sign_both(voucher)
        return services.voucher_submit(actor=self.user(f"{self.prefix}_holder"), voucher=voucher)

    def in_control(self, officer: str = "officer", **kw) -> Voucher:  # noqa: ANN003
        voucher = self.submitted(**kw)
        return services.voucher_claim(actor=self.user(officer), voucher=voucher)

    def returned(self, officer: str = "officer", **kw) -> Voucher:  # noqa: ANN003
        voucher = self.in_control(officer, **kw)
        return services.voucher_return_for_supplement(
            actor=self.user(officer), voucher=voucher, deficiencies=[{"code": "TL03", "note": "Thiếu hóa đơn"}]
        )

    def pending(self, officer: str = "officer", **kw) -> Voucher:  # noqa: ANN003
        voucher = self.in_control(officer, **kw)
        return services.voucher_pass(actor=self.user(officer), voucher=voucher)

    def approved(self, approver: str = "approver", **kw) -> Voucher:  # noqa: ANN003
        voucher = self.pending(**kw)
        return services.voucher_approve(actor=self.user(approver), voucher=voucher)

    def refused(self, officer: str = "officer", **kw) -> Voucher:  # noqa: ANN003
        voucher = self.in_control(officer, **kw)
        return services.voucher_refuse(
            actor=self.user(officer), voucher=voucher, reasons=[{"code": "TC01", "note": "Sai định mức"}]
        )

    def withdrawn(self, **kw) -> Voucher:  # noqa: ANN003
        voucher = self.submitted(**kw)
        return services.voucher_withdraw(actor=self.user(f"{self.prefix}_holder"), voucher=voucher)

    def paid(self, **kw) -> Voucher:  # noqa: ANN003
        voucher = self.approved(**kw)
        return services.voucher_mark_paid(voucher=voucher)

    def payment_failed(self, **kw) -> Voucher:  # noqa: ANN003
        voucher = self.approved(**kw)
        return services.voucher_mark_payment_failed(voucher=voucher, error="bank timeout")


def seed(world: DemoWorld) -> None:
    demo.seed(world)


def signing_key(username: str) -> SigningKey:
    return SigningKey.objects.get(user__username=username, status="approved")
