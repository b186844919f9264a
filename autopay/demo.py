"""Demo data of autopay (seed_demo runs it after payments.demo): the demo
suppliers' collection accounts, an active authorization per demo unit and
invoices, paid, in the exceptions and pending. Idempotent."""

from autopay.models import SupplierCollectionAccount
from payments.models import Bank, BudgetLine

# supplier prefix (accounts.demo.SUPPLIERS) → bank code, collection account number
COLLECTION_ACCOUNTS = {
    "evn": ("VCB", "0011000123456"), "vnpt": ("BIDV", "51010000123456"), "water": ("CTG", "102010001234"),
}


def seed_collection_accounts(world) -> None:  # noqa: ANN001
    """Where each demo supplier's autopay money goes (kept by treasury administrators)."""
    for prefix, (bank_code, number) in COLLECTION_ACCOUNTS.items():
        supplier = world.suppliers.get(prefix)
        bank = Bank.objects.filter(code=bank_code).first()
        if supplier is None or bank is None:
            continue
        SupplierCollectionAccount.objects.get_or_create(
            supplier=supplier, defaults={"bank": bank, "account_number": number, "account_name": supplier.name[:255]}
        )


AUTOPAY_SUPPLIER = "evn"


def _previous_period(today) -> str:  # noqa: ANN001
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year}-{month:02d}"


def seed_authorizations(world) -> None:  # noqa: ANN001 - accounts.demo.DemoWorld
    """An active EVN authorization per demo unit, signed with one-off demo keys
    (revoked once it is confirmed, so the demo users register their own);
    last month's invoices settled by one run (paid, and one over the cap in
    the exception list) and this month's invoices pending for the next run.
    Idempotent: a unit that has its authorization already is left alone."""
    from django.utils import timezone

    from accounts import crypto
    from accounts.models import Role, SigningKeyStatus
    from accounts.services import signing_key_approve, signing_key_register, signing_key_revoke
    from autopay import services as autopay
    from autopay.models import AuthorizationStatus, AutopayAuthorization

    supplier = world.suppliers.get(AUTOPAY_SUPPLIER)
    clerk = world.users.get(f"{AUTOPAY_SUPPLIER}_clerk")
    if supplier is None or clerk is None:
        return
    today = timezone.localdate()
    units = []
    for prefix, unit in sorted(world.units.items()):
        if AutopayAuthorization.objects.filter(unit=unit, supplier=supplier).exclude(
            status__in=[AuthorizationStatus.REVOKED, AuthorizationStatus.REJECTED]
        ).exists():
            continue
        signers = {Role.CHIEF_ACCOUNTANT: world.users[f"{prefix}_chief"],
                   Role.ACCOUNT_HOLDER: world.users[f"{prefix}_holder"]}
        if any(u.signing_keys.filter(unit=unit, status=SigningKeyStatus.APPROVED).exists() for u in signers.values()):
            continue  # the users have keys of their own: leave them alone
        line = BudgetLine.objects.filter(unit=unit, ndkt="6501", fiscal_year=today.year).first()
        if line is None:
            continue
        admin = world.users["tadmin" if prefix == "a" else "tadmin_b"]
        a = autopay.authorization_create(
            actor=world.users[f"{prefix}_preparer"], unit=unit, supplier=supplier,
            customer_codes=[f"PE{unit.code}01", f"PE{unit.code}02"], budget_line=line,
            cap_per_invoice=20_000_000, cap_per_month=40_000_000, valid_from=f"{today.year}-01-01",
            valid_to=f"{today.year}-12-31",
        )
        keys = []
        for role, user in signers.items():
            private, public = crypto.generate_keypair()
            key = signing_key_register(actor=user, unit=unit, role=role, public_key=public, label="demo autopay")
            key = signing_key_approve(actor=admin, key_id=key.pk)
            keys.append(key)
            a.refresh_from_db(fields=["content_hash"])
            autopay.authorization_sign(
                actor=user, authorization=a, key_id=key.pk,
                signature=crypto.sign(private, bytes.fromhex(a.content_hash)),
            )
        autopay.authorization_submit(actor=signers[Role.ACCOUNT_HOLDER], authorization=a)
        autopay.authorization_confirm(actor=admin, authorization=a, note="Demo")
        for key in keys:
            signing_key_revoke(actor=admin, key_id=key.pk)
        units.append(unit)
    if not units:
        return
    last, now = _previous_period(today), timezone.now()
    for unit in units:
        for n, (code, amount) in enumerate(
            ((f"PE{unit.code}01", 1_850_000), (f"PE{unit.code}02", 2_300_000), (f"PE{unit.code}02", 25_000_000))
        ):
            autopay.supplier_invoice_receive(
                actor=clerk, invoice_number=f"EVN-{unit.code}-{last}-{n + 1}", customer_code=code, period=last,
                amount=amount, issued_at=now,
            )
    autopay.autopay_run(trigger="demo")  # two paid per unit; the third is a duplicate period: an exception
    period = today.strftime("%Y-%m")
    for unit in units:
        for n, (code, amount) in enumerate(((f"PE{unit.code}01", 1_920_000), (f"PE{unit.code}02", 2_150_000))):
            autopay.supplier_invoice_receive(
                actor=clerk, invoice_number=f"EVN-{unit.code}-{period}-{n + 1}", customer_code=code, period=period,
                amount=amount, issued_at=now,
            )

def seed(world) -> None:  # noqa: ANN001 - accounts.demo.DemoWorld
    seed_collection_accounts(world)
    seed_authorizations(world)
