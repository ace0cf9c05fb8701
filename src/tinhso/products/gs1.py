"""GS1 identifiers of the products' traceability stamps: GTINs, batch/lot numbers (AI 10),
serial numbers (AI 21), and the GS1 Digital Link URIs that the stamps' QR codes carry,
`https://…/01/{GTIN}/10/{lot}/21/{serial}`.

Pure functions, no database. What the platform issues is a narrow part of what GS1 allows,
chosen so that no value ever needs percent-encoding in a URI: GTIN-14s numbered from a GS1
company prefix, lots of `A-Z a-z 0-9 - . _`, serials of 16 base32 characters (80 random
bits, so that nobody guesses a genuine stamp's link). What it reads (`dl_parse`, behind the
resolver of the stamps' links) is GS1's grammar for a GTIN and its qualifiers 10 and 21,
values percent-decoded; anything else is refused with Gs1Error, whose message says what is
wrong, and `dl_parse` raises nothing else whatever the string: the resolver shows the
message on its "not a genuine stamp" page."""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from urllib.parse import unquote

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

SERIAL_BITS = 80
SERIAL_LENGTH = SERIAL_BITS // 5  # base32: 5 bits a character, 80 bits need no padding
LOT_MAX = 20  # AI 10 is X..20
SERIAL_MAX = 20  # AI 21 is X..20
PREFIX_LENGTHS = range(7, 11)
GTIN_LENGTHS = (8, 12, 13, 14)
PATH_MAX = 256  # a stamp's path is under 150 characters even with every value encoded
_DIGITS = re.compile(r"[0-9]+")
# What the platform issues: only characters that a URI path carries as they are.
_URI_SAFE = re.compile(r"[A-Za-z0-9._-]+")
# GS1 AI encodable character set 82 (GS1 General Specifications, 7.11): ! " % to ? A-Z _ a-z.
_CSET82 = re.compile(r"""[!"%-?A-Z_a-z]+""")
_BROKEN_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# The qualifiers of AI 01 in GS1 Digital Link, in the order they must come: 22, 10, 21 (22,
# the consumer product variant, is refused: the platform does not use it).
_QUALIFIERS = ("10", "21")
# Whole messages for each AI, not a name put into one message: languages order words their way.
_EMPTY = {
    "01": _("The link has no GTIN after /01/."),
    "10": _("The link has no batch/lot number after /10/."),
    "21": _("The link has no serial number after /21/."),
}
_REPEATED = {
    "01": _("The link has a GTIN (01) twice."),
    "10": _("The link has a batch/lot number (10) twice."),
    "21": _("The link has a serial number (21) twice."),
}
_TOO_LONG = {
    "10": _("The batch/lot number in the link has %(length)d characters; at most %(max)d."),
    "21": _("The serial number in the link has %(length)d characters; at most %(max)d."),
}
_CHARACTERS = {
    "10": _("The batch/lot number in the link has characters GS1 does not allow: %(value)s."),
    "21": _("The serial number in the link has characters GS1 does not allow: %(value)s."),
}


class Gs1Error(ValueError):
    """An identifier or a link that is not valid. `str(exc)` is the message for people,
    translated into the active language when it is shown."""

    def __init__(self, message: StrOrPromise, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params

    def __str__(self) -> str:
        text = str(self.message)
        return text % self.params if self.params else text


def _shown(text: str, limit: int = 40) -> str:
    """`text` as a message may quote it: shortened, and unprintable characters (controls,
    lone surrogates) replaced, so that the page showing it can always be encoded."""
    shown = "".join(c if c.isprintable() else "\ufffd" for c in text[:limit])
    return shown + "…" if len(text) > limit else shown


def check_digit(body: str) -> str:
    """The GS1 check digit of the digits `body` (mod 10, weights 3 and 1 from the right):
    `check_digit("0931234567890") == "7"`."""
    if not _DIGITS.fullmatch(body):
        raise Gs1Error(_("%(text)s is not a string of digits."), text=_shown(body))
    total = sum(int(digit) * (1 if i % 2 else 3) for i, digit in enumerate(reversed(body)))
    return str(-total % 10)


def _gtin14(digits: str, shown: str) -> str:
    if not _DIGITS.fullmatch(digits) or len(digits) not in GTIN_LENGTHS:
        raise Gs1Error(
            _("Not a GTIN: %(text)s. A GTIN has 8, 12, 13 or 14 digits."), text=_shown(shown)
        )
    gtin = digits.zfill(14)
    if check_digit(gtin[:-1]) != gtin[-1]:
        raise Gs1Error(_("The GTIN %(gtin)s has a wrong check digit."), gtin=digits)
    return gtin


def gtin_normalize(text: str) -> str:
    """A GTIN-8, -12, -13 or -14 as a person types it (spaces and hyphens allowed) as the
    GTIN-14 it is, left-padded with zeros; Gs1Error when it is not one or its check digit is
    wrong."""
    return _gtin14(re.sub(r"[\s-]", "", text), text)


def prefix_capacity(prefix: str) -> int:
    """How many GTINs a GS1 company prefix of 7 to 10 digits numbers: 10**(12 - its length),
    the item references that fill a GTIN-13 after it; Gs1Error for a malformed prefix."""
    if not _DIGITS.fullmatch(prefix) or len(prefix) not in PREFIX_LENGTHS:
        raise Gs1Error(
            _("%(prefix)s is not a GS1 company prefix (7 to 10 digits)."), prefix=_shown(prefix)
        )
    return int(10 ** (12 - len(prefix)))  # int ** int is typed Any: the exponent may be < 0


def gtin_from_prefix(company_prefix: str, item: int) -> str:
    """The GTIN-14 of item reference `item` under `company_prefix`: "0", the prefix, the
    item reference zero-padded to 12 - len(prefix) digits, the check digit. Gs1Error for a
    malformed prefix or an item reference outside its capacity (`prefix_capacity`)."""
    capacity = prefix_capacity(company_prefix)
    if not 0 <= item < capacity:
        raise Gs1Error(
            _("Item reference %(item)d is outside company prefix %(prefix)s (0 to %(last)d)."),
            item=item, prefix=company_prefix, last=capacity - 1,
        )  # fmt: skip
    body = "0" + company_prefix + str(item).zfill(12 - len(company_prefix))
    return body + check_digit(body)


def serial_new() -> str:
    """A new serial number: SERIAL_BITS bits from `secrets` in base32 (RFC 4648, A-Z and
    2-7, no padding), 16 characters. Unguessable, valid in AI 21 (character set 82) and
    carried in a URI as it is."""
    return base64.b32encode(secrets.token_bytes(SERIAL_BITS // 8)).decode("ascii")


def lot_check(text: str) -> str:
    """A batch/lot number (AI 10) as typed, without the spaces around it: 1 to LOT_MAX
    characters of A-Z, a-z, 0-9, "-", "." and "_" (the part of GS1's character set that a
    URI carries without percent-encoding). Gs1Error otherwise, saying what is wrong."""
    lot = text.strip()
    if not lot:
        raise Gs1Error(_("Enter a batch/lot number."))
    if len(lot) > LOT_MAX:
        raise Gs1Error(
            _("A batch/lot number has at most %(max)d characters; this one has %(length)d."),
            max=LOT_MAX, length=len(lot),
        )  # fmt: skip
    if not _URI_SAFE.fullmatch(lot):
        wrong = dict.fromkeys(c for c in lot if not _URI_SAFE.fullmatch(c))
        raise Gs1Error(
            _(
                "A batch/lot number may only have letters A-Z and a-z without accents, digits, "
                "hyphens, dots and underscores, not %(characters)s."
            ),
            characters=", ".join(f"“{_shown(c)}”" for c in wrong),
        )
    return lot


def _serial_issued(serial: str) -> str:
    if not 1 <= len(serial) <= SERIAL_MAX or not _URI_SAFE.fullmatch(serial):
        raise Gs1Error(
            _("%(serial)s is not a serial number this platform issues."), serial=_shown(serial)
        )
    return serial


def dl_uri(base: str, gtin: str, lot: str | None = None, serial: str | None = None) -> str:
    """The GS1 Digital Link URI `{base}/01/{GTIN-14}[/10/{lot}][/21/{serial}]`; `base` is
    the scheme and host ("https://tinhso.example"). The values are checked (`gtin_normalize`,
    `lot_check`, a serial of the platform's characters) and need no percent-encoding.
    Stamps carry all three."""
    uri = f"{base.rstrip('/')}/01/{gtin_normalize(gtin)}"
    if lot is not None:
        uri += f"/10/{lot_check(lot)}"
    if serial is not None:
        uri += f"/21/{_serial_issued(serial)}"
    return uri


@dataclass(frozen=True)
class DigitalLink:
    """What a Digital Link path names: a GTIN-14 and, when the path has them, a batch/lot
    number and a serial number (percent-decoded)."""

    gtin: str
    lot: str | None
    serial: str | None


def _qualifier(ai: str, value: str) -> str:
    if not value:
        raise Gs1Error(_EMPTY[ai])
    if len(value) > SERIAL_MAX:  # LOT_MAX too: both are X..20
        raise Gs1Error(_TOO_LONG[ai], length=len(value), max=SERIAL_MAX)
    if not _CSET82.fullmatch(value):
        raise Gs1Error(_CHARACTERS[ai], value=_shown(value))
    return value


def dl_parse(path: str) -> DigitalLink:
    """The GTIN, lot and serial of the path of a GS1 Digital Link URI, which starts with
    /01/ (no path prefix): `/01/{GTIN}[/10/{lot}][/21/{serial}]`, each value percent-decoded
    after the path is split at "/". A GTIN of 8, 12, 13 or 14 digits is read as its GTIN-14.

    Pass the path as the URI has it (still percent-encoded), without query or fragment.
    Gs1Error, with a message for each, for: a path that does not start with /01/, a query or
    fragment, a malformed percent-encoding, an empty segment or a trailing slash, a
    qualifier without its value, a GTIN that is not one or has a wrong check digit, AI 22
    (not used by this platform), an unknown AI, a repeated one, 21 before 10, an empty
    value, a lot or serial of more than 20 characters or with characters outside GS1's
    character set 82. Nothing else is raised, whatever the string."""
    if len(path) > PATH_MAX:
        raise Gs1Error(_("The link is too long to be a product's."))
    if not path.startswith("/01/"):
        raise Gs1Error(_("A product's link starts with /01/ and its GTIN."))
    if "?" in path or "#" in path:
        raise Gs1Error(_("A product's link has no query or fragment (nothing after “?” or “#”)."))
    if _BROKEN_ESCAPE.search(path):
        raise Gs1Error(_("The link has a percent sign that does not start an encoded character."))
    segments = path[1:].split("/")
    if segments[-1] == "" and len(segments) % 2:
        raise Gs1Error(_("The link ends with a slash after its last value."))
    if len(segments) % 2:  # a last AI without its value: refused below as an empty value
        segments.append("")
    values = [unquote(segment) for segment in segments[1::2]]
    gtin_value = values[0]
    if not gtin_value:
        raise Gs1Error(_EMPTY["01"])
    gtin = _gtin14(gtin_value, gtin_value)
    found: dict[str, str] = {}
    for ai, value in zip(segments[2::2], values[1:], strict=True):
        if not ai:
            raise Gs1Error(_("The link has an empty segment (two slashes in a row)."))
        if ai == "22":
            raise Gs1Error(_("The consumer product variant (22) is not used by this platform."))
        if ai in found or ai == "01":
            raise Gs1Error(_REPEATED[ai])
        if ai not in _QUALIFIERS:
            raise Gs1Error(
                _("%(ai)s is not an application identifier a product's link may carry here."),
                ai=_shown(ai),
            )
        if any(_QUALIFIERS.index(ai) < _QUALIFIERS.index(seen) for seen in found):
            raise Gs1Error(
                _("The batch/lot number (10) comes before the serial number (21), not after.")
            )
        found[ai] = _qualifier(ai, value)
    return DigitalLink(gtin=gtin, lot=found.get("10"), serial=found.get("21"))
