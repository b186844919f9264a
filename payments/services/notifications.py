"""The notification outbox.

A notification is a row written in the same transaction as its cause (a
transfer, an autopay run), or drained from the cause's own event row: a
voucher's change of status writes only its `VoucherEvent`, and the worker's
drain (`notifications_drain`: the sources a higher app registers with
`notification_source_register`, vouchers.notifications for the vouchers) turns
the pending events into notifications in batches. The portal channel is the
row itself; each external channel (e-mail, SMS/push) gets a
`NotificationDelivery` row per the user's preferences (default: every channel
on). Nothing is sent inside the cause's transaction: the deliverer is woken
when it commits (`notifications_wake`), and the sweeper
(`sweep_notifications`) drains and delivers whatever is still pending, so a
rollback sends nothing and a broker or worker outage only delays delivery.

`notifications_deliver` claims pending rows in batches with
`SELECT … FOR UPDATE SKIP LOCKED`, sends them through the channel backends and
marks them sent; two workers never take the same row, and running it twice is
harmless. A send that fails is retried with a growing delay, up to
MAX_ATTEMPTS, then marked failed with the error.
"""

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Membership, Role, User
from payments.models import (
    Channel,
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    NotificationKind,
    NotificationPreference,
)
from treasury_portal.errors import NotFound, ValidationFailed
from treasury_portal.links import site_url
from treasury_portal.money import format_money
from treasury_portal.wake import WakeGate, run_woken

logger = logging.getLogger(__name__)

EXTERNAL_CHANNELS = (Channel.EMAIL, Channel.SMS)
MAX_ATTEMPTS = 5
BALANCE_ROLES = (Role.ACCOUNT_HOLDER, Role.CHIEF_ACCOUNTANT)


def _money(amount: int) -> str:

    return format_money(amount)


def _url(name: str, *args: object) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # that page is not installed
        return ""


def _voucher_url(voucher_id: int) -> str:
    return _url("voucher-detail", voucher_id)


# --- writing (inside the cause's transaction) --------------------------------


def _recipients(user_ids: set[int]) -> tuple[dict[tuple[int, str, str], bool], dict[int, str]]:
    """The users' channel preferences (user, kind, channel) and the active users'
    e-mail addresses: one query, the users joined to their few preference rows."""
    prefs: dict[tuple[int, str, str], bool] = {}
    emails: dict[int, str] = {}
    rows = User.objects.filter(pk__in=user_ids).order_by().values_list(
        "pk", "email", "is_active", "notification_preferences__kind", "notification_preferences__channel",
        "notification_preferences__enabled",
    )
    for user_id, email, active, kind, channel, enabled in rows:
        if active:
            emails[user_id] = email
        if kind is not None:
            prefs[(user_id, kind, channel)] = enabled
    return prefs, emails


def notifications_write(rows: list[Notification], *, wake: bool = True) -> list[Notification]:
    """Insert notifications and their delivery rows (per preference) and queue
    the delivery task for when the surrounding transaction commits (`wake`;
    the drain, which delivers right after, does not). On PostgreSQL both tables
    are written by one statement (_insert_outbox). A row given a `created_at`
    (the time of its cause: a drained event's) keeps it."""
    if not rows:
        return []
    prefs, emails = _recipients({n.user_id for n in rows})
    now = timezone.now()
    channels: list[list[str]] = []
    for n in rows:
        # Portal off: the row is still the record (and the outbox's parent) but
        # arrives read, so it never raises the unread badge.
        if not prefs.get((n.user_id, n.kind, Channel.PORTAL), True):
            n.read_at = now
        wanted = []
        if n.user_id in emails:  # deactivated users get the portal record only
            for channel in EXTERNAL_CHANNELS:
                if not prefs.get((n.user_id, n.kind, channel), True):
                    continue
                if channel == Channel.EMAIL and not emails[n.user_id]:
                    continue
                wanted.append(channel)
        channels.append(wanted)
    if connection.vendor == "postgresql":
        notifications = _insert_outbox(rows, channels, now)
    else:
        notifications = Notification.objects.bulk_create(rows)
        NotificationDelivery.objects.bulk_create(
            [NotificationDelivery(notification=n, channel=c) for n, wanted in zip(notifications, channels, strict=True)
             for c in wanted]
        )
    if wake and any(channels):
        notifications_wake()
    return notifications


_NOTIFICATION_COLUMNS = ("user_id", "kind", "title", "body", "data", "unit_id", "voucher_id", "created_at", "read_at")


def _insert_outbox(rows: list[Notification], channels: list[list[str]], now: datetime) -> list[Notification]:
    """The notifications and their deliveries in one statement: an INSERT of the
    notifications in a data-modifying CTE, the deliveries inserted from its
    RETURNING rows, the new ids selected in order (the sequence numbers one
    INSERT's rows in the order of its VALUES, which bulk_create relies on too).
    The ORM would compile two bulk inserts and send both: this runs in every
    voucher transition."""
    from payments.services.bulk_sql import as_json, sql_row

    quote = connection.ops.quote_name
    template = "(" + ", ".join(["%s"] * len(_NOTIFICATION_COLUMNS)) + ")"
    with connection.cursor() as cursor:
        raw = cursor.cursor
        values = b",".join(
            raw.mogrify(template, sql_row([
                n.user_id, n.kind, n.title, n.body, as_json(n.data), n.unit_id, n.voucher_id, n.created_at or now,
                n.read_at,
            ]))
            for n in rows
        ).decode()
        sql = (
            f"WITH n AS (INSERT INTO {quote(Notification._meta.db_table)} "  # noqa: S608 - the models' own tables
            f"({', '.join(quote(c) for c in _NOTIFICATION_COLUMNS)}) VALUES {values} RETURNING id)"
        )
        wanted = [(i, c) for i, cs in enumerate(channels, start=1) for c in cs]
        if wanted:
            # Every value below is rendered by psycopg2 (mogrify): the statement is sent without parameters.
            pairs = b",".join(raw.mogrify("(%s, %s)", pair) for pair in wanted).decode()
            fixed = raw.mogrify("%s, 0, '', NULL, %s, NULL", [DeliveryStatus.PENDING.value, now]).decode()
            table = quote(NotificationDelivery._meta.db_table)
            sql += (
                f", d AS (INSERT INTO {table} (notification_id, channel, status, attempts, last_error, "  # noqa: S608
                f"next_attempt_at, created_at, sent_at) SELECT o.id, w.channel, {fixed} "
                "FROM (SELECT id, row_number() OVER (ORDER BY id) AS ord FROM n) o "
                f"JOIN (VALUES {pairs}) AS w(ord, channel) ON w.ord = o.ord)"
            )
        cursor.execute(f"{sql} SELECT id FROM n ORDER BY id")  # noqa: S608 - rendered by psycopg2, no parameters
        ids = [row[0] for row in cursor.fetchall()]
    for n, pk in zip(rows, ids, strict=True):
        n.pk, n.created_at = pk, n.created_at or now
        n._state.adding, n._state.db = False, connection.alias
    return rows


def notifications_write_many(rows: list[Notification]) -> int:
    """notifications_write for thousands of rows (the autopay batches): the
    same preferences and outbox rows, inserted set-based (payments.services.
    bulk_sql: ids from the sequence, one INSERT per table). Returns how many
    notifications were written."""
    from payments.services.bulk_sql import as_json, insert_rows, reserve_ids

    if not rows:
        return 0
    ids = reserve_ids(Notification, len(rows))
    if ids is None:
        return len(notifications_write(rows))
    prefs, emails = _recipients({n.user_id for n in rows})
    now = timezone.now()
    notes, deliveries = [], []
    for pk, n in zip(ids, rows, strict=True):
        read_at = None if prefs.get((n.user_id, n.kind, Channel.PORTAL), True) else now
        notes.append((pk, n.user_id, n.kind, n.title, n.body, as_json(n.data), n.unit_id, n.voucher_id, now, read_at))
        if n.user_id not in emails:
            continue
        for channel in EXTERNAL_CHANNELS:
            if not prefs.get((n.user_id, n.kind, channel), True):
                continue
            if channel == Channel.EMAIL and not emails[n.user_id]:
                continue
            deliveries.append((pk, channel, DeliveryStatus.PENDING, 0, "", None, now, None))
    insert_rows(
        Notification,
        ["id", "user_id", "kind", "title", "body", "data", "unit_id", "voucher_id", "created_at", "read_at"],
        notes,
    )
    if deliveries:
        insert_rows(
            NotificationDelivery,
            ["notification_id", "channel", "status", "attempts", "last_error", "next_attempt_at", "created_at",
             "sent_at"],
            deliveries,
        )
        notifications_wake()
    return len(notes)


def notifications_wake() -> None:
    """Ask for a drain and delivery run when the surrounding transaction commits
    — once per transaction however many notifications or events it wrote (the
    deliverer drains every pending event and due row in batches, not this
    transaction's). No SQL: a voucher transition calls it for its event."""
    conn = transaction.get_connection()
    # Already asked for in this transaction, at this savepoint or one around it
    # (one registered in a savepoint since released does not count: Django's
    # test transactions never commit, and pytest's captured callbacks are the
    # ones registered since the capture began).
    active = set(conn.savepoint_ids)
    if conn.in_atomic_block and any(
        func is _wake_deliverer and sids <= active for sids, func, _robust in conn.run_on_commit
    ):
        return
    transaction.on_commit(_wake_deliverer)


_WAKE = WakeGate("notifications:wake")


def _wake_deliverer() -> None:
    """Queue `deliver_notifications` at most once per NOTIFICATIONS_WAKE_SECONDS
    across all processes (treasury_portal.wake: a Celery publish costs a broker
    connection and a task run on the worker; at the lifecycle's rates every
    transition queued one). The task is told when the gate opens again
    (`gate_until`) and runs once more then (notifications_run), so what
    committed while the gate was shut is drained and delivered about a second
    later, not at the next sweep; a process refused by the gate does not wait
    out its own debounce (the next commit after the gate opens wakes it). The
    beat's `sweep_notifications` (every NOTIFICATIONS_SWEEP_SECONDS) is the
    safety net for a lost message. With eager tasks (tests, the embedded
    default) there is no broker to spare: it runs at every commit."""
    from payments.tasks import deliver_notifications, enqueue

    _WAKE.wake(deliver_notifications, settings.NOTIFICATIONS_WAKE_SECONDS, enqueue)


# --- sources drained by the worker ----------------------------------------------
#
# A higher app whose events are their own outbox (vouchers: a change of status
# writes only its VoucherEvent) registers a drain here (in its AppConfig.ready):
# a function that turns a few batches of its pending events into notifications,
# exactly once (SKIP LOCKED claim, written and marked in one transaction), and
# returns how many events it drained. payments never imports it.
_sources: list = []


def notification_source_register(drain) -> None:  # noqa: ANN001
    if drain not in _sources:
        _sources.append(drain)


def notifications_drain() -> int:
    """Run every registered source's drain: the notifications of the events
    committed since (the deliverer and the sweep call it before delivering).
    One source failing does not keep the others, or the delivery, waiting."""
    drained = 0
    for drain in list(_sources):
        try:
            drained += drain()
        except Exception:  # noqa: BLE001 - its events stay pending; the next sweep drains them
            logger.exception("notification source %s failed; its events stay pending", drain)
    return drained


def notifications_run(*, gate_until: float | None = None) -> int:
    """The worker's run: drain the pending events into notifications, then send
    every due delivery (theirs included). Safe to run twice or at once. Woken
    through the gate (`gate_until`: when it opens again, epoch seconds), it
    runs once more at that moment for what committed while the gate was shut
    (at most NOTIFICATIONS_WAKE_SECONDS later)."""
    return sum(run_woken(lambda: notifications_drain() + notifications_deliver(), gate_until,
                         settings.NOTIFICATIONS_WAKE_SECONDS))


def voucher_status_notifications(*, voucher, event, user_ids: set[int]) -> list[Notification]:  # noqa: ANN001
    """The notifications of a voucher's change of status (or year-end carry) for
    `user_ids` (its preparer and signers), not saved: the drain writes a batch's
    with notifications_write. Each keeps the event's time."""
    from payments.selectors.notifications import voucher_status_label

    with translation.override(settings.LANGUAGE_CODE):
        from payments.selectors.notifications import YEAR_END_TITLES

        status_label = (voucher_status_label(event.to_status) or event.to_status) if event.to_status else event.action
        if event.action in YEAR_END_TITLES:
            title = str(YEAR_END_TITLES[event.action]) % {"number": voucher.number, "year": voucher.fiscal_year}
        else:
            title = _("Chứng từ %(number)s: %(status)s") % {"number": voucher.number, "status": status_label}
    extra = {"year": voucher.fiscal_year} if event.action in YEAR_END_TITLES else None
    rows = _voucher_event_rows(voucher, event, user_ids, title, extra)
    for n in rows:
        n.created_at = event.created_at
    return rows


def notify_voucher_staff(*, voucher, event, user_ids: set[int] | list[int], title: str) -> list[Notification]:  # noqa: ANN001
    """A voucher's hand-over or escalation told to treasury staff (the new holder,
    the office's leaders), in the same transaction as the event. `title` is
    already in the portal's language."""
    return notifications_write(_voucher_event_rows(voucher, event, set(user_ids), title))


def _voucher_event_rows(
    voucher, event, user_ids: set[int], title: str, extra: dict | None = None  # noqa: ANN001
) -> list[Notification]:
    """One notification of the voucher's event per user (not saved): `title`, the
    event's note after it; `extra` joins the data the reader's text is made from."""
    body = title + (f" — {event.note}" if event.note else "")
    data = {
        "voucher_id": voucher.pk, "voucher_number": voucher.number, "status": event.to_status,
        "from_status": event.from_status, "action": event.action, "note": event.note[:500],
        "url": _voucher_url(voucher.pk), **(extra or {}),
    }
    rows = [
        Notification(
            user_id=user_id, kind=NotificationKind.VOUCHER_STATUS, title=title[:255], body=body, data=data,
            unit_id=voucher.unit_id, voucher=voucher,
        )
        for user_id in sorted(user_ids)
    ]
    return rows


def balance_recipients(unit_id: int) -> list[int]:
    """Who is told of a unit's balance changes (and of its autopay exceptions):
    its active account holders and chief accountants, by id."""
    return sorted(
        set(
            Membership.objects.filter(organisation_id=unit_id, role__in=BALANCE_ROLES, is_active=True).values_list(
                "user_id", flat=True
            )
        )
    )


def balance_recipients_by_unit(unit_ids: set[int]) -> dict[int, list[int]]:
    """balance_recipients of many units in one query (the payment and autopay
    batches): {unit id: its holders' and chief accountants' ids, ascending};
    a unit with none is absent."""
    recipients: dict[int, list[int]] = defaultdict(list)
    if not unit_ids:
        return recipients
    for org_id, user_id in (
        Membership.objects.filter(organisation_id__in=unit_ids, role__in=BALANCE_ROLES, is_active=True)
        .order_by("user_id")
        .values_list("organisation_id", "user_id")
        .distinct()
    ):
        recipients[org_id].append(user_id)
    return recipients


def _balance_rows(transfer, account, other, signed: int) -> list[Notification]:  # noqa: ANN001
    return balance_notification_rows(transfer, account, other, signed, user_ids=balance_recipients(account.unit_id))


def balance_notification_rows(
    transfer, account, other, signed: int, *, user_ids: list[int], reference: str = "",  # noqa: ANN001
    data: dict | None = None, url: str | None = None,
) -> list[Notification]:
    """The balance notices of one side of a transfer for `user_ids` (not saved:
    pass them to notifications_write). `reference` names what paid when no
    voucher did (an autopay invoice); `data` is added to the structured data."""
    if not user_ids:
        return []
    voucher = transfer.voucher if transfer.voucher_id else None
    counterparty = transfer.counterparty_name or other.name
    counterparty_account = transfer.counterparty_account or other.number
    balance = transfer.credit_balance_after if signed > 0 else transfer.debit_balance_after
    created_at = transfer.created_at or timezone.now()
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Biến động số dư TK %(account)s: %(amount)s") % {
            "account": account.number, "amount": ("+" if signed > 0 else "") + _money(signed),
        }
        parts = [
            _("Tài khoản %(account)s %(direction)s %(amount)s lúc %(time)s.")
            % {
                "account": account.number,
                "direction": _("tăng") if signed > 0 else _("giảm"),
                "amount": _money(abs(signed)),
                "time": timezone.localtime(created_at).strftime("%H:%M %d/%m/%Y"),
            },
            _("Đối tác: %(name)s (%(account)s).") % {"name": counterparty, "account": counterparty_account},
        ]
        if voucher is not None:
            parts.append(_("Chứng từ: %(number)s.") % {"number": voucher.number})
        elif reference:
            parts.append(f"{reference}.")
        parts.append(_("Số dư mới: %(balance)s.") % {"balance": _money(balance)})
    payload = {
        "transfer_id": transfer.pk, "account_id": account.pk, "account": account.number, "amount": signed,
        "balance": balance, "counterparty": counterparty, "counterparty_account": counterparty_account,
        "voucher_id": voucher.pk if voucher else None, "voucher_number": voucher.number if voucher else "",
        "url": _url("account-detail", account.pk) if url is None else url, **(data or {}),
    }
    body = " ".join(parts)
    return [
        Notification(
            user_id=user_id, kind=NotificationKind.BALANCE_CHANGE, title=title[:255], body=body,
            data=payload, unit_id=account.unit_id, voucher=voucher,
        )
        for user_id in user_ids
    ]


def notify_balance_change(*, transfer) -> list[Notification]:  # noqa: ANN001
    """Called by transfer_post inside its transaction for every transfer that
    touches a unit's account: the unit's account holders and chief accountants
    are told the amount, the counterparty, the voucher number and the new balance."""
    rows: list[Notification] = []
    debit, credit = transfer.debit_account, transfer.credit_account
    if debit.unit_id:
        rows += _balance_rows(transfer, debit, credit, -transfer.amount)
    if credit.unit_id:
        rows += _balance_rows(transfer, credit, debit, transfer.amount)
    return notifications_write(rows)


# --- the reader's actions ------------------------------------------------------


def notification_mark_read(*, actor: User, notification_id: int) -> Notification:
    """Mark one of the actor's notifications read (a repeat changes nothing)."""
    notification = Notification.objects.filter(pk=notification_id, user=actor).first()
    if notification is None:
        raise NotFound()
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
        notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_mark_all_read(*, actor: User) -> int:
    return Notification.objects.filter(user=actor, read_at__isnull=True).update(read_at=timezone.now())


def notification_preferences_set(*, actor: User, enabled: dict[tuple[str, str], bool]) -> None:
    """Set the actor's channel choices per event kind; missing pairs keep their value."""
    for kind, channel in enabled:
        if kind not in NotificationKind.values or channel not in Channel.values:
            raise ValidationFailed(_("Loại thông báo hoặc kênh không hợp lệ."))
    with transaction.atomic():
        for (kind, channel), on in sorted(enabled.items()):
            NotificationPreference.objects.update_or_create(
                user=actor, kind=kind, channel=channel, defaults={"enabled": bool(on)}
            )


# --- delivery (the worker side) ------------------------------------------------


def _notification_link(n: Notification) -> str:
    """The notification's page as an absolute link on the configured site
    (settings.SITE_URL): a worker has no request to take a host from."""
    link = n.data.get("url") if isinstance(n.data, dict) else ""
    return site_url(link) if link else ""


def _email_message(delivery: NotificationDelivery) -> EmailMessage:
    n = delivery.notification
    link = _notification_link(n)
    body = n.body + (f"\n\n{link}" if link else "")
    return EmailMessage(subject=n.title, body=body, to=[n.user.email])


def _send_email(deliveries: list[NotificationDelivery]) -> dict[int, str]:
    errors: dict[int, str] = {}
    try:
        connection = mailers.default
        connection.open()
        for d in deliveries:
            try:
                connection.send_messages([_email_message(d)])
            except Exception as exc:  # noqa: BLE001 - recorded on the row and retried
                errors[d.pk] = f"{type(exc).__name__}: {exc}"[:1000]
    except Exception as exc:  # noqa: BLE001 - the mail server is down: all retried later
        for d in deliveries:
            errors.setdefault(d.pk, f"{type(exc).__name__}: {exc}"[:1000])
    else:
        try:
            connection.close()
        except Exception:  # noqa: BLE001, S110 - closing a broken connection
            pass
    return errors


def _send_sms(deliveries: list[NotificationDelivery]) -> dict[int, str]:
    from payments.channels import SmsMessage, get_sms_backend

    messages = [
        SmsMessage(
            id=d.pk, user_id=d.notification.user_id, username=d.notification.user.username,
            phone=d.notification.user.phone, kind=d.notification.kind, title=d.notification.title,
            text=d.notification.body, url=_notification_link(d.notification),
        )
        for d in deliveries
    ]
    try:
        results = get_sms_backend().send_messages(messages)
    except Exception as exc:  # noqa: BLE001 - the gateway is down: all retried later
        return {d.pk: f"{type(exc).__name__}: {exc}"[:1000] for d in deliveries}
    return {d.pk: err[:1000] for d, err in zip(deliveries, results, strict=True) if err}


SENDERS = {Channel.EMAIL: _send_email, Channel.SMS: _send_sms}


def _claim_pending(*, batch_size: int, now: datetime | None = None) -> QuerySet[NotificationDelivery]:
    """The next batch of pending deliveries that are due, oldest first, locked
    (SKIP LOCKED: two deliverers never take one row). `status = 'pending' ORDER
    BY id` is the partial index `delivery_pending`: the claim reads the pending
    rows only, never the delivered history (tests/test_outbox_scale.py)."""
    return (
        NotificationDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=DeliveryStatus.PENDING)
        .exclude(next_attempt_at__gt=now or timezone.now())
        .select_related("notification__user")
        .order_by("id")[:batch_size]
    )


def notifications_deliver(*, batch_size: int = 500, max_batches: int = 50) -> int:
    """Send pending deliveries, one batch per transaction. Returns how many
    rows were handled (sent or failed)."""
    handled = 0
    for _batch in range(max_batches):
        with transaction.atomic():
            now = timezone.now()
            batch = list(_claim_pending(batch_size=batch_size, now=now))
            if not batch:
                break
            by_channel: dict[str, list[NotificationDelivery]] = defaultdict(list)
            for d in batch:
                by_channel[d.channel].append(d)
            errors: dict[int, str] = {}
            for channel, rows in by_channel.items():
                sender = SENDERS.get(channel)
                if sender is None:
                    errors.update({d.pk: f"unknown channel {channel}" for d in rows})
                else:
                    errors.update(sender(rows))
            sent = [d.pk for d in batch if d.pk not in errors]
            if sent:
                NotificationDelivery.objects.filter(pk__in=sent).update(
                    status=DeliveryStatus.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
                )
            for d in batch:
                if d.pk in errors:
                    attempts = d.attempts + 1
                    give_up = attempts >= MAX_ATTEMPTS
                    NotificationDelivery.objects.filter(pk=d.pk).update(
                        status=DeliveryStatus.FAILED if give_up else DeliveryStatus.PENDING,
                        attempts=attempts, last_error=errors[d.pk],
                        next_attempt_at=None if give_up else now + timedelta(seconds=30 * 2**attempts),
                    )
                    logger.warning("notification delivery %s (%s) failed: %s", d.pk, d.channel, errors[d.pk])
        handled += len(batch)
        if len(batch) < batch_size:
            break
    return handled
