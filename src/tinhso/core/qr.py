"""QR codes for the papers: exactly the symbol `segno.make` makes, in a third of its time
(ADR 0034).

ISO/IEC 18004 §7.8.3 has the encoder mask the data with each of the eight patterns and
keep the one whose symbol scores the lowest penalty. segno does this module by module in
Python (about 4 ms of a form's 9 for a version-4 code). Here segno encodes the data once
(mask 0, `segno.make(..., mask=0)`), the eight candidates are made from it with integer
operations, one bit per module, and scored by segno's own rules (N1 runs, N2 blocks, N3
finder-like patterns with its reading of the light margin, N4 balance, ties to the lower
mask number) on strings and integers; the chosen mask is applied and its format
information written by segno's encoder. A test holds the result equal, module for module,
to `segno.make` over many contents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from itertools import pairwise

import segno
from segno import consts
from segno import encoder as _encoder

_RUN = re.compile(r"0{5,}|1{5,}")
_FINDER_LIKE = "1011101"


@dataclass(frozen=True)
class _Layout:
    """What does not depend on the data, for one version: each row as an integer (the
    leftmost module the highest bit) of the function modules' values as segno evaluates
    them (format and version areas still light), of where data lies, and of where each
    mask pattern flips a data module."""

    size: int
    fixed: tuple[int, ...]
    data: tuple[int, ...]
    patterns: tuple[tuple[int, ...], ...]


@cache
def _layout(version: int) -> _Layout:
    size = version * 4 + 17
    function = _encoder.make_matrix(size, size)  # type: ignore[no-untyped-call]
    _encoder.add_finder_patterns(function, size, size)  # type: ignore[no-untyped-call]
    _encoder.add_alignment_patterns(function, size, size)  # type: ignore[no-untyped-call]
    # The dark module is written with the format information, after the evaluation: light
    # while masks are scored, and never data.
    fixed, data = [], []
    for i, row in enumerate(function):
        fixed.append(int("".join("1" if v == 0x1 else "0" for v in row), 2))
        cells = ["1" if v > 0x1 and (i, j) != (size - 8, 8) else "0" for j, v in enumerate(row)]
        data.append(int("".join(cells), 2))
    patterns = []
    for pattern in _encoder.get_data_mask_functions(False):  # type: ignore[no-untyped-call]
        rows = []
        for i in range(size):
            bits = "".join("1" if pattern(i, j) else "0" for j in range(size))
            rows.append(int(bits, 2) & data[i])
        patterns.append(tuple(rows))
    return _Layout(size, tuple(fixed), tuple(data), tuple(patterns))


def _finder_like(lines: str, size: int) -> int:
    """segno's N3 count (`mask_scores.n3_pattern_occurrences`) over every row and column,
    given as one string of lines of `size` modules each followed by a separator (the
    pattern has none, so a match never spans two lines)."""
    count = 0
    stride = size + 1
    at = lines.find(_FINDER_LIKE)
    while at != -1:
        start = at - at % stride  # where the line begins
        idx = at - start
        offset = idx + 7
        if (
            idx in (0, size - 7)
            or "1" not in lines[start + max(idx - 4, 0) : start + idx]
            or "1" not in lines[start + offset : start + min(offset + 4, size)]
        ):
            count += 40
        else:
            offset = idx + 4
        at = lines.find(_FINDER_LIKE, start + offset)
    return count


def _penalty(rows: list[int], size: int) -> int:
    text = [format(row, f"0{size}b") for row in rows]
    lines = " ".join(text + ["".join(column) for column in zip(*text, strict=True)]) + " "
    n1 = sum(len(run) - 2 for run in _RUN.findall(lines))
    n3 = _finder_like(lines, size)
    pairs = (1 << (size - 1)) - 1  # a module and the one on its left
    n2 = 0
    for above, below in pairwise(rows):
        same = ~(above ^ below) & ~(above ^ (above >> 1)) & ~(below ^ (below >> 1)) & pairs
        n2 += same.bit_count()
    dark = sum(row.bit_count() for row in rows)
    n4 = 10 * int(abs(float(dark) / (size**2) * 100 - 50) / 5)
    return n1 + 3 * n2 + n3 + n4


_TO_TEXT = bytes.maketrans(b"\x00\x01", b"01")
_TO_MODULES = bytes.maketrans(b"01", b"\x00\x01")


def _bits(row: bytes | bytearray) -> int:
    return int(bytes(row).translate(_TO_TEXT), 2)


def qr_matrix(content: str, error: str = "m", micro: bool | None = None) -> tuple[bytearray, ...]:
    """The modules of `segno.make(content, error=error, micro=micro)`, rows of 0 and 1."""
    first = segno.make(content, error=error, mask=0, micro=micro)
    if first.is_micro:  # Micro QR has its own rules: segno scores it
        return segno.make(content, error=error, micro=micro).matrix
    layout = _layout(first.version)
    size = layout.size
    encoded = [_bits(row) for row in first.matrix]
    unmasked = [(encoded[i] ^ layout.patterns[0][i]) & layout.data[i] for i in range(size)]
    best, best_score = 0, None
    for number, pattern in enumerate(layout.patterns):
        rows = [layout.fixed[i] | (unmasked[i] ^ pattern[i]) for i in range(size)]
        score = _penalty(rows, size)
        if best_score is None or score < best_score:
            best, best_score = number, score
    if best == 0:
        return first.matrix
    flip = [layout.patterns[0][i] ^ layout.patterns[best][i] for i in range(size)]
    matrix = tuple(
        bytearray(format(encoded[i] ^ flip[i], f"0{size}b").encode().translate(_TO_MODULES))
        for i in range(size)
    )
    _encoder.add_format_info(matrix, first.version, consts.ERROR_MAPPING[first.error], best)  # type: ignore[no-untyped-call]
    return matrix
