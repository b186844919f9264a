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
