"""The papers' QR codes (core.qr): the very symbol segno makes, module for module, for
the verification addresses the papers carry and for any other content, every version and
error level segno chooses, and every one of the eight masks."""

from __future__ import annotations

import random
import secrets
import string

import pytest
import segno

from tinhso.core.qr import qr_matrix


def _contents() -> list[str]:
    rng = random.Random(20261130)
    found = []
    for _ in range(120):
        found.append(f"http://127.0.0.1:8000/xac-thuc/{secrets.token_urlsafe(12)}/")
        found.append(f"https://dichvucong.thanhhoa.gov.vn/xac-thuc/{secrets.token_urlsafe(12)}/")
        found.append("".join(rng.choice(string.printable) for _ in range(rng.randint(1, 400))))
        found.append("".join(rng.choice(string.digits) for _ in range(rng.randint(1, 600))))
        found.append("Tỉnh Số – " + "".join(rng.choice("ăâđêôơưạảấầẩẫậ ") for _ in range(40)))
    return found


def test_the_symbol_is_segnos_module_for_module() -> None:
    masks, versions = set(), set()
    for content in _contents():
        expected = segno.make(content, error="m")
        got = qr_matrix(content)
        assert [bytes(row) for row in got] == [bytes(row) for row in expected.matrix], content
        masks.add(expected.mask)
        versions.add(expected.version)
    assert masks == set(range(8))  # every mask was the best one somewhere
    assert max(v for v in versions if isinstance(v, int)) >= 7  # version information too


@pytest.mark.parametrize("error", ["l", "m", "q", "h"])
def test_every_error_level_and_no_micro_when_asked(error: str) -> None:
    for content in ("01", "https://ocop.thanhhoa.gov.vn/01/08930000000012/21/ABC", "Đ" * 90):
        expected = segno.make(content, error=error, micro=False)
        got = qr_matrix(content, error=error, micro=False)
        assert [bytes(row) for row in got] == [bytes(row) for row in expected.matrix]
    assert len(qr_matrix("01", micro=False)) == 21  # version 1, not a Micro QR
