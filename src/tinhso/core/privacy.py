"""Masking of personal data (Decree 13/2023/NĐ-CP) for lists, logs and audit rows.

Full values are shown only on a record's own page to someone entitled to it, and that
view is logged (accounts.access.personal_data_access_record).
"""

import logging
import re

_PERSONAL_ID = re.compile(r"(?<!\d)(\d{3})\d{6}(\d{3})(?!\d)")
_PHONE = re.compile(r"(?<!\d)(0\d{2})\d{3,5}(\d{3})(?!\d)")


def mask_personal_id(value: str) -> str:
    """`038090000001` → `038******001`: keeps the province code and the last three digits."""
    if len(value) <= 6:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 6) + value[-3:]


def mask_phone(value: str) -> str:
    """`0912345678` → `091****678`."""
    digits = value.replace(" ", "")
    if len(digits) <= 6:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 6) + digits[-3:]


def mask_email(value: str) -> str:
    """`nguyen.van.a@example.vn` → `n***@example.vn`."""
    local, _, domain = value.partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_address(value: str) -> str:
    """Keep only the last part (the province).

    `Số 5, phường Hạc Thành, Thanh Hóa` → `***, Thanh Hóa`."""
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if len(parts) <= 1:
        return "***" if value else ""
    return "***, " + parts[-1]


def mask_text(text: str) -> str:
    """Mask every personal-ID-like and phone-like number inside free text."""
    text = _PERSONAL_ID.sub(lambda m: m.group(1) + "******" + m.group(2), text)
    return _PHONE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


_NUMBER = re.compile(r"\+?\d[\d .\-]{6,}\d")
_EMAIL = re.compile(r"[\w.+-]+@([\w-]+\.)+[\w-]{2,}")


def public_text(text: str) -> str:
    """`text` as the public may read it: every phone-like or ID-like number (9 to 12 digits,
    however spaced) has its digits masked but the last two, e-mail addresses are hidden."""

    def number(match: re.Match[str]) -> str:
        found = match.group(0)
        digits = sum(c.isdigit() for c in found)
        if not 9 <= digits <= 13:
            return found
        seen, out = 0, []
        for c in found:
            if c.isdigit():
                seen += 1
                out.append(c if seen > digits - 2 else "*")
            else:
                out.append(c)
        return "".join(out)

    return _EMAIL.sub("***@***", _NUMBER.sub(number, text))


class PersonalDataLogFilter(logging.Filter):
    """Masks personal IDs and phone numbers in every log line, whatever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg = masked
            record.args = None
        return True


class ExpectedOutcomeLogFilter(logging.Filter):
    """Keeps the one-line message but drops the traceback of a library that logs an answer as
    if it were a crash (pyHanko logs a revoked or untrusted certificate met while verifying
    a document with its whole stack): the verification page reports it; the log needs no
    traceback for it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR:
            record.exc_info = None
            record.exc_text = None
        return True
