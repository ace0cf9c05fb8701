"""edXML (QCVN 102:2016) builder and parser: round trips, the schema, lenient prefixes, and the
refusals an attacker will probe (DTDs, entities, size, broken attachments)."""

from __future__ import annotations

import dataclasses
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from lxml import etree  # type: ignore[import-untyped]

from tinhso.documents import edxml
from tinhso.documents.edxml import (
    NS,
    Attachment,
    Business,
    DocumentMessage,
    EdxmlError,
    Organ,
    Reference,
    Replacement,
    StatusMessage,
    Trace,
)

E = f"{{{NS}}}"
VN = timezone(timedelta(hours=7))
BINARY = bytes(range(256)) * 3 + b"\x00\xff%PDF-1.7\r\n"

SENDER = Organ(
    organ_id="000.00.00.H56",
    name="Ủy ban nhân dân tỉnh Thanh Hóa",
    in_charge="Chính phủ",
    address="35 Đại lộ Lê Lợi, TP Thanh Hóa",
    email="vanthu@thanhhoa.gov.vn",
    telephone="0237 3852 222",
    fax="0237 3852 223",
    website="https://thanhhoa.gov.vn",
)
RECIPIENT_1 = Organ(organ_id="H56.01", name="Sở Nội vụ")
RECIPIENT_2 = Organ(organ_id="000.01.25.H56", name="Sở Tài chính", email="stc@thanhhoa.gov.vn")


def full_document() -> DocumentMessage:
    return DocumentMessage(
        sender=SENDER,
        recipients=(RECIPIENT_1, RECIPIENT_2),
        document_id="000.00.00.H56,2024/05/02,123/UBND-VP",
        code_number="123",
        code_notation="UBND-VP",
        place="Thanh Hóa",
        promulgation_date=date(2024, 5, 2),
        type_code=1,
        type_name="Công văn",
        subject="Về việc triển khai Đề án 06 & <chuyển đổi số> ]]> năm 2024",
        content="Nội dung: đề nghị các sở, ngành thực hiện.\nDòng thứ hai\tcó tab.",
        signer_competence="KT. Chủ tịch",
        signer_position="Phó Chủ tịch",
        signer_name="Nguyễn Văn Thi",
        due_date=date(2024, 5, 31),
        to_places=("Như trên", "Lưu: VT, KSTTHCNC"),
        priority=3,
        sphere="Lưu hành nội bộ",
        promulgation_amount=5,
        page_amount=3,
        response_for=(
            Reference(
                organ_id="H56.01",
                code="45/SNV-TCBC",
                promulgation_date=date(2024, 4, 20),
                document_id="H56.01,2024/04/20,45/SNV-TCBC",
            ),
        ),
        steering_type=1,
        business=Business.REPLACE,
        business_reason="Thay thế văn bản số 120/UBND-VP do sai sót",
        traces=(
            Trace("000.00.00.H56", datetime(2024, 5, 2, 8, 30, tzinfo=VN)),
            Trace("H56.01", datetime(2024, 5, 2, 2, 0, 5, 123000, tzinfo=UTC)),
        ),
        attachments=(
            Attachment(
                name="123-UBND-VP.pdf",
                content_type="application/pdf",
                content=BINARY,
                description="Văn bản chính",
                content_id="cid:vanban-chinh",
            ),
            Attachment(
                name="Phụ lục danh sách.xlsx",
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                content="Phụ lục — đơn vị".encode(),
            ),
        ),
        typer_notation="TVC",
        appendixes=("Phụ lục I", "Phụ lục II"),
        replacements=(
            Replacement("000.00.00.H56,2024/05/01,120/UBND-VP", ("H56.01", "000.01.25.H56")),
        ),
    )


def status_message() -> StatusMessage:
    return StatusMessage(
        response_for=Reference(
            organ_id="000.00.00.H56",
            code="123/UBND-VP",
            promulgation_date=date(2024, 5, 2),
            document_id="000.00.00.H56,2024/05/02,123/UBND-VP",
        ),
        sender=RECIPIENT_2,
        status_code="03",
        description="Đã vào sổ văn bản đến số 456",
        timestamp=datetime(2024, 5, 2, 9, 15, 0, tzinfo=VN),
        department="Văn phòng Sở",
        staff="Trần Thị Văn Thư",
        mobile="0912345678",
        email="vanthu@stc.thanhhoa.gov.vn",
    )


def expected_after_parse(message: DocumentMessage) -> DocumentMessage:
    """What parse returns: generated content ids filled in ("cid:<n>")."""
    attachments = tuple(
        dataclasses.replace(a, content_id=a.content_id or f"cid:{i}")
        for i, a in enumerate(message.attachments, start=1)
    )
    return dataclasses.replace(message, attachments=attachments)


def fresh_schema() -> Any:
    return etree.XMLSchema(etree.parse(str(edxml.XSD_PATH)))


def tree(data: bytes) -> Any:
    return etree.fromstring(data)


def code_of(data: bytes, **kwargs: Any) -> str:
    with pytest.raises(EdxmlError) as info:
        edxml.parse(data, **kwargs)
    return info.value.code


# --- round trips and the schema ------------------------------------------------------------


def test_document_round_trip_keeps_every_field() -> None:
    message = full_document()
    parsed = edxml.parse(edxml.document_build(message))
    assert parsed == expected_after_parse(message)
    assert isinstance(parsed, DocumentMessage)
    assert parsed.attachments[0].content == BINARY
    assert parsed.traces[1].timestamp == datetime(2024, 5, 2, 2, 0, 5, 123000, tzinfo=UTC)


def test_status_round_trip() -> None:
    message = status_message()
    data = edxml.status_build(message)
    assert edxml.parse(data) == message
    assert edxml.message_kind(data) == "status"


def test_emitted_xml_validates_against_the_xsd_on_disk() -> None:
    schema = fresh_schema()
    for data in (edxml.document_build(full_document()), edxml.status_build(status_message())):
        document = tree(data)
        assert schema.validate(document), schema.error_log
        assert etree.QName(document).text == f"{E}edXML"
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")


def test_message_header_follows_the_standard_order() -> None:
    root = tree(edxml.document_build(full_document()))
    header = root.find(f"{E}edXMLEnvelope/{E}edXMLHeader/{E}MessageHeader")
    names = [etree.QName(child).localname for child in header]
    assert names == [
        "From", "To", "To", "Code", "PromulgationInfo", "DocumentType", "Subject", "Content",
        "SignerInfo", "DueDate", "ToPlaces", "OtherInfo", "ResponseFor", "SteeringType",
        "DocumentId",
    ]  # fmt: skip
    organ = [etree.QName(c).localname for c in header.find(f"{E}From")]
    assert organ[:3] == ["OrganId", "OrganizationInCharge", "OrganName"]
    business = root.find(f"{E}edXMLEnvelope/{E}edXMLHeader/{E}TraceHeaderList/{E}Bussiness")
    assert business.findtext(f"{E}BussinessDocType") == "3"


def test_attachments_are_referenced_from_the_manifest() -> None:
    root = tree(edxml.document_build(full_document()))
    refs = root.findall(f"{E}edXMLEnvelope/{E}edXMLBody/{E}edXMLManifest/{E}Reference")
    assert [r.findtext(f"{E}ContentId") for r in refs] == ["cid:vanban-chinh", "cid:2"]
    payloads = root.findall(f"{E}AttachmentEncoded/{E}Attachment")
    assert [p.findtext(f"{E}ContentId") for p in payloads] == ["vanban-chinh", "2"]


def test_empty_optional_values_are_not_emitted() -> None:
    message = dataclasses.replace(
        full_document(), sender=Organ("000.00.00.H56", "UBND tỉnh"), due_date=None, content=""
    )
    root = tree(edxml.document_build(message))
    sender = root.find(f"{E}edXMLEnvelope/{E}edXMLHeader/{E}MessageHeader/{E}From")
    assert [etree.QName(c).localname for c in sender] == ["OrganId", "OrganName"]
    assert root.find(f".//{E}DueDate") is None
    assert root.find(f".//{E}Content") is None


def test_minimal_document_without_attachments() -> None:
    message = DocumentMessage(
        sender=SENDER,
        recipients=(RECIPIENT_1,),
        document_id="X1",
        code_number="1",
        code_notation="QĐ-UBND",
        place="Thanh Hóa",
        promulgation_date=date(2024, 1, 1),
        type_code=2,
        type_name="Quyết định",
        subject="Quyết định",
        content="",
        signer_competence="",
        signer_position="",
        signer_name="Lê Văn A",
    )
    data = edxml.document_build(message)
    assert edxml.parse(data) == message
    assert tree(data).find(f"{E}AttachmentEncoded") is None


# --- lenient about prefixes and roots ------------------------------------------------------


def rewrite(data: bytes, namespace: str | None, prefix: str | None) -> bytes:
    """The same message with every element in `namespace` under `prefix`."""

    def copy(element: Any, parent: Any) -> Any:
        local = etree.QName(element).localname
        tag = local if namespace is None else f"{{{namespace}}}{local}"
        if parent is None:
            new = etree.Element(tag, nsmap={prefix: namespace} if namespace else None)
        else:
            new = etree.SubElement(parent, tag)
        new.text, new.tail = element.text, element.tail
        for key, value in element.attrib.items():
            new.set(key, value)
        for child in element:
            copy(child, new)
        return new

    result: bytes = etree.tostring(copy(tree(data), None), encoding="UTF-8")
    return result


@pytest.mark.parametrize(
    ("namespace", "prefix"),
    [(NS, None), (NS, "edXML"), (NS, "qcvn"), (None, None)],
    ids=["default-namespace", "edXML-prefix", "other-prefix", "no-namespace"],
)
def test_prefix_variants_parse_the_same(namespace: str | None, prefix: str | None) -> None:
    originals = (
        edxml.document_build(full_document()),
        edxml.status_build(status_message()),
    )
    for original in originals:
        variant = rewrite(original, namespace, prefix)
        assert variant != original
        assert edxml.parse(variant) == edxml.parse(original)


def test_bare_envelope_root_is_accepted() -> None:
    root = tree(edxml.status_build(status_message()))
    envelope = etree.tostring(root.find(f"{E}edXMLEnvelope"))
    assert edxml.parse(envelope) == status_message()


def test_national_sdk_shape_is_accepted() -> None:
    """As the VNPT SDK writes it: slash dates, local timestamps, DocumentId last, payload in
    ContentTransferEncoded with a bare ContentId, children of xs:all groups in its order."""
    data = f"""<?xml version="1.0" encoding="utf-8"?>
<edXML xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="{NS}">
 <edXML:edXMLEnvelope xmlns:edXML="{NS}">
  <edXML:edXMLHeader>
   <edXML:MessageHeader>
    <edXML:From><edXML:OrganId>000.00.00.G22</edXML:OrganId>
     <edXML:OrganizationInCharge>Chính phủ</edXML:OrganizationInCharge>
     <edXML:OrganName>Văn phòng Chính phủ</edXML:OrganName><edXML:Email></edXML:Email></edXML:From>
    <edXML:To><edXML:OrganName>UBND tỉnh Thanh Hóa</edXML:OrganName>
     <edXML:OrganId> 000.00.00.H56 </edXML:OrganId></edXML:To>
    <edXML:Code><edXML:CodeNumber>7816</edXML:CodeNumber>
     <edXML:CodeNotation>VPCP-TTĐT</edXML:CodeNotation></edXML:Code>
    <edXML:PromulgationInfo><edXML:Place>Hà Nội</edXML:Place>
     <edXML:PromulgationDate>2016/08/15</edXML:PromulgationDate></edXML:PromulgationInfo>
    <edXML:DocumentType><edXML:Type>1</edXML:Type><edXML:TypeName>Công văn</edXML:TypeName>
     <edXML:TypeDetail>18</edXML:TypeDetail></edXML:DocumentType>
    <edXML:Subject>V/v kiểm tra phần mềm</edXML:Subject>
    <edXML:Content>Nội dung</edXML:Content>
    <edXML:SignerInfo><edXML:Competence>TL. Bộ trưởng</edXML:Competence>
     <edXML:Position>Cục trưởng</edXML:Position><edXML:FullName>Vũ Hồng Ngọc</edXML:FullName>
    </edXML:SignerInfo>
    <edXML:DueDate>2016/08/30</edXML:DueDate>
    <edXML:OtherInfo><edXML:Priority>1</edXML:Priority>
     <edXML:SphereOfPromulgation>Lưu hành nội bộ</edXML:SphereOfPromulgation>
     <edXML:TyperNotation>TVC</edXML:TyperNotation>
     <edXML:PromulgationAmount>1</edXML:PromulgationAmount>
     <edXML:PageAmount>1</edXML:PageAmount><edXML:Appendixes/></edXML:OtherInfo>
    <edXML:SteeringType>1</edXML:SteeringType>
    <edXML:DocumentId>000.00.00.G22,2016/08/15,7816/VPCP-TTĐT</edXML:DocumentId>
   </edXML:MessageHeader>
   <edXML:TraceHeaderList id="a1b2" version="1.0" mustUnderstand="1"
       actor="http://schemas.xmlsoap.org/soap/actor/next">
    <edXML:TraceHeader><edXML:OrganId>000.00.00.G22</edXML:OrganId>
     <edXML:Timestamp>2016/08/15 10:20:30</edXML:Timestamp></edXML:TraceHeader>
    <edXML:Bussiness><edXML:Paper>0</edXML:Paper>
     <edXML:BussinessDocType>0</edXML:BussinessDocType>
     <edXML:StaffInfo><edXML:Department>VT</edXML:Department></edXML:StaffInfo>
    </edXML:Bussiness>
   </edXML:TraceHeaderList>
   <edXML:DigitalSignature/>
  </edXML:edXMLHeader>
  <edXML:edXMLBody><edXML:edXMLManifest version="1.0">
   <edXML:Reference xmlns:xlink="http://www.w3.org/1999/xlink" xlink:href="cid:f1"
       xlink:type="simple">
    <edXML:Description>Văn bản</edXML:Description>
    <edXML:AttachmentName>vb.txt</edXML:AttachmentName>
    <edXML:ContentType>text/plain</edXML:ContentType>
    <edXML:ContentId>cid:f1</edXML:ContentId>
   </edXML:Reference></edXML:edXMLManifest></edXML:edXMLBody>
 </edXML:edXMLEnvelope>
 <AttachmentEncoded><Attachment><ContentType>text/plain</ContentType>
  <ContentId>f1</ContentId>
  <ContentTransferEncoded>
   xJDDonkgbMOgIHbEg24gYuG6o24=
  </ContentTransferEncoded><AttachmentName>vb.txt</AttachmentName></Attachment>
 </AttachmentEncoded>
</edXML>""".encode()
    message = edxml.parse(data)
    assert isinstance(message, DocumentMessage)
    assert message.sender.in_charge == "Chính phủ"
    assert message.recipients[0].organ_id == "000.00.00.H56"
    assert message.promulgation_date == date(2016, 8, 15)
    assert message.due_date == date(2016, 8, 30)
    assert message.traces == (Trace("000.00.00.G22", datetime(2016, 8, 15, 10, 20, 30, tzinfo=VN)),)
    assert message.document_id == "000.00.00.G22,2016/08/15,7816/VPCP-TTĐT"
    assert message.attachments == (
        Attachment("vb.txt", "text/plain", "Đây là văn bản".encode(), "Văn bản", "cid:f1"),
    )


def test_value_variant_of_attachment_payload_is_accepted() -> None:
    root = tree(edxml.document_build(full_document()))
    for payload in root.iterfind(f"{E}AttachmentEncoded/{E}Attachment"):
        encoded = payload.find(f"{E}ContentTransferEncoded")
        etree.SubElement(payload, f"{E}Value").text = encoded.text
        encoded.text = "base64"
    assert edxml.parse(etree.tostring(root)) == expected_after_parse(full_document())


# --- refusals ------------------------------------------------------------------------------


def test_malformed_xml_is_refused() -> None:
    assert code_of(b"<edXML xmlns='" + NS.encode() + b"'><edXMLEnvelope></edXML>") == "malformed"
    assert code_of(b"") == "malformed"
    assert code_of(b"not xml at all") == "malformed"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><Subject>&lol9;</Subject></edXML>"""


def test_billion_laughs_is_refused_quickly() -> None:
    started = time.monotonic()
    assert code_of(BILLION_LAUGHS) == "dtd"
    assert code_of(BILLION_LAUGHS.decode().encode("utf-16")) == "dtd"  # past the byte scan
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    "target",
    ["file:///etc/passwd", "http://127.0.0.1:9/evil.dtd", "/etc/hostname"],
)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
def test_external_entities_are_refused_without_reading(target: str, encoding: str) -> None:
    payload = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f'<!DOCTYPE edXML [<!ENTITY xxe SYSTEM "{target}">]>\n'
        f'<edXML xmlns="{NS}"><edXMLEnvelope><edXMLHeader><Status>'
        f"<Description>&xxe;</Description></Status></edXMLHeader></edXMLEnvelope></edXML>"
    ).encode(encoding)
    with pytest.raises(EdxmlError) as info:
        edxml.parse(payload)
    assert info.value.code == "dtd"
    leaked = f"{info.value} {info.value.message} {info.value!r}"
    assert "root:" not in leaked
    assert "/bin/" not in leaked
    with pytest.raises(EdxmlError):
        edxml.message_kind(payload)


def test_external_dtd_and_parameter_entities_are_refused() -> None:
    external = b'<!DOCTYPE edXML SYSTEM "file:///etc/passwd"><edXML/>'
    parameter = b'<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x"> %p;]><edXML/>'
    lowercase = b'<!doctype edXML [<!entity a "b">]><edXML/>'
    for payload in (external, parameter, lowercase):
        assert code_of(payload) == "dtd"


def test_oversized_message_is_refused_before_parsing() -> None:
    data = edxml.document_build(full_document())
    assert code_of(data, max_bytes=len(data) - 1) == "too_large"
    assert code_of(b"<" * 200, max_bytes=100) == "too_large"  # not even parsed
    edxml.parse(data, max_bytes=len(data))


def without(data: bytes, path: str) -> bytes:
    root = tree(data)
    element = root.find(path)
    element.getparent().remove(element)
    result: bytes = etree.tostring(root)
    return result


def test_missing_required_element_is_invalid() -> None:
    data = edxml.document_build(full_document())
    header = f"{E}edXMLEnvelope/{E}edXMLHeader/{E}MessageHeader"
    for path in (f"{header}/{E}DocumentId", f"{header}/{E}From", f"{header}/{E}Subject"):
        stripped = without(data, path)
        assert code_of(stripped) == "invalid"
    status = edxml.status_build(status_message())
    status_path = f"{E}edXMLEnvelope/{E}edXMLHeader/{E}Status/{E}Timestamp"
    assert code_of(without(status, status_path)) == "invalid"


def test_validate_reports_the_line_of_the_first_schema_error() -> None:
    data = edxml.document_build(full_document()).replace(
        b"<edXML:Priority>3</edXML:Priority>", b"<edXML:Priority>9</edXML:Priority>"
    )
    line = data[: data.index(b"<edXML:Priority>9")].count(b"\n") + 1
    with pytest.raises(EdxmlError) as info:
        edxml.validate(data)
    assert info.value.code == "invalid"
    assert f"dòng {line}" in info.value.message
    assert "Priority" in info.value.message
    edxml.validate(edxml.document_build(full_document()))


def test_bad_base64_is_invalid() -> None:
    root = tree(edxml.document_build(full_document()))
    payload = root.find(f"{E}AttachmentEncoded/{E}Attachment/{E}ContentTransferEncoded")
    for bad in ("AAFi*W5hcnk=", "AAF", "QUJD\u00e9"):
        payload.text = bad
        assert code_of(etree.tostring(root)) == "invalid"


def test_manifest_and_attachments_must_match() -> None:
    data = edxml.document_build(full_document())
    # A payload nobody references.
    unreferenced = without(data, f"{E}edXMLEnvelope/{E}edXMLBody/{E}edXMLManifest/{E}Reference")
    assert code_of(unreferenced) == "invalid"
    # A reference with no payload.
    assert code_of(without(data, f"{E}AttachmentEncoded/{E}Attachment")) == "invalid"
    # Mismatched ids.
    root = tree(data)
    root.find(f"{E}AttachmentEncoded/{E}Attachment/{E}ContentId").text = "other"
    assert code_of(etree.tostring(root)) == "invalid"
    # Two payloads under one id.
    root = tree(data)
    for cid in root.iterfind(f"{E}AttachmentEncoded/{E}Attachment/{E}ContentId"):
        cid.text = "same"
    assert code_of(etree.tostring(root)) == "invalid"


def test_unknown_root_and_unknown_header_are_unsupported() -> None:
    assert code_of(b"<html><body/></html>") == "unsupported"
    assert code_of(b'<edXML xmlns="http://www.e-doc.vn/Schema/"/>') == "unsupported"
    odd = f'<edXML xmlns="{NS}"><edXMLEnvelope><edXMLHeader><Foo/></edXMLHeader>'
    assert code_of((odd + "</edXMLEnvelope></edXML>").encode()) == "unsupported"
    assert code_of(f'<edXML xmlns="{NS}"/>'.encode()) == "invalid"


def test_message_kind() -> None:
    assert edxml.message_kind(edxml.document_build(full_document())) == "document"
    assert edxml.message_kind(edxml.status_build(status_message())) == "status"


def test_bad_dates_and_numbers_are_invalid() -> None:
    data = edxml.document_build(full_document())
    for old, new in (
        (b">2024-05-02</edXML:PromulgationDate>", b">2024/02/30</edXML:PromulgationDate>"),
        (b">2024-05-02</edXML:PromulgationDate>", b">2 May 2024</edXML:PromulgationDate>"),
        (b"<edXML:Type>1</edXML:Type>", b"<edXML:Type>-1</edXML:Type>"),
        (b"+07:00</edXML:Timestamp>", b"</edXML:Timestamp>"),  # no offset
        (b"<edXML:OrganId>H56.01</edXML:OrganId>", b"<edXML:OrganId>H56 01</edXML:OrganId>"),
    ):
        assert old in data
        assert code_of(data.replace(old, new, 1)) == "invalid"


# --- builders refuse what they cannot write -----------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"recipients": ()},
        {"subject": "   "},
        {"subject": "x" * 2001},
        {"subject": "bell \x07 character"},
        {"document_id": ""},
        {"priority": 7},
        {"traces": (Trace("H56", datetime(2024, 1, 1, 8, 0)),)},  # noqa: DTZ001 - naive on purpose
        {"sender": Organ("000 00 H56", "bad id")},
        {"attachments": (Attachment("a", "text/plain", b"1", content_id="cid:x"),) * 2},
        {"attachments": (Attachment("a", "not a mime type", b"1"),)},
    ],
)
def test_document_build_refuses_invalid_messages(change: dict[str, Any]) -> None:
    with pytest.raises(EdxmlError) as info:
        edxml.document_build(dataclasses.replace(full_document(), **change))
    assert info.value.code == "invalid"


def test_status_build_refuses_unknown_codes_and_naive_time() -> None:
    for code in ("99", "3", ""):
        with pytest.raises(EdxmlError):
            edxml.status_build(dataclasses.replace(status_message(), status_code=code))
    naive = datetime(2024, 1, 1, 8, 0)  # noqa: DTZ001 - naive on purpose
    with pytest.raises(EdxmlError):
        edxml.status_build(dataclasses.replace(status_message(), timestamp=naive))


def test_status_codes_are_two_digits_with_labels() -> None:
    assert edxml.STATUS_CODES["01"] == "Đã đến"
    assert edxml.STATUS_CODES["16"] == "Từ chối thu hồi/cập nhật"
    assert all(len(code) == 2 and code.isdigit() for code in edxml.STATUS_CODES)
    lax = edxml.status_build(status_message()).replace(
        b"<edXML:StatusCode>03<", b"<edXML:StatusCode>3<"
    )
    parsed = edxml.parse(lax)
    assert isinstance(parsed, StatusMessage)
    assert parsed.status_code == "03"


# --- text ----------------------------------------------------------------------------------


def test_vietnamese_text_survives_and_is_nfc() -> None:
    nfc = "Quyết định về việc phê duyệt Đề án chuyển đổi số tỉnh Thanh Hóa"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc
    for given in (nfc, nfd, f"  {nfc}\n "):
        message = dataclasses.replace(full_document(), subject=given, signer_name=given)
        parsed = edxml.parse(edxml.document_build(message))
        assert isinstance(parsed, DocumentMessage)
        assert parsed.subject == nfc
        assert parsed.signer_name == nfc


def test_xml_special_characters_in_subject_survive() -> None:
    subject = "A & B <tag> \"quoted\" 'single' ]]> <![CDATA[x]]> &amp; \r\n end"
    message = dataclasses.replace(full_document(), subject=subject, content=subject)
    parsed = edxml.parse(edxml.document_build(message))
    assert isinstance(parsed, DocumentMessage)
    assert parsed.subject == subject
    assert parsed.content == subject


def test_parsing_from_several_threads() -> None:
    data = edxml.document_build(full_document())
    status = edxml.status_build(status_message())
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(edxml.parse, [data, status] * 8))
    assert results[0] == expected_after_parse(full_document())
    assert all(r == results[i % 2] for i, r in enumerate(results))


try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis is a dev dependency
    pass
else:
    # Printable Unicode minus what XML 1.0 cannot carry (controls, surrogates, U+FFFE/F).
    xml_text = st.text(
        alphabet=st.characters(
            blacklist_categories=("Cc", "Cs"),
            blacklist_characters="\ufffe\uffff",
        )
        | st.sampled_from("\t\n\r"),
        max_size=200,
    )

    @settings(max_examples=50, deadline=None)
    @given(
        subject=xml_text.filter(lambda s: unicodedata.normalize("NFC", s).strip()), body=xml_text
    )
    def test_text_round_trip_property(subject: str, body: str) -> None:
        message = dataclasses.replace(full_document(), subject=subject, content=body)
        parsed = edxml.parse(edxml.document_build(message))
        assert isinstance(parsed, DocumentMessage)
        assert parsed.subject == unicodedata.normalize("NFC", subject).strip()
        assert parsed.content == unicodedata.normalize("NFC", body).strip()
