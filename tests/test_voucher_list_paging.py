"""The big lists page by cursor (keyset) by default and by number with ?page=
(api-contract.md allows both), and their lean rows equal the serializer's.

Walking `next` visits every row once in the list's order; walking `previous`
back visits the same pages; a numbered page still has `count`; a tampered cursor
is a 400, never a 500. The rows built straight from `.values()` equal what
VoucherListSerializer (the documented schema) gives for the same vouchers, in
both languages.
"""

import pytest
from django.utils import translation

from vouchers import selectors
from vouchers.models import Voucher
from vouchers.serializers import LIST_COLUMNS, VoucherListSerializer, voucher_list_rows
from vouchers.tests.kit import Kit, seed


def _walk(client, url: str, key: str = "next") -> list[list[int]]:  # noqa: ANN001
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        assert "count" not in body and set(body) == {"next", "previous", "results"}
        pages.append([row["id"] for row in body["results"]])
        url = body[key]
    return pages


@pytest.fixture
def lists(world):  # noqa: ANN001, ANN201
    seed(world)
    kit = Kit(world)
    made = [kit.draft(1_000_000 + n) for n in range(4)]
    made += [kit.submitted(2_000_000 + n) for n in range(5)]
    made += [kit.in_control() for _n in range(2)]
    made += [kit.pending() for _n in range(2)]
    return kit, made


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("reader", "path"),
    [("a_preparer", "/api/v1/vouchers"), ("officer", "/api/v1/review-queue"), ("approver", "/api/v1/review-queue")],
)
def test_cursor_pages_walk_every_row_once_in_order_and_back(lists, api, reader, path) -> None:  # noqa: ANN001
    client = api(reader)
    numbered = client.get(f"{path}?page=1&page_size=200").json()
    expected = [row["id"] for row in numbered["results"]]
    assert numbered["count"] == len(expected) >= 2
    pages = _walk(client, f"{path}?page_size=3")
    assert [pk for page in pages for pk in page] == expected  # same order, each row once
    assert all(len(page) == 3 for page in pages[:-1])
    last = client.get(f"{path}?page_size=3").json()
    while last["next"]:
        last = client.get(last["next"]).json()
    back = _walk(client, last["previous"], key="previous") if last["previous"] else []
    assert [*reversed(back), [row["id"] for row in last["results"]]] == pages


@pytest.mark.django_db
def test_numbered_pages_keep_count_and_links(lists, api) -> None:  # noqa: ANN001
    body = api("a_preparer").get("/api/v1/vouchers?page=2&page_size=5").json()
    assert body["count"] == 13 and len(body["results"]) == 5
    assert "page=3" in body["next"] and "page_size=5" in body["next"]


@pytest.mark.django_db
@pytest.mark.parametrize("cursor", ["x", "e30", "eyJrIjoieCIsImkiOjF9", "%00", "eyJrIjpbMV0sImkiOjF9"])
def test_a_tampered_cursor_is_a_400(lists, api, cursor) -> None:  # noqa: ANN001
    response = api("a_preparer").get(f"/api/v1/vouchers?cursor={cursor}")
    assert response.status_code == 400 and response.json()["code"] == "validation_error"


@pytest.mark.django_db
def test_queue_cursor_takes_vouchers_without_a_due_time(lists, api) -> None:  # noqa: ANN001
    """due_at may be NULL in principle: such rows come last and are still reached."""
    kit, made = lists
    queued = [v for v in made if v.status in ("submitted", "in_control")]
    Voucher.objects.filter(pk__in=[queued[0].pk, queued[1].pk]).update(due_at=None)
    client = api("officer")
    expected = [row["id"] for row in client.get("/api/v1/review-queue?page=1&page_size=200").json()["results"]]
    assert set(expected[-2:]) == {queued[0].pk, queued[1].pk}
    assert [pk for page in _walk(client, "/api/v1/review-queue?page_size=2") for pk in page] == expected


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["vi", "en"])
def test_lean_rows_equal_the_serializer(lists, language) -> None:  # noqa: ANN001
    kit, _made = lists
    for user in (kit.user("a_preparer"), kit.user("officer"), kit.user("approver")):
        qs = selectors.voucher_list(user) if user.username == "a_preparer" else selectors.review_queue(user)
        with translation.override(language):
            assert voucher_list_rows(qs.values(*LIST_COLUMNS)) == VoucherListSerializer(qs, many=True).data
