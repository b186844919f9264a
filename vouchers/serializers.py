"""Shapes of the vouchers API: input checked for shape only (services check the
rules), output built from rows the selectors already joined."""

from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from treasury_portal.amount_words import amount_in_words, amount_in_words_en
from vouchers.models import DocumentKind, VoucherMode, VoucherStatus
from vouchers.selectors import due_state, due_state_of, localized, requirement_condition, voucher_holder

# --- input ------------------------------------------------------------------


class PayeeInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    account_number = serializers.RegexField(
        r"^[0-9A-Za-z.\-]{4,34}\Z", trim_whitespace=False, help_text="4 to 34 letters, digits, dots or hyphens"
    )
    bank_code = serializers.CharField(
        max_length=20, help_text="The payee's bank: its NAPAS BIN (970415), BIC (ICBVVNVX) or short code (CTG), "
        "any case; see GET /api/v1/banks.",
    )


class LineInSerializer(serializers.Serializer):
    budget_line = serializers.IntegerField(min_value=1)
    amount = serializers.IntegerField(min_value=1, max_value=10**15)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class VoucherCreateSerializer(serializers.Serializer):
    unit = serializers.RegexField(r"^[0-9]{7}\Z", trim_whitespace=False)
    procedure = serializers.CharField(max_length=30)
    mode = serializers.ChoiceField(choices=VoucherMode.values, required=False, default=VoucherMode.PAYMENT)
    fiscal_year = serializers.IntegerField(min_value=2000, max_value=2100)
    description = serializers.CharField(max_length=2000)
    payee = PayeeInSerializer()
    lines = LineInSerializer(many=True, allow_empty=False, max_length=100)
    contract_number = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    contract_value = serializers.IntegerField(min_value=1, max_value=10**15, required=False, allow_null=True)
    deposit_account = serializers.CharField(
        max_length=40, required=False, allow_null=True, help_text="C4-02a/KB: id or number of the deposit account"
    )
    settles = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="C2-03/NS: id of the advance voucher settled"
    )


class VoucherUpdateSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=VoucherMode.values, required=False)
    description = serializers.CharField(max_length=2000, required=False)
    payee = PayeeInSerializer(required=False)
    lines = LineInSerializer(many=True, allow_empty=False, max_length=100, required=False)
    contract_number = serializers.CharField(max_length=100, required=False, allow_blank=True)
    contract_value = serializers.IntegerField(min_value=1, max_value=10**15, required=False, allow_null=True)
    deposit_account = serializers.CharField(max_length=40, required=False, allow_null=True)
    settles = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class AttachmentInSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False)
    kind = serializers.ChoiceField(choices=DocumentKind.values)


class SignInSerializer(serializers.Serializer):
    key_id = serializers.IntegerField(min_value=1)
    signature = serializers.CharField(max_length=100, help_text="base64 Ed25519 signature over the 32 hash bytes")


class NoteInSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    explanation = serializers.CharField(
        max_length=4000, required=False, allow_blank=True, default="",
        help_text="Required when the action is taken after the voucher's due time.",
    )


class SendBackInSerializer(NoteInSerializer):
    note = serializers.CharField(max_length=4000)


class ReleaseInSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=4000, help_text="Why the voucher goes back to the office's queue.")


class ReassignInSerializer(serializers.Serializer):
    officer = serializers.CharField(max_length=150, help_text="Username of the control officer who takes it over.")
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class PassInSerializer(NoteInSerializer):
    checklist = serializers.ListField(
        child=serializers.CharField(max_length=30), required=False, allow_null=True, default=None,
        help_text="Codes of the checklist items confirmed (all of them, when given).",
    )


class CodedReasonInSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=20)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class ReturnInSerializer(NoteInSerializer):
    deficiencies = CodedReasonInSerializer(many=True, allow_empty=False, max_length=50)


class RefuseInSerializer(NoteInSerializer):
    reasons = CodedReasonInSerializer(many=True, allow_empty=False, max_length=50)


class ReturnExceptionInSerializer(serializers.Serializer):
    justification = serializers.CharField(max_length=4000)


class RatingInSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=4)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


# --- output -----------------------------------------------------------------


def _person(user) -> dict | None:  # noqa: ANN001
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "name": user.get_full_name() or user.username}


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()


class CodedReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()
    text_en = serializers.CharField(required=False)
    note = serializers.CharField(allow_blank=True)


class VoucherListSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    unit = serializers.CharField(source="unit.code")
    unit_name = serializers.CharField(source="unit.name")
    procedure = serializers.CharField(source="procedure.code")
    mode = serializers.CharField()
    fiscal_year = serializers.IntegerField()
    description = serializers.CharField()
    payee_name = serializers.CharField()
    status = serializers.ChoiceField(choices=VoucherStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    total_amount = serializers.IntegerField()
    amount_in_words = serializers.SerializerMethodField()
    receipt_number = serializers.CharField(allow_null=True)
    received_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    due_state = serializers.SerializerMethodField(help_text='"overdue", "near", "ok" or "" when not running')
    return_count = serializers.IntegerField()
    controller = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_amount_in_words(self, obj) -> str:  # noqa: ANN001
        return amount_in_words(obj.total_amount)

    def get_due_state(self, obj) -> str:  # noqa: ANN001
        return due_state(obj)

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_controller(self, obj) -> PersonSerializer | None:  # noqa: ANN001
        return _person(obj.controller)


# The columns a list row needs, read with `.values()`: no model instances, no
# joined rows of users nobody shows (a list page is the hottest read of the portal).
LIST_COLUMNS = (
    "id", "number", "unit__code", "unit__name", "procedure__code", "mode", "fiscal_year", "description",
    "payee_name", "status", "total_amount", "receipt_number", "received_at", "due_at", "return_count",
    "controller_id", "controller__username", "controller__first_name", "controller__last_name",
    "created_at", "updated_at",
)


def voucher_list_rows(rows: Iterable[dict]) -> list[dict]:
    """What VoucherListSerializer gives, built straight from `.values(*LIST_COLUMNS)`
    rows: the serializer costs ~0.2 ms of field machinery per row (lazy labels,
    attribute lookups), this a few µs. VoucherListSerializer stays the schema;
    vouchers/tests/test_list_rows.py proves the two equal."""
    tz = timezone.get_current_timezone()
    labels = {value: str(label) for value, label in VoucherStatus.choices}
    now = timezone.now()

    def when(value: datetime | None) -> str | None:
        if value is None:
            return None
        text = value.astimezone(tz).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    out = []
    for r in rows:
        controller = None
        if r["controller_id"] is not None:
            username = r["controller__username"]
            name = f"{r['controller__last_name']} {r['controller__first_name']}".strip()  # User.get_full_name
            controller = {"id": r["controller_id"], "username": username, "name": name or username}
        out.append(
            {
                "id": r["id"],
                "number": r["number"],
                "unit": r["unit__code"],
                "unit_name": r["unit__name"],
                "procedure": r["procedure__code"],
                "mode": r["mode"],
                "fiscal_year": r["fiscal_year"],
                "description": r["description"],
                "payee_name": r["payee_name"],
                "status": r["status"],
                "status_label": labels.get(r["status"], r["status"]),
                "total_amount": r["total_amount"],
                "amount_in_words": amount_in_words(r["total_amount"]),
                "receipt_number": r["receipt_number"],
                "received_at": when(r["received_at"]),
                "due_at": when(r["due_at"]),
                "due_state": due_state_of(r["status"], r["due_at"], now),
                "return_count": r["return_count"],
                "controller": controller,
                "created_at": when(r["created_at"]),
                "updated_at": when(r["updated_at"]),
            }
        )
    return out


class PayeeSerializer(serializers.Serializer):
    name = serializers.CharField()
    account_number = serializers.CharField()
    bank_code = serializers.CharField(help_text="The bank's short code.")
    bank_bin = serializers.CharField(help_text="The bank's NAPAS BIN (six digits), empty when unknown.")
    bank_bic = serializers.CharField(help_text="The bank's BIC, empty when unknown.")
    bank_name = serializers.CharField()


class LineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    budget_line = serializers.IntegerField(source="budget_line_id")
    classification = serializers.CharField(source="budget_line.classification")
    ndkt = serializers.CharField(source="budget_line.ndkt")
    budget_line_name = serializers.CharField(source="budget_line.name")
    amount = serializers.IntegerField()
    description = serializers.CharField()


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField(source="original_name")
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    created_at = serializers.DateTimeField()
    url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str:  # noqa: ANN001
        from django.urls import reverse

        return reverse("api-voucher-attachment", kwargs={"pk": obj.voucher_id, "att_id": obj.pk})


class SignatureCheckSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.CharField()
    signer = serializers.CharField()
    signer_id = serializers.IntegerField()
    key_id = serializers.IntegerField()
    key_fingerprint = serializers.CharField()
    key_status = serializers.CharField()
    content_hash = serializers.CharField()
    signature = serializers.CharField()
    signed_at = serializers.DateTimeField()
    voided_at = serializers.DateTimeField(allow_null=True)
    matches_current_content = serializers.BooleanField()
    cryptographically_valid = serializers.BooleanField()
    valid = serializers.BooleanField()


class ProcedureVersionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    effective_from = serializers.DateField()
    processing_days = serializers.IntegerField()
    legal_basis = serializers.CharField()


class HolderSerializer(serializers.Serializer):
    side = serializers.CharField()
    user = PersonSerializer(allow_null=True)
    role = serializers.CharField(required=False)


class VoucherDetailSerializer(VoucherListSerializer):
    amount_in_words_en = serializers.SerializerMethodField()
    content_hash = serializers.CharField()
    content_version = serializers.IntegerField()
    unit_office = serializers.CharField(source="unit.office.code")
    procedure_name = serializers.SerializerMethodField()
    procedure_version = serializers.SerializerMethodField()
    payee = serializers.SerializerMethodField()
    lines = LineSerializer(many=True, source="lines.all")
    attachments = AttachmentSerializer(many=True, source="attachments.all")
    signatures = serializers.SerializerMethodField()
    contract_number = serializers.CharField()
    contract_value = serializers.IntegerField(allow_null=True)
    deposit_account = serializers.CharField(source="deposit_account.number", allow_null=True, default=None)
    settles = serializers.IntegerField(source="settles_id", allow_null=True)
    settled_amount = serializers.IntegerField()
    deficiencies = CodedReasonSerializer(many=True)
    refusal_reasons = CodedReasonSerializer(many=True)
    returned_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    approver = serializers.SerializerMethodField()
    created_by = serializers.SerializerMethodField()
    holder = serializers.SerializerMethodField()

    def get_amount_in_words_en(self, obj) -> str:  # noqa: ANN001
        return amount_in_words_en(obj.total_amount)

    def get_procedure_name(self, obj) -> str:  # noqa: ANN001
        return localized(obj.procedure, "name")

    @extend_schema_field(ProcedureVersionRefSerializer(allow_null=True))
    def get_procedure_version(self, obj) -> ProcedureVersionRefSerializer | None:  # noqa: ANN001
        version = obj.procedure_version
        if version is None:
            return None
        return {
            "id": version.pk, "effective_from": version.effective_from,
            "processing_days": version.processing_days, "legal_basis": version.legal_basis,
        }

    @extend_schema_field(PayeeSerializer)
    def get_payee(self, obj) -> PayeeSerializer:  # noqa: ANN001
        return {
            "name": obj.payee_name, "account_number": obj.payee_account,
            "bank_code": obj.payee_bank.code if obj.payee_bank_id else "",
            "bank_bin": obj.payee_bank.bin if obj.payee_bank_id else "",
            "bank_bic": obj.payee_bank.bic if obj.payee_bank_id else "",
            "bank_name": obj.payee_bank.name if obj.payee_bank_id else "",
        }

    @extend_schema_field(SignatureCheckSerializer(many=True))
    def get_signatures(self, obj) -> SignatureCheckSerializer(many=True):  # noqa: ANN001
        from vouchers.selectors import signature_checks

        return SignatureCheckSerializer(signature_checks(obj), many=True).data

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_approver(self, obj) -> PersonSerializer | None:  # noqa: ANN001
        return _person(obj.approver)

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_created_by(self, obj) -> PersonSerializer | None:  # noqa: ANN001
        return _person(obj.created_by)

    @extend_schema_field(HolderSerializer)
    def get_holder(self, obj) -> HolderSerializer:  # noqa: ANN001
        holder = voucher_holder(obj)
        return {**holder, "user": _person(holder["user"])}


def _when(value: datetime | None) -> str | None:
    """A datetime as DRF's DateTimeField gives it (ISO 8601, current time zone, "Z" for UTC)."""
    if value is None:
        return None
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _reasons(items: list) -> list[dict]:
    """CodedReasonSerializer(many=True): text_en only when the item has it."""
    out = []
    for item in items or []:
        row = {"code": str(item["code"]), "text": str(item["text"])}
        if "text_en" in item:
            row["text_en"] = str(item["text_en"])
        row["note"] = str(item["note"])
        out.append(row)
    return out


class VoucherTransitionSerializer(serializers.Serializer):
    """The answer of a transition (sign, submit, withdraw, claim, return, pass,
    refuse, approve, send-back, release, reassign): the voucher's own row as the
    service locked and wrote it, nothing read for the answer (no lines,
    attachments, signatures or people). `Prefer: return=representation`
    (RFC 7240) asks for the whole voucher (VoucherDetailSerializer) instead."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    total_amount = serializers.IntegerField()
    content_hash = serializers.CharField()
    content_version = serializers.IntegerField()
    receipt_number = serializers.CharField()
    received_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()
    controller_id = serializers.IntegerField(allow_null=True, help_text="The controller's user id")
    approver_id = serializers.IntegerField(allow_null=True, help_text="The approver's user id")


def voucher_transition_data(voucher) -> dict:  # noqa: ANN001
    """VoucherTransitionSerializer's body, from the voucher's own fields only."""
    v = voucher
    return {
        "id": v.pk, "number": v.number, "status": v.status, "status_label": str(v.get_status_display()),
        "total_amount": v.total_amount, "content_hash": v.content_hash, "content_version": v.content_version,
        "receipt_number": v.receipt_number, "received_at": _when(v.received_at), "due_at": _when(v.due_at),
        "updated_at": _when(v.updated_at), "controller_id": v.controller_id, "approver_id": v.approver_id,
    }


def voucher_detail_data(voucher) -> dict:  # noqa: ANN001
    """What VoucherDetailSerializer gives, built straight from the voucher and the
    rows loaded with it (selectors.voucher_detail_queryset or
    voucher_detail_complete): every write of the lifecycle answers with it, and
    the serializer's field machinery cost ~3 ms of each. VoucherDetailSerializer
    stays the schema; vouchers/tests/test_detail_data.py proves the two equal."""
    from django.urls import reverse

    from vouchers.selectors import signature_checks

    v = voucher
    version = v.procedure_version
    holder = voucher_holder(v)
    return {
        "id": v.pk,
        "number": v.number,
        "unit": v.unit.code,
        "unit_name": v.unit.name,
        "procedure": v.procedure.code,
        "mode": v.mode,
        "fiscal_year": v.fiscal_year,
        "description": v.description,
        "payee_name": v.payee_name,
        "status": v.status,
        "status_label": str(v.get_status_display()),
        "total_amount": v.total_amount,
        "amount_in_words": amount_in_words(v.total_amount),
        "receipt_number": v.receipt_number,
        "received_at": _when(v.received_at),
        "due_at": _when(v.due_at),
        "due_state": due_state(v),
        "return_count": v.return_count,
        "controller": _person(v.controller),
        "created_at": _when(v.created_at),
        "updated_at": _when(v.updated_at),
        "amount_in_words_en": amount_in_words_en(v.total_amount),
        "content_hash": v.content_hash,
        "content_version": v.content_version,
        "unit_office": v.unit.office.code,
        "procedure_name": localized(v.procedure, "name"),
        "procedure_version": None if version is None else {
            "id": version.pk, "effective_from": version.effective_from,
            "processing_days": version.processing_days, "legal_basis": version.legal_basis,
        },
        "payee": {
            "name": v.payee_name, "account_number": v.payee_account,
            "bank_code": v.payee_bank.code if v.payee_bank_id else "",
            "bank_bin": v.payee_bank.bin if v.payee_bank_id else "",
            "bank_bic": v.payee_bank.bic if v.payee_bank_id else "",
            "bank_name": v.payee_bank.name if v.payee_bank_id else "",
        },
        "lines": [
            {
                "id": line.pk, "budget_line": line.budget_line_id,
                "classification": line.budget_line.classification, "ndkt": line.budget_line.ndkt,
                "budget_line_name": line.budget_line.name, "amount": line.amount, "description": line.description,
            }
            for line in v.lines.all()
        ],
        "attachments": [
            {
                "id": a.pk, "kind": a.kind, "name": a.original_name, "content_type": a.content_type, "size": a.size,
                "sha256": a.sha256, "created_at": _when(a.created_at),
                "url": reverse("api-voucher-attachment", kwargs={"pk": a.voucher_id, "att_id": a.pk}),
            }
            for a in v.attachments.all()
        ],
        "signatures": [
            {**check, "signed_at": _when(check["signed_at"]), "voided_at": _when(check["voided_at"])}
            for check in signature_checks(v)
        ],
        "contract_number": v.contract_number,
        "contract_value": v.contract_value,
        "deposit_account": v.deposit_account.number if v.deposit_account_id else None,
        "settles": v.settles_id,
        "settled_amount": v.settled_amount,
        "deficiencies": _reasons(v.deficiencies),
        "refusal_reasons": _reasons(v.refusal_reasons),
        "returned_at": _when(v.returned_at),
        "closed_at": _when(v.closed_at),
        "approver": _person(v.approver),
        "created_by": _person(v.created_by),
        "holder": {**holder, "user": _person(holder["user"])},
    }


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    actor = serializers.SerializerMethodField()
    note = serializers.CharField()
    data = serializers.SerializerMethodField()
    is_late = serializers.BooleanField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_actor(self, obj) -> PersonSerializer | None:  # noqa: ANN001
        return _person(obj.actor)

    def get_data(self, obj) -> dict:  # noqa: ANN001
        # The return's snapshot is for computing changes, not for the timeline.
        return {k: v for k, v in (obj.data or {}).items() if k != "snapshot"}


class ChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class ReturnExceptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    voucher = serializers.IntegerField(source="voucher_id")
    justification = serializers.CharField()
    granted_by = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    used_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_granted_by(self, obj) -> PersonSerializer:  # noqa: ANN001
        return _person(obj.granted_by)


class RatingSerializer(serializers.Serializer):
    voucher = serializers.IntegerField(source="voucher_id")
    score = serializers.IntegerField()
    comment = serializers.CharField()
    created_at = serializers.DateTimeField()


class PreflightBudgetSerializer(serializers.Serializer):
    budget_line = serializers.IntegerField()
    classification = serializers.CharField()
    ndkt = serializers.CharField()
    name = serializers.CharField()
    allocated = serializers.IntegerField()
    available = serializers.IntegerField()
    requested = serializers.IntegerField()
    available_after = serializers.IntegerField()
    percent_after = serializers.FloatField(allow_null=True)
    level = serializers.CharField()
    fits = serializers.BooleanField()


class PreflightDocumentSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    condition = serializers.CharField()
    note = serializers.CharField()
    present = serializers.BooleanField()


class PreflightSerializer(serializers.Serializer):
    budget = PreflightBudgetSerializer(many=True)
    budget_ok = serializers.BooleanField()
    deposit = serializers.DictField(allow_null=True)
    documents = PreflightDocumentSerializer(many=True)
    missing_documents = PreflightDocumentSerializer(many=True)
    signatures = serializers.DictField(child=SignatureCheckSerializer(allow_null=True))
    signatures_ok = serializers.BooleanField()
    expected_due_at = serializers.DateTimeField(allow_null=True)
    processing_days = serializers.IntegerField(allow_null=True)
    procedure_version = serializers.IntegerField(allow_null=True)
    problems = serializers.ListField(child=serializers.CharField())
    ready = serializers.BooleanField()


# --- the catalogue and reference data ------------------------------------------


class DocumentRequirementSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField(source="get_kind_display")
    min_total = serializers.IntegerField(allow_null=True, help_text="Required only above this total (VND).")
    condition = serializers.SerializerMethodField()
    note = serializers.SerializerMethodField()

    def get_condition(self, obj) -> str:  # noqa: ANN001
        return requirement_condition(obj)

    def get_note(self, obj) -> str:  # noqa: ANN001
        return localized(obj, "note")


class ChecklistItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.SerializerMethodField()

    def get_text(self, obj) -> str:  # noqa: ANN001
        return localized(obj, "text")


class NextVersionSerializer(serializers.Serializer):
    """The procedure's rules announced for later (the newer rule before its date)."""

    version = serializers.IntegerField(source="pk")
    effective_from = serializers.DateField()
    legal_basis = serializers.CharField()
    processing_days = serializers.IntegerField()
    peak_processing_days = serializers.IntegerField(allow_null=True)
    peak_periods = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))


class ProcedureSerializer(serializers.Serializer):
    code = serializers.CharField(source="procedure.code")
    mode = serializers.CharField(source="procedure.mode")
    name = serializers.SerializerMethodField()
    files_voucher = serializers.BooleanField(source="procedure.files_voucher")
    version = serializers.IntegerField(source="version.pk")
    effective_from = serializers.DateField(source="version.effective_from")
    legal_basis = serializers.CharField(source="version.legal_basis")
    processing_days = serializers.IntegerField(source="version.processing_days")
    peak_processing_days = serializers.IntegerField(source="version.peak_processing_days", allow_null=True)
    peak_periods = serializers.ListField(child=serializers.ListField(child=serializers.CharField()),
                                         source="version.peak_periods")
    processing_days_today = serializers.IntegerField()
    required_documents = DocumentRequirementSerializer(many=True, source="version.documents.all")
    checklist = ChecklistItemSerializer(many=True, source="version.checklist.all")
    next_version = NextVersionSerializer(allow_null=True, help_text="The next version announced, if any.")

    def get_name(self, obj) -> str:  # noqa: ANN001
        return localized(obj["procedure"], "name")


class BudgetLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    unit = serializers.CharField(source="unit.code")
    fiscal_year = serializers.IntegerField()
    chapter = serializers.CharField()
    sector = serializers.CharField()
    ndkt = serializers.CharField()
    funding_source = serializers.CharField()
    programme = serializers.CharField()
    budget_level = serializers.CharField()
    classification = serializers.CharField()
    name = serializers.CharField()
    allocated = serializers.IntegerField()
    reserved = serializers.IntegerField()
    spent = serializers.IntegerField()
    available = serializers.IntegerField()
    usage_percent = serializers.SerializerMethodField()
    usage_level = serializers.SerializerMethodField(help_text='"ok", "warn" (80% or more) or "full"')

    def get_usage_percent(self, obj) -> float:  # noqa: ANN001
        from payments.selectors.budget import budget_line_usage

        return budget_line_usage(obj)["percent"]

    def get_usage_level(self, obj) -> str:  # noqa: ANN001
        from payments.selectors.budget import budget_line_usage

        return budget_line_usage(obj)["level"]


class BankSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The short code (the same as short_code; kept for existing clients).")
    short_code = serializers.CharField(source="code", help_text="The short code, e.g. CTG.")
    bin = serializers.CharField(help_text="The NAPAS BIN (six digits, as in VietQR), e.g. 970415; empty when unknown.")
    bic = serializers.CharField(help_text="The BIC (ISO 9362), e.g. ICBVVNVX; empty when unknown.")
    name = serializers.CharField()


class ReasonCodeSerializer(serializers.Serializer):
    kind = serializers.CharField()
    code = serializers.CharField()
    text = serializers.SerializerMethodField()

    def get_text(self, obj) -> str:  # noqa: ANN001
        return localized(obj, "text")
