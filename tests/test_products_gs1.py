"""GS1 identifiers of the stamps (products.gs1): check digits against published GTINs,
GTINs from a company prefix, serials, lots, and the Digital Link URIs issued and parsed; the
URIs issued are read back by biip's GS1 Digital Link parser, which nobody here wrote, and
`dl_parse` is fuzzed to raise nothing but Gs1Error."""

from __future__ import annotations

import base64
import random
import re
import string
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from biip import ParseError
from biip.checksums import gs1_standard_check_digit
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gtin import Gtin
from hypothesis import given, settings
from hypothesis import strategies as st

from tinhso.products.gs1 import (
    LOT_MAX,
    SERIAL_BITS,
    DigitalLink,
    Gs1Error,
    check_digit,
    dl_parse,
    dl_uri,
    gtin_from_prefix,
    gtin_normalize,
    lot_check,
    prefix_capacity,
    serial_new,
)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    # The messages are matched in English (the site's own language is Vietnamese; that the
    # messages are translated is test_i18n's and test_products' business).
    from django.utils import translation

    with translation.override("en"):
        yield


BASE = "https://tinhso.example"
GTIN = "09312345678907"
LOT_CHARACTERS = string.ascii_letters + string.digits + "-._"
# GS1 AI encodable character set 82.
CSET82 = set(string.ascii_letters + string.digits + "!\"%&'()*+,-./:;<=>?_")


@pytest.mark.parametrize(
    ("body", "digit"),
    [
        ("0931234567890", "7"),  # GS1's example GTIN 09312345678907
        ("400638133393", "1"),  # EAN-13 4006381333931
        ("03600029145", "2"),  # UPC-A 036000291452
        ("9638507", "4"),  # EAN-8 96385074
        ("629104150021", "3"),  # EAN-13 6291041500213
        ("0", "0"),
    ],
)
def test_check_digit_of_published_gtins(body: str, digit: str) -> None:
    assert check_digit(body) == digit


def test_check_digit_agrees_with_biip() -> None:
    rng = random.Random(1)
    for _ in range(5000):
        body = "".join(rng.choice(string.digits) for _ in range(rng.randint(1, 17)))
        assert check_digit(body) == str(gs1_standard_check_digit(body))


@pytest.mark.parametrize("body", ["", "12a4", "١٢٣", "１２３", " 123"])
def test_check_digit_of_a_non_digit_string_is_refused(body: str) -> None:
    with pytest.raises(Gs1Error):
        check_digit(body)


@pytest.mark.parametrize(
    ("text", "gtin"),
    [
        ("09312345678907", "09312345678907"),
        ("9312345678907", "09312345678907"),
        ("4006381333931", "04006381333931"),
        ("4006381 333931", "04006381333931"),
        (" 400-6381-33393-1 ", "04006381333931"),
        ("036000291452", "00036000291452"),
        ("96385074", "00000096385074"),
        ("9638 5074", "00000096385074"),
    ],
)
def test_gtin_normalize(text: str, gtin: str) -> None:
    assert gtin_normalize(text) == gtin
    assert gtin_normalize(gtin) == gtin


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Not a GTIN"),
        ("931234567890", "wrong check digit"),  # 12 digits, but not a UPC-A
        ("9312345678906", "wrong check digit"),
        ("09312345678908", "wrong check digit"),
        ("0009312345678907", "Not a GTIN"),  # 16 digits
        ("931234567", "Not a GTIN"),  # 9 digits
        ("40063813339X1", "Not a GTIN"),
        ("４００６３８１３３３９３１", "Not a GTIN"),  # full-width digits
        ("4006381/333931", "Not a GTIN"),
    ],
)
def test_gtin_normalize_refuses(text: str, message: str) -> None:
    with pytest.raises(Gs1Error, match=message):
        gtin_normalize(text)


def test_prefix_capacity() -> None:
    assert prefix_capacity("8931234") == 100_000
    assert prefix_capacity("89312345") == 10_000
    assert prefix_capacity("893123456") == 1_000
    assert prefix_capacity("8931234567") == 100
    for prefix in ["893123", "89312345678", "", "893123a", "８９３１２３４"]:
        with pytest.raises(Gs1Error, match="not a GS1 company prefix"):
            prefix_capacity(prefix)


def test_gtin_from_prefix() -> None:
    assert gtin_from_prefix("8931234", 0) == "08931234000004"
    assert gtin_from_prefix("8931234", 5) == "08931234000059"
    assert gtin_from_prefix("8931234567", 99) == "08931234567996"
    # GS1's example: company prefix 9312345, item 67890.
    assert gtin_from_prefix("9312345", 67890) == GTIN
    for prefix in ["8931234", "89312345", "893123456", "8931234567"]:
        last = gtin_from_prefix(prefix, prefix_capacity(prefix) - 1)
        assert len(last) == 14
        assert last.startswith("0" + prefix)
        assert gtin_normalize(last) == last
        with pytest.raises(Gs1Error, match="outside company prefix"):
            gtin_from_prefix(prefix, prefix_capacity(prefix))
        with pytest.raises(Gs1Error, match="outside company prefix"):
            gtin_from_prefix(prefix, -1)
    with pytest.raises(Gs1Error, match="not a GS1 company prefix"):
        gtin_from_prefix("893123", 0)


def test_gtins_from_a_prefix_are_all_distinct_and_valid() -> None:
    gtins = {gtin_from_prefix("8931234567", item) for item in range(100)}
    assert len(gtins) == 100
    for gtin in gtins:
        assert Gtin.parse(gtin).value == gtin  # biip checks the check digit


def test_serial_new() -> None:
    serials = {serial_new() for _ in range(100_000)}
    assert len(serials) == 100_000
    assert SERIAL_BITS == 80
    for serial in serials:
        assert len(serial) == 16
        assert re.fullmatch(r"[A-Z2-7]{16}", serial)
    # Every character of the alphabet turns up, and each is a base32 encoding of 10 bytes.
    assert set("".join(serials)) == set(string.ascii_uppercase + "234567")
    for serial in list(serials)[:1000]:
        assert len(base64.b32decode(serial)) == 10
        assert set(serial) <= CSET82
        assert quote(serial, safe="") == serial


@pytest.mark.parametrize(
    ("text", "lot"),
    [("ABC", "ABC"), (" L-2026.01_a ", "L-2026.01_a"), ("x", "x"), ("9" * LOT_MAX, "9" * LOT_MAX)],
)
def test_lot_check(text: str, lot: str) -> None:
    assert lot_check(text) == lot
    assert quote(lot, safe="") == lot


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter a batch/lot number"),
        ("   ", "Enter a batch/lot number"),
        ("A" * 21, "at most 20 characters; this one has 21"),
        ("LÔ1", "“Ô”"),
        ("A B", "“ ”"),
        ("A/B", "“/”"),
        ("A%20", "“%”"),
        ("A+B?", "“\\+”, “\\?”"),
        ("Lô-2026", "“ô”"),
    ],
)
def test_lot_check_refuses(text: str, message: str) -> None:
    with pytest.raises(Gs1Error, match=message):
        lot_check(text)


def test_dl_uri_and_parse() -> None:
    uri = dl_uri(BASE, "9312345678907", "ABC1", "V2ELM2RKBN6SGLAZ")
    assert uri == f"{BASE}/01/{GTIN}/10/ABC1/21/V2ELM2RKBN6SGLAZ"
    assert dl_parse(uri.removeprefix(BASE)) == DigitalLink(GTIN, "ABC1", "V2ELM2RKBN6SGLAZ")
    assert dl_uri(BASE + "/", GTIN) == f"{BASE}/01/{GTIN}"
    assert dl_parse(f"/01/{GTIN}") == DigitalLink(GTIN, None, None)
    assert dl_uri(BASE, GTIN, lot="L1") == f"{BASE}/01/{GTIN}/10/L1"
    assert dl_parse(f"/01/{GTIN}/10/L1") == DigitalLink(GTIN, "L1", None)
    assert dl_uri(BASE, GTIN, serial="S1") == f"{BASE}/01/{GTIN}/21/S1"
    assert dl_parse(f"/01/{GTIN}/21/S1") == DigitalLink(GTIN, None, "S1")
    with pytest.raises(Gs1Error):
        dl_uri(BASE, "09312345678906", "L1", "S1")
    with pytest.raises(Gs1Error):
        dl_uri(BASE, GTIN, "L 1", "S1")
    with pytest.raises(Gs1Error):
        dl_uri(BASE, GTIN, "L1", "S/1")
    with pytest.raises(Gs1Error):
        dl_uri(BASE, GTIN, "L1", "S" * 21)


def test_dl_parse_reads_what_gs1_allows() -> None:
    # Shorter GTINs as their GTIN-14, and values percent-decoded after the split at "/".
    assert dl_parse("/01/9312345678907").gtin == GTIN
    assert dl_parse("/01/036000291452").gtin == "00036000291452"
    assert dl_parse("/01/96385074").gtin == "00000096385074"
    link = dl_parse(f"/01/{GTIN}/10/A%2FB%25/21/%22x%22%3F%21")
    assert link == DigitalLink(GTIN, "A/B%", '"x"?!')
    assert dl_parse(f"/01/{GTIN}/10/{'A' * 20}/21/{'%41' * 20}") == DigitalLink(
        GTIN, "A" * 20, "A" * 20
    )


def test_round_trips() -> None:
    rng = random.Random(20261130)
    for _ in range(2000):
        prefix = "".join(rng.choice(string.digits) for _ in range(rng.randint(7, 10)))
        gtin = gtin_from_prefix(prefix, rng.randrange(prefix_capacity(prefix)))
        lot = "".join(rng.choice(LOT_CHARACTERS) for _ in range(rng.randint(1, LOT_MAX)))
        serial = serial_new()
        uri = dl_uri(BASE, gtin, lot, serial)
        assert dl_parse(uri.removeprefix(BASE)) == DigitalLink(gtin, lot, serial)


def test_issued_uris_are_read_by_biip() -> None:
    """biip's own parser of GS1 Digital Link URIs reads every URI issued: the GTIN with its
    check digit accepted, then 10 and 21 in that order, each value as it was put in."""
    rng = random.Random(20261201)
    for _ in range(2000):
        prefix = "".join(rng.choice(string.digits) for _ in range(rng.randint(7, 10)))
        gtin = gtin_from_prefix(prefix, rng.randrange(prefix_capacity(prefix)))
        lot = "".join(rng.choice(LOT_CHARACTERS) for _ in range(rng.randint(1, LOT_MAX)))
        serial = serial_new()
        parsed = GS1DigitalLinkURI.parse(dl_uri(BASE, gtin, lot, serial))
        elements = parsed.element_strings
        assert [(e.ai.ai, e.value) for e in elements] == [
            ("01", gtin),
            ("10", lot),
            ("21", serial),
        ]
        assert elements[0].gtin is not None
        assert elements[0].gtin_error is None
        assert elements[0].gtin.value == gtin
        # And biip writes it back as the same path.
        assert parsed.as_uri(domain="tinhso.example") == dl_uri(BASE, gtin, lot, serial)


def test_a_wrong_check_digit_is_refused_by_both() -> None:
    path = "/01/09312345678906/10/ABC/21/XYZ"
    with pytest.raises(Gs1Error, match="wrong check digit"):
        dl_parse(path)
    parsed = GS1DigitalLinkURI.parse(BASE + path)
    assert parsed.element_strings[0].gtin is None
    assert "check digit" in (parsed.element_strings[0].gtin_error or "")
    with pytest.raises(ParseError, match="check digit"):
        Gtin.parse("09312345678906")


def test_what_biip_refuses_dl_parse_refuses() -> None:
    """Out of order, repeated, unknown qualifiers and over-long values: biip refuses them as
    well."""
    for path in [
        f"/01/{GTIN}/21/XYZ/10/ABC",
        f"/01/{GTIN}/10/A/10/B",
        f"/01/{GTIN}/99/A",
        f"/01/{GTIN}/10/{'A' * 21}",
        f"/01/{GTIN}/21/{'A' * 21}",
        f"/01/{GTIN}/10/A%C3%A9",
        f"/01/{GTIN}/10",
    ]:
        with pytest.raises(Gs1Error):
            dl_parse(path)
        with pytest.raises(ParseError):
            GS1DigitalLinkURI.parse(BASE + path)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "starts with /01/"),
        ("/", "starts with /01/"),
        ("/01", "starts with /01/"),
        ("01/09312345678907", "starts with /01/"),
        ("/gtin/09312345678907", "starts with /01/"),
        ("/x/01/09312345678907", "starts with /01/"),
        ("https://tinhso.example/01/09312345678907", "starts with /01/"),
        ("/01/", "no GTIN after /01/"),
        ("/01//10/A", "no GTIN after /01/"),
        ("/01/09312345678906", "wrong check digit"),
        ("/01/09312345678907/10/A/21/B".replace("907", "908"), "wrong check digit"),
        ("/01/931234567890", "wrong check digit"),
        ("/01/0931234567890X", "Not a GTIN"),
        ("/01/009312345678907", "Not a GTIN"),
        ("/01/0931234567", "Not a GTIN"),
        ("/01/%30%39312345678907x", "Not a GTIN"),
        ("/01/ 9312345678907", "Not a GTIN"),
        ("/01/09312345678907/22/ABC", "not used by this platform"),
        ("/01/09312345678907/22/ABC/10/L/21/S", "not used by this platform"),
        ("/01/09312345678907/10/L/22/ABC", "not used by this platform"),
        ("/01/09312345678907/21/S/10/L", "comes before the serial number"),
        ("/01/09312345678907/10/L/10/M", "batch/lot number \\(10\\) twice"),
        ("/01/09312345678907/21/S/21/T", "serial number \\(21\\) twice"),
        ("/01/09312345678907/01/09312345678907", "GTIN \\(01\\) twice"),
        ("/01/09312345678907/01", "GTIN \\(01\\) twice"),
        ("/01/09312345678907/17/271231", "not an application identifier"),
        ("/01/09312345678907/235/ABC", "not an application identifier"),
        ("/01/09312345678907/lot/ABC", "not an application identifier"),
        ("/01/09312345678907/ser/ABC", "not an application identifier"),
        ("/01/09312345678907/%31%30/ABC", "not an application identifier"),
        ("/01/09312345678907/10/", "no batch/lot number after /10/"),
        ("/01/09312345678907/10", "no batch/lot number after /10/"),
        ("/01/09312345678907/10/L/21/", "no serial number after /21/"),
        ("/01/09312345678907/10/L/21", "no serial number after /21/"),
        ("/01/09312345678907/10/" + "A" * 21, "batch/lot number in the link has 21 characters"),
        ("/01/09312345678907/21/" + "A" * 21, "serial number in the link has 21 characters"),
        ("/01/09312345678907/21/" + "%41" * 21, "serial number in the link has 21 characters"),
        ("/01/09312345678907/10/L%C3%B4", "batch/lot number in the link has characters"),
        ("/01/09312345678907/10/Lô", "batch/lot number in the link has characters"),
        ("/01/09312345678907/10/A B", "batch/lot number in the link has characters"),
        ("/01/09312345678907/21/A%7EB", "serial number in the link has characters"),  # ~
        ("/01/09312345678907/21/A%00", "serial number in the link has characters"),
        ("/01/09312345678907/21/A%FF", "serial number in the link has characters"),
        ("/01/09312345678907/21/A%2", "percent sign"),
        ("/01/09312345678907/10/%zz", "percent sign"),
        ("/01/09312345678907/10/L/21/S/", "ends with a slash"),
        ("/01/09312345678907/", "ends with a slash"),
        ("/01/09312345678907//L", "empty segment"),
        ("/01/09312345678907/10/L/21/S/x", "not an application identifier"),
        ("/01/09312345678907/10/L/21/S/x/y", "not an application identifier"),
        ("/01/09312345678907/10/L/21/S?linkType=all", "no query or fragment"),
        ("/01/09312345678907#x", "no query or fragment"),
        ("/01/09312345678907/10/" + "A" * 300, "too long"),
    ],
)
def test_dl_parse_refuses(path: str, message: str) -> None:
    with pytest.raises(Gs1Error, match=message) as refused:
        dl_parse(path)
    str(refused.value).encode()


def _refused_or_read(path: str) -> None:
    try:
        link = dl_parse(path)
    except Gs1Error as exc:
        message = str(exc)
    else:
        assert re.fullmatch(r"[0-9]{14}", link.gtin)
        for value in (link.lot, link.serial):
            assert value is None or (1 <= len(value) <= 20 and set(value) <= CSET82)
        return
    # The message is shown on a page: it always renders and encodes.
    assert message
    message.encode("utf-8")


@settings(max_examples=3000, database=None, derandomize=True, deadline=None)
@given(st.text(max_size=300))
def test_dl_parse_raises_only_gs1_error_on_any_text(path: str) -> None:
    _refused_or_read(path)


_SEGMENT = st.one_of(
    st.sampled_from(["01", "10", "21", "22", "235", "", "%", "%2", "%41", "%C3", "%FF", "..."]),
    st.sampled_from([GTIN, "9312345678907", "96385074", "09312345678906"]),
    st.text(alphabet=string.printable + "ôĐ\x00\ud800", max_size=25),
)


@settings(max_examples=3000, database=None, derandomize=True, deadline=None)
@given(st.lists(_SEGMENT, max_size=8), st.sampled_from(["", "/", "?x=1", "#f"]))
def test_dl_parse_raises_only_gs1_error_on_link_like_paths(segments: list[str], tail: str) -> None:
    _refused_or_read("/01/" + "/".join(segments) + tail)


def test_dl_parse_raises_only_gs1_error_on_random_strings() -> None:
    rng = random.Random(7)
    alphabet = "0123456789/%AaFf?#-._~ ôĐ\x00\ud800"
    for _ in range(20000):
        _refused_or_read("/01/" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))))
