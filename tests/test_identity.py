"""Structure of personal identification numbers and tax codes."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from tinhso.accounts.identity import parse_personal_id, validate_tax_code


@pytest.mark.parametrize(
    ("value", "province", "sex", "year"),
    [
        ("038090000001", "038", "male", 1990),
        ("001185012345", "001", "female", 1985),
        ("079203999999", "079", "male", 2003),
        ("096310000000", "096", "female", 2010),
    ],
)
def test_valid_numbers_are_read(value: str, province: str, sex: str, year: int) -> None:
    info = parse_personal_id(value)
    assert (info.province_code, info.sex, info.birth_year) == (province, sex, year)


@pytest.mark.parametrize(
    ("value", "code", "fragment"),
    [
        ("03809000001", "personal_id_format", "12 chữ số"),
        ("0380900000012", "personal_id_format", "12 chữ số"),
        ("03809000000A", "personal_id_format", "12 chữ số"),
        ("000090000001", "personal_id_province", "000"),
        ("003090000001", "personal_id_province", "003"),
        ("038290000001", "personal_id_year", "2090"),
        ("038990000001", "personal_id_year", "2390"),
    ],
)
def test_malformed_numbers_are_refused_with_a_vietnamese_reason(
    value: str, code: str, fragment: str
) -> None:
    with translation.override("vi"), pytest.raises(ValidationError) as caught:
        parse_personal_id(value)
    assert caught.value.code == code
    assert fragment in caught.value.messages[0]


@pytest.mark.parametrize("value", ["0100109106", "0101248141", "0100109106-001"])
def test_real_tax_codes_pass(value: str) -> None:
    validate_tax_code(value)


@pytest.mark.parametrize("value", ["0100109107", "010010910", "0100109106-1", "ABCDEFGHIJ"])
def test_wrong_tax_codes_fail(value: str) -> None:
    with pytest.raises(ValidationError):
        validate_tax_code(value)
