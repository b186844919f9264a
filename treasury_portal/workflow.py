"""The one workflow engine of the portal's documents (vouchers, autopay
authorizations, alerts, satisfaction follow-ups).

A `Workflow` is declarative: the model, its transition table
`{action: (from statuses, to status)}`, the event model and the field of the
event that points at the document, and the sentence that refuses a move from
the wrong status. Each service then does, in its one transaction:

    obj = FLOW.lock(obj)                  # the document's own row, FOR UPDATE
    ...who may (the app's `can_<action>` predicates), a repeat returns early...
    FLOW.move(obj, "submit", actor=actor, fields={...}, note=..., data=...)

- `lock` locks ONLY the document's row (`SELECT ... FOR UPDATE OF self`, no
  join): the parents the rules read (unit, office, procedure...) are not locked
  and not joined. When the caller passes an instance it already read (a view's
  detail query), the parents it holds are kept when the locked row still points
  at them; otherwise they are read only where a rule uses them.
- `check` refuses an action the table does not allow from the current status:
  `ApplicationError("invalid_transition", <the workflow's sentence>)`.
- `move` checks, sets the status and the given fields (one UPDATE of those
  columns), and writes the event row (`event`).

Only services call it (tests/test_architecture.py: status is written here and
in services modules only). The signature check the voucher and the autopay
authorization share (Ed25519, accounts.crypto, over the content
hash, accounts.canonical) is `accounts.services.live_signatures_verify`.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from treasury_portal.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed


def pk_of(obj: Any) -> int:
    return obj.pk if hasattr(obj, "pk") else int(obj)


def keep_parents(fresh: models.Model, known: Any) -> models.Model:
    """Give `fresh` the parent rows (many-to-one, one-to-one) `known` already
    holds in memory, where `fresh` still points at the same row: they are not
    read again. Prefetched children are never carried over (they are read under
    the lock, by whoever needs them)."""
    if not isinstance(known, type(fresh)) or known is fresh:
        return fresh
    for f in fresh._meta.concrete_fields:
        if f.is_relation and (f.many_to_one or f.one_to_one):
            if f.is_cached(known) and getattr(known, f.attname) == getattr(fresh, f.attname):
                f.set_cached_value(fresh, f.get_cached_value(known))
    return fresh


def lock_row(model: type[models.Model], obj: Any, *, not_found: Callable[[], Exception] = NotFound) -> Any:
    """Re-read the row of `obj` (an instance or a primary key) with only that row
    locked: one `SELECT ... FOR UPDATE OF self` without any join. Raises
    `not_found()` (404) when there is no such row."""
    try:
        fresh = model._default_manager.select_for_update(of=("self",)).get(pk=pk_of(obj))
    except model.DoesNotExist:
        raise not_found() from None
    return keep_parents(fresh, obj)


@dataclass(frozen=True)
class Workflow:
    """One document kind's transitions. `invalid` is the (lazy) sentence of the
    refusal, with `%(status)s` the current status's label; `event_model` and
    `event_fk` name the event row and its link to the document; `event_defaults`
    are extra fields of every event (computed from the document)."""

    model: type[models.Model]
    transitions: Mapping[str, tuple[Iterable[str], str]]
    invalid: str | Promise
    event_model: type[models.Model]
    event_fk: str
    note_max: int = 4000
    save_updated_at: bool = True
    event_defaults: Callable[[Any], dict] | None = field(default=None)

    def lock(self, obj: Any) -> Any:
        return lock_row(self.model, obj)

    def allows(self, obj: Any, action: str) -> bool:
        """The table allows `action` from the document's current status."""
        return obj.status in self.transitions[action][0]

    def check(self, obj: Any, action: str) -> str:
        """The status `action` leads to; invalid_transition when the table does
        not allow it from the current status."""
        allowed_from, to_status = self.transitions[action]
        if obj.status not in allowed_from:
            raise ApplicationError("invalid_transition", str(self.invalid) % {"status": obj.get_status_display()})
        return to_status

    def event(
        self, obj: Any, *, actor: Any, action: str, from_status: str, to_status: str, note: str = "", **fields: Any
    ) -> models.Model:
        """The event row of `action` (also of an action that leaves the status)."""
        extra = self.event_defaults(obj) if self.event_defaults else {}
        return self.event_model._default_manager.create(
            **{self.event_fk: obj}, actor=actor, action=action, from_status=from_status, to_status=to_status,
            note=(note or "")[: self.note_max], **extra, **fields,
        )

    def move(
        self, obj: Any, action: str, *, actor: Any, fields: Mapping[str, Any] | None = None, note: str = "",
        **event_fields: Any,
    ) -> models.Model:
        """Check `action`, set the status and `fields` (saved in one UPDATE of
        those columns), write the event row; returns the event."""
        to_status = self.check(obj, action)
        from_status = obj.status
        obj.status = to_status
        update = ["status", *(["updated_at"] if self.save_updated_at else [])]
        for name, value in (fields or {}).items():
            setattr(obj, name, value)
            update.append(name)
        obj.save(update_fields=update)
        return self.event(
            obj, actor=actor, action=action, from_status=from_status, to_status=to_status, note=note, **event_fields
        )


def passes(
    check: Callable[..., None], *args: Any, refusals: frozenset[str] = frozenset({"invalid_transition"})
) -> bool:
    """A `check_<action>` as a yes/no (the `can_<action>` predicates): False when
    it refuses (PermissionDenied, or an ApplicationError whose code is one of
    `refusals`); any other error is a bug and goes up."""
    try:
        check(*args)
    except PermissionDenied:
        return False
    except ApplicationError as exc:
        if exc.code in refusals:
            return False
        raise
    return True


def refuse_unknown_fields(data: Mapping[str, Any], editable: Iterable[str]) -> None:
    """An edit of a document names only its editable fields (ValidationFailed
    listing the others)."""
    unknown = set(data) - set(editable)
    if unknown:
        raise ValidationFailed(
            _("Không sửa được các trường: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
            fields={f: [_("Không sửa được.")] for f in sorted(unknown)},
        )
