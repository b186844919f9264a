"""Automatic utility payments (autopay): authorizations, supplier invoices,
runs and their events. The tables kept the names they had in payments
(db_table, constraint and index names unchanged; autopay/migrations/0001 took
the models over in Django's state only)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from payments.models import Account, Bank, BankFile, BudgetLine, Transfer

# --- automatic utility payments (autopay) ---------------------------------------
#
# A unit authorizes a supplier to be paid automatically for some customer codes,
# charging one budget line or one deposit account, within caps and a validity
# period; the chief accountant and the account holder sign it (Ed25519 over its
# content hash) and a treasury administrator confirms it. Suppliers send
# invoices; a run pays exactly the invoiced amount or puts the invoice in the
# exception list with a code (autopay/services.py, docs/ledger.md).


class SupplierCollectionAccount(models.Model):
    """Where a supplier's autopay money goes: its account at a bank. Kept by
    treasury administrators (admin site; the demo seeds one per supplier). The
    ledger credits that bank's clearing account `3856.BANK`, with the supplier
    and this account number as the counterparty, like a voucher's payee."""

    supplier = models.OneToOneField(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="collection_account",
        limit_choices_to={"kind": "supplier"},
        verbose_name=_("nhà cung cấp"),
    )
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="+", verbose_name=_("ngân hàng"))
    account_number = models.CharField(_("số tài khoản"), max_length=34)
    account_name = models.CharField(_("tên tài khoản"), max_length=255)
    updated_at = models.DateTimeField(_("thời điểm cập nhật"), auto_now=True)

    class Meta:
        db_table = "payments_suppliercollectionaccount"  # the table it had in payments
        verbose_name = _("tài khoản thu của nhà cung cấp")
        verbose_name_plural = pgettext_lazy("plural", "tài khoản thu của nhà cung cấp")
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
        "accounts.Organisation", on_delete=models.PROTECT, related_name="autopay_authorizations",
        verbose_name=_("đơn vị"),
    )
    supplier = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("nhà cung cấp"),
    )
    # Exactly one of the two is charged.
    budget_line = models.ForeignKey(
        BudgetLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("dòng dự toán"),
    )
    deposit_account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("tài khoản tiền gửi"),
    )
    cap_per_invoice = models.BigIntegerField(_("hạn mức mỗi hóa đơn"))
    cap_per_month = models.BigIntegerField(_("hạn mức mỗi tháng"))
    valid_from = models.DateField(_("hiệu lực từ"))
    valid_to = models.DateField(_("hiệu lực đến"))
    status = models.CharField(
        _("trạng thái"), max_length=20, choices=AuthorizationStatus.choices, default=AuthorizationStatus.DRAFT,
    )
    content_hash = models.CharField(_("mã băm nội dung"), max_length=64, blank=True)
    content_version = models.PositiveIntegerField(_("phiên bản nội dung"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("người tạo"),
    )
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)
    updated_at = models.DateTimeField(_("thời điểm cập nhật"), auto_now=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("người trình"),
    )
    submitted_at = models.DateTimeField(_("thời điểm trình"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("người xác nhận"),
    )
    confirmed_at = models.DateTimeField(_("thời điểm xác nhận"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("người thu hồi"),
    )
    revoked_at = models.DateTimeField(_("thời điểm thu hồi"), null=True, blank=True)
    # Year end: the authorization of the previous fiscal year this one carries on
    # (payments.services.yearend.authorization_roll_over), on the new year's matching line.
    rolled_over_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="rolled_over_to",
        verbose_name=_("chuyển tiếp từ ủy quyền"),
    )

    class Meta:
        db_table = "payments_autopayauthorization"  # the table it had in payments
        verbose_name = _("ủy quyền thanh toán tự động")
        verbose_name_plural = pgettext_lazy("plural", "ủy quyền thanh toán tự động")
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

    authorization = models.ForeignKey(
        AutopayAuthorization, on_delete=models.CASCADE, related_name="customer_codes", verbose_name=_("ủy quyền"),
    )
    supplier = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("nhà cung cấp"),
    )
    customer_code = models.CharField(_("mã khách hàng"), max_length=40)
    active = models.BooleanField(_("đang hiệu lực"), default=False)

    class Meta:
        db_table = "payments_authorizationcustomercode"  # the table it had in payments
        verbose_name = _("mã khách hàng được ủy quyền")
        verbose_name_plural = pgettext_lazy("plural", "mã khách hàng được ủy quyền")
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

    authorization = models.ForeignKey(
        AutopayAuthorization, on_delete=models.CASCADE, related_name="signatures", verbose_name=_("ủy quyền"),
    )
    key = models.ForeignKey(
        "accounts.SigningKey", on_delete=models.PROTECT, related_name="+", verbose_name=_("khóa ký"),
    )
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("người ký"),
    )
    role = models.CharField(_("vai trò"), max_length=30)
    content_hash = models.CharField(_("mã băm nội dung"), max_length=64)
    signature = models.CharField(_("chữ ký"), max_length=100)
    signed_at = models.DateTimeField(_("thời điểm ký"))
    voided_at = models.DateTimeField(_("thời điểm hủy hiệu lực"), null=True, blank=True)

    class Meta:
        db_table = "payments_authorizationsignature"  # the table it had in payments
        verbose_name = _("chữ ký ủy quyền")
        verbose_name_plural = pgettext_lazy("plural", "chữ ký ủy quyền")
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


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Đang chạy")
    FINISHED = "finished", _("Đã xong")
    # Its process died (no heartbeat within the lease): the next run took over.
    ABANDONED = "abandoned", _("Bị bỏ dở")


class AutopayRun(models.Model):
    """One autopay run (the command or the schedule): its progress. A running
    run's batches refresh `heartbeat_at`; one whose heartbeat is older than
    settings.AUTOPAY_RUN_LEASE is finished as `abandoned` by the next start."""

    trigger = models.CharField(_("cách khởi chạy"), max_length=20, default="schedule")
    status = models.CharField(_("trạng thái"), max_length=20, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(_("thời điểm bắt đầu"), auto_now_add=True)
    heartbeat_at = models.DateTimeField(_("tín hiệu gần nhất"), default=timezone.now)
    finished_at = models.DateTimeField(_("thời điểm kết thúc"), null=True, blank=True)
    total = models.PositiveIntegerField(
        _("tổng số hóa đơn"), default=0, help_text=_("số hóa đơn chờ thanh toán khi lượt chạy bắt đầu"),
    )
    processed = models.PositiveIntegerField(_("đã xử lý"), default=0)
    paid = models.PositiveIntegerField(_("đã thanh toán"), default=0)
    excepted = models.PositiveIntegerField(_("ngoại lệ"), default=0)
    paid_amount = models.BigIntegerField(_("số tiền đã thanh toán"), default=0)

    class Meta:
        db_table = "payments_autopayrun"  # the table it had in payments
        verbose_name = _("lượt chạy thanh toán tự động")
        verbose_name_plural = pgettext_lazy("plural", "lượt chạy thanh toán tự động")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(processed=F("paid") + F("excepted")), name="autopay_run_counts_add_up"),
            models.CheckConstraint(
                condition=Q(status=RunStatus.RUNNING, finished_at__isnull=True)
                | Q(status__in=[RunStatus.FINISHED, RunStatus.ABANDONED], finished_at__isnull=False),
                name="autopay_run_finished_with_its_status",
            ),
        ]
        indexes = [
            models.Index(fields=["heartbeat_at"], condition=Q(status="running"), name="autopay_run_running"),
        ]


class SupplierInvoice(models.Model):
    """An invoice a supplier sent for automatic payment."""

    supplier = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("nhà cung cấp"),
    )
    invoice_number = models.CharField(_("số hóa đơn"), max_length=60)
    customer_code = models.CharField(_("mã khách hàng"), max_length=40)
    period = models.CharField(_("kỳ cước"), max_length=7)
    amount = models.BigIntegerField(_("số tiền"))
    issued_at = models.DateTimeField(_("ngày phát hành"))
    status = models.CharField(
        _("trạng thái"), max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.PENDING,
    )
    exception_code = models.CharField(_("mã ngoại lệ"), max_length=30, blank=True, choices=ExceptionCode.choices)
    exception_reason = models.TextField(_("lý do ngoại lệ"), blank=True)
    # What the reason was made from ({"key", "values"}: autopay.reasons),
    # so that every reader sees it in their own language (exception_reason_text).
    exception_params = models.JSONField(_("tham số lý do ngoại lệ"), default=dict, blank=True)
    # The unit the invoice was decided for (the covering authorization's, or the
    # last unit that authorized this customer code): who sees its exception.
    unit = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("đơn vị"),
    )
    authorization = models.ForeignKey(
        AutopayAuthorization, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices",
        verbose_name=_("ủy quyền"),
    )
    transfer = models.OneToOneField(
        Transfer, null=True, blank=True, on_delete=models.PROTECT, related_name="autopay_invoice",
        verbose_name=_("bút toán chuyển tiền"),
    )
    run = models.ForeignKey(
        AutopayRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices",
        verbose_name=_("lượt chạy"),
    )
    # The pain.001 file that carried the payment out of the clearing account to the supplier's bank.
    bank_file = models.ForeignKey(
        BankFile, null=True, blank=True, on_delete=models.SET_NULL, related_name="autopay_invoices",
        verbose_name=_("tệp gửi ngân hàng"),
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("người nhận"),
    )
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)
    settled_at = models.DateTimeField(_("thời điểm xử lý xong"), null=True, blank=True)
    # An exception handled outside autopay (paid by a voucher, disputed with the
    # supplier): closed with a note, its status stays `exception` (the API's
    # status names do not change), it leaves the open exception list and is
    # never retried (autopay_invoice_close).
    closed_at = models.DateTimeField(_("thời điểm đóng"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("người đóng"),
    )
    close_note = models.TextField(_("ghi chú khi đóng"), blank=True)

    class Meta:
        db_table = "payments_supplierinvoice"  # the table it had in payments
        verbose_name = _("hóa đơn nhà cung cấp")
        verbose_name_plural = pgettext_lazy("plural", "hóa đơn nhà cung cấp")
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

    @property
    def exception_reason_text(self) -> str:
        """The exception's sentence in the reader's language (the stored one for older rows)."""
        from autopay.reasons import render

        return render(self.exception_params) or self.exception_reason


class AutopayEvent(models.Model):
    """The timeline of authorizations and invoices: who, when, from which
    state to which, and why."""

    authorization = models.ForeignKey(
        AutopayAuthorization, null=True, blank=True, on_delete=models.CASCADE, related_name="events",
        verbose_name=_("ủy quyền"),
    )
    invoice = models.ForeignKey(
        SupplierInvoice, null=True, blank=True, on_delete=models.CASCADE, related_name="events",
        verbose_name=_("hóa đơn"),
    )
    run = models.ForeignKey(
        AutopayRun, null=True, blank=True, on_delete=models.CASCADE, related_name="events", verbose_name=_("lượt chạy"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("người thực hiện"),
    )
    action = models.CharField(_("thao tác"), max_length=30)
    from_status = models.CharField(_("từ trạng thái"), max_length=20, blank=True)
    to_status = models.CharField(_("sang trạng thái"), max_length=20, blank=True)
    note = models.TextField(_("ghi chú"), blank=True)
    data = models.JSONField(_("dữ liệu"), default=dict, blank=True)
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)

    class Meta:
        db_table = "payments_autopayevent"  # the table it had in payments
        verbose_name = _("sự kiện thanh toán tự động")
        verbose_name_plural = pgettext_lazy("plural", "sự kiện thanh toán tự động")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(authorization__isnull=False) | Q(invoice__isnull=False) | Q(run__isnull=False),
                name="autopay_event_has_subject",
            )
        ]
