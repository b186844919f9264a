"""The English catalogue: Vietnamese is the source language, so every page must
be fully switchable to English.

The catalogue itself: every entry translated and none fuzzy, the same
placeholders and HTML tags in each msgstr as in its msgid, the committed .mo
compiled from the committed .po (CI has no gettext), and no msgid taken from
test or benchmark code. Then a few key pages rendered in English: known English
texts appear, and no text of the page is a catalogue msgid left in Vietnamese.
"""

import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from conftest import enrol_totp
from payments.models import Account, PaymentIntent, Transfer
from payments.services import ledger
from payments.tests.kit import Kit, seed_money
from vouchers.payment.services import payment_intent_process

LOCALE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
PO_PATH = LOCALE / "django.po"
MO_PATH = LOCALE / "django.mo"

# Python %-placeholders (named, positional, the escaped %%) and str.format fields.
PLACEHOLDER = re.compile(
    r"%\([A-Za-z0-9_]+\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%[-#0 +]*\d*(?:\.\d+)?[sdifr]|%%|\{[A-Za-z0-9_]*\}"
)
HTML_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)")


def _entries() -> list[polib.POEntry]:
    return [e for e in polib.pofile(str(PO_PATH)) if not e.obsolete]


def _name(entry: polib.POEntry) -> str:
    return f"{entry.msgctxt}|{entry.msgid}" if entry.msgctxt else entry.msgid


def _msgstrs(entry: polib.POEntry) -> list[tuple[str, str]]:
    """(source, translation) pairs: msgstr[0] goes with msgid, the other forms with msgid_plural."""
    if entry.msgid_plural:
        return [(entry.msgid if n == 0 else entry.msgid_plural, s) for n, s in sorted(entry.msgstr_plural.items())]
    return [(entry.msgid, entry.msgstr)]


# --- the catalogue ----------------------------------------------------------------------


def test_every_entry_is_translated_and_none_is_fuzzy():
    entries = _entries()
    assert len(entries) > 500  # the real catalogue, not an empty file
    untranslated = [_name(e) for e in entries if not e.translated()]
    fuzzy = [_name(e) for e in entries if "fuzzy" in e.flags]
    assert untranslated == [], f"{len(untranslated)} untranslated: {untranslated[:20]}"
    assert fuzzy == [], f"{len(fuzzy)} fuzzy: {fuzzy[:20]}"
    # Letters English never uses: a msgstr that still has them is the Vietnamese copied over.
    vietnamese = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉĩịọỏốồổỗộớờởỡợụủũứừửữựỳỵỷỹ]", re.IGNORECASE)
    copied = [_name(e) for e in entries for _source, text in _msgstrs(e) if vietnamese.search(text)]
    assert copied == [], f"{len(copied)} still in Vietnamese: {copied[:20]}"


def test_placeholders_and_html_of_each_translation_match_its_msgid():
    wrong = []
    for entry in _entries():
        if entry.msgid_plural:
            assert len(entry.msgstr_plural) == 2, _name(entry)  # Plural-Forms: nplurals=2
        for source, text in _msgstrs(entry):
            if Counter(PLACEHOLDER.findall(source)) != Counter(PLACEHOLDER.findall(text)):
                wrong.append(("placeholders", _name(entry), text))
            if Counter(HTML_TAG.findall(source)) != Counter(HTML_TAG.findall(text)):
                wrong.append(("html", _name(entry), text))
    assert wrong == []


def test_the_placeholder_check_sees_a_changed_or_missing_placeholder():
    def same(a: str, b: str) -> bool:
        return Counter(PLACEHOLDER.findall(a)) == Counter(PLACEHOLDER.findall(b))

    assert same("Dòng %(n)s: %(part)s", "Line %(n)s: %(part)s")
    assert not same("Dòng %(n)s: %(part)s", "Line %(num)s: %(part)s")
    assert not same("Cảnh báo: trên 80%%", "Warning: over 80%")
    assert not same("Trang {page}", "Page")


def test_the_compiled_catalogue_is_the_committed_po():
    """The .mo is committed (CI needs no gettext): it must hold exactly the .po's translations."""
    expected = {}
    for entry in _entries():
        key = (entry.msgctxt or "", entry.msgid)
        expected[key] = tuple(v for _, v in sorted(entry.msgstr_plural.items())) if entry.msgid_plural else entry.msgstr
    compiled = {}
    for entry in polib.mofile(str(MO_PATH)):
        if not entry.msgid:
            continue  # the header
        key = (entry.msgctxt or "", entry.msgid)
        compiled[key] = tuple(v for _, v in sorted(entry.msgstr_plural.items())) if entry.msgid_plural else entry.msgstr
    stale = sorted(k[1] for k in expected.keys() ^ compiled.keys())
    differ = sorted(k[1] for k in expected.keys() & compiled.keys() if expected[k] != compiled[k])
    assert stale == [] and differ == [], (
        f"locale/en/LC_MESSAGES/django.mo is out of date (run `make messages`): "
        f"missing or extra {stale[:10]}, different {differ[:10]}"
    )


def test_no_msgid_is_taken_from_tests_benchmarks_or_the_virtualenv():
    sources = {path for entry in _entries() for path, _line in entry.occurrences}
    assert sources, "the catalogue lost its source references"
    outside = sorted(
        p
        for p in sources
        if p.startswith(("tests/", "bench/", ".venv/", "var/")) or "/tests/" in p or p == "conftest.py"
    )
    assert outside == []


# --- pages in English ---------------------------------------------------------------------


class _Texts(HTMLParser):
    """Text nodes and the human-readable attributes of a page."""

    ATTRS = {"title", "aria-label", "placeholder", "alt", "data-confirm", "aria-valuetext"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        if tag in {"script", "style"}:
            self._skip += 1
        for name, value in attrs:
            if value and (name in self.ATTRS or name.startswith("data-msg-")):
                self.texts.append(" ".join(value.split()))

    def handle_endtag(self, tag):  # noqa: ANN001
        if tag in {"script", "style"} and self._skip:
            self._skip -= 1

    def handle_data(self, data):  # noqa: ANN001
        text = " ".join(data.split())
        if text and not self._skip:
            self.texts.append(text)


def _vietnamese_fragments() -> set[str]:
    """The literal parts of the catalogue's msgids, as they would show if left untranslated."""
    fragments = set()
    for entry in _entries():
        for msgid in filter(None, (entry.msgid, entry.msgid_plural)):
            for part in PLACEHOLDER.split(msgid):
                part = " ".join(re.sub(r"<[^>]+>", " ", part).split()).strip(" .,:;()—–-")
                if len(part) >= 4 and re.search(r"[^\x00-\x7f]", part):  # Vietnamese, not "PDF" or "SHA-256"
                    fragments.add(part)
    return fragments


def _untranslated_on(page: str, data: frozenset[str] = frozenset()) -> list[str]:
    """Catalogue texts left in Vietnamese on a page; `data` are stored texts the page shows as they are."""
    parser = _Texts()
    parser.feed(page)
    fragments = _vietnamese_fragments()
    found = set()
    for text in parser.texts:
        if text in data:
            continue
        if text in fragments:  # a whole text left in Vietnamese
            found.add(text)
        # a longer Vietnamese sentence inside a text (data such as names is never that long and equal)
        found |= {f for f in fragments if len(f.split()) >= 4 and f in text}
    return sorted(found)


def _ledger_texts() -> frozenset[str]:
    """Ledger records keep the text they were posted with (Vietnamese, like the official documents)."""
    descriptions = Transfer.objects.values_list("description", flat=True)
    names = Account.objects.values_list("name", flat=True)
    return frozenset(" ".join(t.split()) for t in [*descriptions, *names] if t)


def _english(user) -> Client:  # noqa: ANN001
    if not user.authenticator_set.exists():
        enrol_totp(user)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    return client


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    page = response.content.decode()
    assert '<html lang="en">' in page, url
    return page


def _paid(kit: Kit, amount: int):  # noqa: ANN202
    voucher = kit.approved(amount)
    payment_intent_process(intent_id=PaymentIntent.objects.get(voucher=voucher).pk, worker="t")
    voucher.refresh_from_db()
    return voucher


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    seed_money(world)
    return Kit(world, "a")


@pytest.mark.django_db
def test_the_fragment_check_finds_vietnamese_left_on_a_page():
    assert _untranslated_on('<p>Hello <span title="Đánh dấu tất cả đã đọc">x</span></p>') == ["Đánh dấu tất cả đã đọc"]
    assert "Chứng từ cần xử lý" in _untranslated_on("<h2>Chứng từ cần xử lý</h2>")
    assert _untranslated_on("<td>Trường THPT Huỳnh Thúc Kháng</td><td>Vouchers needing action</td>") == []
    stored = "<td>Nộp tiền vào tài khoản tiền gửi</td>"
    assert _untranslated_on(stored) != [] and _untranslated_on(stored, frozenset([stored[4:-5]])) == []


@pytest.mark.django_db
def test_unit_pages_in_english(kit):
    paid = _paid(kit, 1_800_000)
    submitted = kit.submitted(2_200_000)
    ledger.deposit_credit(actor=None, account=kit.deposit, amount=3_000, reference="i18n-1")
    client = _english(kit.user("a_holder"))

    pages = {
        "voucher list": (
            _page(client, reverse("voucher-list")),
            ["Vouchers, newest first", "Voucher number", "Filter vouchers", "New voucher"],
            ["Chứng từ, mới nhất trước", "Lập chứng từ mới"],
        ),
        "paid voucher": (
            _page(client, reverse("voucher-detail", args=[paid.pk])),
            [
                "Where the voucher is now",
                "Payment and result",
                "Download the result voucher (PDF)",
                "Processing history",
                "Satisfaction rating",
                "Paid",
            ],
            ["Chứng từ đang ở đâu", "Thanh toán và kết quả", "Quá trình xử lý", "Đã thanh toán"],
        ),
        "submitted voucher": (
            _page(client, reverse("voucher-detail", args=[submitted.pk])),
            ["Submitted", "awaiting a control officer", "Withdraw voucher", "Expenditure lines and budget"],
            ["chờ cán bộ kiểm soát nhận", "Rút chứng từ"],
        ),
        "budget": (
            _page(client, reverse("budget")),
            ["Budget estimates", "Allocated estimate", "Available", "Economic code"],
            ["Dự toán ngân sách", "Còn khả dụng", "NDKT"],
        ),
        "accounts": (
            _page(client, reverse("accounts-list")),
            ["Unit accounts", "Account number", "Balance", "Deposit account"],
            ["Tài khoản của đơn vị", "Số dư", "Tài khoản tiền gửi"],
        ),
        "account statement": (
            _page(client, reverse("account-detail", args=[kit.deposit.pk])),
            ["Account statement", "Recent transactions", "Download the statement (PDF)", "Balance after"],
            ["Sao kê tài khoản", "Giao dịch gần đây", "Số dư sau"],
        ),
        "notifications": (
            _page(client, reverse("notifications")),
            ["Notifications", "Mark all as read", "Choose notification channels", "+3,000 VND", "New balance:"],
            ["Đánh dấu tất cả đã đọc", "Biến động số dư", "Số dư mới"],
        ),
    }
    for name, (page, english, vietnamese) in pages.items():
        missing = [text for text in english if text not in page]
        present = [text for text in vietnamese if text in page]
        assert missing == [] and present == [], (name, missing, present)
        assert _untranslated_on(page, _ledger_texts()) == [], name


@pytest.mark.django_db
def test_treasury_pages_in_english(kit):
    paid = _paid(kit, 2_500_000)
    submitted = kit.submitted(1_200_000)
    officer = _english(kit.user("officer"))
    admin = _english(kit.user("tadmin"))

    pages = {
        "review queue": (
            _page(officer, reverse("review-queue")),
            ["Control and approval queue", "Processing deadline", "Not yet taken"],
            ["Hàng đợi kiểm soát và phê duyệt", "Chưa nhận"],
        ),
        "voucher to control": (
            _page(officer, reverse("voucher-detail", args=[submitted.pk])),
            ["Take for control", "Receipt number", "Received by the treasury at"],
            ["Nhận kiểm soát", "Kho bạc nhận lúc"],
        ),
        "payments": (
            _page(admin, reverse("payments-overview")),
            [
                "Payments",
                "Recent payment orders",
                "Bank transfer files (pain.001)",
                "Create transfer files",
                "Succeeded",
            ],
            ["Lệnh thanh toán gần đây", "Lập tệp chuyển tiền", "Thành công"],
        ),
        "paid voucher": (
            _page(officer, reverse("voucher-detail", args=[paid.pk])),
            ["Payment and result", "Processing history"],
            ["Thanh toán và kết quả"],
        ),
    }
    for name, (page, english, vietnamese) in pages.items():
        missing = [text for text in english if text not in page]
        present = [text for text in vietnamese if text in page]
        assert missing == [] and present == [], (name, missing, present)
        assert _untranslated_on(page, _ledger_texts()) == [], name


def test_a_refused_voucher_reads_refused_not_the_button_verb():
    """The word "Từ chối" is both the refuse button and the refused status: the status has its own context."""
    from django.utils import translation

    from vouchers.models import VoucherStatus

    with translation.override("en"):
        assert str(VoucherStatus.REFUSED.label) == "Refused"
        assert translation.gettext("Từ chối") == "Refuse"
    with translation.override("vi"):
        assert str(VoucherStatus.REFUSED.label) == "Từ chối"
