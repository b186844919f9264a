"""Query counts of the list endpoints are pinned (shared/design/performance.md:
"queries per page independent of page size").

Each list is read through the API with a real Bearer token at page sizes 5 and
50, over more than 50 rows reached through the real services: the counts must be
equal (no query per row) and at most the pinned maximum. A route that does not
exist yet is skipped with the reason; all of them exist once the API is complete.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve

ROWS = 52  # more than the larger page size, so both pages are full


def _uncached_principal() -> int:
    """The pins are a warm token's; without Redis each request also reads the
    token and the memberships."""
    from django.conf import settings

    return 2 if settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache") else 0


@pytest.fixture(autouse=True)
def _principal_cached():  # noqa: ANN202
    """As in production (API_PRINCIPAL_CACHE_SECONDS with Redis): a token's
    repeat calls take its user, second factor and memberships from the cache
    (accounts.authentication), so the counts below are those of a warm token.
    Without Redis (make test on a bare machine) there is nothing to cache in."""
    from django.conf import settings
    from django.core.cache import cache
    from django.test import override_settings

    if settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache"):
        yield
        return
    cache.clear()
    with override_settings(API_PRINCIPAL_CACHE_SECONDS=15):
        yield
    cache.clear()


# Per data set (built once through the services): the lists read over it, as
# (path, reader, pinned maximum of queries per page). The maxima are today's
# counts for a warm token (its user, TOTP flag and memberships from the cache:
# accounts.authentication; +2 without Redis, _uncached_principal): the page with
# its joins — the review queue's page is its ids (an index-only scan of its
# partial index, a subquery) and those rows, in one query; numbered pages
# (`?page=`, and the lists that only have them) add the COUNT(*). Voucher lists
# page by cursor by default: no COUNT. Raise one only with a reason.
LISTS = [
    pytest.param(
        "drafts", [("/api/v1/vouchers", "a_preparer", 1), ("/api/v1/vouchers?page=1", "a_preparer", 2)],
        id="unit-voucher-list",
    ),
    pytest.param(
        "submitted",
        [("/api/v1/review-queue", "officer", 1), ("/api/v1/review-queue?page=1", "officer", 2),
         ("/api/v1/vouchers", "officer", 1)],
        id="officer-review-queue-and-voucher-list",
    ),
    pytest.param("pending", [("/api/v1/review-queue", "approver", 1)], id="approver-review-queue"),
    pytest.param(
        "budget_lines", [("/api/v1/budget-lines", "a_preparer", 2), ("/api/v1/budget-lines", "officer", 2)],
        id="budget-lines",
    ),
    pytest.param("notifications", [("/api/v1/notifications", "a_holder", 2)], id="notifications"),
]


def _route_exists(path: str) -> bool:
    try:
        resolve(path.split("?")[0])
    except Resolver404:
        return False
    return True


def _populate(world, what: str) -> None:  # noqa: ANN001
    from vouchers.tests.kit import Kit, seed

    seed(world)
    if what == "budget_lines":
        from payments.services.budget import budget_line_get_or_create

        unit = world.units["a"]
        for n in range(ROWS):
            budget_line_get_or_create(
                actor=world.users["tadmin"], unit=unit, fiscal_year=2026, chapter="422", sector="072",
                ndkt=f"{6100 + n:04d}", funding_source="13", budget_level="2", name=f"Dòng {n}",
            )
        return
    if what == "notifications":
        from payments.models import Notification, NotificationKind
        from payments.services.notifications import notifications_write

        user = world.users["a_holder"]
        notifications_write(
            [
                Notification(user=user, kind=NotificationKind.BALANCE_CHANGE, title=f"Biến động số dư {n}",
                             body="Tài khoản tăng 1.000 ₫.", unit=world.units["a"], data={"n": n})
                for n in range(ROWS)
            ]
        )
        return
    kit = Kit(world)
    for _n in range(ROWS):
        if what == "drafts":
            kit.draft()
        elif what == "submitted":
            kit.submitted()
        elif what == "pending":
            kit.pending()


def _count(client, path: str, size: int) -> tuple[int, int]:  # noqa: ANN001
    url = f"{path}{'&' if '?' in path else '?'}page_size={size}"
    client.get(url)  # warm per-process caches (content types, calendar)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    return _data_queries(ctx), len(rows)


@pytest.mark.django_db
@pytest.mark.parametrize(("data", "lists"), LISTS)
def test_list_queries_do_not_grow_with_the_page(data, lists, world, api) -> None:  # noqa: ANN001
    missing = [path for path, _reader, _max in lists if not _route_exists(path)]
    if missing:
        pytest.skip(f"{', '.join(sorted(set(missing)))} does not exist yet")
    _populate(world, data)
    for path, reader, max_queries in lists:
        max_queries += _uncached_principal()
        client = api(reader)
        small, small_rows = _count(client, path, 5)
        large, large_rows = _count(client, path, 50)
        assert small_rows == 5, f"{path} as {reader}: {small_rows} rows on a page of 5"
        assert large_rows == 50, f"{path} as {reader}: expected a full page of 50 rows, got {large_rows}"
        assert small == large, f"{path} as {reader}: {small} queries for 5 rows but {large} for 50 (one per row?)"
        assert large <= max_queries, f"{path} as {reader}: {large} queries per page, pinned at most {max_queries}"


def _data_queries(ctx: CaptureQueriesContext) -> int:
    """The queries of the portal's own data. Without Redis (make test on a bare
    machine) the cache is a database table (as in make run): its reads and
    writes are the cache's, which Redis serves elsewhere, not the request's."""
    from django.conf import settings

    cache = settings.CACHES["default"]
    table = cache.get("LOCATION") if cache["BACKEND"].endswith("DatabaseCache") else None
    return sum(1 for q in ctx.captured_queries if not (table and f'"{table}"' in q["sql"]))


# --- the voucher's writes ---------------------------------------------------------
#
# Queries per write request of the lifecycle (create, with an Idempotency-Key too,
# both signatures, submit, claim, pass, approve) and of the worker's payment, with
# one line and with three lines on the same budget line: the counts must be equal
# (nothing per line; the budget moves once per budget line) and at most the
# pinned maximum. Create answers with the voucher's detail built from the rows
# the service wrote; a transition with the small body built from the row the
# service locked and wrote (VoucherTransitionSerializer; the whole voucher only on
# `Prefer: return=representation`). Counted under the test's transaction: each
# transaction.atomic() is a SAVEPOINT/RELEASE pair here where production has
# BEGIN/COMMIT. A warm token: its user, TOTP flag and memberships come from the
# cache (+2 each without Redis, _uncached_principal). Raise one only with a reason.
WRITES = {
    # unit with its office, budget lines, number, voucher, lines, event, the savepoint pair; the procedure
    # and the payee's bank from the per-process catalogue and directory; the answer from what the service
    # read and wrote
    "create": 8,
    # + the key's record (one INSERT … ON CONFLICT … RETURNING, new or used), its answer, the savepoint
    # pair that keeps the record when the create fails (the create itself takes no savepoint inside it)
    "create_idempotent": 12,
    # access and lock in one statement (selectors.VoucherForWrite), key, signatures (the rules and a
    # repeat), signature, event, the savepoint pair; the stored content hash (no lines, attachments)
    "sign_chief": 7,
    "sign_holder": 7,
    # access+lock, lines, attachments, signatures (both verified on the recomputed hash), budget (update,
    # movement: a draft holds nothing, no pre-read, no savepoint), receipt number, update, event, the
    # savepoint pair; the procedure's versions and documents from the per-process catalogue
    # (selectors.procedure_versions); no notification row: the event is the outbox, drained by the worker
    # (vouchers.notifications)
    "submit": 11,
    # access+lock, update, event, the savepoint pair; the small answer reads nothing
    "claim": 5,
    "pass": 5,
    # access+lock, lines, attachments, signatures (the content hash checked again), update, event, the
    # payment intent (one INSERT … ON CONFLICT DO NOTHING), the savepoint pair
    "approve": 9,
}
# The worker, one voucher (a batch of one: vouchers.payment.services.payment_intents_settle): a savepoint
# pair; the claim (voucher and intent locked, unit and bank joined); the lines; the estimate allocations
# posted (the unit's lines, the missing ones); the accounts; the unit account locked; the reservation; the
# budget (update, movements); the debit; the clearing account locked, credited, the transfer; the voucher,
# its event (the outbox of its status notification, drained by the worker); the balance recipients; the
# notification rows (preferences; one outbox statement); the intent.
PAY = 21
# A batch of 20 vouchers of two units (budget and deposit funded) settled in one call: statements per voucher.
PAY_BATCH = 20
PAY_BATCH_PER_VOUCHER = 3


def _write_counts(world, api, kit, lines: int) -> dict[str, int]:  # noqa: ANN001
    import uuid

    from accounts import crypto
    from payments.models import PaymentIntent
    from vouchers.payment.services import payment_intent_process

    line = kit.line().pk
    body = {
        "unit": kit.unit.code, "procedure": "C2-02a/NS", "mode": "payment", "fiscal_year": kit.fiscal_year,
        "description": "Mua văn phòng phẩm", "payee": {"name": "Công ty Hồng Hà", "account_number": "0123456789",
                                                      "bank_code": "VCB"},
        "lines": [{"budget_line": line, "amount": 100_000 + n, "description": f"Dòng {n}"} for n in range(lines)],
    }
    counts: dict[str, int] = {}

    def post(step: str, who: str, path: str, data: dict, **headers: str) -> dict:
        with CaptureQueriesContext(connection) as ctx:
            response = api(who).post(path, data, format="json", **headers)
        assert response.status_code in (200, 201), (step, response.content[:500])
        counts[step] = _data_queries(ctx)
        return response.json()

    post("create", "a_preparer", "/api/v1/vouchers", body)
    voucher = post("create_idempotent", "a_preparer", "/api/v1/vouchers", body,
                   HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    base = f"/api/v1/vouchers/{voucher['id']}"
    message = bytes.fromhex(voucher["content_hash"])
    for step, who in (("sign_chief", "a_chief"), ("sign_holder", "a_holder")):
        private, key = kit.keys[who]
        post(step, who, f"{base}/sign", {"key_id": key.pk, "signature": crypto.sign(private, message)})
    post("submit", "a_holder", f"{base}/submit", {})
    post("claim", "officer", f"{base}/claim", {})
    post("pass", "officer", f"{base}/pass", {})
    post("approve", "approver", f"{base}/approve", {})
    intent = PaymentIntent.objects.get(voucher_id=voucher["id"]).pk
    with CaptureQueriesContext(connection) as ctx:
        assert payment_intent_process(intent_id=intent, worker="test").status == "succeeded"
    counts["pay"] = _data_queries(ctx)
    return counts


@pytest.mark.django_db
def test_write_queries_do_not_grow_with_the_lines(world, api) -> None:  # noqa: ANN001
    from vouchers.tests.kit import Kit, seed

    seed(world)
    kit = Kit(world)
    _write_counts(world, api, kit, 1)  # warm per-process caches (content types, calendar)
    one = _write_counts(world, api, kit, 1)
    three = _write_counts(world, api, kit, 3)
    assert one == three, f"queries per write grow with the lines: {one} for one line, {three} for three"
    for step, pinned in WRITES.items():
        pinned += _uncached_principal()
        assert one[step] <= pinned, f"{step}: {one[step]} queries, pinned at most {pinned}"
    assert one["pay"] <= PAY, f"the worker's payment: {one['pay']} queries, pinned at most {PAY}"


@pytest.mark.django_db
def test_a_batch_of_payments_costs_a_few_statements_per_voucher(world) -> None:  # noqa: ANN001
    from payments.models import PaymentIntent
    from payments.tests.kit import Kit, seed_money
    from vouchers.payment.services import payment_intents_settle

    seed_money(world)
    kits = (Kit(world, "a"), Kit(world, "b"))
    for n in range(PAY_BATCH):
        kits[n % 2].approved(100_000 + n, from_deposit=n % 4 == 3)  # on_commit not run: the intents wait
    assert PaymentIntent.objects.filter(status="pending").count() == PAY_BATCH
    with CaptureQueriesContext(connection) as ctx:
        settled = payment_intents_settle(limit=PAY_BATCH, worker="test")
    assert [i.status for i in settled] == ["succeeded"] * PAY_BATCH
    per_voucher = len(ctx.captured_queries) / PAY_BATCH
    assert per_voucher <= PAY_BATCH_PER_VOUCHER, (
        f"{len(ctx.captured_queries)} statements for {PAY_BATCH} vouchers, pinned at most {PAY_BATCH_PER_VOUCHER} each"
    )
