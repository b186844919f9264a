"""One object of every kind named by `obj=` in treasury_portal/access_policy.py,
built for unit B (1023456, office 0201 under 0200) or one of its users, so that
tests/test_access_policy.py can check that users of other organisations get 404.

How to add a kind (small additive edits, one block per area):

- MAKERS["<kind>"] = a function of the demo world returning either the model
  instance (routes with a `pk` kwarg get `obj.pk`; any other kwarg is read as an
  attribute of the object) or a dict of route kwargs (e.g. an attachment within
  a voucher: `{"pk": voucher.pk, "att_id": attachment.pk}`). Build the object
  through the real services, as users would.
- OWNERS["<kind>"] (optional) = the demo usernames that may legitimately reach
  the object; default: everyone on unit B's side (B_SIDE). Every other demo user
  must get 404 (403 when they lack the route's role). At least one owner must
  get something other than 404 on the route: that proves the URL was right.
- LIST_ROUTES["<api url name>"] = "<kind>" for every API list endpoint: the
  object made for unit B must not appear in the list for any foreign user.
  LIST_ROUTES_EXEMPT holds API GET routes without kwargs that are not lists of
  organisation-owned rows (with the reason).
"""

from collections.abc import Callable
from typing import Any

from accounts import crypto, services
from accounts.demo import DemoWorld

# The demo users, by side (accounts/demo.py).
A_SIDE = ("a_preparer", "a_chief", "a_holder", "officer", "officer2", "approver", "tadmin")
B_SIDE = ("b_preparer", "b_chief", "b_holder", "officer_b", "approver_b", "tadmin_b")
SUPPLIER_CLERKS = ("evn_clerk", "vnpt_clerk", "water_clerk")
ALL_USERS = A_SIDE + B_SIDE + SUPPLIER_CLERKS


# --- accounts ----------------------------------------------------------------


def make_signing_key(world: DemoWorld) -> object:
    """A pending signing key of unit B's account holder."""
    _private, public_key = crypto.generate_keypair()
    return services.signing_key_register(
        actor=world.users["b_holder"], unit=world.units["b"], role="account_holder", public_key=public_key
    )


def make_api_token(world: DemoWorld) -> object:
    token, _plaintext = services.api_token_create(user=world.users["b_holder"], name="access-policy")
    return token


def make_membership(world: DemoWorld) -> object:
    """Unit B's preparer's role there: managed by the administrator of B's province."""
    from accounts.models import Membership

    return Membership.objects.get(user=world.users["b_preparer"], organisation=world.units["b"])


MAKERS: dict[str, Callable[[DemoWorld], Any]] = {
    "signing_key": make_signing_key,
    "api_token": make_api_token,
    "membership": make_membership,
}

OWNERS: dict[str, tuple[str, ...]] = {
    # A personal token: only its holder may see or revoke it.
    "api_token": ("b_holder",),
    "membership": ("tadmin_b",),
}

LIST_ROUTES: dict[str, str] = {
    "api-my-signing-keys": "signing_key",
    "api-signing-keys": "signing_key",
    "api-memberships": "membership",
}

LIST_ROUTES_EXEMPT: dict[str, str] = {
    "api-me": "the caller's own identity, not a list",
    "api-schema": "the OpenAPI document",
    "api-docs": "the documentation page",
}


# --- vouchers (vouchers/api_urls.py) ----------------------------------------------


def make_voucher(world: DemoWorld) -> object:
    """A submitted voucher of unit B with one PDF attachment (visible to B's
    unit users and to the treasury of office 0200)."""
    from vouchers import services as voucher_services
    from vouchers.tests.kit import PDF, Kit, Upload, seed

    seed(world)
    kit = Kit(world, prefix="b")
    voucher = kit.draft(1_200_000)
    voucher_services.attachment_add(
        actor=world.users["b_preparer"], voucher=voucher, file=Upload("hoa-don.pdf", PDF), kind="invoice"
    )
    kit.sign_both(voucher)
    return voucher_services.voucher_submit(actor=world.users["b_holder"], voucher=voucher)


def make_attachment(world: DemoWorld) -> object:
    voucher = make_voucher(world)
    return {"pk": voucher.pk, "att_id": voucher.attachments.get().pk}


def make_budget_line(world: DemoWorld) -> object:
    from payments.models import BudgetLine
    from vouchers.tests.kit import seed

    seed(world)
    return BudgetLine.objects.filter(unit=world.units["b"]).order_by("id").first()


MAKERS.update({"voucher": make_voucher, "attachment": make_attachment, "budget_line": make_budget_line})
LIST_ROUTES.update({"api-vouchers": "voucher", "api-review-queue": "voucher", "api-budget-lines": "budget_line"})
LIST_ROUTES_EXEMPT.update(
    {
        "api-procedures": "the public procedure catalogue",
        "api-banks": "the public list of banks",
        "api-reason-codes": "the shared catalogue of deficiency and refusal codes",
    }
)


# --- payments (payments/urls.py, payments/api_urls.py) ------------------------------


def _paid_voucher_b(world: DemoWorld):  # noqa: ANN202
    """A voucher of unit B approved and paid through the real services."""
    from payments.models import PaymentIntent
    from payments.tests.kit import Kit, seed_money
    from vouchers.payment.services import payment_intent_process

    seed_money(world)
    voucher = Kit(world, "b").approved(2_300_000)
    payment_intent_process(intent_id=PaymentIntent.objects.get(voucher=voucher).pk, worker="access-objects")
    voucher.refresh_from_db()
    assert voucher.status == "paid", voucher.status
    return voucher


def make_account(world: DemoWorld) -> object:
    from payments.models import Account
    from payments.tests.kit import seed_money

    seed_money(world)
    return Account.objects.get(unit=world.units["b"], kind="deposit")


def make_debit_transfer(world: DemoWorld) -> object:
    from payments.models import Transfer

    return Transfer.objects.get(voucher=_paid_voucher_b(world), kind="payment")


def make_payment_intent(world: DemoWorld) -> object:
    return _paid_voucher_b(world).payment_intent


def make_bank_file(world: DemoWorld) -> object:
    from payments.services.bank_files import bank_files_generate

    _paid_voucher_b(world)
    (bank_file,) = bank_files_generate(actor=world.users["tadmin_b"])
    return bank_file


def make_bank_status_report(world: DemoWorld) -> object:
    """A pain.002 of unit B's office rejecting the one transfer of its bank file."""
    from payments.services.bank_status import bank_status_report_import
    from payments.tests.pain002_kit import build_pain002

    bank_file = make_bank_file(world)
    number = bank_file.intents.get().voucher.number
    content = build_pain002(bank_file.message_id, [(number, "AC04", "")], message_id=f"STS-{bank_file.pk}")
    return bank_status_report_import(actor=world.users["tadmin_b"], content=content).report


def make_notification(world: DemoWorld) -> object:
    """A balance notification of B's account holder."""
    from payments.models import Notification
    from payments.services import ledger

    account = make_account(world)
    transfer = ledger.deposit_credit(actor=None, account=account, amount=1_000, reference="access-policy")
    return Notification.objects.get(user=world.users["b_holder"], data__transfer_id=transfer.pk)


TREASURY_B = ("officer_b", "approver_b", "tadmin_b")
MAKERS.update(
    {
        "account": make_account,
        "paid_voucher": _paid_voucher_b,
        "debit_transfer": make_debit_transfer,
        "payment_intent": make_payment_intent,
        "bank_file": make_bank_file,
        "bank_status_report": make_bank_status_report,
        "notification": make_notification,
    }
)
OWNERS.update(
    {"notification": ("b_holder",), "bank_file": TREASURY_B, "bank_status_report": TREASURY_B,
     "payment_intent": TREASURY_B}
)
LIST_ROUTES.update(
    {
        "api-accounts": "account",
        "api-notifications": "notification",
        "api-payment-intents": "payment_intent",
        "api-bank-files": "bank_file",
        "api-bank-status-reports": "bank_status_report",
    }
)

def owners(kind: str) -> tuple[str, ...]:
    return OWNERS.get(kind, B_SIDE)


def foreign_users(kind: str) -> tuple[str, ...]:
    """Every demo user who must not reach an object of this kind."""
    allowed = set(owners(kind))
    return tuple(u for u in ALL_USERS if u not in allowed)


# --- autopay (payments/api_urls.py, autopay section) --------------------------------------


def make_autopay_authorization(world: DemoWorld) -> object:
    """An active autopay authorization of unit B for EVN (customer code PB0001)."""
    from autopay.models import AutopayAuthorization
    from autopay.tests.autopay_kit import autopay_kit

    existing = AutopayAuthorization.objects.filter(unit=world.units["b"], status="active").first()
    if existing is not None:
        return existing
    return autopay_kit(world, "b").active_authorization(codes=("PB0001",))


def make_supplier_invoice(world: DemoWorld) -> object:
    """An EVN invoice for unit B's customer code, still pending (its supplier's clerk sees it)."""
    from django.utils import timezone

    from autopay.services import supplier_invoice_receive

    make_autopay_authorization(world)
    invoice, _created = supplier_invoice_receive(
        actor=world.users["evn_clerk"], invoice_number=f"AP-{timezone.now().timestamp()}", customer_code="PB0001",
        period="2026-01", amount=150_000, issued_at=timezone.now(),
    )
    return invoice


def make_autopay_exception(world: DemoWorld) -> object:
    """An EVN invoice of unit B above its cap: in B's exception list (the lists,
    and the retry and close routes, pages and API: B's signers and B's treasury
    reach it, everyone else gets 404)."""
    from autopay.services import autopay_run

    invoice = make_supplier_invoice(world)
    invoice.__class__.objects.filter(pk=invoice.pk).update(amount=999_000_000)
    autopay_run()
    invoice.refresh_from_db()
    assert invoice.status == "exception", invoice.status
    return invoice


MAKERS.update(
    {
        "autopay_authorization": make_autopay_authorization,
        "supplier_invoice": make_supplier_invoice,
        "autopay_exception": make_autopay_exception,
    }
)
OWNERS.update({"supplier_invoice": ("evn_clerk",)})
LIST_ROUTES.update(
    {
        "api-authorizations": "autopay_authorization",
        "api-supplier-invoices": "supplier_invoice",
        "api-autopay-invoices": "autopay_exception",
        "api-autopay-exceptions": "autopay_exception",
    }
)
LIST_ROUTES_EXEMPT.update({"api-autopay-runs": "the runs' counts, the same for every treasury user: no unit's data"})


# --- risk monitoring (monitoring/urls.py, monitoring/api_urls.py) ---------------------------


def make_alert(world: DemoWorld) -> object:
    """A possible duplicate payment of unit B: two submitted vouchers paying the
    same account the same amount, evaluated by the monitoring task's service
    (B's unit and B's treasury see the alert; everyone else gets 404)."""
    from monitoring.models import Alert
    from monitoring.services import evaluate_voucher
    from vouchers.tests.kit import Kit, seed

    seed(world)
    kit = Kit(world, prefix="b")
    kit.submitted(1_234_000)
    voucher = kit.submitted(1_234_000)
    evaluate_voucher(voucher.pk)
    return Alert.objects.filter(voucher=voucher, rule__code="duplicate_payment").get()


MAKERS.update({"alert": make_alert})
LIST_ROUTES.update({"api-alerts": "alert"})


# --- out-of-office with a delegate (accounts/urls.py, accounts/api_urls.py) -----------------


def make_absence(world: DemoWorld) -> object:
    """Unit B's control officer away this week, a second control officer of
    office 0200 standing in (B's treasury officers and leaders reach it)."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import Absence, User

    existing = Absence.objects.filter(user=world.users["officer_b"]).first()
    if existing is not None:
        return existing
    colleague = User.objects.create_user(username="officer_b2", password="x", first_name="Lê", last_name="Thay")
    services.membership_grant(user=colleague, organisation=world.offices["0200"], role="control_officer")
    today = timezone.localdate()
    return services.absence_create(
        actor=world.users["officer_b"], user=world.users["officer_b"], delegate=colleague, role="control_officer",
        starts_on=today, ends_on=today + timedelta(days=6),
    )


MAKERS.update({"absence": make_absence})
OWNERS.update({"absence": ("officer_b", "approver_b")})
LIST_ROUTES.update({"api-absences": "absence"})


# --- reports (monitoring/reports/) -----------------------------------------------------------


def make_report_export(world: DemoWorld) -> object:
    """A CSV export of unit B's expenditure asked for by B's account holder
    (made at once: tasks run in-process in tests). Only its requester reaches it."""
    from monitoring.reports.selectors import ReportParams
    from monitoring.reports.services import report_generate, report_request

    export = report_request(actor=world.users["b_holder"], kind="expenditure", fmt="csv",
                            params=ReportParams.default())
    report_generate(export.pk)
    export.refresh_from_db()
    return export


MAKERS.update({"report_export": make_report_export})
OWNERS.update({"report_export": ("b_holder",)})
LIST_ROUTES.update({"api-reports": "report_export"})


# --- integrator webhooks (integrations/urls.py, integrations/api_urls.py) -----------------------


def make_webhook_endpoint(world: DemoWorld) -> object:
    """Unit B's endpoint, registered by its account holder (B's people see it, B's
    signers manage it; treasury staff have no access, everyone else gets 404)."""
    from integrations.services import endpoint_create

    endpoint, _secret = endpoint_create(
        actor=world.users["b_holder"], organisation=world.units["b"], url="https://erp.example.com/hooks",
        event_types=["voucher.status_changed", "balance.changed"], description="ERP",
    )
    return endpoint


def make_webhook_delivery(world: DemoWorld) -> object:
    """A delivery of unit B's endpoint that failed (a refused answer), so it can be replayed."""
    from datetime import timedelta

    from django.utils import timezone

    from integrations.models import WebhookDelivery, WebhookEvent
    from integrations.services import attempt_record, delivery_claim_one
    from integrations.transport import Answer

    endpoint = make_webhook_endpoint(world)
    event = WebhookEvent.objects.create(
        organisation=world.units["b"], type="voucher.status_changed", source=f"access-policy:{endpoint.pk}",
        payload={"voucher_number": "B-1", "to_status": "submitted"}, occurred_at=timezone.now(),
    )
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, next_attempt_at=timezone.now())
    claim = delivery_claim_one(delivery.pk)
    attempt_record(delivery_id=delivery.pk, claim=claim, answer=Answer(503, "http_status", "", 12),
                   started_at=timezone.now() - timedelta(seconds=1))
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed")
    return {"pk": endpoint.pk, "delivery_id": delivery.pk}


WEBHOOK_OWNERS = ("b_preparer", "b_chief", "b_holder")
MAKERS.update({"webhook_endpoint": make_webhook_endpoint, "webhook_delivery": make_webhook_delivery})
OWNERS.update({"webhook_endpoint": WEBHOOK_OWNERS, "webhook_delivery": WEBHOOK_OWNERS})
LIST_ROUTES.update({"api-webhook-endpoints": "webhook_endpoint"})


# --- year end (payments/yearend_views.py, payments/yearend_apis.py) ------------------------


def make_fiscal_year_close(world: DemoWorld) -> object:
    """Last year's year end of unit B's office (0201), set up by B's administrator:
    B's treasury staff see it; everyone else gets 404."""
    from django.utils import timezone

    from payments.services.yearend import fiscal_year_close_set

    return fiscal_year_close_set(
        actor=world.users["tadmin_b"], office=world.units["b"].office, year=timezone.localdate().year - 1
    )


MAKERS.update({"fiscal_year_close": make_fiscal_year_close})
OWNERS.update({"fiscal_year_close": ("officer_b", "approver_b", "tadmin_b")})
LIST_ROUTES.update({"api-fiscal-year-closes": "fiscal_year_close"})


# --- satisfaction follow-ups (monitoring/dashboard_urls.py, monitoring/dashboard_api_urls.py) ---------


def make_followup(world: DemoWorld) -> object:
    """A paid voucher of unit B rated "dissatisfied": the follow-up the task opens
    (B's treasury sees it; the unit and everyone else get 404)."""
    from monitoring.satisfaction.services import followups_open_new
    from vouchers import services as voucher_services

    voucher = _paid_voucher_b(world)
    rating = voucher_services.voucher_rate(actor=world.users["b_holder"], voucher=voucher, score=1,
                                           comment="Chờ lâu")
    followups_open_new()
    return rating.followup


MAKERS.update({"followup": make_followup})
OWNERS.update({"followup": ("officer_b", "approver_b", "tadmin_b")})
LIST_ROUTES.update({"api-followups": "followup"})
LIST_ROUTES_EXEMPT.update(
    {
        "api-dashboard": "figures of the caller's own office (404 for an office they do not lead), not a list of rows",
        "api-satisfaction": "public per-office rates, nothing about a unit or a person",
    }
)


# --- state budget revenue (payments/revenue_api_urls.py) -------------------------------------


def make_revenue_collection(world: DemoWorld) -> object:
    """A collection recorded by B's district office (0201): B's treasury staff see it."""
    from payments.services.revenue import revenue_import

    results = revenue_import(actor=world.users["officer_b"], office="0201", rows=[{
        "reference": "ACCESS-POLICY-1", "collected_on": "2026-02-03", "budget_level": "2", "chapter": "754",
        "ndkt": "1052", "source": "tax", "amount": 1_000_000,
    }])
    return results[0].collection


MAKERS.update({"revenue_collection": make_revenue_collection})
OWNERS.update({"revenue_collection": TREASURY_B})
LIST_ROUTES.update({"api-revenue-collections": "revenue_collection"})
