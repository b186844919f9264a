"""Seeding at scale, fast: PostgreSQL COPY (psycopg2 `copy_expert`) for the rows
generated in Python, set-based INSERT … SELECT for the rows derived from them
(events, budget movements, transfers) and one UPDATE per counter table, so the
counters equal the sums of their event rows by construction (checked at the end).

Shape of the data (full size): the office tree of the real treasury (central →
63 provincial offices → ~700 transaction offices), 95,000 units with three budget
lines and two accounts each, and 1,000,000 historical vouchers of the current
fiscal year spread over statuses, offices and the last 150 days, with their lines,
timeline events, budget movements and payment transfers. Voucher counts per unit
follow a power law (a big hospital files thousands, a commune a handful), so the
biggest units have long lists. Historical vouchers carry no signatures (their
content hashes are placeholders): they are read, never re-verified.

Only the few users the load drives are real: treasury staff of every province
(control officers, an approver) and the preparer, chief accountant and account
holder of the lifecycle units, each with TOTP enrolled (allauth Authenticator
rows), an API token (the digest scheme of accounts.services) and, for signers,
an approved Ed25519 signing key (accounts.crypto).

Columns this module does not name are filled from the model's own defaults, so a
field another app adds later (with a default) does not break the seed.
"""

from __future__ import annotations

import base64
import bisect
import io
import itertools
import json
import random
import secrets
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg2
import psycopg2.extras
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from bench.config import Scale

CHUNK = 50_000
BUDGET_NDKT = ("6001", "6501", "6502")  # salaries, electricity, water
UNIT_CODE_BASE = 2_000_000  # 2xxxxxx: budget-using units; the demo's are 1xxxxxx
HISTORY_DAYS = 150
LIFECYCLE_ALLOCATION = 10**15  # the lifecycle units never run out of budget
HISTORY_HEADROOM = 5_000_000_000

# (status, weight): most history is paid; the rest spreads over every state.
STATUS_WEIGHTS = [
    ("paid", 800), ("refused", 20), ("withdrawn", 20), ("draft", 30), ("submitted", 40),
    ("in_control", 30), ("returned", 10), ("pending_approval", 25), ("approved", 10),
    ("payment_failed", 5),
]
# The transitions each final status went through: (action, from, to, actor).
PATHS: dict[str, list[tuple[str, str, str, str]]] = {}
_BASE = [("create", "", "draft", "creator"), ("submit", "draft", "submitted", "creator")]
PATHS["draft"] = _BASE[:1]
PATHS["submitted"] = _BASE
PATHS["withdrawn"] = [*_BASE, ("withdraw", "submitted", "withdrawn", "creator")]
PATHS["in_control"] = [*_BASE, ("claim", "submitted", "in_control", "controller")]
PATHS["returned"] = [*PATHS["in_control"], ("return", "in_control", "returned", "controller")]
PATHS["refused"] = [*PATHS["in_control"], ("refuse", "in_control", "refused", "controller")]
PATHS["pending_approval"] = [*PATHS["in_control"], ("pass", "in_control", "pending_approval", "controller")]
PATHS["approved"] = [*PATHS["pending_approval"], ("approve", "pending_approval", "approved", "approver")]
PATHS["paid"] = [*PATHS["approved"], ("pay", "approved", "paid", "system")]
PATHS["payment_failed"] = [*PATHS["approved"], ("fail_payment", "approved", "payment_failed", "system")]
# A returned voucher keeps its reservation (vouchers.services.voucher_return_for_supplement).
RESERVED = {"submitted", "in_control", "returned", "pending_approval", "approved", "payment_failed"}
RELEASED = {"refused", "withdrawn"}  # reserved, then released
SPENT = {"paid"}  # reserved, then spent


# --- COPY helpers ---------------------------------------------------------------


def _text(value: Any) -> str:
    """One value in COPY's text format."""
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _defaults(model: Any, named: Iterable[str], now: datetime) -> list[tuple[str, Any]]:
    """(column, value) for every concrete column of `model` not in `named`."""
    named = set(named)
    out = []
    for f in model._meta.concrete_fields:
        if f.column in named or (f.primary_key and f.column == "id"):
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            out.append((f.column, now))
            continue
        value = f.get_default()
        if value is None and not f.null:
            raise RuntimeError(
                f"bench/seed.py: {model.__name__}.{f.name} is NOT NULL without a default; "
                "the seed must name it."
            )
        out.append((f.column, value))
    return out


def copy_rows(cur: Any, model: Any, columns: list[str], rows: Iterable[tuple], now: datetime) -> int:
    """COPY `rows` (tuples in `columns` order) into `model`'s table; other columns
    get the model's defaults. Returns the number of rows."""
    return copy_lines(cur, model, columns, ("\t".join(_text(v) for v in row) for row in rows), now)


def copy_lines(cur: Any, model: Any, columns: list[str], lines: Iterable[str], now: datetime) -> int:
    """COPY pre-formatted lines (COPY text format, tab-separated, no newline)."""
    extra = _defaults(model, columns, now)
    tail = "".join("\t" + _text(v) for _c, v in extra) + "\n"
    all_columns = ", ".join(f'"{c}"' for c in [*columns, *(c for c, _v in extra)])
    sql = f'COPY "{model._meta.db_table}" ({all_columns}) FROM STDIN'
    count = 0
    buf = io.StringIO()
    pending = 0
    for line in lines:
        buf.write(line)
        buf.write(tail)
        pending += 1
        if pending >= CHUNK:
            buf.seek(0)
            cur.copy_expert(sql, buf)
            cur.connection.commit()
            count += pending
            buf, pending = io.StringIO(), 0
    if pending:
        buf.seek(0)
        cur.copy_expert(sql, buf)
        cur.connection.commit()
        count += pending
    analyze(cur, model)
    return count


def analyze(cur: Any, model: Any) -> None:
    """Fresh statistics after a bulk load, so the next set-based step gets a sane
    plan (a table the planner believes empty gets nested loops)."""
    cur.execute(f'ANALYZE "{model._meta.db_table}"')
    cur.connection.commit()


def _existing(model: Any, exprs: dict[str, str]) -> dict[str, str]:
    """Only the columns `model` has (a column another app removes drops out here)."""
    have = {f.column for f in model._meta.concrete_fields}
    return {c: e for c, e in exprs.items() if c in have}


def insert_select(cur: Any, model: Any, exprs: dict[str, str], tail_sql: str, now: datetime) -> int:
    """INSERT INTO model (named columns + defaulted ones) SELECT exprs … tail_sql."""
    extra = _defaults(model, exprs, now)
    columns = ", ".join(f'"{c}"' for c in [*exprs, *(c for c, _v in extra)])
    select = ", ".join([*exprs.values(), *("%s" for _e in extra)])
    params = [psycopg2.extras.Json(v) if isinstance(v, dict | list) else v for _c, v in extra]
    cur.execute(f'INSERT INTO "{model._meta.db_table}" ({columns}) SELECT {select} {tail_sql}', params)
    count = cur.rowcount
    cur.connection.commit()
    analyze(cur, model)
    return count


SECONDARY_INDEXES_SQL = """
    SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
    WHERE t.relname = ANY(%s) AND NOT i.indisunique AND NOT i.indisprimary
"""


def drop_secondary_indexes(cur: Any, models: Iterable[Any]) -> list[str]:
    """Drop the non-unique indexes of the big tables before loading them (one
    CREATE INDEX afterwards is far cheaper than a million index insertions);
    returns their definitions for `restore_indexes`. Unique indexes and primary
    keys stay: they enforce constraints while loading."""
    cur.execute(SECONDARY_INDEXES_SQL, [[m._meta.db_table for m in models]])
    rows = cur.fetchall()
    for name, _definition in rows:
        cur.execute(f"DROP INDEX {name}")
    cur.connection.commit()
    return [definition for _name, definition in rows]


def restore_indexes(cur: Any, definitions: list[str]) -> None:
    cur.execute("SET maintenance_work_mem = '256MB'")
    for definition in definitions:
        cur.execute(definition)
    cur.connection.commit()


def next_id(cur: Any, model: Any) -> int:
    # Table names come from model metadata, never from input (here and below).
    cur.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{model._meta.db_table}"')  # noqa: S608
    return cur.fetchone()[0]


def reset_sequences(cur: Any, models: Iterable[Any]) -> None:
    for model in models:
        table = model._meta.db_table
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE((SELECT MAX(id) FROM \"{table}\"), 1))",  # noqa: S608
            [table],
        )
    cur.connection.commit()


# --- what the load generator needs --------------------------------------------------


@dataclass
class Person:
    username: str
    user_id: int
    token: str
    totp_secret: str = ""
    key_id: int | None = None
    private_key: str = ""  # base64 of the raw 32-byte Ed25519 private key (bench only)


@dataclass
class SeedResult:
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    fiscal_year: int = 0
    procedure: str = "C2-02a/NS"
    bank_code: str = "BENCH01"
    lifecycle: list[dict] = field(default_factory=list)  # units that drive the lifecycle
    list_units: list[dict] = field(default_factory=list)  # preparers of the biggest units
    officers: list[dict] = field(default_factory=list)  # control officers of the busiest provinces
    approvers: list[dict] = field(default_factory=list)
    max_voucher_id: int = 0
    reconciliation: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "timings": self.timings, "counts": self.counts, "fiscal_year": self.fiscal_year,
            "procedure": self.procedure, "bank_code": self.bank_code, "lifecycle": self.lifecycle,
            "list_units": self.list_units,
            "officers": self.officers, "approvers": self.approvers, "max_voucher_id": self.max_voucher_id,
            "reconciliation": self.reconciliation,
        }


class _Clock:
    def __init__(self, result: SeedResult, log: Any) -> None:
        self.result, self.log, self.t = result, log, time.perf_counter()

    def lap(self, name: str, count: int | None = None) -> None:
        now = time.perf_counter()
        self.result.timings[name] = round(now - self.t, 2)
        if count is not None:
            self.result.counts[name] = count
        self.log(f"  seeded {name}: {count if count is not None else ''} in {now - self.t:.1f}s")
        self.t = now


# --- the seed ---------------------------------------------------------------------


def seed(scale: Scale, dsn: str, *, log: Any = print, rng_seed: int = 20261123) -> SeedResult:
    """Seed the (freshly migrated, demo-seeded) benchmark database. Needs Django set up."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import generate_totp_secret
    from allauth.mfa.utils import encrypt
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts import crypto
    from accounts.models import ApiToken, Membership, Organisation, SigningKey, User
    from accounts.services import TOKEN_PREFIX, token_digest
    from bench.tables import model
    from payments.models import Account, Bank, BudgetLine, BudgetMovement, Document, Transfer
    from vouchers.bench_views import CEILING_TABLE_SQL
    from vouchers.models import Procedure, Voucher, VoucherEvent, VoucherLine

    Notification = model("payments_notification")  # noqa: N806 - by table: the outbox may move
    NotificationDelivery = model("payments_notificationdelivery")  # noqa: N806
    rng = random.Random(rng_seed)  # noqa: S311 - reproducible benchmark data, not secrets
    result = SeedResult()
    clock = _Clock(result, log)
    started = time.perf_counter()
    now = timezone.now()
    local_now = timezone.localtime(now)
    year = local_now.year
    result.fiscal_year = year
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    cur.execute(CEILING_TABLE_SQL)
    conn.commit()
    # Foreign keys are checked by triggers, one index probe per row and key (half
    # the cost of a bulk load); every id here is assigned consistently, so they
    # are off while loading (superuser only) and verified set-based at the end.
    # CHECK constraints and unique indexes stay on throughout.
    try:
        cur.execute("SET session_replication_role = replica")
        conn.commit()
    except psycopg2.Error:
        conn.rollback()

    # Offices: the demo made 0001, 0100, 0101, 0200, 0201; complete the tree.
    cur.execute("SELECT code, id, path FROM accounts_organisation WHERE kind = 'treasury_office'")
    offices = {code: (oid, path) for code, oid, path in cur.fetchall()}
    oid = next_id(cur, Organisation)
    if "0001" not in offices:
        offices["0001"] = (oid, "0001/")
        copy_rows(cur, Organisation, ["id", "kind", "code", "name", "path"],
                  [(oid, "treasury_office", "0001", "Kho bạc Nhà nước", "0001/")], now)
        oid += 1
    rows = []
    tx_offices: list[tuple[str, int, str]] = []  # (code, id, path), province by province
    for p in range(1, scale.provinces + 1):
        pcode = f"{p:02d}00"
        if pcode not in offices:
            path = f"{offices['0001'][1]}{pcode}/"
            offices[pcode] = (oid, path)
            rows.append((oid, "treasury_office", pcode, f"Kho bạc Nhà nước tỉnh {p:02d}", path, offices["0001"][0]))
            oid += 1
        for t in range(1, scale.offices_per_province + 1):
            tcode = f"{p:02d}{t:02d}"
            if tcode not in offices:
                path = f"{offices[pcode][1]}{tcode}/"
                offices[tcode] = (oid, path)
                name = f"Kho bạc Nhà nước khu vực {tcode}"
                rows.append((oid, "treasury_office", tcode, name, path, offices[pcode][0]))
                oid += 1
            tx_offices.append((tcode, *offices[tcode]))
    n = copy_rows(cur, Organisation, ["id", "kind", "code", "name", "path", "parent_id"], rows, now)
    clock.lap("offices", n)

    # Units, spread over the transaction offices.
    unit_base = oid
    units: list[tuple[int, str, int, str]] = []  # (id, code, office index, path)

    def unit_rows() -> Iterator[tuple]:
        for i in range(scale.units):
            code = str(UNIT_CODE_BASE + i)
            o = i % len(tx_offices)
            path = f"{tx_offices[o][2]}{code}/"
            units.append((unit_base + i, code, o, path))
            yield (unit_base + i, "unit", code, f"Đơn vị dự toán {code}", path, tx_offices[o][1])

    n = copy_rows(cur, Organisation, ["id", "kind", "code", "name", "path", "office_id"], unit_rows(), now)
    clock.lap("units", n)

    # Budget lines (counters set after the vouchers) and accounts.
    bl_base = next_id(cur, BudgetLine)
    n = copy_rows(
        cur, BudgetLine,
        ["id", "unit_id", "fiscal_year", "chapter", "sector", "ndkt", "funding_source", "programme",
         "budget_level", "name", "allocated", "reserved", "spent"],
        (
            (bl_base + i * 3 + k, units[i][0], year, "422", "072", ndkt, "13", "00000", "2",
             f"Chi {ndkt}", 0, 0, 0)
            for i in range(scale.units) for k, ndkt in enumerate(BUDGET_NDKT)
        ),
        now,
    )
    clock.lap("budget_lines", n)
    # The payees' bank (the catalogue's, when the demo made it).
    cur.execute("SELECT id, code FROM payments_bank ORDER BY id LIMIT 1")
    found = cur.fetchone()
    if found:
        bank_id, result.bank_code = found
    else:
        bank_id = next_id(cur, Bank)
        copy_rows(cur, Bank, ["id", "code", "bic", "name"],
                  [(bank_id, result.bank_code, "BENCVNVX", "Ngân hàng benchmark")], now)

    # Accounts (payments.services.ledger's scheme): each unit's estimate account
    # 9523.2.UNIT and deposit account 3741.2.UNIT.00000; the treasury's estimate
    # source 9511.2 and the clearing account 3856.BANK of outgoing payments.
    def treasury_account(number: str, name: str, allow_negative: bool, bank: int | None) -> int:
        cur.execute("SELECT id FROM payments_account WHERE number = %s", [number])
        row = cur.fetchone()
        if row:
            return row[0]
        aid = next_id(cur, Account)
        copy_rows(cur, Account, ["id", "number", "name", "kind", "allow_negative", "bank_id"],
                  [(aid, number, name, "treasury", allow_negative, bank)], now)
        return aid

    source_acc = treasury_account("9511.2", "Nguồn dự toán giao — ngân sách cấp 2", True, None)
    clearing_acc = treasury_account(f"3856.{result.bank_code}", "Thanh toán đi chờ chuyển", False, bank_id)
    acc_base = next_id(cur, Account)
    n = copy_rows(
        cur, Account,
        ["id", "number", "name", "kind", "unit_id", "budget_level", "programme", "allow_negative", "balance"],
        (
            row
            for i, (uid, code, _o, _p) in enumerate(units)
            for row in (
                (acc_base + 2 * i, f"9523.2.{code}", f"Dự toán chi thường xuyên {code}", "estimate", uid, "2", "",
                 False, 0),
                (acc_base + 1 + 2 * i, f"3741.2.{code}.00000", f"Tiền gửi dự toán {code}", "deposit", uid, "2",
                 "00000", False, 0),
            )
        ),
        now,
    )
    clock.lap("accounts", n)

    # People: treasury staff of every province, the lifecycle units' signers.
    password = make_password(secrets.token_urlsafe(16))
    user_id = next_id(cur, User)
    users: list[tuple] = []
    memberships: list[tuple] = []
    people: dict[str, Person] = {}

    def person(username: str, org_id: int | None, role: str | None, *, token: bool = True) -> Person:
        nonlocal user_id
        users.append((user_id, username, f"{username}@bench.treasury.example", "Bench", username, password))
        if org_id is not None:
            memberships.append((user_id, org_id, role, True))
        plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32) if token else ""
        people[username] = Person(username=username, user_id=user_id, token=plaintext)
        user_id += 1
        return people[username]

    person("bench_admin", offices["0001"][0], "administrator")
    history_user = person("bench_history", None, None, token=False)
    province_staff: dict[str, tuple[Person, Person, Person]] = {}
    for p in range(1, scale.provinces + 1):
        pcode = f"{p:02d}00"
        pid = offices[pcode][0]
        province_staff[pcode] = (
            person(f"bench_officer_{pcode}_1", pid, "control_officer"),
            person(f"bench_officer_{pcode}_2", pid, "control_officer"),
            person(f"bench_approver_{pcode}", pid, "approver"),
        )
    lifecycle_people = []
    for i in range(scale.lifecycle_units):
        uid, code = units[i][0], units[i][1]
        lifecycle_people.append(
            (
                person(f"bench_{code}_preparer", uid, "preparer"),
                person(f"bench_{code}_chief", uid, "chief_accountant"),
                person(f"bench_{code}_holder", uid, "account_holder"),
            )
        )
    copy_rows(cur, User, ["id", "username", "email", "first_name", "last_name", "password"], users, now)
    copy_rows(cur, Membership, ["user_id", "organisation_id", "role", "is_active"], memberships, now)
    mfa_rows = []
    token_rows = []
    for p_ in people.values():
        if p_.token:
            p_.totp_secret = generate_totp_secret()
            mfa_rows.append((p_.user_id, "totp", {"secret": encrypt(p_.totp_secret)}))
            token_rows.append((p_.user_id, "bench", p_.token[:10], token_digest(p_.token)))
    copy_rows(cur, Authenticator, ["user_id", "type", "data"], mfa_rows, now)
    copy_rows(cur, ApiToken, ["user_id", "name", "prefix", "digest"], token_rows, now)
    key_id = next_id(cur, SigningKey)
    key_rows = []
    for i, (_prep, chief, holder) in enumerate(lifecycle_people):
        for signer, role in ((chief, "chief_accountant"), (holder, "account_holder")):
            private, public_b64 = crypto.generate_keypair()
            raw_public = base64.b64decode(public_b64)
            signer.key_id = key_id
            signer.private_key = base64.b64encode(
                private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
            ).decode()
            key_rows.append(
                (key_id, signer.user_id, units[i][0], role, public_b64, crypto.key_fingerprint(raw_public),
                 "approved", 1, people["bench_admin"].user_id, now)
            )
            key_id += 1
    copy_rows(
        cur, SigningKey,
        ["id", "user_id", "unit_id", "role", "public_key", "fingerprint", "status", "slot", "decided_by_id",
         "decided_at"],
        key_rows, now,
    )
    clock.lap("users", len(users))

    # The procedure the vouchers follow (the catalogue's, when the demo made it).
    cur.execute("SELECT id FROM vouchers_procedure WHERE code = %s AND mode = 'payment'", [result.procedure])
    found = cur.fetchone()
    if found:
        procedure_id = found[0]
    else:
        procedure_id = next_id(cur, Procedure)
        copy_rows(
            cur, Procedure, ["id", "code", "mode", "name_vi", "name_en"],
            [(procedure_id, result.procedure, "payment", "Rút dự toán ngân sách", "Budget-estimate withdrawal")],
            now,
        )

    # Historical vouchers and their lines.
    statuses = [s for s, _w in STATUS_WEIGHTS]
    weights = [w for _s, w in STATUS_WEIGHTS]
    start = max(now - timedelta(days=HISTORY_DAYS), datetime(year, 1, 2, tzinfo=now.tzinfo))
    span = max((now - timedelta(hours=6) - start).total_seconds(), 3600.0)
    v_base = next_id(cur, Voucher)
    line_base = next_id(cur, VoucherLine)
    seq: dict[int, int] = {}
    lines: list[str] = []
    n_units = scale.units

    cumulative = list(itertools.accumulate(weights))
    unit_staff = [province_staff[tx_offices[o][0][:2] + "00"] for _uid, _code, o, _p in units]

    big_tables = [Voucher, VoucherLine, VoucherEvent, BudgetMovement, Transfer, Document, Notification,
                  NotificationDelivery]
    index_definitions = drop_secondary_indexes(cur, big_tables)

    # One COPY line per voucher, formatted right here: the hot loop of the seed.
    def voucher_lines() -> Iterator[str]:
        line_id = line_base
        random_ = rng.random
        for i in range(scale.vouchers):
            vid = v_base + i
            u = min(int(n_units * random_() ** 2.5), n_units - 1)
            unit_id, code, o, _path = units[u]
            seq[u] = k = seq.get(u, 0) + 1
            status = statuses[bisect.bisect(cumulative, random_() * cumulative[-1])]
            created = start + timedelta(seconds=random_() * span)
            total = 0
            for pos in range(1 if random_() < 0.7 else 2):
                amount = rng.randint(100, 50_000) * 1000
                total += amount
                budget_line = bl_base + u * 3 + rng.randrange(3)
                lines.append(f"{line_id}\t{vid}\t{budget_line}\t{amount}\tChi thường xuyên\t{pos}")
                line_id += 1
            staff = unit_staff[u]
            created_s = created.isoformat()
            if status == "draft":
                receipt = received = due = r"\N"
            else:
                receipt = f"HISR-{vid}"
                received_at = created + timedelta(hours=1)
                received = received_at.isoformat()
                due = (received_at + timedelta(days=2)).isoformat()
            returned = (created + timedelta(hours=4)).isoformat() if status == "returned" else r"\N"
            controller = staff[0].user_id if status not in ("draft", "submitted", "withdrawn") else r"\N"
            approver = staff[2].user_id if status in ("approved", "paid", "payment_failed") else r"\N"
            closed = (created + timedelta(hours=12)).isoformat() if status in ("paid", "refused", "withdrawn") else None
            yield (
                f"{vid}\tHIS-{year}-{code}-{k:06d}\t{unit_id}\t{tx_offices[o][1]}\t{procedure_id}\tpayment\t{year}\t"
                f"Chi thanh toán {k} của đơn vị {code}\tCông ty TNHH Cung ứng {u % 997}\t{100000000 + u:012d}\t"
                f"{bank_id}\t{total}\t{vid:064x}\t{status}\t{history_user.user_id}\t{created_s}\t"
                f"{closed or created_s}\t{receipt}\t{received}\t{due}\t{returned}\t"
                f"{1 if status == 'returned' else 0}\t{controller}\t{approver}\t{closed or chr(92) + 'N'}"
            )

    n = copy_lines(
        cur, Voucher,
        ["id", "number", "unit_id", "office_id", "procedure_id", "mode", "fiscal_year", "description", "payee_name",
         "payee_account", "payee_bank_id", "total_amount", "content_hash", "status", "created_by_id", "created_at",
         "updated_at", "receipt_number", "received_at", "due_at", "returned_at", "return_count", "controller_id",
         "approver_id", "closed_at"],
        voucher_lines(), now,
    )
    clock.lap("vouchers", n)
    n = copy_lines(cur, VoucherLine, ["id", "voucher_id", "budget_line_id", "amount", "description", "position"],
                   lines, now)
    lines.clear()
    clock.lap("voucher_lines", n)
    cur.execute("SELECT MAX(id) FROM vouchers_voucher")
    result.max_voucher_id = cur.fetchone()[0] or 0

    # Timeline events: one per transition of each voucher's path (set-based).
    steps = [
        (status, i, action, frm, to, actor)
        for status, path in PATHS.items()
        for i, (action, frm, to, actor) in enumerate(path)
    ]
    values = ", ".join(cur.mogrify("(%s, %s, %s, %s, %s, %s)", s).decode() for s in steps)
    n = insert_select(
        cur, VoucherEvent,
        {
            "voucher_id": "v.id",
            "actor_id": "CASE s.actor WHEN 'creator' THEN v.created_by_id WHEN 'controller' THEN v.controller_id "
            "WHEN 'approver' THEN v.approver_id END",
            "action": "s.action", "from_status": "s.frm", "to_status": "s.tto",
            "created_at": "v.created_at + s.n * interval '90 minutes'",
            # The history was told at the time (the drain takes only new events).
            "notified_at": "v.created_at + s.n * interval '90 minutes'",
        },
        f"FROM vouchers_voucher v JOIN (VALUES {values}) AS s(status, n, action, frm, tto, actor) "
        f"ON s.status = v.status WHERE v.id >= {int(v_base)} ORDER BY v.id, s.n",
        now,
    )
    clock.lap("voucher_events", n)

    # Budget movements of the history, then the counters from their sums.
    for kind, wanted in (
        ("reserve", RESERVED | RELEASED | SPENT), ("release", RELEASED), ("spend", SPENT),
    ):
        insert_select(
            cur, BudgetMovement,
            {
                "budget_line_id": "l.budget_line_id", "kind": f"'{kind}'", "amount": "l.amount",
                "voucher_id": "v.id", "key": f"'bench-{kind}-' || l.id", "actor_id": "NULL",
                "created_at": "v.created_at + interval '1 hour'",
            },
            "FROM vouchers_voucherline l JOIN vouchers_voucher v ON v.id = l.voucher_id "
            f"WHERE v.id >= {int(v_base)} AND v.status IN ({', '.join(repr(s) for s in sorted(wanted))})",
            now,
        )
    lifecycle_unit_ids = [units[i][0] for i in range(scale.lifecycle_units)]
    cur.execute(
        """
        UPDATE payments_budgetline b SET
            reserved = s.reserved, spent = s.spent,
            allocated = s.reserved + s.spent + CASE WHEN b.unit_id = ANY(%s) THEN %s ELSE %s END
        FROM (
            SELECT b2.id,
                COALESCE(SUM(m.amount) FILTER (WHERE m.kind = 'reserve'), 0)
                  - COALESCE(SUM(m.amount) FILTER (WHERE m.kind IN ('release', 'spend')), 0) AS reserved,
                COALESCE(SUM(m.amount) FILTER (WHERE m.kind = 'spend'), 0) AS spent
            FROM payments_budgetline b2 LEFT JOIN payments_budgetmovement m ON m.budget_line_id = b2.id
            WHERE b2.id >= %s GROUP BY b2.id
        ) s WHERE s.id = b.id
        """,
        [lifecycle_unit_ids, LIFECYCLE_ALLOCATION, HISTORY_HEADROOM, bl_base],
    )
    conn.commit()
    insert_select(
        cur, BudgetMovement,
        {
            "budget_line_id": "b.id", "kind": "'allocate'", "amount": "b.allocated", "voucher_id": "NULL",
            "key": "'bench-allocate-' || b.id", "actor_id": "NULL",
            "created_at": cur.mogrify("%s", [start - timedelta(days=1)]).decode(),
        },
        f"FROM payments_budgetline b WHERE b.id >= {int(bl_base)}",
        now,
    )
    cur.execute("SELECT COUNT(*) FROM payments_budgetmovement WHERE key LIKE 'bench-%'")
    clock.lap("budget_movements", cur.fetchone()[0])

    # The ledger as payments.services.ledger writes it: each allocation movement
    # is one transfer 9511.2 → 9523.2.UNIT keyed allocate:<movement id>; each paid
    # voucher one transfer 9523.2.UNIT → 3856.BANK keyed pay:<voucher>:est2. The
    # balance each account had right after each transfer is a running sum, computed
    # by window functions in the INSERT itself (ids follow the ORDER BY, and every
    # allocation is dated before the history's first payment); the accounts'
    # balances are the sums.
    t_base = next_id(cur, Transfer)
    cur.execute("SELECT id, balance FROM payments_account WHERE id IN (%s, %s)", [source_acc, clearing_acc])
    start_balance = dict(cur.fetchall())
    src0, clr0 = int(start_balance[source_acc]), int(start_balance[clearing_acc])
    insert_select(
        cur, Transfer,
        {
            "key": "'allocate:' || m.id", "debit_account_id": str(int(source_acc)), "credit_account_id": "a.id",
            "amount": "m.amount", "kind": "'allocation'", "voucher_id": "NULL",
            "description": "'Giao dự toán ' || b.fiscal_year", "created_at": "m.created_at",
            "debit_balance_after": f"{src0} - SUM(m.amount) OVER (ORDER BY m.created_at, m.id "
                                   "ROWS UNBOUNDED PRECEDING)",
            "credit_balance_after": "SUM(m.amount) OVER (PARTITION BY a.id ORDER BY m.created_at, m.id "
                                    "ROWS UNBOUNDED PRECEDING)",
        },
        "FROM payments_budgetmovement m JOIN payments_budgetline b ON b.id = m.budget_line_id "
        "JOIN payments_account a ON a.unit_id = b.unit_id AND a.kind = 'estimate' "
        f"WHERE m.kind = 'allocate' AND m.key LIKE 'bench-%%' AND a.id >= {int(acc_base)} ORDER BY m.created_at, m.id",
        now,
    )
    insert_select(
        cur, Transfer,
        {
            "key": "'pay:' || v.id || ':est2'", "debit_account_id": "a.id", "credit_account_id": str(int(clearing_acc)),
            "amount": "v.total_amount", "kind": "'payment'", "voucher_id": "v.id",
            "description": "v.description", "counterparty_name": "v.payee_name",
            "counterparty_account": "v.payee_account", "created_at": "v.closed_at",
            "debit_balance_after": "al.total - SUM(v.total_amount) OVER (PARTITION BY a.id ORDER BY v.closed_at, v.id "
                                   "ROWS UNBOUNDED PRECEDING)",
            "credit_balance_after": f"{clr0} + SUM(v.total_amount) OVER (ORDER BY v.closed_at, v.id "
                                    "ROWS UNBOUNDED PRECEDING)",
        },
        "FROM vouchers_voucher v JOIN payments_account a ON a.unit_id = v.unit_id AND a.kind = 'estimate' "  # noqa: S608
        "JOIN (SELECT credit_account_id, SUM(amount) AS total FROM payments_transfer "
        f"WHERE kind = 'allocation' AND id >= {int(t_base)} GROUP BY 1) al ON al.credit_account_id = a.id "
        f"WHERE v.status = 'paid' AND v.id >= {int(v_base)} AND a.id >= {int(acc_base)} "
        "ORDER BY v.closed_at, v.id",
        now,
    )
    cur.execute("SELECT COUNT(*) FROM payments_transfer WHERE id >= %s", [t_base])
    clock.lap("transfers", cur.fetchone()[0])
    cur.execute(
        """
        UPDATE payments_account a SET balance = a.balance + s.delta
        FROM (
            SELECT acc, SUM(delta) AS delta FROM (
                SELECT credit_account_id AS acc, amount AS delta FROM payments_transfer WHERE id >= %(t)s
                UNION ALL
                SELECT debit_account_id, -amount FROM payments_transfer WHERE id >= %(t)s
            ) legs GROUP BY acc
        ) s
        WHERE a.id = s.acc
        """,
        {"t": t_base},
    )
    conn.commit()
    clock.lap("balances")

    # Every paid voucher has its result PDF and every unit debit its advice
    # (rows only: the files are not rendered for history), so the documents
    # sweeper does not take the history for a backlog.
    insert_select(
        cur, Document,
        {"kind": "'result'", "voucher_id": "v.id", "transfer_id": "NULL",
         "file": "'documents/history-' || v.id || '.pdf'", "sha256": "repeat('0', 64)",
         "created_at": "v.closed_at", "rendered_at": "v.closed_at"},
        f"FROM vouchers_voucher v WHERE v.status = 'paid' AND v.id >= {int(v_base)}",
        now,
    )
    insert_select(
        cur, Document,
        {"kind": "'debit_advice'", "voucher_id": "t.voucher_id", "transfer_id": "t.id",
         "file": "'documents/advice-history-' || t.id || '.pdf'", "sha256": "repeat('0', 64)",
         "created_at": "t.created_at", "rendered_at": "t.created_at"},
        f"FROM payments_transfer t WHERE t.id >= {int(t_base)} AND t.kind = 'payment'",
        now,
    )
    cur.execute("SELECT COUNT(*) FROM payments_document WHERE sha256 = repeat('0', 64)")
    clock.lap("documents", cur.fetchone()[0])

    # The outbox's history, as a portal that has run for the history's 150 days
    # has it: each paid voucher notified someone (round-robin over the seeded
    # users), by e-mail and SMS; nearly every delivery was sent, one in 211
    # failed for good, and one in 20 of the last two days' waits for a retry
    # (pending, its next attempt later than the run): the claim of the outbox
    # (the modulo is written %% for insert_select's parameters)
    # and the sweeper scan past these, as in production.
    n_base = next_id(cur, Notification)
    user_ids = ",".join(str(int(u[0])) for u in users)
    insert_select(
        cur, Notification,
        _existing(Notification, {
            "user_id": f"(ARRAY[{user_ids}])[1 + v.id %% {len(users)}]", "kind": "'voucher_status'",
            "title": "'Chứng từ ' || v.number || ' đã được thanh toán'",
            "body": "'Chứng từ ' || v.number || ' đã được thanh toán: ' || v.total_amount || ' đồng.'",
            "data": "'{}'::jsonb", "unit_id": "v.unit_id", "voucher_id": "v.id", "created_at": "v.closed_at",
            "read_at": "CASE WHEN v.id %% 3 = 0 THEN NULL ELSE v.closed_at + interval '1 hour' END",
        }),
        f"FROM vouchers_voucher v WHERE v.status = 'paid' AND v.id >= {int(v_base)} ORDER BY v.closed_at, v.id",
        now,
    )
    retry = cur.mogrify("%s", [now - timedelta(days=2)]).decode()
    waiting = f"n.created_at > {retry} AND n.id %% 20 = 0"
    insert_select(
        cur, NotificationDelivery,
        _existing(NotificationDelivery, {
            "notification_id": "n.id", "channel": "c.channel",
            "status": f"CASE WHEN {waiting} THEN 'pending' WHEN n.id %% 211 = 0 THEN 'failed' ELSE 'sent' END",
            "attempts": f"CASE WHEN {waiting} THEN 2 WHEN n.id %% 211 = 0 THEN 5 ELSE 1 END",
            "last_error": f"CASE WHEN {waiting} OR n.id %% 211 = 0 THEN 'timeout (benchmark history)' ELSE '' END",
            "next_attempt_at": f"CASE WHEN {waiting} THEN now() + interval '1 hour' + (n.id %% 3600) * interval '1 s' "
                               "END",
            "created_at": "n.created_at",
            "sent_at": f"CASE WHEN {waiting} OR n.id %% 211 = 0 THEN NULL ELSE n.created_at + interval '3 s' END",
        }),
        f"FROM payments_notification n CROSS JOIN (VALUES ('email'), ('sms')) AS c(channel) "
        f"WHERE n.id >= {int(n_base)} ORDER BY n.id, c.channel",
        now,
    )
    cur.execute("SELECT COUNT(*) FROM payments_notificationdelivery")
    clock.lap("outbox_history", cur.fetchone()[0])

    restore_indexes(cur, index_definitions)
    clock.lap("indexes", len(index_definitions))
    reset_sequences(
        cur,
        [Organisation, User, Membership, Authenticator, ApiToken, SigningKey, Procedure, BudgetLine, Account,
         Voucher, VoucherLine, VoucherEvent, BudgetMovement, Transfer, Document, Bank, Notification,
         NotificationDelivery],
    )
    conn.autocommit = True
    cur.execute("VACUUM ANALYZE")
    conn.autocommit = False
    clock.lap("analyze")
    cur.execute("SET session_replication_role = DEFAULT")
    conn.commit()
    result.reconciliation = reconcile(cur)
    result.reconciliation.update(foreign_keys_broken(
        cur, [Organisation, User, Membership, Authenticator, ApiToken, SigningKey, BudgetLine, Account, Voucher,
              VoucherLine, VoucherEvent, BudgetMovement, Transfer, Document, Notification, NotificationDelivery]))
    clock.lap("reconcile")
    result.timings["total"] = round(time.perf_counter() - started, 2)

    # What the load generator needs.
    def pd(p_: Person) -> dict:
        return {
            "username": p_.username, "user_id": p_.user_id, "token": p_.token, "totp_secret": p_.totp_secret,
            "key_id": p_.key_id, "private_key": p_.private_key,
        }

    for i, (prep, chief, holder) in enumerate(lifecycle_people):
        uid, code, o, _path = units[i]
        officer1, officer2, approver = province_staff[tx_offices[o][0][:2] + "00"]
        result.lifecycle.append(
            {
                "unit_id": uid, "unit": code, "budget_lines": [bl_base + i * 3 + k for k in range(3)],
                "preparer": pd(prep), "chief": pd(chief), "holder": pd(holder),
                "officers": [pd(officer1), pd(officer2)], "approver": pd(approver),
            }
        )
    # The power law makes the first units the biggest: their preparers read long lists.
    result.list_units = sorted(
        ({"unit": units[i][1], "vouchers": seq.get(i, 0), "preparer": pd(lifecycle_people[i][0])}
         for i in range(scale.lifecycle_units)),
        key=lambda u: -u["vouchers"],
    )
    provinces = sorted({tx_offices[units[i][2]][0][:2] + "00" for i in range(scale.lifecycle_units)})
    result.officers = [pd(p_) for pc in provinces for p_ in province_staff[pc][:2]]
    result.approvers = [pd(province_staff[pc][2]) for pc in provinces]
    cur.close()
    conn.close()
    return result


def reconcile(cur: Any) -> dict[str, int]:
    """Rows that break an invariant (all must be 0)."""
    checks = {
        "budget_counters_differ_from_movements": """
            SELECT COUNT(*) FROM payments_budgetline b LEFT JOIN (
                SELECT budget_line_id,
                    SUM(amount) FILTER (WHERE kind = 'allocate') AS a,
                    SUM(amount) FILTER (WHERE kind = 'reserve') AS r,
                    SUM(amount) FILTER (WHERE kind = 'release') AS rl,
                    SUM(amount) FILTER (WHERE kind = 'spend') AS s,
                    SUM(amount) FILTER (WHERE kind = 'autopay') AS ap
                FROM payments_budgetmovement GROUP BY budget_line_id) m ON m.budget_line_id = b.id
            WHERE b.allocated <> COALESCE(m.a, 0)
               OR b.reserved <> COALESCE(m.r, 0) - COALESCE(m.rl, 0) - COALESCE(m.s, 0)
               OR b.spent <> COALESCE(m.s, 0) + COALESCE(m.ap, 0)""",
        "budget_lines_overspent": "SELECT COUNT(*) FROM payments_budgetline WHERE reserved + spent > allocated",
        "balances_differ_from_transfers": """
            SELECT COUNT(*) FROM payments_account a
            LEFT JOIN (SELECT credit_account_id AS id, SUM(amount) AS s
                       FROM payments_transfer GROUP BY 1) c ON c.id = a.id
            LEFT JOIN (SELECT debit_account_id AS id, SUM(amount) AS s
                       FROM payments_transfer GROUP BY 1) d ON d.id = a.id
            WHERE a.balance <> COALESCE(c.s, 0) - COALESCE(d.s, 0)""",
        "voucher_totals_differ_from_lines": """
            SELECT COUNT(*) FROM vouchers_voucher v JOIN (
                SELECT voucher_id, SUM(amount) AS s FROM vouchers_voucherline GROUP BY voucher_id) l
            ON l.voucher_id = v.id WHERE v.total_amount <> l.s""",
        "balance_after_of_last_transfer_differs": """
            WITH legs AS (
                SELECT debit_account_id AS acc, id, debit_balance_after AS after FROM payments_transfer
                UNION ALL
                SELECT credit_account_id, id, credit_balance_after FROM payments_transfer
            ), last AS (SELECT DISTINCT ON (acc) acc, after FROM legs ORDER BY acc, id DESC)
            SELECT COUNT(*) FROM last JOIN payments_account a ON a.id = last.acc WHERE a.balance <> last.after""",
        "paid_vouchers_without_one_transfer": """
            SELECT COUNT(*) FROM vouchers_voucher v WHERE v.status = 'paid'
            AND (SELECT COUNT(*) FROM payments_transfer t WHERE t.voucher_id = v.id) <> 1""",
    }
    out = {}
    for name, sql in checks.items():
        cur.execute(sql)
        out[name] = cur.fetchone()[0]
    return out


def foreign_keys_broken(cur: Any, models: Iterable[Any]) -> dict[str, int]:
    """Rows whose foreign key points nowhere, per model (anti-joins; all must be 0)."""
    broken = 0
    for model in models:
        for f in model._meta.concrete_fields:
            if not (f.is_relation and f.many_to_one or f.one_to_one) or not f.db_constraint:
                continue
            child, parent = model._meta.db_table, f.related_model._meta.db_table
            target = f.target_field.column
            cur.execute(
                f'SELECT COUNT(*) FROM "{child}" c LEFT JOIN "{parent}" p ON p."{target}" = c."{f.column}" '  # noqa: S608
                f'WHERE c."{f.column}" IS NOT NULL AND p."{target}" IS NULL'
            )
            broken += cur.fetchone()[0]
    return {"foreign_keys_broken": broken}
