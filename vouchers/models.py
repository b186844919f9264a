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
    name_vi = models.CharField(max_length=255)
    name_en = models.CharField(max_length=255)
    files_voucher = models.BooleanField(
        default=True, help_text="Whether units file this procedure as a voucher in the portal."
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code", "mode"]
        constraints = [models.UniqueConstraint(fields=["code", "mode"], name="procedure_code_mode_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.mode}".strip()


class ProcedureVersion(models.Model):
    """The rules in force from `effective_from`; the version in force on the
    receipt date applies to a voucher (the law changes: rows, not code)."""

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="versions")
    effective_from = models.DateField()
    processing_days = models.PositiveSmallIntegerField()
    # The newer rule: more days in peak periods, given as [["12-25", "12-31"], ...].
    peak_processing_days = models.PositiveSmallIntegerField(null=True, blank=True)
    peak_periods = models.JSONField(default=list, blank=True)
    legal_basis = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["procedure", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "effective_from"], name="procedure_version_unique_date"),
            models.CheckConstraint(condition=Q(processing_days__gte=1), name="procedure_days_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.procedure} from {self.effective_from}"


class DocumentKind(models.TextChoices):
    CONTRACT = "contract", _("Hợp đồng")
    ACCEPTANCE = "acceptance", _("Biên bản nghiệm thu / bảng xác định giá trị khối lượng hoàn thành")
    PAYMENT_LIST = "payment_list", _("Bảng kê thanh toán")
    BENEFICIARY_LIST = "beneficiary_list", _("Danh sách người hưởng")
    INVOICE = "invoice", _("Hóa đơn")
    OTHER = "other", _("Tài liệu khác")


class DocumentRequirement(models.Model):
    """A document a procedure version's dossier needs, possibly only above an amount."""

    version = models.ForeignKey(ProcedureVersion, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=30, choices=DocumentKind.choices)
    min_total = models.BigIntegerField(
        null=True, blank=True, help_text="Required only when the voucher total exceeds this (VND)."
    )
    note_vi = models.CharField(max_length=255, blank=True)
    note_en = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["version", "id"]


class ChecklistItem(models.Model):
    """What the control officer checks for a procedure version."""

    version = models.ForeignKey(ProcedureVersion, on_delete=models.CASCADE, related_name="checklist")
    code = models.CharField(max_length=30)
    text_vi = models.CharField(max_length=255)
    text_en = models.CharField(max_length=255)

    class Meta:
        ordering = ["version", "id"]


class CalendarDayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Ngày nghỉ")
    MAKEUP_WORKDAY = "makeup_workday", _("Ngày làm bù")


class CalendarDay(models.Model):
    """An exception to Monday–Friday: a public holiday or a make-up working day."""

    date = models.DateField(unique=True)
    kind = models.CharField(max_length=20, choices=CalendarDayKind.choices)
    name = models.CharField(max_length=255)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.kind} {self.name}"


class ReasonKind(models.TextChoices):
    DEFICIENCY = "deficiency", _("Thiếu sót cần bổ sung")
    REFUSAL = "refusal", _("Lý do từ chối")


class ReasonCode(models.Model):
    """Coded deficiencies and refusal reasons, so returns and refusals are counted."""

    kind = models.CharField(max_length=20, choices=ReasonKind.choices)
    code = models.CharField(max_length=20)
    text_vi = models.CharField(max_length=255)
    text_en = models.CharField(max_length=255)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "code"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="reason_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.text_vi}"


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


# The one table of allowed transitions (action -> (from statuses, to status)).
# Services check every state change against it; nothing else sets `status`.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({VoucherStatus.DRAFT, VoucherStatus.RETURNED}), VoucherStatus.SUBMITTED),
    "withdraw": (frozenset({VoucherStatus.SUBMITTED}), VoucherStatus.WITHDRAWN),
    "claim": (frozenset({VoucherStatus.SUBMITTED}), VoucherStatus.IN_CONTROL),
    "return": (frozenset({VoucherStatus.IN_CONTROL}), VoucherStatus.RETURNED),
    "pass": (frozenset({VoucherStatus.IN_CONTROL}), VoucherStatus.PENDING_APPROVAL),
    "refuse": (frozenset({VoucherStatus.IN_CONTROL}), VoucherStatus.REFUSED),
    "approve": (frozenset({VoucherStatus.PENDING_APPROVAL}), VoucherStatus.APPROVED),
    "send_back": (frozenset({VoucherStatus.PENDING_APPROVAL}), VoucherStatus.IN_CONTROL),
    "pay": (frozenset({VoucherStatus.APPROVED, VoucherStatus.PAYMENT_FAILED}), VoucherStatus.PAID),
    "fail_payment": (frozenset({VoucherStatus.APPROVED}), VoucherStatus.PAYMENT_FAILED),
    "retry_payment": (frozenset({VoucherStatus.PAYMENT_FAILED}), VoucherStatus.APPROVED),
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
EDITABLE_STATUSES = frozenset({VoucherStatus.DRAFT, VoucherStatus.RETURNED})


class NumberSequence(models.Model):
    """Gap-free counters (voucher numbers per unit and year, receipt numbers per
    office and day), advanced under a row lock."""

    scope = models.CharField(max_length=100, unique=True)
    last = models.BigIntegerField(default=0)


class Voucher(models.Model):
    number = models.CharField(_("số chứng từ"), max_length=40, unique=True)
    unit = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="vouchers")
    # The unit's transaction office, copied from the unit (vouchers_follow_unit_office
    # keeps it when a unit moves): the review queues scope by it straight off their
    # indexes instead of joining every queued voucher to its unit's path.
    office = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", editable=False
    )
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="vouchers")
    procedure_version = models.ForeignKey(
        ProcedureVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="vouchers"
    )
    mode = models.CharField(max_length=10, choices=VoucherMode.choices, default=VoucherMode.PAYMENT)
    fiscal_year = models.PositiveSmallIntegerField()
    description = models.TextField(_("nội dung"), max_length=2000)
    payee_name = models.CharField(_("đơn vị nhận tiền"), max_length=255)
    payee_account = models.CharField(_("tài khoản nhận"), max_length=34)
    payee_bank = models.ForeignKey(
        "payments.Bank", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # C4-02a/KB pays from a deposit account instead of a budget estimate.
    deposit_account = models.ForeignKey(
        "payments.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="vouchers"
    )
    # C2-03/NS settles an earlier advance.
    settles = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="settlements"
    )
    settled_amount = models.BigIntegerField(default=0)
    contract_number = models.CharField(max_length=100, blank=True)
    contract_value = models.BigIntegerField(null=True, blank=True)
    total_amount = models.BigIntegerField(default=0)
    content_hash = models.CharField(max_length=64, blank=True)
    content_version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=20, choices=VoucherStatus.choices, default=VoucherStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    receipt_number = models.CharField(max_length=40, null=True, blank=True, unique=True)
    received_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    return_count = models.PositiveSmallIntegerField(default=0)
    controller = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deficiencies = models.JSONField(default=list, blank=True)
    refusal_reasons = models.JSONField(default=list, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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
    voucher = models.ForeignKey(Voucher, on_delete=models.CASCADE, related_name="lines")
    budget_line = models.ForeignKey("payments.BudgetLine", on_delete=models.PROTECT, related_name="voucher_lines")
    amount = models.BigIntegerField()
    description = models.CharField(max_length=500, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["voucher", "position", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="voucher_line_amount_positive")]


def attachment_path(instance: "Attachment", filename: str) -> str:
    # Never the user's file name on disk: it may carry path tricks.
    return f"attachments/{instance.voucher_id}/{instance.sha256}"


class Attachment(models.Model):
    voucher = models.ForeignKey(Voucher, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=30, choices=DocumentKind.choices)
    file = models.FileField(upload_to=attachment_path, max_length=255)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["voucher", "id"]


class Signature(models.Model):
    """One signer, in one registered role, bound to one content hash."""

    voucher = models.ForeignKey(Voucher, on_delete=models.CASCADE, related_name="signatures")
    key = models.ForeignKey("accounts.SigningKey", on_delete=models.PROTECT, related_name="signatures")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=30)
    content_hash = models.CharField(max_length=64)
    signature = models.CharField(max_length=100)
    signed_at = models.DateTimeField()
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["voucher", "signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["voucher", "role"], condition=Q(voided_at__isnull=True), name="one_live_signature_per_role"
            )
        ]


class VoucherEvent(models.Model):
    """The timeline: who, when, from which state to which, and why."""

    voucher = models.ForeignKey(Voucher, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    is_late = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["voucher", "created_at", "id"]
        indexes = [models.Index(fields=["voucher", "created_at"])]


class ReturnException(models.Model):
    """A leader's recorded exception allowing one more return for supplement."""

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="return_exceptions")
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    justification = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)


class Rating(models.Model):
    class Score(models.IntegerChoices):
        DISSATISFIED = 1, _("Không hài lòng")
        NEUTRAL = 2, _("Bình thường")
        SATISFIED = 3, _("Hài lòng")
        VERY_SATISFIED = 4, _("Rất hài lòng")

    voucher = models.OneToOneField(Voucher, on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField(choices=Score.choices)
    comment = models.TextField(blank=True, max_length=2000)
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(score__gte=1, score__lte=4), name="rating_score_1_4")]
