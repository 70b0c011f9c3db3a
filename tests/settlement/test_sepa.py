"""The payment file, pain.001.001.09 (and .03 behind the setting): built by sepaxml, validated
against the XSDs sepaxml ships, for real."""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from voucher import clock
from voucher.invoicing.reference import is_valid_reference, reference_for_invoice
from voucher.settlement.sepa import (
    Address,
    CreditTransfer,
    InvalidPaymentFile,
    build_payment_file,
    is_valid_account,
    namespace,
    next_banking_day,
    remittance_for,
    validate_payment_file,
)

OLD = "pain.001.001.03"
NS = {"p": namespace(OLD)}
NS09 = {"p": namespace("pain.001.001.09")}
KALLIO = Address("Kauppatie 1", "84100", "Ylivieska")


def _file(*transfers, schema=OLD, debtor_address=None):
    return build_payment_file(
        message_id="PS20261124120000ABCDE", created_at=clock.now(),
        execution_on=dt.date(2026, 11, 25), debtor_name="Peruspalvelukuntayhtymä Kallio",
        debtor_iban="FI49 5000 9420 0287 30", debtor_bic="OKOYFIHH", transfers=list(transfers),
        schema=schema, debtor_address=debtor_address)


def test_a_payment_file_has_the_header_amounts_and_references():
    xml = _file(
        CreditTransfer("E1", "Hoivapalvelu Äijälä Oy", "FI2112345600000785", "NDEAFIHH", 12345,
                       reference_for_invoice(1), "Lasku/Faktura 1"),
        CreditTransfer("E2", "Kuura Oy", "FI5810171000000122", None, 99, None,
                       "Laskut/Fakturor 2-3"))
    root = ET.fromstring(xml)  # noqa: S314 (our own document)
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert header.find("p:MsgId", NS).text == "PS20261124120000ABCDE"
    assert header.find("p:CreDtTm", NS).text == "2026-11-24T12:00:00"
    assert (header.find("p:NbOfTxs", NS).text, header.find("p:CtrlSum", NS).text) == ("2",
                                                                                       "124.44")
    info = root.find("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert info.find("p:ReqdExctnDt", NS).text == "2026-11-25"
    assert info.find("p:DbtrAcct/p:Id/p:IBAN", NS).text == "FI4950009420028730"
    first, second = info.findall("p:CdtTrfTxInf", NS)
    assert first.find("p:Cdtr/p:Nm", NS).text == "Hoivapalvelu Aijala Oy"
    assert first.find("p:Amt/p:InstdAmt", NS).text == "123.45"
    assert first.find("p:RmtInf/p:Strd/p:CdtrRefInf/p:Ref", NS).text == "10000016"
    assert first.find("p:RmtInf/p:Ustrd", NS) is None
    assert second.find("p:CdtrAgt", NS) is None
    assert second.find("p:RmtInf/p:Ustrd", NS).text == "Laskut/Fakturor 2-3"


def test_validation_is_real_and_names_the_problem():
    xml = _file(CreditTransfer("E1", "Kuura Oy", "FI5810171000000122", None, 100, None, "x"))
    validate_payment_file(xml)
    with pytest.raises(InvalidPaymentFile, match="CtrlSum"):
        validate_payment_file(xml.replace("<CtrlSum>1.00</CtrlSum>", "<CtrlSum>one</CtrlSum>",
                                          1))
    with pytest.raises(InvalidPaymentFile, match="IBAN"):
        validate_payment_file(xml.replace("FI5810171000000122", "fi58 1017"))
    with pytest.raises(InvalidPaymentFile):
        validate_payment_file("<Document>")


def test_a_file_that_would_not_validate_is_refused():
    with pytest.raises(InvalidPaymentFile):
        _file(CreditTransfer("E1" * 20, "Kuura Oy", "FI5810171000000122", None, 100, None, "x"))


def test_finnish_references_and_accounts():
    assert reference_for_invoice(1) == "10000016" and is_valid_reference("12344")
    assert is_valid_reference("12344") and not is_valid_reference("12345")
    assert is_valid_reference("RF18 5390 0754 7034") and not is_valid_reference("RF00123")
    assert is_valid_account("FI2112345600000785", "NDEAFIHH")
    assert not is_valid_account("FI2112345600000786", None)
    assert not is_valid_account("FI2112345600000785", "NDEA")


def test_remittance_fits_in_140_characters():
    assert remittance_for([7]) == "Lasku/Faktura 7"
    assert remittance_for([5, 1, 2, 3, 9]) == "Laskut/Fakturor 1-3, 5, 9"
    long = remittance_for(list(range(100000, 100200, 2)))
    assert len(long) <= 140 and long.endswith("+" + long.rsplit("+", 1)[1])


def test_payments_go_out_on_the_next_banking_day():
    assert next_banking_day(dt.date(2026, 11, 24)) == dt.date(2026, 11, 25)
    assert next_banking_day(dt.date(2026, 11, 27)) == dt.date(2026, 11, 30)


def test_a_pain_001_001_09_file_has_structured_addresses_and_validates():
    xml = _file(
        CreditTransfer("E1", "Hoivapalvelu Äijälä Oy", "FI2112345600000785", "NDEAFIHH", 12345,
                       reference_for_invoice(1), "Lasku/Faktura 1",
                       Address("Asematie 3", "85500", "Nivala")),
        CreditTransfer("E2", "Kuura Oy", "FI5810171000000122", None, 99, None, "Laskut 2-3",
                       Address("Kalliontie 21", "85500", "Nivala")),
        schema="pain.001.001.09", debtor_address=KALLIO)
    validate_payment_file(xml)
    root = ET.fromstring(xml)  # noqa: S314 (our own document)
    assert root.tag == "{urn:iso:std:iso:20022:tech:xsd:pain.001.001.09}Document"
    info = root.find("p:CstmrCdtTrfInitn/p:PmtInf", NS09)
    assert info.find("p:ReqdExctnDt/p:Dt", NS09).text == "2026-11-25"
    debtor = info.find("p:Dbtr/p:PstlAdr", NS09)
    assert [debtor.find(f"p:{name}", NS09).text for name in ("StrtNm", "PstCd", "TwnNm",
                                                             "Ctry")] == [
        "Kauppatie 1", "84100", "Ylivieska", "FI"]
    assert info.find("p:DbtrAgt/p:FinInstnId/p:BICFI", NS09).text == "OKOYFIHH"
    first, second = info.findall("p:CdtTrfTxInf", NS09)
    address = first.find("p:Cdtr/p:PstlAdr", NS09)
    assert (address.find("p:StrtNm", NS09).text, address.find("p:PstCd", NS09).text,
            address.find("p:TwnNm", NS09).text, address.find("p:Ctry", NS09).text) == (
        "Asematie 3", "85500", "Nivala", "FI")
    assert first.find("p:CdtrAgt/p:FinInstnId/p:BICFI", NS09).text == "NDEAFIHH"
    assert first.find("p:RmtInf/p:Strd/p:CdtrRefInf/p:Ref", NS09).text == "10000016"
    assert second.find("p:PmtId/p:EndToEndId", NS09).text == "E2"


def test_the_09_schema_is_real():
    xml = _file(CreditTransfer("E1", "Kuura Oy", "FI5810171000000122", None, 100, None, "x",
                               Address("Katu 1", "84100", "Ylivieska")),
                schema="pain.001.001.09", debtor_address=KALLIO)
    with pytest.raises(InvalidPaymentFile, match=r"pain\.001\.001\.09"):
        validate_payment_file(xml.replace("<Ctry>FI</Ctry>", "<Ctry>Finland</Ctry>", 1))
    with pytest.raises(InvalidPaymentFile):
        validate_payment_file(xml.replace("<Dt>2026-11-25</Dt>", "<Dt>25.11.2026</Dt>"))


def test_an_address_knows_what_it_lacks():
    assert Address("Katu 1", "84100", "Ylivieska").missing == []
    assert Address(" ", None, "Ylivieska").missing == ["street", "postcode"]
