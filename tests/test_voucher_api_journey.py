"""The voucher journey through the public API (the same as the browser one):
draft with an attachment → chief accountant signs → account holder signs and
submits → officer returns it with two deficiencies → the unit fixes, re-signs and
resubmits → officer passes (a second return is refused) → approver approves; the
timeline shows every step. Plus idempotency, uploads, 404s and query counts."""

import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from accounts import crypto
from vouchers.tests.kit import PDF, PNG, seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(world, api, tmp_path):  # noqa: ANN001, ANN201
    seed(world)
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        yield world


def key() -> dict:
    return {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}


def budget_line_id(api, ndkt: str = "7000") -> int:  # noqa: ANN001
    rows = api("a_preparer").get("/api/v1/budget-lines?unit=1012345").json()["results"]
    return next(r["id"] for r in rows if r["ndkt"] == ndkt)


def voucher_body(api, amount: int = 1_500_000, **extra) -> dict:  # noqa: ANN001, ANN003
    from vouchers.selectors import local_today

    return {
        "unit": "1012345", "procedure": "C2-02a/NS", "mode": "payment", "fiscal_year": local_today().year,
        "description": "Sửa chữa máy điều hòa phòng học",
        "payee": {"name": "Công ty TNHH Điện lạnh Vinh", "account_number": "0101234567", "bank_code": "BIDV"},
        "lines": [{"budget_line": budget_line_id(api, "6900"), "amount": amount, "description": "Sửa chữa"}],
        **extra,
    }


def register_key_via_api(api, username: str, role: str, admin: str = "tadmin"):  # noqa: ANN001, ANN201
    private, public = crypto.generate_keypair()
    response = api(username).post(
        "/api/v1/me/signing-keys", {"public_key": public, "role": role, "unit": "1012345"}, format="json", **key()
    )
    assert response.status_code == 201, response.json()
    key_id = response.json()["id"]
    approved = api(admin).post(f"/api/v1/signing-keys/{key_id}/approve", format="json", **key())
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    return private, key_id


def sign_via_api(api, username: str, keypair, voucher_id: int) -> dict:  # noqa: ANN001
    private, key_id = keypair
    content_hash = api(username).get(f"/api/v1/vouchers/{voucher_id}").json()["content_hash"]
    signature = crypto.sign(private, bytes.fromhex(content_hash))
    # The whole voucher (a transition answers with the small body unless asked).
    response = api(username).post(
        f"/api/v1/vouchers/{voucher_id}/sign", {"key_id": key_id, "signature": signature}, format="json", **key(),
        HTTP_PREFER="return=representation",
    )
    assert response.status_code == 200, response.json()
    assert response["Preference-Applied"] == "return=representation"
    return response.json()


def test_the_whole_journey_through_the_api(setup, api):  # noqa: ANN001
    chief_key = register_key_via_api(api, "a_chief", "chief_accountant")
    holder_key = register_key_via_api(api, "a_holder", "account_holder")
    preparer, holder, officer, approver = api("a_preparer"), api("a_holder"), api("officer"), api("approver")

    # Draft with an attachment.
    response = preparer.post("/api/v1/vouchers", voucher_body(api, 1_005_000), format="json", **key())
    assert response.status_code == 201, response.json()
    draft = response.json()
    assert draft["status"] == "draft" and draft["number"] and len(draft["content_hash"]) == 64
    assert draft["total_amount"] == 1_005_000
    assert draft["amount_in_words"] == "Một triệu không trăm linh năm nghìn đồng"
    vid = draft["id"]
    upload = preparer.post(
        f"/api/v1/vouchers/{vid}/attachments",
        {"file": SimpleUploadedFile("bao-gia.pdf", PDF, "application/pdf"), "kind": "invoice"},
        format="multipart", **key(),
    )
    assert upload.status_code == 201, upload.json()
    attachment = upload.json()
    assert attachment["content_type"] == "application/pdf" and attachment["name"] == "bao-gia.pdf"
    assert preparer.get(f"/api/v1/vouchers/{vid}").json()["content_hash"] != draft["content_hash"]

    # The holder may not sign first; the chief accountant signs, then the holder, who submits.
    content_hash = preparer.get(f"/api/v1/vouchers/{vid}").json()["content_hash"]
    early = holder.post(f"/api/v1/vouchers/{vid}/sign", {"key_id": holder_key[1], "signature": crypto.sign(
        holder_key[0], bytes.fromhex(content_hash))}, format="json", **key())
    assert early.status_code == 409 and early.json()["code"] == "signatures_missing"
    sign_via_api(api, "a_chief", chief_key, vid)
    signed = sign_via_api(api, "a_holder", holder_key, vid)
    assert [s["role"] for s in signed["signatures"]] == ["chief_accountant", "account_holder"]
    assert all(s["valid"] for s in signed["signatures"])
    preflight = preparer.get(f"/api/v1/vouchers/{vid}/preflight").json()
    assert preflight["ready"] is True and preflight["expected_due_at"]
    submitted = holder.post(f"/api/v1/vouchers/{vid}/submit", format="json", **key())
    assert submitted.status_code == 200, submitted.json()
    body = submitted.json()
    assert body["status"] == "submitted" and body["receipt_number"] and body["received_at"] and body["due_at"]
    first_due = body["due_at"]

    # The officer finds it in the queue, claims it and returns it with two deficiencies.
    queue = officer.get("/api/v1/review-queue").json()["results"]
    assert vid in [row["id"] for row in queue]
    assert officer.post(f"/api/v1/vouchers/{vid}/claim", {}, format="json", **key()).json()["status"] == "in_control"
    returned = officer.post(
        f"/api/v1/vouchers/{vid}/return",
        {"deficiencies": [{"code": "TL01", "note": "Thiếu hợp đồng sửa chữa"},
                          {"code": "TL05", "note": "Số tài khoản người hưởng không khớp hóa đơn"}]},
        format="json", **key(),
    )
    assert returned.status_code == 200, returned.json()
    seen = holder.get(f"/api/v1/vouchers/{vid}").json()
    assert seen["status"] == "returned" and [d["code"] for d in seen["deficiencies"]] == ["TL01", "TL05"]
    assert seen["holder"]["side"] == "unit"

    # The unit fixes the payee and adds the contract, re-signs and resubmits.
    fixed = preparer.patch(
        f"/api/v1/vouchers/{vid}",
        {"payee": {"name": "Công ty TNHH Điện lạnh Vinh", "account_number": "0101234568", "bank_code": "BIDV"}},
        format="json",
    )
    assert fixed.status_code == 200 and fixed.json()["signatures"] == []
    contract = preparer.post(
        f"/api/v1/vouchers/{vid}/attachments",
        {"file": SimpleUploadedFile("hop-dong.png", PNG, "image/png"), "kind": "contract"}, format="multipart", **key(),
    )
    assert contract.status_code == 201
    sign_via_api(api, "a_chief", chief_key, vid)
    sign_via_api(api, "a_holder", holder_key, vid)
    resubmitted = holder.post(f"/api/v1/vouchers/{vid}/submit", format="json", **key()).json()
    assert resubmitted["status"] == "submitted" and resubmitted["receipt_number"] == body["receipt_number"]
    assert resubmitted["due_at"] >= first_due

    # The officer sees what changed; a second return is refused; the officer passes.
    officer.post(f"/api/v1/vouchers/{vid}/claim", {}, format="json", **key())
    changes = officer.get(f"/api/v1/vouchers/{vid}/changes").json()
    fields = {c["field"] for c in changes}
    assert "payee.account_number" in fields and "attachments" in fields
    again = officer.post(f"/api/v1/vouchers/{vid}/return",
                         {"deficiencies": [{"code": "TL03", "note": "Thiếu hóa đơn"}]}, format="json", **key())
    assert again.status_code == 409 and again.json()["code"] == "already_returned_once"
    passed = officer.post(f"/api/v1/vouchers/{vid}/pass", {"checklist": ["CK01", "CK02", "CK03", "CK04", "CK05"]},
                          format="json", **key())
    assert passed.status_code == 200 and passed.json()["status"] == "pending_approval"

    # The approver approves.
    assert vid in [row["id"] for row in approver.get("/api/v1/review-queue").json()["results"]]
    approved = approver.post(f"/api/v1/vouchers/{vid}/approve", {}, format="json", **key())
    assert approved.status_code == 200 and approved.json()["status"] in {"approved", "paid"}

    # The unit's timeline shows every step.
    events = holder.get(f"/api/v1/vouchers/{vid}/events").json()
    assert [e["action"] for e in events][:16] == [
        "create", "attach", "sign", "sign", "submit", "claim", "return", "update", "attach", "sign", "sign",
        "submit", "claim", "pass", "approve",
    ][:16]
    assert events[6]["data"]["deficiencies"][1]["code"] == "TL05" and "snapshot" not in events[6]["data"]
    assert events[-1]["actor"]["username"] in {"approver", None} or events[-1]["action"] == "pay"
    statuses = [(e["from_status"], e["to_status"]) for e in events if e["from_status"] != e["to_status"]]
    assert ("in_control", "returned") in statuses and ("pending_approval", "approved") in statuses


def test_idempotency_keys_replay_conflict_and_are_per_user(setup, api):  # noqa: ANN001
    body = voucher_body(api)
    headers = {"HTTP_IDEMPOTENCY_KEY": "create-voucher-1"}
    first = api("a_preparer").post("/api/v1/vouchers", body, format="json", **headers)
    replay = api("a_preparer").post("/api/v1/vouchers", body, format="json", **headers)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json() and replay["Idempotent-Replayed"] == "true"
    changed = api("a_preparer").post("/api/v1/vouchers", {**body, "description": "Khác"}, format="json", **headers)
    assert changed.status_code == 409 and changed.json()["code"] == "idempotency_conflict"
    other = api("a_chief").post("/api/v1/vouchers", body, format="json", **headers)
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    listed = api("a_preparer").get("/api/v1/vouchers?page=1").json()  # numbered pages carry the count
    assert listed["count"] == 2


def test_bad_input_is_a_clear_400_never_a_500(setup, api):  # noqa: ANN001
    client = api("a_preparer")
    for body in (
        {},
        {**voucher_body(api), "lines": "abc"},
        {**voucher_body(api), "lines": [{"budget_line": "x", "amount": "1.5"}]},
        {**voucher_body(api), "fiscal_year": "năm nay"},
        {**voucher_body(api), "payee": {"name": "A", "account_number": "1", "bank_code": "VCB"}},
    ):
        response = client.post("/api/v1/vouchers", body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert response.json()["code"] == "validation_error" and response.json()["detail"]
    assert client.post("/api/v1/vouchers", {**voucher_body(api), "unit": "1023456"}, format="json").status_code == 404
    assert api("officer").post("/api/v1/vouchers", voucher_body(api), format="json").status_code == 403


def test_unknown_and_foreign_vouchers_are_404(setup, api):  # noqa: ANN001
    vid = api("a_preparer").post("/api/v1/vouchers", voucher_body(api), format="json").json()["id"]
    for username, url in (
        ("a_preparer", "/api/v1/vouchers/987654321"),
        ("b_holder", f"/api/v1/vouchers/{vid}"),
        ("b_holder", f"/api/v1/vouchers/{vid}/events"),
        ("officer", f"/api/v1/vouchers/{vid}"),  # a draft is not the treasury's yet
        ("officer_b", f"/api/v1/vouchers/{vid}/preflight"),
    ):
        response = api(username).get(url)
        assert response.status_code == 404 and response.json()["code"] == "not_found", (username, url)
    assert api("b_holder").post(f"/api/v1/vouchers/{vid}/submit", format="json").status_code == 404


def test_uploads_through_the_api(setup, api, tmp_path):  # noqa: ANN001
    client = api("a_preparer")
    vid = client.post("/api/v1/vouchers", voucher_body(api), format="json").json()["id"]
    url = f"/api/v1/vouchers/{vid}/attachments"
    wrong = client.post(url, {"file": SimpleUploadedFile("x.pdf", b"GIF89a...", "application/pdf"),
                              "kind": "invoice"}, format="multipart")
    assert wrong.status_code == 400 and "PDF, JPEG" in wrong.json()["detail"]
    with override_settings(ATTACHMENT_MAX_BYTES=512):
        big = client.post(url, {"file": SimpleUploadedFile("big.pdf", PDF + b"0" * 1024, "application/pdf"),
                                "kind": "invoice"}, format="multipart")
    assert big.status_code == 400 and big.json()["code"] == "validation_error"
    evil = f"evil-{uuid.uuid4().hex}.pdf"
    sneaky = client.post(url, {"file": SimpleUploadedFile(f"../../../../tmp/{evil}", PDF, "application/pdf"),
                               "kind": "invoice"}, format="multipart")
    assert sneaky.status_code in {201, 400}
    if sneaky.status_code == 201:  # Django strips the path; the name is only a label
        assert "/" not in sneaky.json()["name"] and ".." not in sneaky.json()["name"]
    stored = [p for p in Path(tmp_path).rglob("*") if p.is_file()]
    assert all(p.resolve().is_relative_to(Path(tmp_path).resolve()) for p in stored)
    assert not (Path("/tmp") / evil).exists()  # noqa: S108 - the path the upload's name aimed at
    assert client.post(url, {"kind": "invoice"}, format="multipart").json()["code"] == "validation_error"
    # Downloads go through the permission check.
    good = client.post(url, {"file": SimpleUploadedFile("hd.pdf", PDF + b"1", "application/pdf"),
                             "kind": "contract"}, format="multipart").json()
    download = client.get(good["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF + b"1"
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert api("b_preparer").get(good["url"]).status_code == 404
    assert client.get(f"/api/v1/vouchers/{vid}/attachments/987654").status_code == 404


def _make_submitted(api, count: int, keys: tuple) -> list[int]:  # noqa: ANN001
    ids = []
    for _ in range(count):
        vid = api("a_preparer").post("/api/v1/vouchers", voucher_body(api, 10_000), format="json").json()["id"]
        sign_via_api(api, "a_chief", keys[0], vid)
        sign_via_api(api, "a_holder", keys[1], vid)
        assert api("a_holder").post(f"/api/v1/vouchers/{vid}/submit", format="json").status_code == 200
        ids.append(vid)
    return ids


def test_list_queries_do_not_grow_with_the_page(setup, api, django_assert_max_num_queries):  # noqa: ANN001
    keys = (register_key_via_api(api, "a_chief", "chief_accountant"),
            register_key_via_api(api, "a_holder", "account_holder"))
    _make_submitted(api, 2, keys)
    urls = (("a_holder", "/api/v1/vouchers"), ("officer", "/api/v1/review-queue"))
    baseline = {}
    for username, url in urls:
        api(username).get(url)  # warm the per-client caches
        with django_assert_max_num_queries(10) as few:
            assert len(api(username).get(url).json()["results"]) == 2
        baseline[url] = len(few.captured_queries)
    _make_submitted(api, 6, keys)
    for username, url in urls:
        with django_assert_max_num_queries(baseline[url]):
            assert len(api(username).get(url).json()["results"]) == 8
    filtered = api("a_holder").get("/api/v1/vouchers?status=submitted&unit=1012345&page=1").json()
    assert filtered["count"] == 8 and filtered["results"][0]["id"] > filtered["results"][-1]["id"]  # newest first
    queue = api("officer").get("/api/v1/review-queue?status=submitted").json()["results"]
    assert [row["due_at"] for row in queue] == sorted(row["due_at"] for row in queue)


@pytest.mark.parametrize(
    ("username", "url"),
    [
        ("a_holder", "/api/v1/vouchers?status=%00"),
        ("a_holder", "/api/v1/vouchers?fiscal_year=2026x"),
        ("a_holder", "/api/v1/budget-lines?unit=%00"),
        ("officer", "/api/v1/review-queue?due_before=2026-02-30"),
        ("officer", "/api/v1/review-queue?procedure=" + "x" * 500),
        ("a_holder", "/api/v1/reason-codes?kind=%00"),
    ],
)
def test_bad_query_parameters_are_400(setup, api, username, url):  # noqa: ANN001
    response = api(username).get(url)
    assert response.status_code == 400 and response.json()["code"] == "validation_error"
