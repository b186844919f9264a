"""Budget estimates, the double-entry ledger, payment intents, documents and
notifications (the outbox). Counters and balances are caches of event rows
(budget movements, transfers) and CHECK constraints are the last line."""

import re

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class Bank(models.Model):
    """A bank of the directory, known by three identifiers: its short code
    (`CTG`, as the portal has always named it), its NAPAS BIN (six digits, as in
    VietQR) and its BIC (ISO 9362, written into pain.001's BICFI). Any of them
    names the bank in the API and the forms (payments.selectors.banks.bank_find)."""

    code = models.CharField(_("mã ngân hàng"), max_length=20, unique=True)
    bin = models.CharField(_("mã BIN NAPAS"), max_length=6, blank=True, default="")
    bic = models.CharField(_("mã BIC"), max_length=11, blank=True)
    name = models.CharField(_("tên ngân hàng"), max_length=255)

    class Meta:
        verbose_name = _("ngân hàng")
        verbose_name_plural = pgettext_lazy("plural", "ngân hàng")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["bin"], condition=~Q(bin=""), name="bank_bin_unique"),
            models.UniqueConstraint(fields=["bic"], condition=~Q(bic=""), name="bank_bic_unique"),
            models.CheckConstraint(condition=Q(bin="") | Q(bin__regex=r"^[0-9]{6}$"), name="bank_bin_six_digits"),
            models.CheckConstraint(
                condition=Q(bic="") | Q(bic__regex=r"^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$"),
                name="bank_bic_format",
            ),
        ]

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

    unit = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="budget_lines", verbose_name=_("đơn vị"),
    )
    fiscal_year = models.PositiveSmallIntegerField(_("năm ngân sách"))
    chapter = models.CharField(_("chương"), max_length=3)
    sector = models.CharField(_("loại-khoản"), max_length=3)
    ndkt = models.CharField(_("nội dung kinh tế"), max_length=4)
    funding_source = models.CharField(_("nguồn"), max_length=2)
    programme = models.CharField(_("CTMT/dự án"), max_length=5, default="00000")
    budget_level = models.CharField(_("cấp ngân sách"), max_length=1, choices=BudgetLevel.choices)
    name = models.CharField(_("tên dòng dự toán"), max_length=255, blank=True)
    allocated = models.BigIntegerField(_("dự toán được giao"), default=0)
    reserved = models.BigIntegerField(_("đã giữ chỗ"), default=0)
    spent = models.BigIntegerField(_("đã chi"), default=0)

    class Meta:
        verbose_name = _("dòng dự toán")
        verbose_name_plural = pgettext_lazy("plural", "dòng dự toán")
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
    # The bank rejected the payment (pain.002): the spending is a reservation again.
    UNSPEND = "unspend", _("Hoàn chi do ngân hàng từ chối")
    # An autopay invoice paid straight from the line: no reservation before it.
    AUTOPAY = "autopay", _("Chi thanh toán tự động")


class BudgetMovement(models.Model):
    """The event row of every counter change; counters must equal their sums."""

    budget_line = models.ForeignKey(
        BudgetLine, on_delete=models.PROTECT, related_name="movements", verbose_name=_("dòng dự toán"),
    )
    kind = models.CharField(_("loại biến động"), max_length=20, choices=BudgetMovementKind.choices)
    amount = models.BigIntegerField(_("số tiền"))
    voucher = models.ForeignKey(
        "vouchers.Voucher", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("chứng từ"),
    )
    key = models.CharField(_("khóa chống trùng"), max_length=200, unique=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("người thực hiện"),
    )
    note = models.CharField(_("ghi chú"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)

    class Meta:
        verbose_name = _("biến động dự toán")
        verbose_name_plural = pgettext_lazy("plural", "biến động dự toán")
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
    name = models.CharField(_("tên tài khoản"), max_length=255)
    kind = models.CharField(_("loại tài khoản"), max_length=20, choices=AccountKind.choices)
    unit = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="accounts",
        verbose_name=_("đơn vị"),
    )
    # Unit accounts: the budget level (estimate and deposit) and the programme
    # (deposit); treasury accounts kept per bank name the bank.
    budget_level = models.CharField(_("cấp ngân sách"), max_length=1, blank=True, choices=BudgetLevel.choices)
    programme = models.CharField(_("CTMT/dự án"), max_length=5, blank=True)
    bank = models.ForeignKey(
        Bank, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("ngân hàng"),
    )
    allow_negative = models.BooleanField(_("cho phép số dư âm"), default=False)
    balance = models.BigIntegerField(_("số dư"), default=0)
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)

    class Meta:
        verbose_name = _("tài khoản")
        verbose_name_plural = pgettext_lazy("plural", "tài khoản")
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
    # A payment the bank rejected (pain.002) comes back to the account it left.
    REVERSAL = "reversal", _("Hoàn tiền do ngân hàng từ chối")


# Descriptions the portal writes itself: stored as their Vietnamese source text
# (the official documents are Vietnamese) and shown in the reader's language.
DEPOSIT_DESCRIPTION = gettext_noop("Nộp tiền vào tài khoản tiền gửi")
SYSTEM_DESCRIPTIONS = frozenset({DEPOSIT_DESCRIPTION})
# An allocation's description: its fiscal year and budget-line classification.
ALLOCATION_DESCRIPTION = gettext_noop("Giao dự toán %(year)s %(line)s")
_ALLOCATION = re.compile(r"Giao dự toán (?P<year>\d{4}) (?P<line>\S+)")


class Transfer(models.Model):
    """A double-entry transfer: it debits one account and credits another by the
    same positive amount, at most once per key. The balances each account had
    right after it are kept, so statements and balance notices need no sums."""

    key = models.CharField(_("khóa chống trùng"), max_length=200, unique=True)
    debit_account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="debits", verbose_name=_("tài khoản ghi nợ"),
    )
    credit_account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="credits", verbose_name=_("tài khoản ghi có"),
    )
    amount = models.BigIntegerField(_("số tiền"))
    kind = models.CharField(_("loại bút toán"), max_length=30, choices=TransferKind.choices)
    voucher = models.ForeignKey(
        "vouchers.Voucher", null=True, blank=True, on_delete=models.PROTECT, related_name="transfers",
        verbose_name=_("chứng từ"),
    )
    description = models.CharField(_("diễn giải"), max_length=500, blank=True)
    # The party outside the ledger (a payee at a bank, a depositor), if any.
    counterparty_name = models.CharField(_("tên bên đối ứng"), max_length=255, blank=True)
    counterparty_account = models.CharField(_("tài khoản bên đối ứng"), max_length=40, blank=True)
    debit_balance_after = models.BigIntegerField(_("số dư bên nợ sau bút toán"), default=0)
    credit_balance_after = models.BigIntegerField(_("số dư bên có sau bút toán"), default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("người thực hiện"),
    )
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("bút toán chuyển tiền")
        verbose_name_plural = pgettext_lazy("plural", "bút toán chuyển tiền")
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

    @property
    def description_text(self) -> str:
        """The description in the reader's language when the portal wrote it; as typed otherwise."""
        if self.description in SYSTEM_DESCRIPTIONS:
            return gettext(self.description)
        if self.kind == TransferKind.ALLOCATION and (m := _ALLOCATION.fullmatch(self.description)):
            return gettext(ALLOCATION_DESCRIPTION) % m.groupdict()
        return self.description


class PaymentIntentStatus(models.TextChoices):
    PENDING = "pending", _("Chờ xử lý")
    PROCESSING = "processing", _("Đang xử lý")
    SUCCEEDED = "succeeded", _("Thành công")
    FAILED = "failed", _("Lỗi")


class PaymentIntent(models.Model):
    """Written with the approval, in its transaction; a worker claims it with a
    conditional update. One per voucher: a second payment cannot exist."""

    voucher = models.OneToOneField(
        "vouchers.Voucher", on_delete=models.PROTECT, related_name="payment_intent", verbose_name=_("chứng từ"),
    )
    status = models.CharField(
        _("trạng thái"), max_length=20, choices=PaymentIntentStatus.choices, default=PaymentIntentStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("số lần thử"), default=0)
    claimed_at = models.DateTimeField(_("thời điểm nhận xử lý"), null=True, blank=True)
    claimed_by = models.CharField(_("tiến trình xử lý"), max_length=100, blank=True)
    failure_code = models.CharField(_("mã lỗi"), max_length=40, blank=True)
    last_error = models.TextField(_("lỗi gần nhất"), blank=True)
    # Set when the payment credited a bank's clearing account: the transfer goes
    # out in that bank's next pain.001 file.
    clearing_bank = models.ForeignKey(
        Bank, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("ngân hàng thanh toán bù trừ"),
    )
    bank_file = models.ForeignKey(
        "payments.BankFile", null=True, blank=True, on_delete=models.SET_NULL, related_name="intents",
        verbose_name=_("tệp gửi ngân hàng"),
    )
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)
    updated_at = models.DateTimeField(_("thời điểm cập nhật"), auto_now=True)
    completed_at = models.DateTimeField(_("thời điểm hoàn tất"), null=True, blank=True)

    class Meta:
        verbose_name = _("lệnh thanh toán")
        verbose_name_plural = pgettext_lazy("plural", "lệnh thanh toán")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "updated_at"]),
            models.Index(fields=["clearing_bank", "bank_file"], name="intent_unfiled_per_bank"),
        ]


class BankFile(models.Model):
    """A pain.001 credit-transfer file for one bank and one cycle."""

    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="files", verbose_name=_("ngân hàng"))
    # The treasury office whose units' payments the file carries (its staff may download it).
    office = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("kho bạc"),
    )
    cycle = models.CharField(_("phiên"), max_length=30)
    message_id = models.CharField(_("mã thông điệp"), max_length=35, unique=True)
    file = models.FileField(_("tệp"), upload_to="bank-files/", max_length=255)
    transfer_count = models.PositiveIntegerField(_("số lệnh chuyển tiền"), default=0)
    control_sum = models.BigIntegerField(_("tổng kiểm soát"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("người tạo"),
    )
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)

    class Meta:
        verbose_name = _("tệp gửi ngân hàng")
        verbose_name_plural = pgettext_lazy("plural", "tệp gửi ngân hàng")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["office", "bank", "cycle"], name="bank_file_per_office_cycle")]


class BankStatusReport(models.Model):
    """A bank's status report (pain.002) on one of our pain.001 files, as imported."""

    message_id = models.CharField(_("mã thông điệp"), max_length=35, unique=True)
    bank_file = models.ForeignKey(
        BankFile, on_delete=models.PROTECT, related_name="status_reports", verbose_name=_("tệp lệnh chuyển tiền")
    )
    group_status = models.CharField(_("trạng thái cả tệp"), max_length=4, blank=True)
    file = models.FileField(_("tệp báo cáo"), upload_to="bank-status-reports/", max_length=255)
    transactions = models.PositiveIntegerField(_("số giao dịch"), default=0)
    rejected = models.PositiveIntegerField(_("số giao dịch bị từ chối"), default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("người nhập"),
    )
    created_at = models.DateTimeField(_("nhập lúc"), auto_now_add=True)

    class Meta:
        verbose_name = _("báo cáo trạng thái của ngân hàng")
        verbose_name_plural = pgettext_lazy("plural", "báo cáo trạng thái của ngân hàng")
        ordering = ["-created_at", "-id"]


class BankRejection(models.Model):
    """One transfer a status report rejected, and what was done about it: the
    event row of the reversal. Unique per report message id and transaction
    (its end-to-end id), so importing a report twice reverses nothing twice."""

    report = models.ForeignKey(
        BankStatusReport, on_delete=models.PROTECT, related_name="rejections", verbose_name=_("báo cáo trạng thái")
    )
    report_message_id = models.CharField(_("mã thông điệp của báo cáo"), max_length=35)
    end_to_end_id = models.CharField(_("mã giao dịch đầu cuối"), max_length=35)
    reason_code = models.CharField(_("mã lý do"), max_length=35, blank=True)
    reason = models.CharField(_("lý do"), max_length=500, blank=True)
    voucher = models.ForeignKey(
        "vouchers.Voucher", null=True, blank=True, on_delete=models.PROTECT, related_name="bank_rejections",
        verbose_name=_("chứng từ"),
    )
    amount = models.BigIntegerField(_("số tiền"), default=0)
    # False when nothing could be reversed (already reversed, unknown or not a voucher's payment).
    reversed = models.BooleanField(_("đã hoàn"), default=False)
    outcome = models.CharField(_("kết quả xử lý"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("nhập lúc"), auto_now_add=True)

    class Meta:
        verbose_name = _("giao dịch bị ngân hàng từ chối")
        verbose_name_plural = pgettext_lazy("plural", "giao dịch bị ngân hàng từ chối")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["report_message_id", "end_to_end_id"], name="bank_rejection_once_per_report"
            ),
        ]


class DocumentKind(models.TextChoices):
    RESULT = "result", _("Chứng từ kết quả")
    DEBIT_ADVICE = "debit_advice", _("Giấy báo nợ")


class Document(models.Model):
    """A rendered PDF kept in private storage and served through checked views."""

    kind = models.CharField(_("loại tài liệu"), max_length=20, choices=DocumentKind.choices)
    voucher = models.ForeignKey(
        "vouchers.Voucher", null=True, blank=True, on_delete=models.PROTECT, related_name="documents",
        verbose_name=_("chứng từ"),
    )
    transfer = models.ForeignKey(
        Transfer, null=True, blank=True, on_delete=models.PROTECT, related_name="documents",
        verbose_name=_("bút toán chuyển tiền"),
    )
    file = models.FileField(_("tệp"), upload_to="documents/", max_length=255, blank=True)
    sha256 = models.CharField(_("mã băm SHA-256"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)
    rendered_at = models.DateTimeField(_("thời điểm lập"), null=True, blank=True)

    class Meta:
        verbose_name = _("tài liệu")
        verbose_name_plural = pgettext_lazy("plural", "tài liệu")
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
    # Notices of the integrations app (an integrator's webhook endpoint switched off).
    INTEGRATION = "integration", _("Kết nối hệ thống")
    # A "dissatisfied" rating opened a follow-up (monitoring.satisfaction): told to the office's leaders.
    SATISFACTION_FOLLOWUP = "satisfaction_followup", _("Phản ánh không hài lòng cần theo dõi")


class Channel(models.TextChoices):
    PORTAL = "portal", _("Trên cổng")
    EMAIL = "email", _("Thư điện tử")
    SMS = "sms", _("SMS/ứng dụng")


class Notification(models.Model):
    """Written in the same transaction as its cause; the portal channel is this row."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("người dùng"),
    )
    kind = models.CharField(_("loại thông báo"), max_length=30, choices=NotificationKind.choices)
    title = models.CharField(_("tiêu đề"), max_length=255)
    body = models.TextField(_("nội dung"))
    data = models.JSONField(_("dữ liệu"), default=dict, blank=True)
    unit = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("đơn vị"),
    )
    voucher = models.ForeignKey(
        "vouchers.Voucher", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("chứng từ"),
    )
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)
    read_at = models.DateTimeField(_("thời điểm đọc"), null=True, blank=True)

    class Meta:
        verbose_name = _("thông báo")
        verbose_name_plural = pgettext_lazy("plural", "thông báo")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"])]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Chờ gửi")
    SENT = "sent", pgettext_lazy("delivery status", "Đã gửi")
    FAILED = "failed", _("Lỗi")


class NotificationDelivery(models.Model):
    """The outbox row for one external channel of one notification."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("thông báo"),
    )
    channel = models.CharField(_("kênh"), max_length=10, choices=Channel.choices)
    status = models.CharField(
        _("trạng thái gửi"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("số lần thử"), default=0)
    last_error = models.TextField(_("lỗi gần nhất"), blank=True)
    next_attempt_at = models.DateTimeField(_("lần thử tiếp theo"), null=True, blank=True)
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)
    sent_at = models.DateTimeField(_("thời điểm gửi"), null=True, blank=True)

    class Meta:
        verbose_name = _("lượt gửi thông báo")
        verbose_name_plural = pgettext_lazy("plural", "lượt gửi thông báo")
        indexes = [
            models.Index(fields=["status", "created_at"]),
            # The delivery claim (status = 'pending' ORDER BY id): the pending rows
            # only, however many were delivered before (tests/test_outbox_scale.py).
            models.Index(fields=["id"], condition=Q(status="pending"), name="delivery_pending"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="one_delivery_per_channel")
        ]


class NotificationPreference(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences",
        verbose_name=_("người dùng"),
    )
    kind = models.CharField(_("loại thông báo"), max_length=30, choices=NotificationKind.choices)
    channel = models.CharField(_("kênh"), max_length=10, choices=Channel.choices)
    enabled = models.BooleanField(_("bật"), default=True)

    class Meta:
        verbose_name = _("tùy chọn thông báo")
        verbose_name_plural = pgettext_lazy("plural", "tùy chọn thông báo")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "channel"], name="one_preference_per_kind_channel")
        ]


class FiscalYearCloseState(models.TextChoices):
    OPEN = "open", _("đang mở")
    CLOSING = "closing", _("đang khóa sổ")
    CLOSED = "closed", _("đã khóa sổ")


class FiscalYearClose(models.Model):
    """An office's year end for one fiscal year (the calendar year): spending of
    year N is filed until the cut-off date, settled during the adjustment period
    (by default until 31 January of N+1), and the office's administrator closes
    the year: the vouchers still open are carried to the new year or refused
    with a reason (payments.services.yearend, docs/ledger.md "Year end")."""

    office = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="fiscal_year_closes",
        limit_choices_to={"kind": "treasury_office"}, verbose_name=_("kho bạc"),
    )
    year = models.PositiveSmallIntegerField(_("năm ngân sách"))
    cut_off = models.DateField(_("ngày khóa sổ"))
    adjustment_until = models.DateField(_("hết thời gian chỉnh lý"))
    state = models.CharField(
        _("trạng thái"), max_length=20, choices=FiscalYearCloseState.choices, default=FiscalYearCloseState.OPEN,
    )
    refuse_note = models.TextField(_("lý do từ chối chứng từ còn mở"), blank=True)
    total = models.PositiveIntegerField(_("số chứng từ cần xử lý"), default=0)
    carried = models.PositiveIntegerField(_("số chứng từ chuyển năm sau"), default=0)
    refused = models.PositiveIntegerField(_("số chứng từ bị từ chối"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("người tạo"),
    )
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)
    closing_started_at = models.DateTimeField(_("thời điểm bắt đầu khóa sổ"), null=True, blank=True)
    closed_at = models.DateTimeField(_("thời điểm khóa sổ"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("người khóa sổ"),
    )

    class Meta:
        verbose_name = _("khóa sổ năm ngân sách")
        verbose_name_plural = pgettext_lazy("plural", "khóa sổ năm ngân sách")
        ordering = ["-year", "office__code", "id"]
        constraints = [
            models.UniqueConstraint(fields=["office", "year"], name="fiscal_year_close_once_per_office"),
            models.CheckConstraint(condition=Q(year__gte=2000) & Q(year__lte=2100), name="fiscal_year_close_year"),
            models.CheckConstraint(
                condition=Q(adjustment_until__gte=F("cut_off")), name="fiscal_year_close_adjustment_after_cut_off"
            ),
            models.CheckConstraint(
                condition=(Q(state="closed") & Q(closed_at__isnull=False) & Q(closed_by__isnull=False))
                | (~Q(state="closed") & Q(closed_at__isnull=True)),
                name="fiscal_year_close_closed_stamped",
            ),
            models.CheckConstraint(
                condition=Q(carried__gte=0) & Q(refused__gte=0) & Q(total__gte=F("carried") + F("refused")),
                name="fiscal_year_close_counts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.office} · {self.year}"


# State budget revenue collected by the treasury offices (issue 12), in a module of its own.
from payments.models_revenue import RevenueCollection, RevenueSource  # noqa: E402, F401
