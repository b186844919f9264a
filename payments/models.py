"""Budget estimates, the double-entry ledger, payment intents, documents and
notifications (the outbox). Counters and balances are caches of event rows
(budget movements, transfers) and CHECK constraints are the last line."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Bank(models.Model):
    code = models.CharField(max_length=20, unique=True)
    bic = models.CharField(max_length=11, blank=True)
    name = models.CharField(max_length=255)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class BudgetLevel(models.TextChoices):
    CENTRAL = "1", _("Trung ương")
    PROVINCIAL = "2", _("Tỉnh")
    DISTRICT = "3", _("Huyện")
    COMMUNE = "4", _("Xã")


class BudgetLine(models.Model):
    """One line of a unit's budget estimate for a fiscal year.

    available = allocated − reserved − spent. Only payments.services.budget_move
    changes the counters, always with a conditional UPDATE; the CHECK
    constraints make an overspend impossible even for raw SQL.
    """

    unit = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="budget_lines")
    fiscal_year = models.PositiveSmallIntegerField()
    chapter = models.CharField(_("chương"), max_length=3)
    sector = models.CharField(_("loại-khoản"), max_length=3)
    ndkt = models.CharField(_("nội dung kinh tế"), max_length=4)
    funding_source = models.CharField(_("nguồn"), max_length=2)
    programme = models.CharField(_("CTMT/dự án"), max_length=5, default="00000")
    budget_level = models.CharField(_("cấp ngân sách"), max_length=1, choices=BudgetLevel.choices)
    name = models.CharField(max_length=255, blank=True)
    allocated = models.BigIntegerField(default=0)
    reserved = models.BigIntegerField(default=0)
    spent = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["unit", "fiscal_year", "ndkt", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "unit", "fiscal_year", "chapter", "sector", "ndkt", "funding_source", "programme", "budget_level",
                ],
                name="budget_line_classification_unique",
            ),
            models.CheckConstraint(
                condition=Q(allocated__gte=0) & Q(reserved__gte=0) & Q(spent__gte=0),
                name="budget_line_counters_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("allocated") - F("spent")), name="budget_line_never_overspent"
            ),
            models.CheckConstraint(
                condition=Q(chapter__regex=r"^[0-9]{3}$")
                & Q(sector__regex=r"^[0-9]{3}$")
                & Q(ndkt__regex=r"^[0-9]{4}$")
                & Q(funding_source__regex=r"^[0-9]{2}$")
                & Q(programme__regex=r"^[0-9]{5}$")
                & Q(budget_level__in=["1", "2", "3", "4"]),
                name="budget_line_classification_format",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.chapter}.{self.sector}.{self.ndkt}.{self.funding_source}.{self.programme}.{self.budget_level}"

    @property
    def available(self) -> int:
        return self.allocated - self.reserved - self.spent

    @property
    def classification(self) -> str:
        return str(self)


class BudgetMovementKind(models.TextChoices):
    ALLOCATE = "allocate", _("Giao dự toán")
    RESERVE = "reserve", _("Giữ chỗ")
    RELEASE = "release", _("Giải phóng")
    SPEND = "spend", _("Chi")
    # An autopay invoice paid straight from the line: no reservation before it.
    AUTOPAY = "autopay", _("Chi thanh toán tự động")


class BudgetMovement(models.Model):
    """The event row of every counter change; counters must equal their sums."""

    budget_line = models.ForeignKey(BudgetLine, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=20, choices=BudgetMovementKind.choices)
    amount = models.BigIntegerField()
    voucher = models.ForeignKey("vouchers.Voucher", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=200, unique=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["budget_line", "created_at", "id"]
        indexes = [
            # Allocations of given lines (the ledger's lazy posting, every autopay
            # batch): without it the lines' spend and autopay rows, which grow
            # every month, are read and thrown away.
            models.Index(fields=["budget_line"], condition=Q(kind="allocate"), name="budget_allocation_by_line"),
        ]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="budget_movement_positive")]


class AccountKind(models.TextChoices):
    ESTIMATE = "estimate", _("Tài khoản dự toán")
    DEPOSIT = "deposit", _("Tài khoản tiền gửi")
    TREASURY = "treasury", _("Tài khoản của kho bạc")


class Account(models.Model):
    """A ledger account. `balance` (credits − debits) caches the sum of its
    transfers; unit accounts may never go below zero."""

    number = models.CharField(_("số tài khoản"), max_length=40, unique=True)
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=20, choices=AccountKind.choices)
    unit = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    # Unit accounts: the budget level (estimate and deposit) and the programme
    # (deposit); treasury accounts kept per bank name the bank.
    budget_level = models.CharField(max_length=1, blank=True, choices=BudgetLevel.choices)
    programme = models.CharField(max_length=5, blank=True)
    bank = models.ForeignKey(Bank, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    allow_negative = models.BooleanField(default=False)
    balance = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="treasury") | Q(unit__isnull=False), name="unit_account_has_unit"
            ),
            models.CheckConstraint(
                condition=Q(kind="treasury") | Q(allow_negative=False), name="unit_account_never_negative"
            ),
            models.CheckConstraint(condition=Q(allow_negative=True) | Q(balance__gte=0), name="account_not_negative"),
            models.CheckConstraint(
                condition=~Q(kind="treasury") | Q(unit__isnull=True), name="treasury_account_has_no_unit"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class TransferKind(models.TextChoices):
    ALLOCATION = "allocation", _("Giao dự toán")
    DEPOSIT = "deposit", _("Nộp tiền vào tài khoản")
    PAYMENT = "payment", _("Thanh toán chứng từ")
    BANK_SETTLEMENT = "bank_settlement", _("Chuyển tiền qua ngân hàng")
    AUTOPAY = "autopay", _("Thanh toán tự động hóa đơn")


class Transfer(models.Model):
    """A double-entry transfer: it debits one account and credits another by the
    same positive amount, at most once per key. The balances each account had
    right after it are kept, so statements and balance notices need no sums."""

    key = models.CharField(max_length=200, unique=True)
    debit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="debits")
    credit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="credits")
    amount = models.BigIntegerField()
    kind = models.CharField(max_length=30, choices=TransferKind.choices)
    voucher = models.ForeignKey(
        "vouchers.Voucher", null=True, blank=True, on_delete=models.PROTECT, related_name="transfers"
    )
    description = models.CharField(max_length=500, blank=True)
    # The party outside the ledger (a payee at a bank, a depositor), if any.
    counterparty_name = models.CharField(max_length=255, blank=True)
    counterparty_account = models.CharField(max_length=40, blank=True)
    debit_balance_after = models.BigIntegerField(default=0)
    credit_balance_after = models.BigIntegerField(default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # An account's statement and recent movements, newest first.
            models.Index(fields=["debit_account", "-created_at", "-id"], name="transfer_debit_recent"),
            models.Index(fields=["credit_account", "-created_at", "-id"], name="transfer_credit_recent"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(condition=~Q(debit_account=F("credit_account")), name="transfer_two_accounts"),
        ]


class PaymentIntentStatus(models.TextChoices):
    PENDING = "pending", _("Chờ xử lý")
    PROCESSING = "processing", _("Đang xử lý")
    SUCCEEDED = "succeeded", _("Thành công")
    FAILED = "failed", _("Lỗi")


class PaymentIntent(models.Model):
    """Written with the approval, in its transaction; a worker claims it with a
    conditional update. One per voucher: a second payment cannot exist."""

    voucher = models.OneToOneField("vouchers.Voucher", on_delete=models.PROTECT, related_name="payment_intent")
    status = models.CharField(max_length=20, choices=PaymentIntentStatus.choices, default=PaymentIntentStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    failure_code = models.CharField(max_length=40, blank=True)
    last_error = models.TextField(blank=True)
    # Set when the payment credited a bank's clearing account: the transfer goes
    # out in that bank's next pain.001 file.
    clearing_bank = models.ForeignKey(Bank, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    bank_file = models.ForeignKey(
        "payments.BankFile", null=True, blank=True, on_delete=models.SET_NULL, related_name="intents"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "updated_at"]),
            models.Index(fields=["clearing_bank", "bank_file"], name="intent_unfiled_per_bank"),
        ]


class BankFile(models.Model):
    """A pain.001 credit-transfer file for one bank and one cycle."""

    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="files")
    # The treasury office whose units' payments the file carries (its staff may download it).
    office = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cycle = models.CharField(max_length=30)
    message_id = models.CharField(max_length=35, unique=True)
    file = models.FileField(upload_to="bank-files/", max_length=255)
    transfer_count = models.PositiveIntegerField(default=0)
    control_sum = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["office", "bank", "cycle"], name="bank_file_per_office_cycle")]


class DocumentKind(models.TextChoices):
    RESULT = "result", _("Chứng từ kết quả")
    DEBIT_ADVICE = "debit_advice", _("Giấy báo nợ")


class Document(models.Model):
    """A rendered PDF kept in private storage and served through checked views."""

    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    voucher = models.ForeignKey(
        "vouchers.Voucher", null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    transfer = models.ForeignKey(Transfer, null=True, blank=True, on_delete=models.PROTECT, related_name="documents")
    file = models.FileField(upload_to="documents/", max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rendered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "voucher"], condition=Q(kind="result"), name="one_result_per_voucher"
            ),
            models.UniqueConstraint(
                fields=["kind", "transfer"], condition=Q(kind="debit_advice"), name="one_advice_per_transfer"
            ),
        ]


class NotificationKind(models.TextChoices):
    BALANCE_CHANGE = "balance_change", _("Biến động số dư")
    VOUCHER_STATUS = "voucher_status", _("Trạng thái chứng từ")
    AUTOPAY = "autopay", _("Thanh toán tự động")


class Channel(models.TextChoices):
    PORTAL = "portal", _("Trên cổng")
    EMAIL = "email", _("Thư điện tử")
    SMS = "sms", _("SMS/ứng dụng")


class Notification(models.Model):
    """Written in the same transaction as its cause; the portal channel is this row."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    title = models.CharField(max_length=255)
    body = models.TextField()
    data = models.JSONField(default=dict, blank=True)
    unit = models.ForeignKey("accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    voucher = models.ForeignKey("vouchers.Voucher", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"])]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Chờ gửi")
    SENT = "sent", pgettext_lazy("delivery status", "Đã gửi")
    FAILED = "failed", _("Lỗi")


class NotificationDelivery(models.Model):
    """The outbox row for one external channel of one notification."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="one_delivery_per_channel")
        ]


class NotificationPreference(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "channel"], name="one_preference_per_kind_channel")
        ]


# --- automatic utility payments (autopay) ---------------------------------------
#
# A unit authorizes a supplier to be paid automatically for some customer codes,
# charging one budget line or one deposit account, within caps and a validity
# period; the chief accountant and the account holder sign it (Ed25519 over its
# content hash) and a treasury administrator confirms it. Suppliers send
# invoices; a run pays exactly the invoiced amount or puts the invoice in the
# exception list with a code (payments/services/autopay.py, docs/ledger.md).


class SupplierCollectionAccount(models.Model):
    """Where a supplier's autopay money goes: its account at a bank. Kept by
    treasury administrators (admin site; the demo seeds one per supplier). The
    ledger credits that bank's clearing account `3856.BANK`, with the supplier
    and this account number as the counterparty, like a voucher's payee."""

    supplier = models.OneToOneField(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="collection_account",
        limit_choices_to={"kind": "supplier"},
    )
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="+")
    account_number = models.CharField(_("số tài khoản"), max_length=34)
    account_name = models.CharField(_("tên tài khoản"), max_length=255)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(account_number__regex=r"^[0-9A-Za-z.\-]{4,34}$"), name="collection_account_number_format"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_number} – {self.bank.code}"


class AuthorizationStatus(models.TextChoices):
    DRAFT = "draft", _("Nháp")
    SUBMITTED = "submitted", _("Chờ kho bạc xác nhận")
    ACTIVE = "active", _("Đang hiệu lực")
    REVOKED = "revoked", _("Đã thu hồi")
    REJECTED = "rejected", pgettext_lazy("authorization status", "Kho bạc từ chối")


class AutopayAuthorization(models.Model):
    """A unit's standing order to pay a supplier's invoices for some customer codes."""

    unit = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="autopay_authorizations"
    )
    supplier = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    # Exactly one of the two is charged.
    budget_line = models.ForeignKey(BudgetLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    deposit_account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cap_per_invoice = models.BigIntegerField()
    cap_per_month = models.BigIntegerField()
    valid_from = models.DateField()
    valid_to = models.DateField()
    status = models.CharField(max_length=20, choices=AuthorizationStatus.choices, default=AuthorizationStatus.DRAFT)
    content_hash = models.CharField(max_length=64, blank=True)
    content_version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["unit", "-created_at", "-id"], name="autopay_auth_unit_recent"),
            models.Index(fields=["status", "-created_at"], name="autopay_auth_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(budget_line__isnull=False) & Q(deposit_account__isnull=True))
                | (Q(budget_line__isnull=True) & Q(deposit_account__isnull=False)),
                name="autopay_auth_one_funding",
            ),
            models.CheckConstraint(
                condition=Q(cap_per_invoice__gt=0) & Q(cap_per_month__gte=F("cap_per_invoice")),
                name="autopay_auth_caps",
            ),
            models.CheckConstraint(condition=Q(valid_to__gte=F("valid_from")), name="autopay_auth_validity"),
            models.CheckConstraint(
                condition=Q(status__in=AuthorizationStatus.values), name="autopay_auth_status_known"
            ),
            models.CheckConstraint(
                condition=~Q(status="active") | Q(confirmed_at__isnull=False), name="autopay_auth_active_confirmed"
            ),
        ]

    def __str__(self) -> str:
        return f"UQ-{self.pk}"


class AuthorizationCustomerCode(models.Model):
    """One customer code of an authorization. `active` mirrors the
    authorization's status (set and cleared by the services in the same
    transaction) so that a partial unique index can forbid two active
    authorizations for one (supplier, customer code)."""

    authorization = models.ForeignKey(AutopayAuthorization, on_delete=models.CASCADE, related_name="customer_codes")
    supplier = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    customer_code = models.CharField(max_length=40)
    active = models.BooleanField(default=False)

    class Meta:
        ordering = ["authorization", "customer_code"]
        indexes = [models.Index(fields=["supplier", "customer_code"], name="autopay_code_lookup")]
        constraints = [
            models.UniqueConstraint(fields=["authorization", "customer_code"], name="autopay_code_once_per_auth"),
            models.UniqueConstraint(
                fields=["supplier", "customer_code"], condition=Q(active=True), name="autopay_one_active_per_code"
            ),
            models.CheckConstraint(
                condition=Q(customer_code__regex=r"^[0-9A-Za-z._\-]{1,40}$"), name="autopay_customer_code_format"
            ),
        ]


class AuthorizationSignature(models.Model):
    """One signer, in one registered role, bound to the authorization's content hash."""

    authorization = models.ForeignKey(AutopayAuthorization, on_delete=models.CASCADE, related_name="signatures")
    key = models.ForeignKey("accounts.SigningKey", on_delete=models.PROTECT, related_name="+")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=30)
    content_hash = models.CharField(max_length=64)
    signature = models.CharField(max_length=100)
    signed_at = models.DateTimeField()
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["authorization", "signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["authorization", "role"], condition=Q(voided_at__isnull=True),
                name="autopay_one_live_signature_per_role",
            )
        ]


class InvoiceStatus(models.TextChoices):
    PENDING = "pending", _("Chờ thanh toán")
    PAID = "paid", _("Đã thanh toán")
    EXCEPTION = "exception", _("Ngoại lệ")


class ExceptionCode(models.TextChoices):
    NO_AUTHORIZATION = "no_authorization", _("Không có ủy quyền hiệu lực")
    OVER_CAP = "over_cap", _("Vượt hạn mức")
    INSUFFICIENT_BUDGET = "insufficient_budget", _("Không đủ dự toán hoặc số dư")
    DUPLICATE_PERIOD = "duplicate_period", _("Kỳ cước đã được thanh toán")
    AMOUNT_ANOMALY = "amount_anomaly", _("Số tiền bất thường so với các kỳ trước")
    # Beyond the contract's five: the invoice's write failed for a reason no rule
    # foresaw (logged); the treasury looks into it.
    PROCESSING_ERROR = "processing_error", _("Lỗi xử lý, kho bạc kiểm tra")


class AutopayRun(models.Model):
    """One autopay run (the command or the schedule): its progress."""

    trigger = models.CharField(max_length=20, default="schedule")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0, help_text="pending invoices when the run started")
    processed = models.PositiveIntegerField(default=0)
    paid = models.PositiveIntegerField(default=0)
    excepted = models.PositiveIntegerField(default=0)
    paid_amount = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(processed=F("paid") + F("excepted")), name="autopay_run_counts_add_up")
        ]


class SupplierInvoice(models.Model):
    """An invoice a supplier sent for automatic payment."""

    supplier = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    invoice_number = models.CharField(max_length=60)
    customer_code = models.CharField(max_length=40)
    period = models.CharField(max_length=7)
    amount = models.BigIntegerField()
    issued_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.PENDING)
    exception_code = models.CharField(max_length=30, blank=True, choices=ExceptionCode.choices)
    exception_reason = models.TextField(blank=True)
    # The unit the invoice was decided for (the covering authorization's, or the
    # last unit that authorized this customer code): who sees its exception.
    unit = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    authorization = models.ForeignKey(
        AutopayAuthorization, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    transfer = models.OneToOneField(
        Transfer, null=True, blank=True, on_delete=models.PROTECT, related_name="autopay_invoice"
    )
    run = models.ForeignKey(AutopayRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices")
    # The pain.001 file that carried the payment out of the clearing account to the supplier's bank.
    bank_file = models.ForeignKey(
        BankFile, null=True, blank=True, on_delete=models.SET_NULL, related_name="autopay_invoices"
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    # An exception handled outside autopay (paid by a voucher, disputed with the
    # supplier): closed with a note, its status stays `exception` (the API's
    # status names do not change), it leaves the open exception list and is
    # never retried (autopay_invoice_close).
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    close_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The runs claim pending invoices oldest first.
            models.Index(fields=["id"], condition=Q(status="pending"), name="autopay_invoice_pending"),
            models.Index(fields=["supplier", "-created_at", "-id"], name="autopay_invoice_supplier"),
            models.Index(fields=["unit", "status", "-created_at"], name="autopay_invoice_unit"),
            # A customer code's paid history (amount anomaly, month totals).
            models.Index(
                fields=["supplier", "customer_code", "-period"], condition=Q(status="paid"),
                name="autopay_invoice_paid_history",
            ),
            models.Index(fields=["authorization", "period"], condition=Q(status="paid"), name="autopay_invoice_month"),
            # Paid invoices no bank file carries yet (bank_files_generate).
            models.Index(
                fields=["id"], condition=Q(status="paid", bank_file__isnull=True), name="autopay_invoice_unfiled"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "invoice_number"], name="autopay_invoice_number_unique"),
            # Never pay a period twice: per authorization, and per supplier's customer code.
            models.UniqueConstraint(
                fields=["authorization", "customer_code", "period"], condition=Q(status="paid"),
                name="autopay_paid_once_per_period",
            ),
            models.UniqueConstraint(
                fields=["supplier", "customer_code", "period"], condition=Q(status="paid"),
                name="autopay_paid_once_per_code_period",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="autopay_invoice_amount_positive"),
            models.CheckConstraint(
                condition=Q(period__regex=r"^[0-9]{4}-(0[1-9]|1[0-2])$"), name="autopay_invoice_period_format"
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="pending", exception_code="", transfer__isnull=True, settled_at__isnull=True)
                    | Q(
                        status="paid", exception_code="", transfer__isnull=False, authorization__isnull=False,
                        settled_at__isnull=False,
                    )
                    | Q(status="exception", exception_code__in=ExceptionCode.values, transfer__isnull=True,
                        settled_at__isnull=False)
                ),
                name="autopay_invoice_status_consistent",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(status="exception", closed_by__isnull=False),
                name="autopay_invoice_closed_is_exception",
            ),
        ]

    def __str__(self) -> str:
        return self.invoice_number


class AutopayEvent(models.Model):
    """The timeline of authorizations and invoices: who, when, from which
    state to which, and why."""

    authorization = models.ForeignKey(
        AutopayAuthorization, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    invoice = models.ForeignKey(SupplierInvoice, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(authorization__isnull=False) | Q(invoice__isnull=False), name="autopay_event_has_subject"
            )
        ]
