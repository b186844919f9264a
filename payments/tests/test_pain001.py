"""The pain.001.001.09 payment file, read back with ElementTree."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from xml.etree import ElementTree as ET  # noqa: S405 - parses our own output only

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.pain001 import NAMESPACE, CreditTransfer, Party, build_pain001

NS = {"p": NAMESPACE}
HANOI = timezone(timedelta(hours=7))
CREATED_AT = datetime(2026, 3, 9, 10, 15, 30, tzinfo=HANOI)
EXECUTION = date(2026, 3, 10)
DEBTOR = Party("Trường Tiểu học Đống Đa", "3741.2.1012345.00000", "0011")
EVN = Party("Tổng công ty Điện lực Hà Nội", "1234567890", "BIDV-HN")
WATER = Party('Công ty Nước sạch <Hà Nội> & "Cộng sự"', "0987654321", "VCB-HN")


def transfer(end_to_end_id: str, amount: int, creditor: Party = EVN, remittance: str = "x"):
    return CreditTransfer(end_to_end_id, amount, creditor, remittance)


TRANSFERS = [
    transfer("C2-02A-0001", 1_234_567, EVN, "Thanh toán tiền điện tháng 2/2026"),
    transfer("C2-02A-0002", 850_000, WATER, "Tiền nước <T2> & phí 'bảo trì'"),
]


def parse(xml: bytes) -> ET.Element:
    return ET.fromstring(xml)  # noqa: S314 - our own output, not untrusted input


def build(transfers=TRANSFERS, **overrides) -> ET.Element:
    arguments = {
        "message_id": "MSG-20260309-0001",
        "created_at": CREATED_AT,
        "debtor": DEBTOR,
        "execution_date": EXECUTION,
        "transfers": transfers,
    } | overrides
    return parse(build_pain001(**arguments))


def text(element: ET.Element, path: str) -> str | None:
    found = element.find(path, NS)
    assert found is not None, path
    return found.text


def children(element: ET.Element) -> list[str]:
    return [child.tag.removeprefix(f"{{{NAMESPACE}}}") for child in element]


def test_declaration_encoding_and_namespace() -> None:
    xml = build_pain001("M1", CREATED_AT, DEBTOR, EXECUTION, TRANSFERS)
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert "Trường Tiểu học Đống Đa".encode() in xml  # raw UTF-8, not character references
    root = parse(xml)
    assert root.tag == f"{{{NAMESPACE}}}Document"
    assert children(root) == ["CstmrCdtTrfInitn"]


def test_group_header() -> None:
    root = build()
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert children(header) == ["MsgId", "CreDtTm", "NbOfTxs", "CtrlSum", "InitgPty"]
    assert text(header, "p:MsgId") == "MSG-20260309-0001"
    assert text(header, "p:CreDtTm") == "2026-03-09T10:15:30+07:00"
    assert text(header, "p:NbOfTxs") == "2"
    assert text(header, "p:CtrlSum") == "2084567"
    assert text(header, "p:InitgPty/p:Nm") == "Trường Tiểu học Đống Đa"


def test_payment_information_block() -> None:
    payment = build().find("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert children(payment) == [
        "PmtInfId", "PmtMtd", "NbOfTxs", "CtrlSum", "ReqdExctnDt",
        "Dbtr", "DbtrAcct", "DbtrAgt", "CdtTrfTxInf", "CdtTrfTxInf",
    ]  # fmt: skip
    assert text(payment, "p:PmtMtd") == "TRF"
    assert text(payment, "p:ReqdExctnDt/p:Dt") == "2026-03-10"
    assert text(payment, "p:Dbtr/p:Nm") == "Trường Tiểu học Đống Đa"
    assert text(payment, "p:DbtrAcct/p:Id/p:Othr/p:Id") == "3741.2.1012345.00000"
    assert text(payment, "p:DbtrAgt/p:FinInstnId/p:Othr/p:Id") == "0011"
    assert text(payment, "p:CtrlSum") == "2084567"


def test_credit_transfers_in_order_with_integer_vnd_amounts() -> None:
    infos = build().findall("p:CstmrCdtTrfInitn/p:PmtInf/p:CdtTrfTxInf", NS)
    assert [children(info) for info in infos] == [
        ["PmtId", "Amt", "CdtrAgt", "Cdtr", "CdtrAcct", "RmtInf"]
    ] * 2
    first, second = infos
    assert text(first, "p:PmtId/p:EndToEndId") == "C2-02A-0001"
    amount = first.find("p:Amt/p:InstdAmt", NS)
    assert amount.text == "1234567" and amount.attrib == {"Ccy": "VND"}
    assert text(first, "p:CdtrAgt/p:FinInstnId/p:Othr/p:Id") == "BIDV-HN"
    assert text(first, "p:Cdtr/p:Nm") == "Tổng công ty Điện lực Hà Nội"
    assert text(first, "p:CdtrAcct/p:Id/p:Othr/p:Id") == "1234567890"
    assert text(first, "p:RmtInf/p:Ustrd") == "Thanh toán tiền điện tháng 2/2026"
    assert text(second, "p:Amt/p:InstdAmt") == "850000"


def test_special_characters_are_escaped_and_survive() -> None:
    xml = build_pain001("M1", CREATED_AT, DEBTOR, EXECUTION, TRANSFERS)
    assert b"&lt;Ha" not in xml and "&lt;Hà Nội&gt; &amp;".encode() in xml
    second = parse(xml).findall(".//p:CdtTrfTxInf", NS)[1]
    assert text(second, "p:Cdtr/p:Nm") == 'Công ty Nước sạch <Hà Nội> & "Cộng sự"'
    assert text(second, "p:RmtInf/p:Ustrd") == "Tiền nước <T2> & phí 'bảo trì'"


def test_remittance_truncated_to_140_characters_after_nfc() -> None:
    # "ệ" typed as e + combining marks is three code points, one character once composed.
    decomposed = "Tie\u0302\u0323n" * 50
    root = build([transfer("E1", 1, remittance=decomposed)])
    assert text(root, ".//p:RmtInf/p:Ustrd") == ("Ti\u1ec7n" * 50)[:140]


def test_truncation_does_not_leave_a_trailing_space() -> None:
    root = build([transfer("E1", 1, remittance="Tiền " * 40)])  # a space at position 140
    assert text(root, ".//p:RmtInf/p:Ustrd") == ("Tiền " * 28).rstrip()


def test_line_breaks_and_control_characters_become_single_spaces() -> None:
    root = build([transfer("E1", 1, remittance="Tiền điện\r\n\ttháng 2\x00\x1f  2026 ")])
    assert text(root, ".//p:RmtInf/p:Ustrd") == "Tiền điện tháng 2 2026"


def test_empty_remittance_leaves_out_rmtinf() -> None:
    root = build([transfer("E1", 1, remittance=" \n ")])
    info = root.find(".//p:CdtTrfTxInf", NS)
    assert "RmtInf" not in children(info)


def test_long_name_is_truncated() -> None:
    creditor = replace(EVN, name="Đ" * 200)
    root = build([transfer("E1", 1, creditor=creditor)])
    assert text(root, ".//p:Cdtr/p:Nm") == "Đ" * 140


def test_created_at_keeps_its_offset() -> None:
    root = build(created_at=datetime(2026, 3, 9, 3, 15, 30, 123456, tzinfo=UTC))
    assert text(root, ".//p:GrpHdr/p:CreDtTm") == "2026-03-09T03:15:30+00:00"


class TestRejections:
    def test_empty_transfer_list(self) -> None:
        with pytest.raises(ValueError, match="at least one"):
            build_pain001("M1", CREATED_AT, DEBTOR, EXECUTION, [])

    @pytest.mark.parametrize("amount", [0, -1, -1_000_000])
    def test_non_positive_amount(self, amount: int) -> None:
        transfers = [transfer("E1", 100), transfer("E2", amount)]
        with pytest.raises(ValueError, match="E2 must be positive"):
            build_pain001("M1", CREATED_AT, DEBTOR, EXECUTION, transfers)

    @pytest.mark.parametrize("amount", [1.5, 100.0, True, "100"])
    def test_non_integer_amount(self, amount) -> None:
        with pytest.raises(ValueError, match="integer number of đồng"):
            build_pain001("M1", CREATED_AT, DEBTOR, EXECUTION, [transfer("E1", amount)])

    def test_repeated_end_to_end_id(self) -> None:
        transfers = [transfer("E1", 100), transfer("E1", 200)]
        with pytest.raises(ValueError, match="repeated"):
            build_pain001("M1", CREATED_AT, DEBTOR, EXECUTION, transfers)

    @pytest.mark.parametrize("message_id", ["", "   ", "M" * 36, "M\n1"])
    def test_bad_message_id(self, message_id: str) -> None:
        with pytest.raises(ValueError, match="message id"):
            build_pain001(message_id, CREATED_AT, DEBTOR, EXECUTION, TRANSFERS)

    def test_identifiers_at_the_limit_are_kept_whole(self) -> None:
        root = build([transfer("E" * 35, 1)], message_id="M" * 35)
        assert text(root, ".//p:EndToEndId") == "E" * 35
        assert text(root, ".//p:MsgId") == "M" * 35

    def test_too_long_end_to_end_id(self) -> None:
        with pytest.raises(ValueError, match="end-to-end id"):
            build_pain001("M1", CREATED_AT, DEBTOR, EXECUTION, [transfer("E" * 36, 1)])

    def test_too_long_account(self) -> None:
        creditor = replace(EVN, account="1" * 35)
        with pytest.raises(ValueError, match="account"):
            build_pain001("M1", CREATED_AT, DEBTOR, EXECUTION, [transfer("E1", 1, creditor)])

    def test_empty_bank_code(self) -> None:
        with pytest.raises(ValueError, match="bank code"):
            build_pain001("M1", CREATED_AT, replace(DEBTOR, bank_code=""), EXECUTION, TRANSFERS)

    def test_empty_name(self) -> None:
        creditor = replace(EVN, name="\n")
        with pytest.raises(ValueError, match="Cdtr needs a name"):
            build_pain001("M1", CREATED_AT, DEBTOR, EXECUTION, [transfer("E1", 1, creditor)])

    def test_naive_created_at(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            build_pain001("M1", datetime(2026, 3, 9, 10), DEBTOR, EXECUTION, TRANSFERS)

    def test_datetime_as_execution_date(self) -> None:
        with pytest.raises(ValueError, match="execution_date"):
            build_pain001("M1", CREATED_AT, DEBTOR, CREATED_AT, TRANSFERS)


@given(
    st.lists(st.integers(min_value=1, max_value=10**12), min_size=1, max_size=30),
    st.text(max_size=300),
)
def test_counts_and_control_sum_match_any_batch(amounts: list[int], remittance: str) -> None:
    transfers = [
        transfer(f"E{i}", amount, remittance=remittance) for i, amount in enumerate(amounts)
    ]
    root = build(transfers)
    instructed = [int(e.text) for e in root.findall(".//p:InstdAmt", NS)]
    assert instructed == amounts
    assert text(root, "p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs") == str(len(amounts))
    assert text(root, "p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum") == str(sum(amounts))
    for ustrd in root.findall(".//p:Ustrd", NS):
        assert 1 <= len(ustrd.text) <= 140
