"""Issue 15 part 3: a transition answers with the small body built from the row
the service locked and wrote (the whole voucher on `Prefer: return=representation`);
the access check and the lock are one statement; sign uses the stored content
hash and submit catches a stale one; the catalogue's per-process copy."""

import uuid

import pytest

from accounts import crypto
from payments.models import BudgetLine
from treasury_portal.errors import ApplicationError
from vouchers import selectors, services
from vouchers.models import DocumentKind, DocumentRequirement, Voucher, VoucherStatus
from vouchers.tests.kit import Kit, seed

pytestmark = pytest.mark.django_db

SMALL = {"id", "number", "status", "status_label", "total_amount", "content_hash", "content_version",
         "receipt_number", "received_at", "due_at", "updated_at", "controller_id", "approver_id"}


@pytest.fixture
def kit(world) -> Kit:  # noqa: ANN001
    seed(world)
    return Kit(world)


def _sign_body(kit: Kit, voucher: Voucher, who: str) -> dict:
    private, key = kit.keys[who]
    voucher.refresh_from_db(fields=["content_hash"])
    return {"key_id": key.pk, "signature": crypto.sign(private, bytes.fromhex(voucher.content_hash))}


def test_a_transition_answers_with_the_small_body(kit, api) -> None:  # noqa: ANN001
    voucher = kit.draft()
    response = api("a_chief").post(f"/api/v1/vouchers/{voucher.pk}/sign", _sign_body(kit, voucher, "a_chief"),
                                   format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == SMALL
    assert body["id"] == voucher.pk and body["status"] == VoucherStatus.DRAFT
    assert "Preference-Applied" not in response
    kit.sign(voucher, "a_holder")
    submitted = api("a_holder").post(f"/api/v1/vouchers/{voucher.pk}/submit", {}, format="json").json()
    assert set(submitted) == SMALL and submitted["status"] == VoucherStatus.SUBMITTED
    assert submitted["receipt_number"] and submitted["due_at"]
    claimed = api("officer").post(f"/api/v1/vouchers/{voucher.pk}/claim", {}, format="json").json()
    assert claimed["status"] == VoucherStatus.IN_CONTROL and claimed["controller_id"] == kit.user("officer").pk


def test_prefer_return_representation_answers_with_the_whole_voucher(kit, api) -> None:  # noqa: ANN001
    voucher = kit.submitted()
    response = api("officer").post(
        f"/api/v1/vouchers/{voucher.pk}/claim", {}, format="json", HTTP_PREFER="return=representation"
    )
    assert response.status_code == 200
    assert response["Preference-Applied"] == "return=representation"
    body = response.json()
    assert body == api("officer").get(f"/api/v1/vouchers/{voucher.pk}").json()
    assert body["lines"] and body["signatures"]


def test_an_idempotent_replay_answers_what_was_answered(kit, api) -> None:  # noqa: ANN001
    voucher = kit.submitted()
    key = uuid.uuid4().hex
    first = api("officer").post(f"/api/v1/vouchers/{voucher.pk}/claim", {}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = api("officer").post(f"/api/v1/vouchers/{voucher.pk}/claim", {}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and set(first.json()) == SMALL


def test_another_units_voucher_is_404_and_locked_in_one_statement(kit, api) -> None:  # noqa: ANN001
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    voucher = kit.submitted()
    assert api("b_holder").post(f"/api/v1/vouchers/{voucher.pk}/withdraw", {}, format="json").status_code == 404
    with CaptureQueriesContext(connection) as ctx:
        assert api("officer").post(f"/api/v1/vouchers/{voucher.pk}/claim", {}, format="json").status_code == 200
    reads = [q["sql"] for q in ctx.captured_queries if 'FROM "vouchers_voucher"' in q["sql"]]
    assert len(reads) == 1 and "FOR UPDATE" in reads[0], reads


def test_sign_uses_the_stored_hash_and_submit_catches_a_stale_one(kit, api) -> None:  # noqa: ANN001
    """A budget line's codes are part of the signed content; changing them leaves
    the stored hash stale. Sign verifies against the stored hash (the one the
    client was shown); submit recomputes and refuses the signatures."""
    voucher = kit.draft()
    stored = Voucher.objects.get(pk=voucher.pk).content_hash
    line = voucher.lines.get().budget_line
    BudgetLine.objects.filter(pk=line.pk).update(sector="999")
    kit.sign_both(Voucher.objects.get(pk=voucher.pk))
    assert set(Voucher.objects.get(pk=voucher.pk).signatures.values_list("content_hash", flat=True)) == {stored}
    with pytest.raises(ApplicationError) as refused:
        services.voucher_submit(actor=kit.user("a_holder"), voucher=voucher.pk)
    assert refused.value.code == "signature_invalid"
    assert Voucher.objects.get(pk=voucher.pk).status == VoucherStatus.DRAFT


def test_the_catalogue_copy_is_dropped_when_a_row_is_saved(kit) -> None:  # noqa: ANN001
    voucher = kit.draft()
    versions = selectors.procedure_versions(voucher.procedure_id)
    assert selectors.procedure_versions(voucher.procedure_id) is versions  # this process's copy
    DocumentRequirement.objects.create(version=versions[0], kind=DocumentKind.CONTRACT)
    fresh = selectors.procedure_versions(voucher.procedure_id)
    assert fresh is not versions
    assert DocumentKind.CONTRACT in {d.kind for d in fresh[0].documents.all()}
