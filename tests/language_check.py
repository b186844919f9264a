"""One language per page, no raw codes: the detection shared by the page walk
(tests/test_page_languages.py, Django's test client) and the browser walk
(tests/browser/test_page_walk.py, Chromium). One home for the rules:

- a page in English shows no text with Vietnamese letters, except the proper
  names and the texts people typed (`Allowed`: people, units, offices,
  addresses, banks, payees, notes, file names; built from the database) and
  the language switcher's "Tiếng Việt";
- a page in Vietnamese shows no English text: no msgstr of our English
  catalogue and no English msgid of allauth, Django or DRF (whole texts, and
  sentences of three words or more inside a text);
- no page shows a raw code: a snake_case identifier (`duplicate_period`,
  `pending_control`) or a choice's stored value in place of its label, in a
  text node or in title / aria-label / placeholder / alt / a button's value;
- numbers use the page's format: 1.234.567 in Vietnamese, 1,234,567 in English.

Text inside <code>, <pre>, <kbd> and <samp> is exempt from the raw-code rule
(API documentation shows field names on purpose) but not from the others.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import polib
from django.conf import settings

VIETNAMESE_LETTERS = re.compile(
    r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE
)
# snake_case identifiers that stand alone (not part of a path, file name, URL or e-mail address).
RAW_CODE = re.compile(r"(?<![\w./@:-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/@-]|\.\w)")
# A thousands separator of the other language.
NUMBER_FORMAT = {
    "vi": re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?![\d,]|\.\d)"),  # 1,234,567 on a Vietnamese page
    "en": re.compile(r"(?<![\d.,])\d{1,3}(?:\.\d{3})+(?![\d.]|,\d)"),  # 1.234.567 on an English page
}
# Always allowed: the language switcher names each language in itself.
SWITCHER = {"vi": {"English"}, "en": {"Tiếng Việt"}}
PLACEHOLDER = re.compile(
    r"%\([A-Za-z0-9_]+\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%[-#0 +]*\d*(?:\.\d+)?[sdifr]|%%|\{[A-Za-z0-9_]*\}"
)
HUMAN_ATTRS = {"title", "aria-label", "placeholder", "alt", "aria-valuetext", "data-confirm"}
EXEMPT_FROM_CODES = {"code", "pre", "kbd", "samp"}


@dataclass(frozen=True)
class Text:
    value: str
    where: str  # "text" or the attribute's name
    code_exempt: bool = False


class _Texts(HTMLParser):
    """The texts a person reads: text nodes and the human-readable attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[Text] = []
        self.lang = ""
        self._skip = 0
        self._exempt = 0

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang") or ""
        if tag in {"script", "style", "template"}:
            self._skip += 1
        if tag in EXEMPT_FROM_CODES:
            self._exempt += 1
        for name, value in attrs.items():
            if value and (name in HUMAN_ATTRS or name.startswith("data-msg-")):
                self._add(value, name)
        if tag == "input" and (attrs.get("type") or "").lower() in {"submit", "button", "reset"} and attrs.get("value"):
            self._add(attrs["value"], "value")

    def handle_startendtag(self, tag, attrs):  # noqa: ANN001
        self.handle_starttag(tag, attrs)
        if tag in EXEMPT_FROM_CODES:
            self._exempt -= 1

    def handle_endtag(self, tag):  # noqa: ANN001
        if tag in {"script", "style", "template"} and self._skip:
            self._skip -= 1
        if tag in EXEMPT_FROM_CODES and self._exempt:
            self._exempt -= 1

    def handle_data(self, data):  # noqa: ANN001
        if not self._skip:
            self._add(data, "text")

    def _add(self, value: str, where: str) -> None:
        text = " ".join(unicodedata.normalize("NFC", value).split())
        if text:
            self.texts.append(Text(text, where, self._exempt > 0))


def page_texts(html: str) -> tuple[str, list[Text]]:
    """(the <html lang>, the texts) of a page."""
    parser = _Texts()
    parser.feed(html)
    return parser.lang, parser.texts


# --- what counts as English --------------------------------------------------------------


def _site_packages() -> Path:
    import django

    return Path(django.__file__).parent.parent


def _catalogue(path: Path) -> Iterable[polib.POEntry]:
    if not path.exists():
        return []
    return polib.mofile(str(path)) if path.suffix == ".mo" else polib.pofile(str(path))


def _fragments(text: str) -> list[str]:
    parts = []
    for part in PLACEHOLDER.split(text):
        part = " ".join(re.sub(r"<[^>]+>", " ", part).split()).strip(" .,:;!?()—–-\"'“”")
        if part:
            parts.append(part)
    return parts


def _is_english(text: str) -> bool:
    """A text a person would read as English: letters, at least one lowercase word of 3+ letters."""
    return not VIETNAMESE_LETTERS.search(text) and re.search(r"\b[A-Za-z]?[a-z]{3,}\b", text) is not None


@dataclass
class English:
    whole: frozenset[str]  # texts that are English as a whole ("Sign In", "Paid")
    sentences: re.Pattern  # English runs of 3+ words to look for inside a text


@cache
def english_texts() -> English:
    """Our catalogue's English msgstrs, and the English msgids of allauth, Django and DRF."""
    ours = polib.pofile(str(Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    vietnamese_msgids = {p for e in ours for msgid in (e.msgid, e.msgid_plural) if msgid for p in _fragments(msgid)}
    sources: list[str] = []
    for entry in ours:
        sources += [s for s in (entry.msgstr, *entry.msgstr_plural.values()) if s and s != entry.msgid]
    site = _site_packages()
    for path in [
        site / "allauth" / "locale" / "en" / "LC_MESSAGES" / "django.po",
        site / "django" / "conf" / "locale" / "vi" / "LC_MESSAGES" / "django.po",
        site / "django" / "contrib" / "auth" / "locale" / "vi" / "LC_MESSAGES" / "django.po",
        site / "django" / "contrib" / "admin" / "locale" / "vi" / "LC_MESSAGES" / "django.po",
        site / "rest_framework" / "locale" / "en" / "LC_MESSAGES" / "django.mo",
    ]:
        for entry in _catalogue(path):
            sources += [s for s in (entry.msgid, entry.msgid_plural) if s]
    whole, sentences = set(), set()
    for source in sources:
        for part in _fragments(source):
            if part in vietnamese_msgids or not _is_english(part):
                continue
            whole.add(part)
            if len(part.split()) >= 3:
                sentences.add(part)
    pattern = "|".join(re.escape(s) for s in sorted(sentences, key=len, reverse=True))
    return English(frozenset(whole), re.compile(rf"(?<![\w]){pattern}(?![\w])"))


@cache
def choice_values() -> dict[str, set[str]]:
    """Every stored choice value of the portal's models → its labels (in both languages)."""
    from django.apps import apps
    from django.utils import translation

    values: dict[str, set[str]] = {}
    for model in apps.get_models():
        if model._meta.app_label not in {"accounts", "vouchers", "payments"}:
            continue
        for f in model._meta.get_fields():
            for value, label in getattr(f, "choices", None) or []:
                if isinstance(value, str) and re.fullmatch(r"[a-z][a-z0-9_]{3,}", value):
                    for lang in ("vi", "en"):
                        with translation.override(lang):
                            values.setdefault(value, set()).add(str(label))
    return values


# --- the check ---------------------------------------------------------------------------


@dataclass
class Allowed:
    """Proper names and typed texts a page shows as they were written (any language)."""

    texts: set[str] = field(default_factory=set)

    def strip(self, text: str) -> str:
        for allowed in self._longest_first():
            if allowed in text:
                text = text.replace(allowed, " ")
        return text

    def _longest_first(self) -> list[str]:
        return sorted(self.texts, key=len, reverse=True)


def allowed_from_database() -> Allowed:
    """The names and typed texts of the current database (call after building the data)."""
    from accounts.models import ApiToken, Organisation, SigningKey, User
    from payments.models import Account, Bank, BudgetLine, Transfer
    from vouchers.models import (
        Attachment,
        CalendarDay,
        ProcedureVersion,
        Rating,
        ReturnException,
        Voucher,
        VoucherEvent,
        VoucherLine,
    )

    texts: set[str] = set(settings.MFA_TOTP_ISSUER.split(" · "))
    for user in User.objects.all():
        texts |= {user.username, user.first_name, user.last_name, user.get_full_name(), user.email}
    texts |= {t for o in Organisation.objects.values_list("name", "address") for t in o}
    texts |= set(Bank.objects.values_list("name", flat=True))
    texts |= set(Account.objects.values_list("name", flat=True))  # official account titles
    texts |= set(BudgetLine.objects.values_list("name", flat=True))  # official budget-line titles
    texts |= set(CalendarDay.objects.values_list("name", flat=True))  # holiday names
    texts |= set(ProcedureVersion.objects.values_list("legal_basis", flat=True))  # titles of legal documents
    texts |= set(Transfer.objects.values_list("counterparty_name", flat=True))
    for description, payee, contract, deficiencies, reasons in Voucher.objects.values_list(
        "description", "payee_name", "contract_number", "deficiencies", "refusal_reasons"
    ):
        texts |= {description, payee, contract}
        texts |= {item.get("note", "") for item in [*(deficiencies or []), *(reasons or [])] if isinstance(item, dict)}
    texts |= set(VoucherLine.objects.values_list("description", flat=True))
    texts |= set(Attachment.objects.values_list("original_name", flat=True))
    texts |= set(VoucherEvent.objects.values_list("note", flat=True))  # notes typed by people
    texts |= set(ReturnException.objects.values_list("justification", flat=True))
    texts |= set(Rating.objects.values_list("comment", flat=True))
    texts |= set(SigningKey.objects.values_list("label", flat=True))
    texts |= set(ApiToken.objects.values_list("name", flat=True))
    # A token's prefix (tp_…) names the token, as a file name names a file: random, so at times it reads
    # like a snake_case code (tp_i3b4v0v) in titles and breadcrumbs, where it cannot be marked up as code.
    texts |= set(ApiToken.objects.values_list("prefix", flat=True))
    texts |= _autopay_texts()
    return Allowed({" ".join(unicodedata.normalize("NFC", t).split()) for t in texts if t and len(t.strip()) >= 2})


TYPED_NOTES = ("close", "retry", "reject", "revoke")


def _autopay_texts() -> set[str]:
    from autopay.models import AutopayEvent, SupplierCollectionAccount, SupplierInvoice

    texts = set(SupplierInvoice.objects.values_list("customer_code", flat=True))
    texts |= set(SupplierInvoice.objects.values_list("close_note", flat=True))  # typed by people
    texts |= set(SupplierCollectionAccount.objects.values_list("account_name", flat=True))
    # Notes people typed (a closed exception, a refused or revoked authorization), not the run's sentences.
    texts |= set(AutopayEvent.objects.filter(action__in=TYPED_NOTES).values_list("note", flat=True))
    return texts


def findings(html: str, lang: str, allowed: Allowed) -> list[str]:
    """What is wrong on one page in `lang`: each finding names the rule and the text."""
    page_lang, texts = page_texts(html)
    found: list[str] = []
    if page_lang and page_lang != lang:
        found.append(f"<html lang={page_lang!r}>, expected {lang!r}")
    english = english_texts()
    choices = choice_values()
    for text in texts:
        if text.value in SWITCHER[lang]:
            continue
        own = allowed.strip(text.value)
        if lang == "en" and VIETNAMESE_LETTERS.search(own):
            found.append(f"Vietnamese on an English page ({text.where}): {text.value!r}")
        if lang == "vi":
            bare = own.strip(" .,:;!?()—–-\"'“”*")
            if bare in english.whole:
                found.append(f"English on a Vietnamese page ({text.where}): {text.value!r}")
            elif english.sentences.pattern and (m := english.sentences.search(own)):
                found.append(f"English on a Vietnamese page ({text.where}): {m.group(0)!r} in {text.value!r}")
        if not text.code_exempt:
            codes = RAW_CODE.findall(own)
            bare = own.strip(" .,:;!?()")
            if bare in choices and bare not in choices[bare]:
                codes.append(bare)
            if codes:
                found.append(f"raw code ({text.where}): {', '.join(codes)} in {text.value!r}")
        if m := NUMBER_FORMAT[lang].search(own):
            found.append(f"number in the other language's format ({text.where}): {m.group(0)!r} in {text.value!r}")
    return found
