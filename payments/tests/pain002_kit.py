"""Bank status reports (pain.002.001.11) for tests, as a bank would send them."""

from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 - writing only

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.11"


def _text(parent: Element, tag: str, text: str) -> Element:
    element = SubElement(parent, tag)
    element.text = text
    return element


def _reason(parent: Element, code: str, text: str) -> None:
    info = SubElement(parent, "StsRsnInf")
    _text(SubElement(info, "Rsn"), "Cd", code)
    if text:
        _text(info, "AddtlInf", text)


def build_pain002(
    original_message_id: str,
    rejected: list[tuple[str, str, str]] = (),
    accepted: list[str] = (),
    *,
    message_id: str = "STS-0001",
    group_status: str = "PART",
    group_reason: tuple[str, str] | None = None,
) -> bytes:
    """`rejected`: (end-to-end id, reason code, text); `accepted`: end-to-end ids (ACSC)."""
    root = Element("Document", {"xmlns": NAMESPACE})
    report = SubElement(root, "CstmrPmtStsRpt")
    header = SubElement(report, "GrpHdr")
    _text(header, "MsgId", message_id)
    _text(header, "CreDtTm", "2026-12-05T10:00:00+07:00")
    group = SubElement(report, "OrgnlGrpInfAndSts")
    _text(group, "OrgnlMsgId", original_message_id)
    _text(group, "OrgnlMsgNmId", "pain.001.001.09")
    _text(group, "GrpSts", group_status)
    if group_reason:
        _reason(group, *group_reason)
    if rejected or accepted:
        block = SubElement(report, "OrgnlPmtInfAndSts")
        _text(block, "OrgnlPmtInfId", original_message_id)
        for end_to_end, code, text in rejected:
            tx = SubElement(block, "TxInfAndSts")
            _text(tx, "OrgnlEndToEndId", end_to_end)
            _text(tx, "TxSts", "RJCT")
            _reason(tx, code, text)
        for end_to_end in accepted:
            tx = SubElement(block, "TxInfAndSts")
            _text(tx, "OrgnlEndToEndId", end_to_end)
            _text(tx, "TxSts", "ACSC")
    return tostring(root, encoding="UTF-8", xml_declaration=True)
