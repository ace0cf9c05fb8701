"""Structure checks for Vietnamese personal identification numbers and tax codes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

# Province-of-birth codes of personal identification numbers (Circular 59/2021/TT-BCA):
# the 63 provinces as they were before the 2025 merger. Numbers issued earlier keep them.
# fmt: off
BIRTH_PROVINCE_CODES = frozenset([
    "001", "002", "004", "006", "008", "010", "011", "012", "014", "015", "017", "019", "020",
    "022", "024", "025", "026", "027", "030", "031", "033", "034", "035", "036", "037", "038",
    "040", "042", "044", "045", "046", "048", "049", "051", "052", "054", "056", "058", "060",
    "062", "064", "066", "067", "068", "070", "072", "074", "075", "077", "079", "080", "082",
    "083", "084", "086", "087", "089", "091", "092", "093", "094", "095", "096",
])
# fmt: on

_DIGITS_12 = re.compile(r"^\d{12}$")
_TAX_CODE = re.compile(r"^(\d{10})(?:-(\d{3}))?$")
_TAX_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)


@dataclass(frozen=True)
class PersonalIdInfo:
    province_code: str
    sex: str  # "male" | "female"
    birth_year: int


def parse_personal_id(value: str) -> PersonalIdInfo:
    """Check a 12-digit personal identification number (CCCD) and read what it encodes:
    3 digits province of birth, 1 digit century and sex, 2 digits year of birth, 6 digits.
    Raise ValidationError with a message saying which part is wrong."""
    value = value.strip()
    if not _DIGITS_12.match(value):
        raise ValidationError(
            _("A personal identification number has exactly 12 digits (you entered %(n)d).")
            % {"n": len(value)}
            if value.isdigit()
            else _("A personal identification number has exactly 12 digits, nothing else."),
            code="personal_id_format",
        )
    province = value[:3]
    if province not in BIRTH_PROVINCE_CODES:
        raise ValidationError(
            _("%(code)s is not a province-of-birth code: the first 3 digits must name a province.")
            % {"code": province},
            code="personal_id_province",
        )
    century_sex = int(value[3])
    century = 1900 + 100 * (century_sex // 2)
    birth_year = century + int(value[4:6])
    if birth_year > timezone.localdate().year:
        raise ValidationError(
            _(
                "Digits 4 to 6 give a year of birth of %(year)d, which is in the future: "
                "check the century-and-sex digit and the year."
            )
            % {"year": birth_year},
            code="personal_id_year",
        )
    return PersonalIdInfo(
        province_code=province,
        sex="female" if century_sex % 2 else "male",
        birth_year=birth_year,
    )


def validate_personal_id(value: str) -> None:
    parse_personal_id(value)


def validate_tax_code(value: str) -> None:
    """An organisation's tax code: 10 digits whose last is the check digit, optionally
    followed by `-NNN` for a dependent unit."""
    match = _TAX_CODE.match(value.strip())
    if not match:
        raise ValidationError(
            _("A tax code is 10 digits, or 10 digits, a hyphen and 3 digits for a branch."),
            code="tax_code_format",
        )
    digits = [int(ch) for ch in match.group(1)]
    check = 10 - sum(w * d for w, d in zip(_TAX_WEIGHTS, digits[:9], strict=True)) % 11
    if check != digits[9]:
        raise ValidationError(
            _("This tax code's check digit is wrong: please check the number."),
            code="tax_code_check",
        )
