"""edXML messages (QCVN 102:2016/BTTTT): build, parse and validate.

QCVN 102:2016/BTTTT ("Cấu trúc mã định danh và định dạng dữ liệu gói tin phục vụ kết nối các
hệ thống quản lý văn bản và điều hành", Thông tư 10/2016/TT-BTTTT, amended by SĐ1:2022) fixes the
package agencies exchange over the national document axis: namespace
``http://www.mic.gov.vn/TBT/QCVN_102_2016``, an ``edXMLEnvelope`` holding ``edXMLHeader`` (a
``MessageHeader`` with items 1.1 From ... 1.14 DocumentId and a ``TraceHeaderList`` with
``TraceHeader`` and ``Bussiness`` — the standard's spelling, kept) or, for processing-status
messages, a ``Status``; then ``edXMLBody/edXMLManifest`` listing the attachments, whose base64
payloads follow in ``AttachmentEncoded``. The schema is ``schema/edxml.xsd``.

Choices, where deployed implementations and the standard leave room:

* Root ``edXML`` wrapping ``edXMLEnvelope`` and ``AttachmentEncoded`` (as the national SDK writes
  it); a bare ``edXMLEnvelope`` root is accepted on parse.
* ``MessageHeader`` follows the standard's numbering, so ``DocumentId`` (1.14) comes last, after
  ``ResponseFor`` (1.12) and ``SteeringType`` (1.13). Groups whose children occur at most once
  (From/To, Code, Status, Reference, Attachment, ...) are ``xs:all``: senders order them
  differently and we accept any order; we emit the standard's.
* The agency's parent is ``OrganizationInCharge`` (the standard's name); ``OrganInCharge``, seen in
  some connectors, is accepted on parse.
* Attachment payload: base64 text directly in ``ContentTransferEncoded`` (the standard). The
  variant ``ContentTransferEncoded``="base64" plus ``Value`` is accepted on parse. The manifest
  names an attachment ``cid:<id>``, the payload ``<id>`` (as the SDK's sample does); matching
  ignores the ``cid:`` prefix. Parsed ``Attachment.content_id`` is always ``cid:<id>``.
* Dates are emitted as ``xs:date`` (2024-05-01) and timestamps as ``xs:dateTime`` with offset
  (+07:00). The national SDKs write ``yyyy/MM/dd`` and ``yyyy/MM/dd HH:mm:ss`` (Vietnam time);
  both are accepted on parse.
* Parse is lenient about prefixes: elements in the namespace under any prefix or as default
  namespace; elements with no namespace at all (some senders omit it) are moved into the
  namespace before validation, unless they sit inside a foreign-namespace element.
* Text is NFC-normalised and trimmed both ways; empty optional values are not emitted.
* No signature is produced or verified here; a ``ds:Signature`` or ``DigitalSignature`` header
  block from a sender is tolerated and ignored.

Security: size is checked before parsing; any DOCTYPE / entity declaration is refused
(byte pre-scan plus a post-parse check), entities are never resolved and nothing is fetched.
libxml2's text-node limit is lifted (``huge_tree=True``) so that an attachment may be as large
as the platform allows (20 MB, base64 in one text node); what bounds memory is the message's
size, checked before parsing, and no entity is ever expanded (DTDs are refused), so no
"billion laughs" can grow past it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import IntEnum
from pathlib import Path
from typing import Any, Final, Literal

from lxml import etree  # type: ignore[import-untyped]

NS: Final = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
MAX_MESSAGE_BYTES: Final = 30 * 1024 * 1024
XSD_PATH: Final = Path(__file__).resolve().parent / "schema" / "edxml.xsd"

_XLINK: Final = "http://www.w3.org/1999/xlink"
_E: Final = f"{{{NS}}}"
# Vietnam has had no DST since 1975: a fixed offset is exact.
VN_TZ: Final = timezone(timedelta(hours=7))

ErrorCode = Literal["malformed", "dtd", "too_large", "invalid", "unsupported"]

# Any markup declaration is refused before the parser sees it.
_DTD_RE: Final = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)
_MAX_DETAIL: Final = 300

STATUS_CODES: Final[dict[str, str]] = {
    "01": "Đã đến",
    "02": "Từ chối tiếp nhận",
    "03": "Đã tiếp nhận (vào sổ)",
    "04": "Đã phân công",
    "05": "Đang xử lý",
    "06": "Đã hoàn thành",
    "13": "Đề nghị thu hồi",
    "15": "Đồng ý thu hồi/cập nhật",
    "16": "Từ chối thu hồi/cập nhật",
}


class EdxmlError(Exception):
    """A message we refuse (or, from a builder, a message we failed to produce)."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


@dataclass(frozen=True)
class Organ:
    organ_id: str
    name: str
    in_charge: str = ""
    address: str = ""
    email: str = ""
    telephone: str = ""
    fax: str = ""
    website: str = ""


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    content: bytes
    description: str = ""
    content_id: str = ""  # "cid:1", ... generated by the builder when blank; parse fills it


@dataclass(frozen=True)
class Reference:
    """The document a message answers (MessageHeader/ResponseFor, Status/ResponseFor)."""

    organ_id: str
    code: str
    promulgation_date: date
    document_id: str


@dataclass(frozen=True)
class Replacement:
    """Bussiness/ReplacementInfoList/ReplacementInfo: a document this one replaces."""

    document_id: str
    organ_ids: tuple[str, ...] = ()


class Business(IntEnum):
    NEW = 0
    REVOKE = 1
    UPDATE = 2
    REPLACE = 3


@dataclass(frozen=True)
class Trace:
    organ_id: str
    timestamp: datetime


@dataclass(frozen=True)
class DocumentMessage:
    sender: Organ
    recipients: tuple[Organ, ...]
    document_id: str
    code_number: str
    code_notation: str
    place: str
    promulgation_date: date
    type_code: int
    type_name: str
    subject: str
    content: str
    signer_competence: str
    signer_position: str
    signer_name: str
    due_date: date | None = None
    to_places: tuple[str, ...] = ()
    priority: int = 0  # 0 thường, 1 khẩn, 2 thượng khẩn, 3 hỏa tốc, 4 hỏa tốc hẹn giờ
    sphere: str = ""
    promulgation_amount: int = 1
    page_amount: int = 1
    response_for: tuple[Reference, ...] = ()
    steering_type: int = 0
    business: Business = Business.NEW
    business_reason: str = ""
    traces: tuple[Trace, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    typer_notation: str = ""
    appendixes: tuple[str, ...] = ()
    replacements: tuple[Replacement, ...] = ()


@dataclass(frozen=True)
class StatusMessage:
    response_for: Reference
    sender: Organ
    status_code: str  # two digits, see STATUS_CODES
    description: str
    timestamp: datetime
    department: str = ""
    staff: str = ""
    mobile: str = ""
    email: str = ""


# ---------------------------------------------------------------------------------------------
# Shared helpers


def _q(name: str) -> str:
    return _E + name


def _clean(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


def _invalid(detail: str) -> EdxmlError:
    return EdxmlError("invalid", f"Thông điệp edXML không đúng cấu trúc: {detail}")


@functools.cache
def _xsd_bytes() -> bytes:
    return XSD_PATH.read_bytes()


_local = threading.local()


def _parser() -> Any:
    # One parser and one schema per thread: lxml does not promise they may be shared.
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=True,
            remove_comments=True,
            remove_pis=True,
        )
        _local.parser = parser
    return parser


def _schema() -> Any:
    schema = getattr(_local, "schema", None)
    if schema is None:
        schema = etree.XMLSchema(etree.fromstring(_xsd_bytes(), _parser()))
        _local.schema = schema
    return schema


def _validate_tree(root: Any) -> None:
    schema = _schema()
    if schema.validate(root):
        return
    first = next(iter(schema.error_log), None)
    if first is None:  # pragma: no cover - lxml always logs why
        raise _invalid("không đạt lược đồ XSD")
    message = first.message.replace(_E, "")
    raise _invalid(f"dòng {first.line}: {_short(message)}")


# ---------------------------------------------------------------------------------------------
# Build


def _sub(parent: Any, name: str, text: str | None = None) -> Any:
    element = etree.SubElement(parent, _q(name))
    if text is not None:
        element.text = text
    return element


def _opt(parent: Any, name: str, value: str) -> None:
    value = _clean(value)
    if value:
        _sub(parent, name, value)


def _req(parent: Any, name: str, value: str) -> None:
    _sub(parent, name, _clean(value))


def _emit_organ(parent: Any, name: str, organ: Organ) -> None:
    element = _sub(parent, name)
    _req(element, "OrganId", organ.organ_id)
    _opt(element, "OrganizationInCharge", organ.in_charge)
    _req(element, "OrganName", organ.name)
    _opt(element, "OrganAdd", organ.address)
    _opt(element, "Email", organ.email)
    _opt(element, "Telephone", organ.telephone)
    _opt(element, "Fax", organ.fax)
    _opt(element, "Website", organ.website)


def _emit_reference(parent: Any, reference: Reference) -> None:
    element = _sub(parent, "ResponseFor")
    _req(element, "OrganId", reference.organ_id)
    _req(element, "Code", reference.code)
    _sub(element, "PromulgationDate", reference.promulgation_date.isoformat())
    _req(element, "DocumentId", reference.document_id)


def _timestamp_text(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise _invalid("thời điểm (Timestamp) phải có múi giờ")
    return value.astimezone(VN_TZ).isoformat()


def _bare_cid(value: str) -> str:
    value = value.strip()
    if value[:4].lower() == "cid:":
        value = value[4:]
    return value.strip().strip("<>").strip()


def _new_root() -> tuple[Any, Any]:
    root = etree.Element(_q("edXML"), nsmap={None: NS, "xlink": _XLINK})
    envelope = etree.SubElement(root, _q("edXMLEnvelope"), nsmap={"edXML": NS})
    return root, envelope


def _serialize(root: Any) -> bytes:
    _validate_tree(root)
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data


def _build_document_tree(message: DocumentMessage) -> Any:
    root, envelope = _new_root()
    header = _sub(envelope, "edXMLHeader")
    mh = _sub(header, "MessageHeader")
    _emit_organ(mh, "From", message.sender)  # 1.1
    for recipient in message.recipients:  # 1.2
        _emit_organ(mh, "To", recipient)
    code = _sub(mh, "Code")  # 1.3
    _req(code, "CodeNumber", message.code_number)
    _req(code, "CodeNotation", message.code_notation)
    promulgation = _sub(mh, "PromulgationInfo")  # 1.4
    _req(promulgation, "Place", message.place)
    _sub(promulgation, "PromulgationDate", message.promulgation_date.isoformat())
    doc_type = _sub(mh, "DocumentType")  # 1.5
    _sub(doc_type, "Type", str(message.type_code))
    _req(doc_type, "TypeName", message.type_name)
    _req(mh, "Subject", message.subject)  # 1.6
    _opt(mh, "Content", message.content)  # 1.7
    signer = _sub(mh, "SignerInfo")  # 1.8
    _opt(signer, "Competence", message.signer_competence)
    _opt(signer, "Position", message.signer_position)
    _req(signer, "FullName", message.signer_name)
    if message.due_date is not None:  # 1.9
        _sub(mh, "DueDate", message.due_date.isoformat())
    places = [p for p in (_clean(p) for p in message.to_places) if p]
    if places:  # 1.10
        to_places = _sub(mh, "ToPlaces")
        for place in places:
            _sub(to_places, "Place", place)
    other = _sub(mh, "OtherInfo")  # 1.11
    _sub(other, "Priority", str(message.priority))
    _opt(other, "SphereOfPromulgation", message.sphere)
    _opt(other, "TyperNotation", message.typer_notation)
    _sub(other, "PromulgationAmount", str(message.promulgation_amount))
    _sub(other, "PageAmount", str(message.page_amount))
    appendixes = [a for a in (_clean(a) for a in message.appendixes) if a]
    if appendixes:
        element = _sub(other, "Appendixes")
        for appendix in appendixes:
            _sub(element, "Appendix", appendix)
    for reference in message.response_for:  # 1.12
        _emit_reference(mh, reference)
    _sub(mh, "SteeringType", str(message.steering_type))  # 1.13
    _req(mh, "DocumentId", message.document_id)  # 1.14

    trace_list = _sub(header, "TraceHeaderList")
    for trace in message.traces:
        element = _sub(trace_list, "TraceHeader")
        _req(element, "OrganId", trace.organ_id)
        _sub(element, "Timestamp", _timestamp_text(trace.timestamp))
    business = _sub(trace_list, "Bussiness")
    _sub(business, "BussinessDocType", str(int(message.business)))
    _opt(business, "BussinessDocReason", message.business_reason)
    if message.replacements:
        replacements = _sub(business, "ReplacementInfoList")
        for replacement in message.replacements:
            info = _sub(replacements, "ReplacementInfo")
            _req(info, "DocumentId", replacement.document_id)
            organ_ids = _sub(info, "OrganIdList")
            for organ_id in replacement.organ_ids:
                _req(organ_ids, "OrganId", organ_id)

    body = _sub(envelope, "edXMLBody")
    manifest = _sub(body, "edXMLManifest")
    manifest.set("version", "1.0")
    seen: set[str] = set()
    payloads: list[tuple[str, Attachment]] = []
    for index, attachment in enumerate(message.attachments, start=1):
        cid = _bare_cid(attachment.content_id) or str(index)
        if cid in seen:
            raise _invalid(f"trùng ContentId của tệp đính kèm: cid:{_short(cid)}")
        seen.add(cid)
        payloads.append((cid, attachment))
        reference = _sub(manifest, "Reference")
        reference.set(f"{{{_XLINK}}}href", f"cid:{cid}")
        reference.set(f"{{{_XLINK}}}type", "simple")
        _sub(reference, "ContentId", f"cid:{cid}")
        _req(reference, "ContentType", attachment.content_type)
        _opt(reference, "Description", attachment.description)
        _req(reference, "AttachmentName", attachment.name)
    if payloads:
        encoded = etree.SubElement(root, _q("AttachmentEncoded"))
        for cid, attachment in payloads:
            element = _sub(encoded, "Attachment")
            _sub(element, "ContentId", cid)
            _req(element, "AttachmentName", attachment.name)
            _req(element, "ContentType", attachment.content_type)
            _opt(element, "Description", attachment.description)
            _sub(
                element,
                "ContentTransferEncoded",
                base64.b64encode(attachment.content).decode("ascii"),
            )
    return root


def document_build(message: DocumentMessage) -> bytes:
    """UTF-8 edXML for a document; raises EdxmlError("invalid") if it would not validate."""
    try:
        root = _build_document_tree(message)
    except ValueError as exc:  # lxml refuses strings XML cannot carry (control characters)
        raise _invalid(f"có ký tự không hợp lệ trong XML ({_short(str(exc))})") from None
    return _serialize(root)


def status_build(message: StatusMessage) -> bytes:
    """UTF-8 edXML for a processing-status message."""
    code = message.status_code.strip()
    if code not in STATUS_CODES:
        raise _invalid(f"mã trạng thái không hợp lệ: {_short(code)!r}")
    try:
        root, envelope = _new_root()
        header = _sub(envelope, "edXMLHeader")
        status = _sub(header, "Status")
        _emit_reference(status, message.response_for)
        _emit_organ(status, "From", message.sender)
        staff_values = (message.department, message.staff, message.mobile, message.email)
        if any(_clean(v) for v in staff_values):
            staff = _sub(status, "StaffInfo")
            _opt(staff, "Department", message.department)
            _opt(staff, "Staff", message.staff)
            _opt(staff, "Mobile", message.mobile)
            _opt(staff, "Email", message.email)
        _sub(status, "StatusCode", code)
        _opt(status, "Description", message.description)
        _sub(status, "Timestamp", _timestamp_text(message.timestamp))
    except ValueError as exc:
        raise _invalid(f"có ký tự không hợp lệ trong XML ({_short(str(exc))})") from None
    return _serialize(root)


# ---------------------------------------------------------------------------------------------
# Parse


def _safe_root(data: bytes, max_bytes: int) -> Any:
    """Parse without DTDs or entities; return the ``edXML`` root, namespaces normalised."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("edXML data must be bytes")
    data = bytes(data)
    if len(data) > max_bytes:
        raise EdxmlError(
            "too_large",
            f"Thông điệp edXML quá lớn ({len(data)} byte; tối đa {max_bytes} byte).",
        )
    dtd_message = "Thông điệp edXML chứa khai báo DOCTYPE/ENTITY: không được chấp nhận."
    # UTF-16/32 put NULs between ASCII characters; NUL cannot occur in UTF-8 XML.
    scan = data.replace(b"\x00", b"") if b"\x00" in data[:4] else data
    if _DTD_RE.search(scan):
        raise EdxmlError("dtd", dtd_message)
    try:
        root = etree.fromstring(data, _parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise EdxmlError(
            "malformed", f"Thông điệp edXML không đúng cú pháp XML: {_short(str(exc))}"
        ) from None
    # Reached only by encodings the byte scan cannot read (EBCDIC, ...).
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.system_url:
        raise EdxmlError("dtd", dtd_message)
    if any(not isinstance(node.tag, str) for node in root.iter()):
        # Entity references (or other non-element nodes) cannot appear without a DTD.
        raise EdxmlError("dtd", dtd_message)

    _adopt_namespace(root)
    name = etree.QName(root)
    if name.namespace != NS or name.localname not in {"edXML", "edXMLEnvelope"}:
        raise EdxmlError(
            "unsupported",
            f"Thông điệp không phải edXML (phần tử gốc {_short(name.localname)!r}).",
        )
    if name.localname == "edXMLEnvelope":
        wrapper = etree.Element(_q("edXML"), nsmap={None: NS})
        wrapper.append(root)
        root = wrapper
    envelope = root.find(_q("edXMLEnvelope"))
    if envelope is not None:
        # Some senders put AttachmentEncoded inside the envelope: move it beside it.
        misplaced = envelope.find(_q("AttachmentEncoded"))
        if misplaced is not None and root.find(_q("AttachmentEncoded")) is None:
            root.append(misplaced)
    return root


def _adopt_namespace(root: Any) -> None:
    """Move un-namespaced elements into NS, except inside foreign-namespace elements."""
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        element, foreign = stack.pop()
        namespace = etree.QName(element).namespace
        if namespace is None and not foreign:
            element.tag = _q(etree.QName(element).localname)
        elif namespace is not None and namespace != NS:
            foreign = True
        stack.extend((child, foreign) for child in element)


def _kind(root: Any) -> Literal["document", "status"]:
    header = root.find(f"{_E}edXMLEnvelope/{_E}edXMLHeader")
    if header is None:
        raise _invalid("thiếu edXMLEnvelope/edXMLHeader")
    if header.find(_q("MessageHeader")) is not None:
        return "document"
    if header.find(_q("Status")) is not None:
        return "status"
    raise EdxmlError(
        "unsupported",
        "Thông điệp edXML không phải văn bản điện tử (MessageHeader) hay trạng thái (Status).",
    )


def _text(parent: Any, name: str) -> str:
    if parent is None:
        return ""
    element = parent.find(_q(name))
    if element is None or element.text is None:
        return ""
    return _clean(element.text)


def _required(parent: Any, name: str) -> str:
    value = _text(parent, name)
    if not value:
        raise _invalid(f"thiếu hoặc rỗng: {name}")
    return value


def _int(parent: Any, name: str, default: int) -> int:
    value = _text(parent, name)
    return int(value) if value else default


def _parse_date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value.replace("/", "-"))
    except ValueError:
        raise _invalid(f"ngày không hợp lệ ở {name}: {_short(value)!r}") from None


def _parse_timestamp(value: str) -> datetime:
    try:
        if "T" in value:
            return datetime.fromisoformat(value)
        return datetime.strptime(value, "%Y/%m/%d %H:%M:%S").replace(tzinfo=VN_TZ)
    except ValueError:
        raise _invalid(f"thời điểm không hợp lệ: {_short(value)!r}") from None


def _read_organ(element: Any) -> Organ:
    return Organ(
        organ_id=_required(element, "OrganId"),
        name=_text(element, "OrganName"),
        in_charge=_text(element, "OrganizationInCharge") or _text(element, "OrganInCharge"),
        address=_text(element, "OrganAdd"),
        email=_text(element, "Email"),
        telephone=_text(element, "Telephone"),
        fax=_text(element, "Fax"),
        website=_text(element, "Website"),
    )


def _read_reference(element: Any) -> Reference:
    return Reference(
        organ_id=_required(element, "OrganId"),
        code=_required(element, "Code"),
        promulgation_date=_parse_date(_required(element, "PromulgationDate"), "ResponseFor"),
        document_id=_required(element, "DocumentId"),
    )


def _texts(elements: Iterable[Any]) -> tuple[str, ...]:
    values = (_clean(e.text or "") for e in elements)
    return tuple(v for v in values if v)


def _decode_payload(element: Any) -> bytes:
    value = element.find(_q("Value"))
    if value is not None:
        if _text(element, "ContentTransferEncoded").lower() != "base64":
            raise _invalid("ContentTransferEncoded phải là base64")
        raw = value.text or ""
    else:
        raw = element.find(_q("ContentTransferEncoded")).text or ""
    compact = "".join(raw.split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        cid = _short(_text(element, "ContentId"))
        raise _invalid(f"nội dung base64 của tệp đính kèm {cid!r} không hợp lệ") from None


def _read_attachments(root: Any) -> tuple[Attachment, ...]:
    payloads: dict[str, Any] = {}
    for element in root.iterfind(f"{_E}AttachmentEncoded/{_E}Attachment"):
        cid = _bare_cid(_text(element, "ContentId"))
        if not cid or cid in payloads:
            raise _invalid(f"ContentId của tệp đính kèm rỗng hoặc trùng: {_short(cid)!r}")
        payloads[cid] = element
    attachments: list[Attachment] = []
    seen: set[str] = set()
    path = f"{_E}edXMLEnvelope/{_E}edXMLBody/{_E}edXMLManifest/{_E}Reference"
    for reference in root.iterfind(path):
        cid = _bare_cid(_text(reference, "ContentId"))
        if not cid or cid in seen:
            raise _invalid(f"ContentId trong edXMLManifest rỗng hoặc trùng: {_short(cid)!r}")
        seen.add(cid)
        payload = payloads.pop(cid, None)
        if payload is None:
            raise _invalid(f"không có nội dung cho tệp đính kèm cid:{_short(cid)}")
        attachments.append(
            Attachment(
                name=_text(reference, "AttachmentName") or _text(payload, "AttachmentName"),
                content_type=_text(reference, "ContentType") or _text(payload, "ContentType"),
                content=_decode_payload(payload),
                description=_text(reference, "Description") or _text(payload, "Description"),
                content_id=f"cid:{cid}",
            )
        )
    if payloads:
        extra = ", ".join(sorted(payloads))
        raise _invalid(f"tệp đính kèm không được khai báo trong edXMLManifest: {_short(extra)}")
    return tuple(attachments)


def _read_document(root: Any) -> DocumentMessage:
    header = root.find(f"{_E}edXMLEnvelope/{_E}edXMLHeader")
    mh = header.find(_q("MessageHeader"))
    code = mh.find(_q("Code"))
    promulgation = mh.find(_q("PromulgationInfo"))
    doc_type = mh.find(_q("DocumentType"))
    signer = mh.find(_q("SignerInfo"))
    other = mh.find(_q("OtherInfo"))
    due = _text(mh, "DueDate")

    traces: list[Trace] = []
    business = Business.NEW
    reason = ""
    replacements: list[Replacement] = []
    trace_list = header.find(_q("TraceHeaderList"))
    if trace_list is not None:
        for element in trace_list.iterfind(_q("TraceHeader")):
            traces.append(
                Trace(
                    organ_id=_required(element, "OrganId"),
                    timestamp=_parse_timestamp(_required(element, "Timestamp")),
                )
            )
        bussiness = trace_list.find(_q("Bussiness"))
        if bussiness is not None:
            business = Business(_int(bussiness, "BussinessDocType", 0))
            reason = _text(bussiness, "BussinessDocReason")
            path = f"{_E}ReplacementInfoList/{_E}ReplacementInfo"
            for info in bussiness.iterfind(path):
                replacements.append(
                    Replacement(
                        document_id=_required(info, "DocumentId"),
                        organ_ids=_texts(info.iterfind(f"{_E}OrganIdList/{_E}OrganId")),
                    )
                )

    return DocumentMessage(
        sender=_read_organ(mh.find(_q("From"))),
        recipients=tuple(_read_organ(e) for e in mh.iterfind(_q("To"))),
        document_id=_required(mh, "DocumentId"),
        code_number=_text(code, "CodeNumber"),
        code_notation=_text(code, "CodeNotation"),
        place=_text(promulgation, "Place"),
        promulgation_date=_parse_date(
            _required(promulgation, "PromulgationDate"), "PromulgationDate"
        ),
        type_code=_int(doc_type, "Type", 0),
        type_name=_text(doc_type, "TypeName"),
        subject=_required(mh, "Subject"),
        content=_text(mh, "Content"),
        signer_competence=_text(signer, "Competence"),
        signer_position=_text(signer, "Position"),
        signer_name=_text(signer, "FullName"),
        due_date=_parse_date(due, "DueDate") if due else None,
        to_places=_texts(mh.iterfind(f"{_E}ToPlaces/{_E}Place")),
        priority=_int(other, "Priority", 0),
        sphere=_text(other, "SphereOfPromulgation"),
        promulgation_amount=_int(other, "PromulgationAmount", 1),
        page_amount=_int(other, "PageAmount", 1),
        response_for=tuple(_read_reference(e) for e in mh.iterfind(_q("ResponseFor"))),
        steering_type=_int(mh, "SteeringType", 0),
        business=business,
        business_reason=reason,
        traces=tuple(traces),
        attachments=_read_attachments(root),
        typer_notation=_text(other, "TyperNotation"),
        appendixes=_texts(mh.iterfind(f"{_E}OtherInfo/{_E}Appendixes/{_E}Appendix")),
        replacements=tuple(replacements),
    )


def _read_status(root: Any) -> StatusMessage:
    status = root.find(f"{_E}edXMLEnvelope/{_E}edXMLHeader/{_E}Status")
    staff = status.find(_q("StaffInfo"))
    return StatusMessage(
        response_for=_read_reference(status.find(_q("ResponseFor"))),
        sender=_read_organ(status.find(_q("From"))),
        status_code=_required(status, "StatusCode").zfill(2),
        description=_text(status, "Description"),
        timestamp=_parse_timestamp(_required(status, "Timestamp")),
        department=_text(staff, "Department"),
        staff=_text(staff, "Staff"),
        mobile=_text(staff, "Mobile"),
        email=_text(staff, "Email"),
    )


def parse(data: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> DocumentMessage | StatusMessage:
    """Safely parse and validate an edXML message; raise EdxmlError on anything refused."""
    root = _safe_root(data, max_bytes)
    kind = _kind(root)
    _validate_tree(root)
    return _read_document(root) if kind == "document" else _read_status(root)


def validate(data: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> None:
    """Raise EdxmlError unless ``parse`` would accept ``data`` (XSD errors name the line)."""
    parse(data, max_bytes=max_bytes)


def message_kind(data: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> str:
    """ "document" or "status", from a safe parse without schema validation."""
    return _kind(_safe_root(data, max_bytes))
