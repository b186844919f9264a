"""ISO 20022 customer credit transfer initiation (pain.001.001.09) for paying vouchers.

One file carries one payment information block: one debtor account at one bank and one
execution date, with one credit transfer per payee. Amounts are whole đồng: VND has no
minor unit, so they are written as integers.

Identifiers (message id, end-to-end ids, accounts, bank codes) are never altered: if they
do not fit the schema the file is refused, because a silently shortened id would break
reconciliation. Free text (names, remittance information) is cleaned of line breaks and
control characters and shortened to the schema's 140 characters; a remittance that ends up
empty leaves out the optional RmtInf, a name that ends up empty is refused.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 - writing only

from payments import iso20022

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"
CURRENCY = "VND"
MAX_ID = 35  # Max35Text: MsgId, PmtInfId, EndToEndId, Othr/Id of an agent
MAX_ACCOUNT = 34  # Max34Text: Othr/Id of an account
MAX_TEXT = 140  # Max140Text: Nm, Ustrd
BICFI = re.compile(r"^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")  # BICFIDec2014Identifier
# XML 1.0 cannot carry most control characters at all; tabs and line breaks are legal but
# bank systems treat free text as one line.
CONTROL_OR_SPACE_RUN = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Party:
    name: str
    account: str
    bank_code: str  # the bank's short code: the agent's Othr/Id when it has no BIC
    bic: str = ""  # the bank's BIC: the agent's BICFI


@dataclass(frozen=True)
class CreditTransfer:
    end_to_end_id: str
    amount: int
    creditor: Party
    remittance: str


def _free_text(text: str) -> str:
    # NFC first, so a Vietnamese letter typed with combining marks counts as one character.
    one_line = CONTROL_OR_SPACE_RUN.sub(" ", unicodedata.normalize("NFC", text)).strip()
    return one_line[:MAX_TEXT].rstrip()


def _identifier(value: str, what: str, max_length: int = MAX_ID) -> str:
    if not value.strip() or len(value) > max_length:
        raise ValueError(f"{what} must be 1 to {max_length} characters, got {value!r}")
    if CONTROL.search(value):
        raise ValueError(f"{what} must not contain control characters, got {value!r}")
    return value


def _check_amount(transfer: CreditTransfer) -> None:
    # bool is an int subclass, and a float amount would mean money already went through
    # binary floating point somewhere: both are programming errors.
    if not isinstance(transfer.amount, int) or isinstance(transfer.amount, bool):
        raise ValueError(f"amount of {transfer.end_to_end_id} must be an integer number of đồng")
    if transfer.amount <= 0:
        raise ValueError(f"amount of {transfer.end_to_end_id} must be positive")


def _validate(
    message_id: str, created_at: datetime, execution_date: date, transfers: list[CreditTransfer]
) -> None:
    _identifier(message_id, "message id")
    if created_at.tzinfo is None or created_at.utcoffset() is None:
        raise ValueError("created_at must be timezone-aware")
    if isinstance(execution_date, datetime):
        raise ValueError("execution_date must be a date, not a datetime")
    if not transfers:
        raise ValueError("a payment file needs at least one credit transfer")
    seen: set[str] = set()
    for transfer in transfers:
        _identifier(transfer.end_to_end_id, "end-to-end id")
        if transfer.end_to_end_id in seen:
            # The bank uses the end-to-end id to tell payments apart; a repeat could be
            # taken for a duplicate and dropped, or paid twice.
            raise ValueError(f"end-to-end id {transfer.end_to_end_id!r} is repeated")
        seen.add(transfer.end_to_end_id)
        _check_amount(transfer)


def _text(parent: Element, tag: str, text: str) -> Element:
    element = SubElement(parent, tag)
    element.text = text
    return element


def _account(parent: Element, tag: str, party: Party) -> None:
    account_id = SubElement(SubElement(parent, tag), "Id")
    _text(SubElement(account_id, "Othr"), "Id", _identifier(party.account, "account", MAX_ACCOUNT))


def _agent(parent: Element, tag: str, party: Party) -> None:
    """The bank by its BIC (BICFI) when it has one, else by its code (Othr/Id)."""
    institution = SubElement(SubElement(parent, tag), "FinInstnId")
    if party.bic:
        if not BICFI.match(party.bic):
            raise ValueError(f"BIC must be 8 or 11 letters and digits (ISO 9362), got {party.bic!r}")
        _text(institution, "BICFI", party.bic)
    else:
        _text(SubElement(institution, "Othr"), "Id", _identifier(party.bank_code, "bank code"))


def _named(parent: Element, tag: str, name: str) -> None:
    if not (cleaned := _free_text(name)):
        raise ValueError(f"{tag} needs a name")
    _text(SubElement(parent, tag), "Nm", cleaned)


def _group_header(
    document: Element,
    message_id: str,
    created_at: datetime,
    debtor: Party,
    transfers: list[CreditTransfer],
) -> None:
    header = SubElement(document, "GrpHdr")
    _text(header, "MsgId", message_id)
    _text(header, "CreDtTm", created_at.isoformat(timespec="seconds"))
    _text(header, "NbOfTxs", str(len(transfers)))
    _text(header, "CtrlSum", str(sum(t.amount for t in transfers)))
    _named(header, "InitgPty", debtor.name)


def _credit_transfer(payment: Element, transfer: CreditTransfer) -> None:
    info = SubElement(payment, "CdtTrfTxInf")
    _text(SubElement(info, "PmtId"), "EndToEndId", transfer.end_to_end_id)
    amount = _text(SubElement(info, "Amt"), "InstdAmt", str(transfer.amount))
    amount.set("Ccy", CURRENCY)
    _agent(info, "CdtrAgt", transfer.creditor)
    _named(info, "Cdtr", transfer.creditor.name)
    _account(info, "CdtrAcct", transfer.creditor)
    # RmtInf is optional, but an empty Ustrd would break the schema's minimum length.
    if remittance := _free_text(transfer.remittance):
        _text(SubElement(info, "RmtInf"), "Ustrd", remittance)


def build_pain001(
    message_id: str,
    created_at: datetime,
    debtor: Party,
    execution_date: date,
    transfers: list[CreditTransfer],
) -> bytes:
    """The pain.001.001.09 document as UTF-8 XML with an XML declaration, checked
    against the official XSD (payments.iso20022; a breach is a ValueError).

    The single payment information block reuses the message id as PmtInfId, since the
    file never holds more than one block.
    """
    _validate(message_id, created_at, execution_date, transfers)
    # A plain xmlns attribute sets the default namespace without touching ElementTree's
    # process-wide prefix registry.
    root = Element("Document", {"xmlns": NAMESPACE})
    document = SubElement(root, "CstmrCdtTrfInitn")
    _group_header(document, message_id, created_at, debtor, transfers)
    payment = SubElement(document, "PmtInf")
    _text(payment, "PmtInfId", message_id)
    _text(payment, "PmtMtd", "TRF")
    _text(payment, "NbOfTxs", str(len(transfers)))
    _text(payment, "CtrlSum", str(sum(t.amount for t in transfers)))
    _text(SubElement(payment, "ReqdExctnDt"), "Dt", execution_date.isoformat())
    _named(payment, "Dbtr", debtor.name)
    _account(payment, "DbtrAcct", debtor)
    _agent(payment, "DbtrAgt", debtor)
    for transfer in transfers:
        _credit_transfer(payment, transfer)
    xml = tostring(root, encoding="UTF-8", xml_declaration=True)
    iso20022.validate(xml, "pain.001")
    return xml
