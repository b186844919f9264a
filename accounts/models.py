"""Users, organisations (treasury offices, budget-using units, suppliers),
memberships with roles, signing keys, API tokens and idempotency records."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class User(AbstractUser):
    """A person. What they may do comes from their memberships."""

    phone = models.CharField(_("điện thoại"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("người dùng")
        verbose_name_plural = pgettext_lazy("plural", "người dùng")
        constraints = [
            models.UniqueConstraint(
                fields=["email"], condition=~Q(email=""), name="user_email_unique_when_set"
            )
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def get_full_name(self) -> str:
        """Vietnamese order: family and middle names (last_name), then the
        given name (first_name): "Nguyễn Văn Kiểm", never "Kiểm Nguyễn Văn"."""
        return f"{self.last_name} {self.first_name}".strip()


class OrgKind(models.TextChoices):
    TREASURY_OFFICE = "treasury_office", _("Kho bạc")
    UNIT = "unit", _("Đơn vị sử dụng ngân sách")
    SUPPLIER = "supplier", _("Nhà cung cấp")


class Organisation(models.Model):
    """One table for the three kinds, so memberships and scoping stay uniform.

    Treasury offices form a tree; `path` ("0001/0101/") lets a selector find an
    office and every office below it with one prefix match. Units belong to one
    home office, whose path they copy, so scoping units is the same prefix match.
    """

    kind = models.CharField(_("loại tổ chức"), max_length=20, choices=OrgKind.choices)
    code = models.CharField(_("mã"), max_length=20)
    name = models.CharField(_("tên"), max_length=255)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
        verbose_name=_("đơn vị cấp trên"),
    )
    office = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="units",
        limit_choices_to={"kind": OrgKind.TREASURY_OFFICE},
        verbose_name=_("kho bạc giao dịch"),
    )
    path = models.CharField(_("đường dẫn cây"), max_length=255, db_index=True, editable=False)
    tax_code = models.CharField(_("mã số thuế"), max_length=14, blank=True)
    address = models.CharField(_("địa chỉ"), max_length=255, blank=True)
    is_active = models.BooleanField(_("đang hoạt động"), default=True)
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)

    class Meta:
        verbose_name = _("tổ chức")
        verbose_name_plural = pgettext_lazy("plural", "tổ chức")
        ordering = ["kind", "code"]
        indexes = [models.Index(fields=["kind", "path"])]
        constraints = [
            # A unit code is never reused, whatever its kind; office codes likewise.
            models.UniqueConstraint(fields=["kind", "code"], name="organisation_kind_code_unique"),
            models.CheckConstraint(
                condition=~Q(kind=OrgKind.UNIT) | Q(code__regex=r"^[12378][0-9]{6}$"),
                name="unit_code_is_dvqhns",
            ),
            models.CheckConstraint(
                condition=~Q(kind=OrgKind.TREASURY_OFFICE) | Q(code__regex=r"^[0-9]{4}$"),
                name="office_code_is_4_digits",
            ),
            models.CheckConstraint(
                condition=~Q(kind=OrgKind.UNIT) | Q(office__isnull=False),
                name="unit_has_home_office",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class Role(models.TextChoices):
    PREPARER = "preparer", _("Người lập")
    CHIEF_ACCOUNTANT = "chief_accountant", _("Kế toán trưởng")
    ACCOUNT_HOLDER = "account_holder", _("Chủ tài khoản")
    CONTROL_OFFICER = "control_officer", _("Cán bộ kiểm soát")
    APPROVER = "approver", _("Lãnh đạo phê duyệt")
    ADMINISTRATOR = "administrator", _("Quản trị kho bạc")
    SUPPLIER_CLERK = "supplier_clerk", _("Nhân viên nhà cung cấp")


UNIT_ROLES = frozenset({Role.PREPARER, Role.CHIEF_ACCOUNTANT, Role.ACCOUNT_HOLDER})
SIGNER_ROLES = frozenset({Role.CHIEF_ACCOUNTANT, Role.ACCOUNT_HOLDER})
TREASURY_ROLES = frozenset({Role.CONTROL_OFFICER, Role.APPROVER, Role.ADMINISTRATOR})
SUPPLIER_ROLES = frozenset({Role.SUPPLIER_CLERK})
ROLES_BY_KIND = {
    OrgKind.UNIT: UNIT_ROLES,
    OrgKind.TREASURY_OFFICE: TREASURY_ROLES,
    OrgKind.SUPPLIER: SUPPLIER_ROLES,
}
# Legal limits on signers per unit (domain.md): the holder and 3 delegates; the
# chief accountant and 2 delegates.
MAX_SIGNERS = {Role.ACCOUNT_HOLDER: 4, Role.CHIEF_ACCOUNTANT: 3}


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("người dùng"),
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("tổ chức"),
    )
    role = models.CharField(_("vai trò"), max_length=30, choices=Role.choices)
    is_active = models.BooleanField(_("đang hoạt động"), default=True)
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)

    class Meta:
        verbose_name = _("vai trò được giao")
        verbose_name_plural = pgettext_lazy("plural", "vai trò được giao")
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation", "role"], name="membership_unique_role")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organisation.code}"


class MembershipAction(models.TextChoices):
    GRANT = "grant", _("Giao vai trò")
    REVOKE = "revoke", _("Thu hồi vai trò")


class MembershipEvent(models.Model):
    """Who gave or took away which role, in which organisation, when: the audit
    row every membership change writes in its own transaction. `actor` is empty
    for the demo seeding and data loads."""

    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="events", verbose_name=_("vai trò được giao"),
    )
    action = models.CharField(_("thao tác"), max_length=10, choices=MembershipAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("người thực hiện"),
    )
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("lịch sử giao vai trò")
        verbose_name_plural = pgettext_lazy("plural", "lịch sử giao vai trò")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} · {self.membership}"


class SigningKeyStatus(models.TextChoices):
    PENDING = "pending", _("Chờ duyệt")
    APPROVED = "approved", _("Đã duyệt")
    REJECTED = "rejected", pgettext_lazy("signing key status", "Từ chối")
    REVOKED = "revoked", _("Đã thu hồi")


class SigningKey(models.Model):
    """A registered Ed25519 public key: the online signature specimen.

    `slot` numbers approved signers per unit and role; a partial unique
    constraint on it, with a CHECK on its range, is the database's backstop for
    the legal maximum of signers.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signing_keys", verbose_name=_("người dùng"),
    )
    unit = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="signing_keys", verbose_name=_("đơn vị"),
    )
    # A fixed order: iterating the SIGNER_ROLES frozenset varies from process to
    # process (hash randomisation), which made makemigrations see phantom changes.
    role = models.CharField(
        _("vai trò"), max_length=30, choices=[(r.value, r.label) for r in (Role.CHIEF_ACCOUNTANT, Role.ACCOUNT_HOLDER)]
    )
    public_key = models.CharField(
        _("khóa công khai"), max_length=64, help_text=_("khóa Ed25519 32 byte, mã hóa base64"),
    )
    fingerprint = models.CharField(_("dấu vân tay khóa"), max_length=64, unique=True)
    label = models.CharField(_("nhãn"), max_length=100, blank=True)
    status = models.CharField(
        _("trạng thái"), max_length=20, choices=SigningKeyStatus.choices, default=SigningKeyStatus.PENDING,
    )
    slot = models.PositiveSmallIntegerField(_("vị trí người ký"), null=True, blank=True)
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("người quyết định"),
    )
    decided_at = models.DateTimeField(_("thời điểm quyết định"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("thời điểm thu hồi"), null=True, blank=True)

    class Meta:
        verbose_name = _("khóa ký")
        verbose_name_plural = pgettext_lazy("plural", "khóa ký")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "role", "slot"],
                condition=Q(status="approved"),
                name="signing_key_one_signer_per_slot",
            ),
            models.UniqueConstraint(
                fields=["user", "unit", "role"],
                condition=Q(status="approved"),
                name="signing_key_one_approved_per_person_role",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved")
                | (Q(role="account_holder", slot__gte=1, slot__lte=4))
                | (Q(role="chief_accountant", slot__gte=1, slot__lte=3)),
                name="signing_key_slot_within_legal_limit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.fingerprint[:12]}"


class ApiToken(models.Model):
    """A personal API token: shown once, stored as a SHA-256 digest (the token
    has 256 bits of entropy, so a slow hash adds nothing), revocable."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("người dùng"),
    )
    name = models.CharField(_("tên"), max_length=100)
    prefix = models.CharField(_("tiền tố"), max_length=12)
    digest = models.CharField(_("mã băm"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("lần dùng gần nhất"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("thời điểm thu hồi"), null=True, blank=True)

    class Meta:
        verbose_name = _("mã truy cập API")
        verbose_name_plural = pgettext_lazy("plural", "mã truy cập API")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class IdempotencyRecord(models.Model):
    """The first response to a POST carrying an Idempotency-Key, per user."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("người dùng"),
    )
    key = models.CharField(_("khóa chống trùng"), max_length=255)
    method = models.CharField(_("phương thức"), max_length=10)
    path = models.CharField(_("đường dẫn"), max_length=500)
    request_hash = models.CharField(_("mã băm yêu cầu"), max_length=64)
    response_status = models.PositiveSmallIntegerField(_("mã trạng thái phản hồi"), null=True)
    response_body = models.JSONField(_("nội dung phản hồi"), null=True)
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("bản ghi chống trùng")
        verbose_name_plural = pgettext_lazy("plural", "bản ghi chống trùng")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user")]


ABSENCE_ROLES = (Role.CONTROL_OFFICER, Role.APPROVER)


class Absence(models.Model):
    """A treasury control officer or approver away from `starts_on` to `ends_on`
    (both included), with a delegate: another officer of the same office with the
    same role, who receives the absent person's queue for the period
    (vouchers.selectors.acting_holder). Declared by the person or by a leader
    (approver) of the office; cancelled, never deleted."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="absences", verbose_name=_("người vắng mặt"),
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="delegations",
        verbose_name=_("người thay"),
    )
    office = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="absences", verbose_name=_("kho bạc"),
    )
    role = models.CharField(_("vai trò"), max_length=30, choices=[(r.value, r.label) for r in ABSENCE_ROLES])
    starts_on = models.DateField(_("từ ngày"))
    ends_on = models.DateField(_("đến ngày"))
    note = models.CharField(_("ghi chú"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("người khai báo"),
    )
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("thời điểm hủy"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("người hủy"),
    )

    class Meta:
        verbose_name = _("lịch vắng mặt")
        verbose_name_plural = pgettext_lazy("plural", "lịch vắng mặt")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="absence_ends_after_start"),
            models.CheckConstraint(condition=~Q(delegate=models.F("user")), name="absence_delegate_not_self"),
        ]
        indexes = [models.Index(fields=["delegate", "ends_on"], name="absence_delegate_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.starts_on}–{self.ends_on} → {self.delegate}"
