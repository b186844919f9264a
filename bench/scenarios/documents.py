"""Result PDFs: the project's whole render (context from the database, template,
WeasyPrint, storage) against a bare WeasyPrint render of the very same HTML, per
page, in the same run; then the documents queue's throughput with the real worker
(2 processes) rendering results of paid vouchers."""

from __future__ import annotations

import io
import statistics
import time
from typing import Any

from bench.scenarios import Context, Scenario


def _paid_vouchers(ctx: Context, count: int) -> list[int]:
    ids = list(ctx.shared.get("paid_vouchers", []))
    if len(ids) < count:
        conn = ctx.db()
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM vouchers_voucher WHERE status = 'paid' ORDER BY id DESC LIMIT %s", [count * 2])
            ids += [r[0] for r in cur.fetchall() if r[0] not in ids]
        conn.close()
    return ids[: count * 2]


def _forget_documents(voucher_ids: list[int]) -> None:
    """The benchmark's own database: drop the result rows so they render again."""
    from payments.models import Document, DocumentKind

    Document.objects.filter(kind=DocumentKind.RESULT, voucher_id__in=voucher_ids).delete()


def _pages(content: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(content)).pages)


def pdf_cost(ctx: Context) -> dict[str, Any]:
    from django.conf import settings
    from django.template.loader import render_to_string
    from django.utils import translation
    from weasyprint import HTML

    from payments.models import Document, DocumentKind
    from vouchers.models import Voucher
    from vouchers.payment.documents import result_context, result_document_render

    ids = _paid_vouchers(ctx, ctx.scale.pdfs)
    if not ids:
        return {"error": "no paid voucher to render"}
    mine, queue_ids = ids[: ctx.scale.pdfs], ids[ctx.scale.pdfs:]
    _forget_documents(mine)
    # Warm-up: fonts, templates, imports (both paths share them).
    v0 = Voucher.objects.get(pk=mine[0])
    with translation.override("vi"):
        warm_html = render_to_string("payments/pdf/result.html", result_context(v0))
    HTML(string=warm_html, base_url=str(settings.BASE_DIR)).write_pdf()
    # CPU time of this thread (WeasyPrint is single-threaded Python): it holds on
    # a shared machine where wall time does not; wall time is reported beside it.
    project, bare, pages, walls = [], [], [], []
    for vid in mine:
        w0, t0 = time.perf_counter(), time.thread_time()
        document = result_document_render(voucher_id=vid)
        t1, w1 = time.thread_time(), time.perf_counter()
        with document.file.open("rb") as fh:
            n_pages = _pages(fh.read())
        voucher = Voucher.objects.get(pk=vid)
        with translation.override("vi"):
            html = render_to_string("payments/pdf/result.html", result_context(voucher))
        w2, t2 = time.perf_counter(), time.thread_time()
        content = HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
        t3, w3 = time.thread_time(), time.perf_counter()
        project.append((t1 - t0) / n_pages)
        bare.append((t3 - t2) / max(_pages(content), 1))
        walls.append(((w1 - w0) / n_pages, (w3 - w2) / max(_pages(content), 1)))
        pages.append(n_pages)
    project_ms = 1000 * statistics.median(project)
    bare_ms = 1000 * statistics.median(bare)
    out: dict[str, Any] = {
        "documents": len(mine),
        "pages_per_document": statistics.median(pages),
        "project_ms_per_page": round(project_ms, 1),
        "bare_weasyprint_ms_per_page": round(bare_ms, 1),
        "ratio": round(project_ms / bare_ms, 3),
        "measure": "CPU time of the rendering thread",
        "project_wall_ms_per_page": round(1000 * statistics.median(w[0] for w in walls), 1),
        "bare_wall_ms_per_page": round(1000 * statistics.median(w[1] for w in walls), 1),
        "pages_per_s_one_process": round(1000 / project_ms, 2),
    }
    # The documents queue with the real worker: 2 processes rendering at once.
    if queue_ids:
        from treasury_portal.celery import app

        _forget_documents(queue_ids)
        started = time.perf_counter()
        for vid in queue_ids:
            app.send_task("payments.tasks.render_result_pdf", args=[vid], queue="documents")
        deadline = started + ctx.scale.drain_timeout
        done = 0
        while time.perf_counter() < deadline:
            done = Document.objects.filter(
                kind=DocumentKind.RESULT, voucher_id__in=queue_ids, rendered_at__isnull=False
            ).count()
            if done == len(queue_ids):
                break
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
        out["worker_documents"] = done
        out["worker_seconds"] = round(elapsed, 2)
        out["worker_pages_per_s"] = round(done * out["pages_per_document"] / elapsed, 2)
    return out


SCENARIOS = [
    Scenario(
        name="result_pdf", title="Result PDF: project render vs bare WeasyPrint of the same HTML",
        target="cost per page ≤ 1.2× bare WeasyPrint", run=pdf_cost, kind="inprocess",
        code=(
            "vouchers.payment.documents:result_document_render", "vouchers.payment.documents:result_context",
            "vouchers.tasks:render_result_pdf",  # its Celery name stays payments.tasks.render_result_pdf
        ),
    ),
]
