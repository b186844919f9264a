"""Writes for accounts: organisations, memberships, signing keys, API tokens, absences."""

import hashlib
import pickle
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import crypto
from accounts.models import (
    ABSENCE_ROLES,
    MAX_SIGNERS,
    ROLES_BY_KIND,
    SIGNER_ROLES,
    Absence,
    ApiToken,
    Membership,
    MembershipAction,
    MembershipEvent,
    Organisation,
    OrgKind,
    Role,
    SigningKey,
    SigningKeyStatus,
    User,
)
from accounts.selectors import (
    can_manage_memberships,
    can_manage_user,
    user_has_treasury_role_over,
    user_has_unit_role,
)
from treasury_portal.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed

TOKEN_PREFIX = "tp_"  # noqa: S105 - a public prefix that marks portal tokens, not a secret


def _path_for(*, kind: str, code: str, parent: Organisation | None, office: Organisation | None) -> str:
    if kind == OrgKind.TREASURY_OFFICE:
        return f"{parent.path if parent else ''}{code}/"
    if kind == OrgKind.UNIT:
        assert office is not None
        return f"{office.path}{code}/"
    return f"S{code}/"


def organisation_create(
    *,
    kind: str,
    code: str,
    name: str,
    parent: Organisation | None = None,
    office: Organisation | None = None,
    tax_code: str = "",
    address: str = "",
) -> Organisation:
    if kind == OrgKind.UNIT and office is None:
        raise ValidationFailed(_("Đơn vị phải có kho bạc giao dịch."), fields={"office": [_("Bắt buộc.")]})
    org = Organisation(
        kind=kind,
        code=code,
        name=name,
        parent=parent,
        office=office,
        tax_code=tax_code,
        address=address,
        path=_path_for(kind=kind, code=code, parent=parent, office=office),
    )
    org.full_clean()
    org.save()
    return org


def organisation_get_or_create(*, kind: str, code: str, **fields: object) -> Organisation:
    existing = Organisation.objects.filter(kind=kind, code=code).first()
    return existing or organisation_create(kind=kind, code=code, **fields)  # type: ignore[arg-type]


def _signer_limit_check(organisation: Organisation, role: str) -> None:
    """The legal maximum of people in a signing role per unit (domain.md: the
    account holder and 3 delegates, the chief accountant and 2). Called with the
    unit's row locked, so the count cannot change under it: two grants for the
    last place queue on the lock and the second one counts the first."""
    limit = MAX_SIGNERS.get(Role(role)) if role in SIGNER_ROLES else None
    if limit is None:
        return
    held = Membership.objects.filter(organisation=organisation, role=role, is_active=True).count()
    if held >= limit:
        raise ApplicationError(
            "signer_limit_reached",
            _("Đơn vị đã có đủ %(limit)s người giữ vai trò %(role)s; hãy thu hồi vai trò của một người trước.")
            % {"limit": limit, "role": Role(role).label},
            fields={"role": [role]},
        )


def membership_grant(*, user: User, organisation: Organisation, role: str, actor: User | None = None) -> Membership:
    """Give `user` the `role` in `organisation`, in one transaction with the
    organisation's row locked (parent before child: the same order as
    membership_revoke and signing_key_approve), the signer limits checked under
    that lock, and a MembershipEvent. With an `actor` (a person, not the demo
    seeding): a treasury administrator whose office is at or above the
    organisation, and the user one they may manage; anyone else gets 404.
    Granting a role someone already holds returns it unchanged."""
    if role not in ROLES_BY_KIND[OrgKind(organisation.kind)]:
        raise ValidationFailed(_("Vai trò này không áp dụng cho loại tổ chức này."), fields={"role": [role]})
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        if actor is not None and not (
            can_manage_memberships(actor, organisation) and can_manage_user(actor, user)
        ):
            raise NotFound()
        membership = Membership.objects.select_for_update().filter(
            user=user, organisation=organisation, role=role
        ).first()
        if membership is not None and membership.is_active:
            return membership
        _signer_limit_check(organisation, role)
        if membership is None:
            membership = Membership.objects.create(user=user, organisation=organisation, role=role)
        else:
            membership.is_active = True
            membership.save(update_fields=["is_active"])
        MembershipEvent.objects.create(membership=membership, action=MembershipAction.GRANT, actor=actor)
        return membership


def membership_revoke(*, actor: User, membership_id: int) -> Membership:
    """Take a role away (the row stays, inactive, for the record). A signer's
    keys for that unit and role are revoked with it, so nobody signs in a role
    they no longer hold. An administrator cannot take away their own
    administrator role (someone else of their office or above does)."""
    with transaction.atomic():
        found = Membership.objects.filter(pk=membership_id).values_list("organisation_id", flat=True).first()
        if found is None:
            raise NotFound()
        organisation = Organisation.objects.select_for_update().get(pk=found)
        if not can_manage_memberships(actor, organisation):
            raise NotFound()
        membership = Membership.objects.select_for_update().select_related("user").get(pk=membership_id)
        if not membership.is_active:
            return membership
        if membership.user_id == actor.pk and membership.role == Role.ADMINISTRATOR:
            raise ApplicationError(
                "own_administrator_role",
                _("Bạn không thể tự thu hồi vai trò quản trị của mình; hãy nhờ một quản trị viên khác."),
            )
        membership.is_active = False
        membership.save(update_fields=["is_active"])
        if membership.role in SIGNER_ROLES:
            SigningKey.objects.filter(
                user_id=membership.user_id,
                unit=organisation,
                role=membership.role,
                status__in=[SigningKeyStatus.APPROVED, SigningKeyStatus.PENDING],
            ).update(status=SigningKeyStatus.REVOKED, revoked_at=timezone.now())
        MembershipEvent.objects.create(membership=membership, action=MembershipAction.REVOKE, actor=actor)
        return membership


# --- signing keys ---------------------------------------------------------


def signing_key_register(*, actor: User, unit: Organisation, role: str, public_key: str, label: str = "") -> SigningKey:
    """A signer registers the public half of a key for one role in one unit."""
    if role not in SIGNER_ROLES:
        raise ValidationFailed(_("Vai trò ký phải là kế toán trưởng hoặc chủ tài khoản."), fields={"role": [role]})
    if not user_has_unit_role(actor, unit, role):
        raise PermissionDenied(_("Bạn không giữ vai trò này tại đơn vị này."))
    try:
        raw = crypto.decode_public_key(public_key)
    except ValueError as exc:
        raise ValidationFailed(str(exc), fields={"public_key": [str(exc)]}) from exc
    fingerprint = crypto.key_fingerprint(raw)
    if SigningKey.objects.filter(fingerprint=fingerprint).exists():
        raise ValidationFailed(_("Khóa công khai này đã được đăng ký."), fields={"public_key": [_("Đã tồn tại.")]})
    return SigningKey.objects.create(
        user=actor, unit=unit, role=role, public_key=public_key.strip(), fingerprint=fingerprint, label=label[:100]
    )


def signing_key_approve(*, actor: User, key_id: int) -> SigningKey:
    """A treasury administrator of the unit's office approves a key: the online
    registration of a signature specimen. Enforces the legal maximum of signers."""
    with transaction.atomic():
        key = SigningKey.objects.select_related("unit").filter(pk=key_id).first()
        if key is None or not user_has_treasury_role_over(actor, key.unit, Role.ADMINISTRATOR):
            raise NotFound()
        # Lock the unit so two approvals cannot take the same slot.
        Organisation.objects.select_for_update().get(pk=key.unit_id)
        key = SigningKey.objects.select_for_update().get(pk=key_id)
        if key.status == SigningKeyStatus.APPROVED:
            return key
        if key.status != SigningKeyStatus.PENDING:
            raise ApplicationError("invalid_transition", _("Chỉ duyệt được khóa đang chờ duyệt."))
        approved = SigningKey.objects.filter(unit=key.unit, role=key.role, status=SigningKeyStatus.APPROVED)
        # A person keeps one approved key per role: a new key replaces the old one.
        for old in approved.filter(user=key.user).select_for_update():
            old.status = SigningKeyStatus.REVOKED
            old.revoked_at = timezone.now()
            old.save(update_fields=["status", "revoked_at"])
        taken = set(approved.values_list("slot", flat=True))
        limit = MAX_SIGNERS[Role(key.role)]
        free = [s for s in range(1, limit + 1) if s not in taken]
        if not free:
            raise ApplicationError(
                "signer_limit_reached",
                _("Đơn vị đã có đủ %(limit)s người ký cho vai trò này; hãy thu hồi một khóa trước.") % {"limit": limit},
            )
        key.status = SigningKeyStatus.APPROVED
        key.slot = free[0]
        key.decided_by = actor
        key.decided_at = timezone.now()
        key.save(update_fields=["status", "slot", "decided_by", "decided_at"])
        return key


def signing_key_reject(*, actor: User, key_id: int) -> SigningKey:
    with transaction.atomic():
        key = SigningKey.objects.select_for_update().select_related("unit").filter(pk=key_id).first()
        if key is None or not user_has_treasury_role_over(actor, key.unit, Role.ADMINISTRATOR):
            raise NotFound()
        if key.status == SigningKeyStatus.REJECTED:
            return key
        if key.status != SigningKeyStatus.PENDING:
            raise ApplicationError("invalid_transition", _("Chỉ từ chối được khóa đang chờ duyệt."))
        key.status = SigningKeyStatus.REJECTED
        key.decided_by = actor
        key.decided_at = timezone.now()
        key.save(update_fields=["status", "decided_by", "decided_at"])
        return key


def signing_key_revoke(*, actor: User, key_id: int) -> SigningKey:
    """The key's owner or an administrator over the unit revokes it."""
    with transaction.atomic():
        key = SigningKey.objects.select_for_update().select_related("unit").filter(pk=key_id).first()
        if key is None or not (
            key.user_id == actor.pk or user_has_treasury_role_over(actor, key.unit, Role.ADMINISTRATOR)
        ):
            raise NotFound()
        if key.status == SigningKeyStatus.REVOKED:
            return key
        key.status = SigningKeyStatus.REVOKED
        key.revoked_at = timezone.now()
        key.save(update_fields=["status", "revoked_at"])
        return key


# --- API tokens -------------------------------------------------------------


def signing_key_for_signature(*, actor: User, key_id: object, unit_id: int, wrong_unit: str) -> SigningKey:
    """The actor's own key `key_id`, registered for the unit and approved: what
    every signature (a voucher's, an autopay authorization's) is made with.
    `wrong_unit` is the sentence for a key of another unit."""
    try:
        key = SigningKey.objects.filter(pk=int(key_id), user=actor).first()  # type: ignore[call-overload]
    except (TypeError, ValueError):
        key = None
    if key is None:
        raise ValidationFailed(_("Không tìm thấy khóa ký của bạn."), fields={"key_id": [_("Không tìm thấy.")]})
    if key.unit_id != unit_id:
        raise ApplicationError("signature_invalid", wrong_unit)
    if key.status != SigningKeyStatus.APPROVED:
        raise ApplicationError(
            "signature_invalid", _("Khóa ký chưa được kho bạc duyệt hoặc đã bị thu hồi: không ký được.")
        )
    return key


def signature_rules_check(*, actor: User, key: SigningKey, live: dict, content_hash: str, signature: object) -> None:
    """The two-signer rules of a signed document, given its live signatures by
    role: the signature verifies over the 32 bytes of the content hash, one
    person never signs in both roles, the chief accountant signs first and the
    account holder last."""
    if not isinstance(signature, str) or not crypto.verify_signature(
        crypto.decode_public_key(key.public_key), bytes.fromhex(content_hash), signature
    ):
        raise ApplicationError(
            "signature_invalid",
            _("Chữ ký không hợp lệ: phải là chữ ký Ed25519 (base64) trên 32 byte của mã băm nội dung hiện tại."),
        )
    other = live.get(Role.ACCOUNT_HOLDER if key.role == Role.CHIEF_ACCOUNTANT else Role.CHIEF_ACCOUNTANT)
    if other is not None and other.signer_id == actor.pk:
        raise ApplicationError(
            "same_person", _("Một người không được ký cả với vai trò kế toán trưởng và chủ tài khoản.")
        )
    if key.role == Role.ACCOUNT_HOLDER and other is None:
        raise ApplicationError(
            "signatures_missing", _("Kế toán trưởng phải ký trước; chủ tài khoản ký sau cùng và gửi.")
        )


def signing_start(
    *, actor: User, document: Any, key_id: int, wrong_unit: str, check: Callable[..., None],
    current_hash: Callable[[], str],
) -> tuple[SigningKey, str]:
    """The first steps of signing a two-signer document (a voucher, an autopay
    authorization) under its lock: the actor's approved key for the document's
    unit (`wrong_unit` otherwise), the document's rule for that role
    (`check(actor, document, role)`), and its stored content hash brought up to
    date. Returns (the key, the current hash); document_sign does the rest."""
    key = signing_key_for_signature(actor=actor, key_id=key_id, unit_id=document.unit_id, wrong_unit=wrong_unit)
    check(actor, document, key.role)
    current = current_hash()
    if current != document.content_hash:
        document.content_hash = current
        document.save(update_fields=["content_hash"])
    return key, current


def document_sign(
    *, actor: User, key: SigningKey, live: dict, content_hash: str, signature: object, create: Callable[..., Any]
) -> tuple[Any, bool]:
    """The signing step of a two-signer document (a voucher, an autopay
    authorization), under the document's lock: the same key, content and
    signature again is a repeat (the live signature, False); otherwise the rules
    (signature_rules_check), the signer's earlier signature in that role voided
    and the new one written by `create(**fields)` (it, True)."""
    mine = live.get(key.role)
    if mine and mine.key_id == key.pk and mine.content_hash == content_hash and mine.signature == signature:
        return mine, False
    signature_rules_check(actor=actor, key=key, live=live, content_hash=content_hash, signature=signature)
    now = timezone.now()
    if mine is not None:
        mine.voided_at = now
        mine.save(update_fields=["voided_at"])
    return create(key=key, signer=actor, role=key.role, content_hash=content_hash, signature=signature,
                  signed_at=now), True


def signed_content_store(document: Any, new_hash: str) -> bool:
    """Store a signed document's current content hash (a voucher, an autopay
    authorization: `content_hash`, `content_version`, `signatures`); when it
    changed, bump the content version and void the live signatures. Returns
    whether the content changed."""
    if new_hash == document.content_hash:
        return False
    document.content_hash = new_hash
    document.content_version = F("content_version") + 1
    document.save(update_fields=["content_hash", "content_version", "updated_at"])
    document.refresh_from_db(fields=["content_version"])
    document.signatures.filter(voided_at__isnull=True).update(voided_at=timezone.now())
    return True


SIGNATURE_ROLES = (Role.CHIEF_ACCOUNTANT, Role.ACCOUNT_HOLDER)


def live_signatures_verify(
    *, live: dict, content_hash: str, unit_id: int, missing: str, invalid: str
) -> dict:
    """Both live signatures of a signed document (a voucher, an autopay
    authorization), each verified again now: on the current content hash, with a
    key still approved, of the document's unit and of the signature's role.
    `missing` (with `%(roles)s`) and `invalid` (with `%(role)s`) are the
    document's sentences: `signatures_missing` / `signature_invalid`."""
    absent = [role for role in SIGNATURE_ROLES if role not in live]
    if absent:
        raise ApplicationError(
            "signatures_missing", missing % {"roles": ", ".join(str(Role(r).label) for r in absent)}
        )
    for role in SIGNATURE_ROLES:
        sig = live[role]
        key = sig.key
        if not (
            sig.content_hash == content_hash
            and key.status == SigningKeyStatus.APPROVED
            and key.unit_id == unit_id
            and key.role == role
            and isinstance(sig.signature, str)
            and crypto.verify_signature(
                crypto.decode_public_key(key.public_key), bytes.fromhex(content_hash), sig.signature
            )
        ):
            raise ApplicationError("signature_invalid", invalid % {"role": Role(role).label})
    return live


def token_digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Returns the token row and its plaintext, which is never stored or shown again."""
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=(name or "API")[:100], prefix=plaintext[:10], digest=token_digest(plaintext)
    )
    return token, plaintext


def api_token_revoke(*, actor: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user=actor).first()
    if token is None:
        raise NotFound()
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        principal_cache_forget(digests=[token.digest])
    return token


# --- the API principal's cache (accounts.authentication) ---------------------


def principal_cache_key(digest: str) -> str:
    return f"api-principal:{digest}"


class LocalPrincipals:
    """This process's copies of cached principals, in front of the shared cache
    (API_PRINCIPAL_LOCAL_SECONDS): a token's repeat calls within that time read
    neither Redis nor the database (a Redis round-trip is ~40 % of the CPU of a
    call such as /api/v1/me).

    An entry lives `API_PRINCIPAL_LOCAL_SECONDS` at most, and never past the
    shared entry's own end (loaded_at + API_PRINCIPAL_CACHE_SECONDS), so what
    bypasses the signals is still served at most API_PRINCIPAL_CACHE_SECONDS.
    `principal_cache_forget` drops this process's copies at once (and again at
    commit); another process's copy of a revoked token or a changed membership
    lives on at most API_PRINCIPAL_LOCAL_SECONDS (1 s). Entries are kept
    pickled, as in Redis: every request gets its own objects, never one shared
    with a concurrent or earlier request."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._entries: dict[str, tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> Any:  # noqa: ANN401
        entry = self._entries.get(digest)
        if entry is None:
            return None
        expires, data = entry
        if time.monotonic() >= expires:
            with self._lock:
                if self._entries.get(digest) is entry:
                    del self._entries[digest]
            return None
        return pickle.loads(data)  # noqa: S301 - written by this process (put), never from outside

    def put(self, digest: str, value: Any, seconds: float) -> None:  # noqa: ANN401
        if seconds <= 0:
            return
        data = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._entries.pop(digest, None)
            while len(self._entries) >= self.size:
                del self._entries[next(iter(self._entries))]  # the oldest
            self._entries[digest] = (time.monotonic() + seconds, data)

    def forget(self, digests: Iterable[str]) -> None:
        with self._lock:
            for digest in digests:
                self._entries.pop(digest, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


principal_local = LocalPrincipals()


def principal_cache_forget(*, user_ids: Iterable[int] = (), digests: Iterable[str] = ()) -> None:
    """Delete the cached principals of these tokens and of every live token of
    these users — in the shared cache and in this process's copies
    (LocalPrincipals) — now and again when the surrounding transaction commits
    (a call that read the old rows before the commit may have cached them in
    between). Without the cache (API_PRINCIPAL_CACHE_SECONDS = 0) it does
    nothing; whatever misses it is served at most that many seconds."""
    from django.conf import settings
    from django.core.cache import cache

    if not settings.API_PRINCIPAL_CACHE_SECONDS:
        return
    digests = set(digests)
    user_ids = set(user_ids)
    if user_ids:
        digests |= set(
            ApiToken.objects.filter(user_id__in=user_ids, revoked_at__isnull=True).values_list("digest", flat=True)
        )
    if not digests:
        return
    digests_list = sorted(digests)
    keys_list = [principal_cache_key(d) for d in digests_list]

    def forget() -> None:
        principal_local.forget(digests_list)
        cache.delete_many(keys_list)

    forget()
    transaction.on_commit(forget, robust=True)


def idempotency_records_purge() -> int:
    from django.conf import settings

    from accounts.models import IdempotencyRecord

    cutoff = timezone.now() - settings.IDEMPOTENCY_KEY_TTL
    deleted, _details = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def next_free_slot_count(unit: Organisation, role: str) -> int:
    used = SigningKey.objects.filter(unit=unit, role=role, status=SigningKeyStatus.APPROVED).aggregate(m=Max("slot"))
    return used["m"] or 0


# --- out-of-office with a delegate ------------------------------------------------


def _absence_office(user: User, delegate: User, role: str) -> Organisation:
    """The treasury office where both hold `role` (actively)."""
    shared = (
        Membership.objects.filter(
            user=user, role=role, is_active=True, organisation__kind=OrgKind.TREASURY_OFFICE,
            organisation__is_active=True,
            organisation__memberships__user=delegate, organisation__memberships__role=role,
            organisation__memberships__is_active=True,
        )
        .select_related("organisation")
        .order_by("organisation__path")
        .first()
    )
    if shared is None:
        raise ApplicationError(
            "delegate_not_colleague",
            _("Người thay phải là cán bộ của cùng kho bạc, cùng vai trò với người vắng mặt."),
            fields={"delegate": [_("Không cùng kho bạc hoặc không cùng vai trò.")]},
        )
    return shared.organisation


def absence_create(
    *, actor: User, user: User, delegate: User, role: str, starts_on: date, ends_on: date, note: str = ""
) -> Absence:
    """Declare that `user` (a control officer or approver) is away from
    `starts_on` to `ends_on` with `delegate`, another active officer of the same
    office with the same role. The person declares it, or a leader (approver) of
    the office or an office above. Refused: a period that ends before it starts
    or has already ended (`invalid_period`); a delegate who is not another active
    officer of the same office with the same role (`delegate_not_colleague`); an
    overlap with another absence of the person for that role (`absence_overlap`);
    a delegate away during the period (`delegate_absent`)."""
    from accounts.selectors import is_leader_of

    note = (note or "").strip()[:500]
    if role not in {str(r) for r in ABSENCE_ROLES}:
        raise ValidationFailed(_("Chỉ cán bộ kiểm soát hoặc lãnh đạo phê duyệt khai báo vắng mặt."),
                               fields={"role": [_("Không hợp lệ.")]})
    if ends_on < starts_on:
        raise ApplicationError("invalid_period", _("Ngày kết thúc phải từ ngày bắt đầu trở đi."),
                               fields={"ends_on": [_("Trước ngày bắt đầu.")]})
    if ends_on < timezone.localdate():
        raise ApplicationError("invalid_period", _("Không khai báo vắng mặt cho thời gian đã qua."),
                               fields={"ends_on": [_("Đã qua.")]})
    if delegate.pk == user.pk or not delegate.is_active:
        raise ApplicationError("delegate_not_colleague", _("Người thay phải là một cán bộ khác, đang hoạt động."),
                               fields={"delegate": [_("Không hợp lệ.")]})
    with transaction.atomic():
        # One absence at a time per person: their row is the lock of the overlap check.
        User.objects.select_for_update().filter(pk__in=[user.pk, delegate.pk]).order_by("pk").count()
        office = _absence_office(user, delegate, role)
        if actor.pk != user.pk and not is_leader_of(actor, office):
            raise PermissionDenied(
                _("Chỉ chính cán bộ hoặc lãnh đạo phê duyệt của kho bạc mới khai báo được vắng mặt.")
            )
        live = Absence.objects.filter(cancelled_at__isnull=True, starts_on__lte=ends_on, ends_on__gte=starts_on)
        if live.filter(user=user, role=role).exists():
            raise ApplicationError(
                "absence_overlap",
                _("%(name)s đã có lịch vắng mặt trùng thời gian này: hãy hủy lịch cũ trước.")
                % {"name": user.get_full_name() or user.username},
            )
        if live.filter(user=delegate).exists():
            raise ApplicationError(
                "delegate_absent",
                _("Người thay %(name)s cũng vắng mặt trong thời gian này: hãy chọn người khác.")
                % {"name": delegate.get_full_name() or delegate.username},
            )
        return Absence.objects.create(
            user=user, delegate=delegate, office=office, role=role, starts_on=starts_on, ends_on=ends_on,
            note=note, created_by=actor,
        )


def absence_cancel(*, actor: User, absence: Absence | int) -> Absence:
    """Cancel an absence (the person, whoever declared it, or a leader of its
    office): from then on the queue is the person's own again; what the delegate
    already took over stays with the delegate (its hand-over event says so). A
    repeat returns it as it is; an absence already over cannot be cancelled."""
    from accounts.selectors import can_cancel_absence

    with transaction.atomic():
        try:
            absence = Absence.objects.select_for_update(of=("self",)).select_related("office").get(
                pk=absence.pk if isinstance(absence, Absence) else int(absence)
            )
        except Absence.DoesNotExist:
            raise NotFound() from None
        if absence.cancelled_at is not None:
            return absence
        if not can_cancel_absence(actor, absence):
            if absence.ends_on < timezone.localdate():
                raise ApplicationError("absence_over", _("Lịch vắng mặt đã kết thúc: không hủy được."))
            raise PermissionDenied(
                _("Chỉ người vắng mặt, người khai báo hoặc lãnh đạo của kho bạc mới hủy được lịch vắng mặt.")
            )
        absence.cancelled_at = timezone.now()
        absence.cancelled_by = actor
        absence.save(update_fields=["cancelled_at", "cancelled_by"])
        return absence
