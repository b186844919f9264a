"""Procedures (versioned), the working-day calendar, vouchers and their life."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class VoucherMode(models.TextChoices):
    PAYMENT = "payment", pgettext_lazy("voucher mode", "Thanh toán")
    ADVANCE = "advance", _("Tạm ứng")


class Procedure(models.Model):
    """An administrative procedure of the catalogue. Its rules live in versions."""

    code = models.CharField(_("mã"), max_length=30)
    mode = models.CharField(_("hình thức"), max_length=10, blank=True, choices=VoucherMode.choices)
    name_vi = models.CharField(_("tên tiếng Việt"), max_length=255)
    name_en = models.CharField(_("tên tiếng Anh"), max_length=255)
    files_voucher = models.BooleanField(
        _("lập chứng từ trên cổng"),
        default=True,
        help_text=_("Đơn vị lập chứng từ cho thủ tục này trên cổng hay không."),
    )
    position = models.PositiveSmallIntegerField(_("thứ tự"), default=0)

    class Meta:
        verbose_name = _("thủ tục")
        verbose_name_plural = pgettext_lazy("plural", "thủ tục")
        ordering = ["position", "code", "mode"]
        constraints = [models.UniqueConstraint(fields=["code", "mode"], name="procedure_code_mode_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.mode}".strip()


class ProcedureVersion(models.Model):
    """The rules in force from `effective_from`; the version in force on the
    receipt date applies to a voucher (the law changes: rows, not code)."""

    procedure = models.ForeignKey(
        Procedure, on_delete=models.PROTECT, related_name="versions", verbose_name=_("thủ tục"),
    )
    effective_from = models.DateField(_("hiệu lực từ ngày"))
    processing_days = models.PositiveSmallIntegerField(_("số ngày xử lý"))
    # The newer rule: more days in peak periods, given as [["12-25", "12-31"], ...].
    peak_processing_days = models.PositiveSmallIntegerField(_("số ngày xử lý cao điểm"), null=True, blank=True)
    peak_periods = models.JSONField(_("các giai đoạn cao điểm"), default=list, blank=True)
    legal_basis = models.CharField(_("căn cứ pháp lý"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("phiên bản thủ tục")
        verbose_name_plural = pgettext_lazy("plural", "phiên bản thủ tục")
        ordering = ["procedure", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "effective_from"], name="procedure_version_unique_date"),
            models.CheckConstraint(condition=Q(processing_days__gte=1), name="procedure_days_positive"),
        ]

    def __str__(self) -> str:
        return _("%(procedure)s từ %(date)s") % {"procedure": self.procedure, "date": self.effective_from}


class DocumentKind(models.TextChoices):
    CONTRACT = "contract", _("Hợp đồng")
    ACCEPTANCE = "acceptance", _("Biên bản nghiệm thu / bảng xác định giá trị khối lượng hoàn thành")
    PAYMENT_LIST = "payment_list", _("Bảng kê thanh toán")
    BENEFICIARY_LIST = "beneficiary_list", _("Danh sách người hưởng")
    INVOICE = "invoice", _("Hóa đơn")
    OTHER = "other", _("Tài liệu khác")


class DocumentRequirement(models.Model):
    """A document a procedure version's dossier needs, possibly only above an amount."""

    version = models.ForeignKey(
        ProcedureVersion, on_delete=models.CASCADE, related_name="documents", verbose_name=_("phiên bản thủ tục"),
    )
    kind = models.CharField(_("loại tài liệu"), max_length=30, choices=DocumentKind.choices)
    min_total = models.BigIntegerField(
        _("tổng tiền tối thiểu"),
        null=True,
        blank=True,
        help_text=_("Chỉ bắt buộc khi tổng tiền chứng từ vượt mức này (đồng)."),
    )
    note_vi = models.CharField(_("ghi chú tiếng Việt"), max_length=255, blank=True)
    note_en = models.CharField(_("ghi chú tiếng Anh"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("tài liệu cần nộp")
        verbose_name_plural = pgettext_lazy("plural", "tài liệu cần nộp")
        ordering = ["version", "id"]


class ChecklistItem(models.Model):
    """What the control officer checks for a procedure version."""

    version = models.ForeignKey(
        ProcedureVersion, on_delete=models.CASCADE, related_name="checklist", verbose_name=_("phiên bản thủ tục"),
    )
    code = models.CharField(_("mã"), max_length=30)
    text_vi = models.CharField(_("nội dung tiếng Việt"), max_length=255)
    text_en = models.CharField(_("nội dung tiếng Anh"), max_length=255)

    class Meta:
        verbose_name = _("mục kiểm tra")
        verbose_name_plural = pgettext_lazy("plural", "mục kiểm tra")
        ordering = ["version", "id"]


class CalendarDayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Ngày nghỉ")
    MAKEUP_WORKDAY = "makeup_workday", _("Ngày làm bù")


class CalendarDay(models.Model):
    """An exception to Monday–Friday: a public holiday or a make-up working day."""

    date = models.DateField(_("ngày"), unique=True)
    kind = models.CharField(_("loại ngày"), max_length=20, choices=CalendarDayKind.choices)
    name = models.CharField(_("tên ngày"), max_length=255)

    class Meta:
        verbose_name = _("ngày lịch")
        verbose_name_plural = pgettext_lazy("plural", "lịch ngày nghỉ và làm bù")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


class ReasonKind(models.TextChoices):
    DEFICIENCY = "deficiency", _("Thiếu sót cần bổ sung")
    REFUSAL = "refusal", _("Lý do từ chối")


class ReasonCode(models.Model):
    """Coded deficiencies and refusal reasons, so returns and refusals are counted."""

    kind = models.CharField(_("loại lý do"), max_length=20, choices=ReasonKind.choices)
    code = models.CharField(_("mã"), max_length=20)
    text_vi = models.CharField(_("nội dung tiếng Việt"), max_length=255)
    text_en = models.CharField(_("nội dung tiếng Anh"), max_length=255)
    is_active = models.BooleanField(_("đang hoạt động"), default=True)

    class Meta:
        verbose_name = _("mã lý do")
        verbose_name_plural = pgettext_lazy("plural", "mã lý do")
        ordering = ["kind", "code"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="reason_code_unique")]

    def __str__(self) -> str:
        from vouchers.selectors import localized

        return f"{self.code} {localized(self, 'text')}"


class VoucherStatus(models.TextChoices):
    DRAFT = "draft", _("Nháp")
    SUBMITTED = "submitted", _("Đã gửi")
    IN_CONTROL = "in_control", _("Đang kiểm soát")
    RETURNED = "returned", _("Trả lại bổ sung")
    PENDING_APPROVAL = "pending_approval", _("Chờ phê duyệt")
    APPROVED = "approved", _("Đã phê duyệt")
    PAID = "paid", _("Đã thanh toán")
    PAYMENT_FAILED = "payment_failed", _("Thanh toán lỗi")
    # "Từ chối" is also the verb on buttons; the status needs its own English word.
    REFUSED = "refused", pgettext_lazy("voucher status", "Từ chối")
    WITHDRAWN = "withdrawn", _("Đã rút")


# A voucher its unit may still change (and sign, and submit).
EDITABLE_STATUSES = frozenset({VoucherStatus.DRAFT, VoucherStatus.RETURNED})

# The one table of allowed transitions (action -> (from statuses, to status)).
# Services check every state change against it; nothing else sets `status`.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (EDITABLE_STATUSES, VoucherStatus.SUBMITTED),
    "withdraw": (frozenset({VoucherStatus.SUBMITTED}), VoucherStatus.WITHDRAWN),
    "claim": (frozenset({VoucherStatus.SUBMITTED}), VoucherStatus.IN_CONTROL),
    "return": (frozenset({VoucherStatus.IN_CONTROL}), VoucherStatus.RETURNED),
    "pass": (frozenset({VoucherStatus.IN_CONTROL}), VoucherStatus.PENDING_APPROVAL),
    "refuse": (frozenset({VoucherStatus.IN_CONTROL}), VoucherStatus.REFUSED),
    # Hand-over: the controller gives the voucher back to the office's queue, or a
    # leader gives it to another control officer (the status stays).
    "release": (frozenset({VoucherStatus.IN_CONTROL}), VoucherStatus.SUBMITTED),
    "reassign": (frozenset({VoucherStatus.IN_CONTROL}), VoucherStatus.IN_CONTROL),
    "approve": (frozenset({VoucherStatus.PENDING_APPROVAL}), VoucherStatus.APPROVED),
    "send_back": (frozenset({VoucherStatus.PENDING_APPROVAL}), VoucherStatus.IN_CONTROL),
    "pay": (frozenset({VoucherStatus.APPROVED, VoucherStatus.PAYMENT_FAILED}), VoucherStatus.PAID),
    "fail_payment": (frozenset({VoucherStatus.APPROVED}), VoucherStatus.PAYMENT_FAILED),
    "retry_payment": (frozenset({VoucherStatus.PAYMENT_FAILED}), VoucherStatus.APPROVED),
    # The payee's bank rejected the transfer (pain.002): the money came back, the payment failed.
    "bank_reject": (frozenset({VoucherStatus.PAID}), VoucherStatus.PAYMENT_FAILED),
    # Year end: the office closes the fiscal year and refuses a voucher it has not
    # approved yet, with a reason (payments.services.yearend). The others are carried.
    "year_end_refuse": (
        frozenset({VoucherStatus.SUBMITTED, VoucherStatus.IN_CONTROL, VoucherStatus.PENDING_APPROVAL}),
        VoucherStatus.REFUSED,
    ),
}
OPEN_STATUSES = frozenset(
    {
        VoucherStatus.SUBMITTED,
        VoucherStatus.IN_CONTROL,
        VoucherStatus.PENDING_APPROVAL,
        VoucherStatus.APPROVED,
        VoucherStatus.PAYMENT_FAILED,
    }
)
CLOSED_STATUSES = frozenset({VoucherStatus.PAID, VoucherStatus.REFUSED, VoucherStatus.WITHDRAWN})


class NumberSequence(models.Model):
    """Gap-free counters (voucher numbers per unit and year, receipt numbers per
    office and day), advanced under a row lock."""

    scope = models.CharField(_("phạm vi"), max_length=100, unique=True)
    last = models.BigIntegerField(_("số cuối"), default=0)

    class Meta:
        verbose_name = _("dãy số")
        verbose_name_plural = pgettext_lazy("plural", "dãy số")


class Voucher(models.Model):
    number = models.CharField(_("số chứng từ"), max_length=40, unique=True)
    unit = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="vouchers", verbose_name=_("đơn vị"),
    )
    # The unit's transaction office, copied from the unit (vouchers_follow_unit_office
    # keeps it when a unit moves): the review queues scope by it straight off their
    # indexes instead of joining every queued voucher to its unit's path.
    office = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", editable=False,
        verbose_name=_("kho bạc giao dịch"),
    )
    procedure = models.ForeignKey(
        Procedure, on_delete=models.PROTECT, related_name="vouchers", verbose_name=_("thủ tục"),
    )
    procedure_version = models.ForeignKey(
        ProcedureVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="vouchers",
        verbose_name=_("phiên bản thủ tục"),
    )
    mode = models.CharField(_("hình thức"), max_length=10, choices=VoucherMode.choices, default=VoucherMode.PAYMENT)
    fiscal_year = models.PositiveSmallIntegerField(_("năm ngân sách"))
    description = models.TextField(_("nội dung"), max_length=2000)
    payee_name = models.CharField(_("đơn vị nhận tiền"), max_length=255)
    payee_account = models.CharField(_("tài khoản nhận"), max_length=34)
    payee_bank = models.ForeignKey(
        "payments.Bank", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("ngân hàng nhận"),
    )
    # C4-02a/KB pays from a deposit account instead of a budget estimate.
    deposit_account = models.ForeignKey(
        "payments.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="vouchers",
        verbose_name=_("tài khoản tiền gửi"),
    )
    # C2-03/NS settles an earlier advance.
    settles = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="settlements",
        verbose_name=_("thanh toán tạm ứng của"),
    )
    settled_amount = models.BigIntegerField(_("số tiền đã thanh toán tạm ứng"), default=0)
    contract_number = models.CharField(_("số hợp đồng"), max_length=100, blank=True)
    contract_value = models.BigIntegerField(_("giá trị hợp đồng"), null=True, blank=True)
    total_amount = models.BigIntegerField(_("tổng số tiền"), default=0)
    content_hash = models.CharField(_("mã băm nội dung"), max_length=64, blank=True)
    content_version = models.PositiveIntegerField(_("phiên bản nội dung"), default=1)
    status = models.CharField(
        _("trạng thái"), max_length=20, choices=VoucherStatus.choices, default=VoucherStatus.DRAFT,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("người tạo"),
    )
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)
    updated_at = models.DateTimeField(_("thời điểm cập nhật"), auto_now=True)
    receipt_number = models.CharField(_("số tiếp nhận"), max_length=40, null=True, blank=True, unique=True)
    received_at = models.DateTimeField(_("thời điểm tiếp nhận"), null=True, blank=True)
    due_at = models.DateTimeField(_("hạn xử lý"), null=True, blank=True)
    returned_at = models.DateTimeField(_("thời điểm trả lại"), null=True, blank=True)
    return_count = models.PositiveSmallIntegerField(_("số lần trả lại"), default=0)
    controller = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("cán bộ kiểm soát"),
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("lãnh đạo phê duyệt"),
    )
    deficiencies = models.JSONField(_("thiếu sót"), default=list, blank=True)
    refusal_reasons = models.JSONField(_("lý do từ chối"), default=list, blank=True)
    closed_at = models.DateTimeField(_("thời điểm đóng"), null=True, blank=True)

    class Meta:
        verbose_name = _("chứng từ")
        verbose_name_plural = pgettext_lazy("plural", "chứng từ")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The unit's list (newest first) and the officer queue (oldest due first).
            models.Index(fields=["unit", "-created_at", "-id"], name="voucher_unit_list"),
            models.Index(fields=["status", "due_at", "id"], name="voucher_queue"),
            # The review queues, oldest due first, scoped by office: an ordered scan
            # that reads the office from the index and stops after one page.
            models.Index(
                fields=["due_at", "id"], include=["office"], name="voucher_control_queue",
                condition=Q(status__in=["submitted", "in_control"]),
            ),
            models.Index(
                fields=["due_at", "id"], include=["office"], name="voucher_approval_queue",
                condition=Q(status="pending_approval"),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total_amount__gte=0), name="voucher_total_non_negative"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in VoucherStatus]), name="voucher_status_known"
            ),
            models.CheckConstraint(
                condition=Q(settled_amount__gte=0) & Q(settled_amount__lte=models.F("total_amount")),
                name="voucher_settled_within_total",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class VoucherLine(models.Model):
    voucher = models.ForeignKey(Voucher, on_delete=models.CASCADE, related_name="lines", verbose_name=_("chứng từ"))
    budget_line = models.ForeignKey(
        "payments.BudgetLine", on_delete=models.PROTECT, related_name="voucher_lines", verbose_name=_("dòng dự toán"),
    )
    amount = models.BigIntegerField(_("số tiền"))
    description = models.CharField(_("diễn giải"), max_length=500, blank=True)
    position = models.PositiveSmallIntegerField(_("thứ tự"), default=0)

    class Meta:
        verbose_name = _("dòng chứng từ")
        verbose_name_plural = pgettext_lazy("plural", "dòng chứng từ")
        ordering = ["voucher", "position", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="voucher_line_amount_positive")]


def attachment_path(instance: "Attachment", filename: str) -> str:
    # Never the user's file name on disk: it may carry path tricks.
    return f"attachments/{instance.voucher_id}/{instance.sha256}"


class Attachment(models.Model):
    voucher = models.ForeignKey(
        Voucher, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("chứng từ"),
    )
    kind = models.CharField(_("loại tài liệu"), max_length=30, choices=DocumentKind.choices)
    file = models.FileField(_("tệp"), upload_to=attachment_path, max_length=255)
    original_name = models.CharField(_("tên tệp gốc"), max_length=255)
    content_type = models.CharField(_("kiểu nội dung"), max_length=100)
    size = models.PositiveIntegerField(_("dung lượng"))
    sha256 = models.CharField(_("mã băm SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("người tải lên"),
    )
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)

    class Meta:
        verbose_name = _("tệp đính kèm")
        verbose_name_plural = pgettext_lazy("plural", "tệp đính kèm")
        ordering = ["voucher", "id"]


class Signature(models.Model):
    """One signer, in one registered role, bound to one content hash."""

    voucher = models.ForeignKey(
        Voucher, on_delete=models.CASCADE, related_name="signatures", verbose_name=_("chứng từ"),
    )
    key = models.ForeignKey(
        "accounts.SigningKey", on_delete=models.PROTECT, related_name="signatures", verbose_name=_("khóa ký"),
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
        verbose_name = _("chữ ký")
        verbose_name_plural = pgettext_lazy("plural", "chữ ký")
        ordering = ["voucher", "signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["voucher", "role"], condition=Q(voided_at__isnull=True), name="one_live_signature_per_role"
            )
        ]


# The actions that tell the people of a voucher although its status stays (the
# year end carried it into the next year).
NOTIFY_SAME_STATUS_ACTIONS = ("year_end_carry",)
# An event whose people are still to be told: a change of status (not the
# creation: from "") or a year-end carry, not yet drained. The event row is the
# outbox (vouchers.notifications drains it); every way of inserting one
# (the services, bulk_create, raw SQL) leaves `notified_at` NULL.
NOTIFY_PENDING = Q(notified_at__isnull=True) & (
    (~Q(from_status="") & ~Q(from_status=models.F("to_status"))) | Q(action__in=NOTIFY_SAME_STATUS_ACTIONS)
)


class VoucherEvent(models.Model):
    """The timeline: who, when, from which state to which, and why."""

    voucher = models.ForeignKey(Voucher, on_delete=models.CASCADE, related_name="events", verbose_name=_("chứng từ"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("người thực hiện"),
    )
    action = models.CharField(_("thao tác"), max_length=30)
    from_status = models.CharField(_("từ trạng thái"), max_length=20, blank=True)
    to_status = models.CharField(_("sang trạng thái"), max_length=20, blank=True)
    note = models.TextField(_("ghi chú"), blank=True)
    data = models.JSONField(_("dữ liệu"), default=dict, blank=True)
    is_late = models.BooleanField(_("quá hạn"), default=False)
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)
    # When the drain wrote the notifications of this change (NOTIFY_PENDING).
    notified_at = models.DateTimeField(_("thời điểm thông báo"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("sự kiện chứng từ")
        verbose_name_plural = pgettext_lazy("plural", "sự kiện chứng từ")
        ordering = ["voucher", "created_at", "id"]
        indexes = [
            models.Index(fields=["voucher", "created_at"]),
            # The drain's claim: the pending events only, oldest first, never the history.
            models.Index(fields=["id"], condition=NOTIFY_PENDING, name="voucherevent_notify_pending"),
        ]


class ReturnException(models.Model):
    """A leader's recorded exception allowing one more return for supplement."""

    voucher = models.ForeignKey(
        Voucher, on_delete=models.PROTECT, related_name="return_exceptions", verbose_name=_("chứng từ"),
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("người cho phép"),
    )
    justification = models.TextField(_("lý do"))
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)
    used_at = models.DateTimeField(_("thời điểm sử dụng"), null=True, blank=True)

    class Meta:
        verbose_name = _("ngoại lệ trả lại")
        verbose_name_plural = pgettext_lazy("plural", "ngoại lệ trả lại")


class Rating(models.Model):
    class Score(models.IntegerChoices):
        DISSATISFIED = 1, _("Không hài lòng")
        NEUTRAL = 2, _("Bình thường")
        SATISFIED = 3, _("Hài lòng")
        VERY_SATISFIED = 4, _("Rất hài lòng")

    voucher = models.OneToOneField(Voucher, on_delete=models.CASCADE, related_name="rating", verbose_name=_("chứng từ"))
    score = models.PositiveSmallIntegerField(_("mức độ hài lòng"), choices=Score.choices)
    comment = models.TextField(_("nhận xét"), blank=True, max_length=2000)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("người đánh giá"),
    )
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)

    class Meta:
        verbose_name = _("đánh giá")
        verbose_name_plural = pgettext_lazy("plural", "đánh giá")
        constraints = [models.CheckConstraint(condition=Q(score__gte=1, score__lte=4), name="rating_score_1_4")]
