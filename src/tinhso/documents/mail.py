"""Incoming documents that arrive by e-mail: an agency's official mailbox receives a
document as a message (RFC 5322) with the scanned or signed document attached. The clerk
brings the message in (the upload page takes a saved .eml; `tinhso documents_mail_import`
takes the files a mail fetcher drops in a folder); what it says is read from it, never
guessed: the sender (the From header's name, else its address), the subject (trích yếu),
the document's number and notation ("Số: 12/UBND-VP" in the subject or the text), its date
("ngày 05 tháng 3 năm 2026" or "05/03/2026" in the text, else the message's Date), and every
attachment, checked by its content. A message without a notation or without an attachment
is refused with what is missing: the clerk then types it on the paper form."""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from datetime import date
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.accounts.models import User
from tinhso.agencies.models import Agency
from tinhso.core.errors import DomainError
from tinhso.core.files import CheckedFile
from tinhso.documents.files import check_attachment
from tinhso.documents.models import DocType, Incoming, Source

MAX_MESSAGE = 30 * 1024 * 1024
MAX_FILES = 10
# "Số: 12/UBND-VP", "số 45/QĐ-UBND", "So: 7/BC-STP": a number, a slash, letters/digits/dashes.
NOTATION = re.compile(
    r"\bs[ốo]\s*:?\s*(\d{1,6}/[0-9A-ZĐa-zđ][0-9A-ZĐa-zđ.\-]{0,40})", re.IGNORECASE
)
WORDS_DATE = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.IGNORECASE)
DIGITS_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
ABBREVIATIONS = {t.value.upper(): t.value for t in DocType}


@dataclass(frozen=True)
class MailedDocument:
    """What an e-mail says of the document it carries."""

    sender_name: str
    subject: str
    notation: str
    doc_type: str
    promulgated_on: date
    files: tuple[CheckedFile, ...]


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        content = body.get_content()
    except (LookupError, UnicodeDecodeError):
        return ""
    return re.sub(r"<[^>]+>", " ", content) if body.get_content_type() == "text/html" else content


def _date(text: str, message: EmailMessage) -> date:
    for pattern in (WORDS_DATE, DIGITS_DATE):
        for day, month, year in pattern.findall(text):
            try:
                return date(int(year), int(month), int(day))
            except ValueError:
                continue
    try:
        sent = parsedate_to_datetime(str(message["Date"] or ""))
    except (TypeError, ValueError, IndexError):
        return timezone.localdate()
    if sent.tzinfo is None:
        return sent.date()
    return timezone.localtime(sent).date()


def _type(notation: str) -> str:
    """The type its notation names (`12/QĐ-UBND` → QĐ); a công văn names none."""
    head = notation.split("/", 1)[-1].split("-", 1)[0].upper()
    return ABBREVIATIONS.get(head, DocType.CONG_VAN)


def mail_read(raw: bytes) -> MailedDocument:
    """Read one message; DomainError (422) says what is missing or refused."""
    if len(raw) > MAX_MESSAGE:
        raise DomainError(_("The e-mail is larger than %(n)d MB.") % {"n": MAX_MESSAGE // 1048576},
                          status=413, code="mail_too_large")  # fmt: skip
    message = email.message_from_bytes(raw, policy=policy.default)
    if not isinstance(message, EmailMessage) or message["From"] is None:
        raise DomainError(_("This file is not an e-mail (.eml) message."), code="mail_malformed")
    sender = message["From"].addresses[0] if message["From"].addresses else None
    sender_name = (sender.display_name or sender.addr_spec) if sender else str(message["From"])
    subject = " ".join(str(message["Subject"] or "").split())
    text = _text(message)
    found = NOTATION.search(subject) or NOTATION.search(text)
    files: list[CheckedFile] = []
    errors: dict[str, list[str]] = {}
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes) or not payload:
            continue
        try:
            files.append(check_attachment(None, name=part.get_filename() or "tep", content=payload))
        except ValidationError as exc:
            errors.setdefault("files", []).extend(str(m) for m in exc.messages)
    if not files and "files" not in errors:
        errors["files"] = [_("The e-mail has no attached document.")]
    if len(files) > MAX_FILES:
        errors["files"] = [_("At most %(n)d files.") % {"n": MAX_FILES}]
    if found is None:
        errors["notation"] = [_("The e-mail does not say the document's number and notation "
                                "(“Số: 12/UBND-VP”): add it on the paper form.")]  # fmt: skip
    if not subject:
        errors["subject"] = [_("The e-mail has no subject.")]
    if errors:
        raise DomainError(_("This e-mail cannot be brought in as it is."), errors=errors,
                          code="mail_incomplete")  # fmt: skip
    assert found is not None  # noqa: S101 (refused above)
    notation = found.group(1).rstrip(".-")
    return MailedDocument(
        sender_name=sender_name[:255], subject=subject[:1000], notation=notation[:64],
        doc_type=_type(notation), promulgated_on=_date(text, message), files=tuple(files),
    )  # fmt: skip


def mail_import(*, actor: User, agency: Agency, raw: bytes) -> Incoming:
    """Bring one e-mailed document in, waiting to be registered (as the paper form does:
    the agency's clerks only; the same sender's same number and date twice is 409)."""
    from tinhso.documents.services import incoming_upload

    read = mail_read(raw)
    return incoming_upload(
        actor=actor, agency=agency, sender_name=read.sender_name, notation=read.notation,
        doc_type=read.doc_type, subject=read.subject, promulgated_on=read.promulgated_on,
        files=list(read.files), source=Source.EMAIL,
    )  # fmt: skip
