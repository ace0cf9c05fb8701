"""QR codes for the papers: exactly the symbol `segno.make` makes, in a quarter of its time
(ADR 0034).

ISO/IEC 18004 §7.8.3 has the encoder mask the data with each of the eight patterns and
keep the one whose symbol scores the lowest penalty. segno does this module by module in
Python (about 4 ms of a form's 9 for a version-4 code). Here segno encodes the data once
(mask 0, `segno.make(..., mask=0)`), and each candidate is one integer: the symbol's rows
and columns laid end to end, one bit per module, made from the unmasked symbol with two
integer operations. It is scored by segno's own rules (N1 runs, N2 blocks, N3 finder-like
patterns with its reading of the light margin, N4 balance, ties to the lower mask number)
with shifts and bit counts over the whole integer, N3 over its binary string; the chosen
mask is applied and its format information written by segno's encoder. A test holds the
result equal, module for module, to `segno.make` over many contents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import segno
from segno import consts
from segno import encoder as _encoder

_FINDER_LIKE = "1011101"


# Between two lines of a symbol laid end to end (`_Layout.joined`): two light bits, which
# no finder-like pattern (1011101, no two light modules together) and no run crosses.
_GAP = 2


@dataclass(frozen=True)
class _Layout:
    """What does not depend on the data, for one version: each row as an integer (the
    leftmost module the highest bit) of the function modules' values as segno evaluates
    them (format and version areas still light), of where data lies, and of where each
    mask pattern flips a data module; and the same for the whole symbol scored at once
    (`joined`): its rows and then its columns laid end to end as one integer."""

    size: int
    fixed: tuple[int, ...]
    data: tuple[int, ...]
    patterns: tuple[tuple[int, ...], ...]
    fixed_joined: int
    patterns_joined: tuple[int, ...]
    modules: int  # every module of `joined` set, the gaps clear
    pairs: int  # where a module and the one on its left both lie in a row that has one above

    @property
    def stride(self) -> int:
        return self.size + _GAP

    @property
    def columns_at(self) -> int:
        """Where the rows begin in `joined`: above its columns."""
        return self.stride * self.size

    def joined(self, rows: Sequence[int]) -> int:
        """The symbol given as rows, laid end to end with its columns (top module the
        highest bit), each line followed by `_GAP` light bits."""
        text = [format(row, f"0{self.size}b") for row in rows]
        lines = [int(line, 2) for line in text]
        lines += [int("".join(column), 2) for column in zip(*text, strict=True)]
        joined = 0
        for line in lines:
            joined = (joined << self.stride) | (line << _GAP)
        return joined


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
    shape = _Layout(size, tuple(fixed), tuple(data), tuple(patterns), 0, (), 0, 0)
    full = (1 << size) - 1
    pairs = [0] + [((1 << (size - 1)) - 1)] * (size - 1)  # not in the top row
    return _Layout(
        size, tuple(fixed), tuple(data), tuple(patterns), shape.joined(fixed),
        tuple(shape.joined(rows) for rows in patterns), shape.joined([full] * size),
        shape.joined(pairs) >> shape.columns_at,
    )  # fmt: skip


def _finder_like(lines: str, size: int) -> int:
    """segno's N3 count (`mask_scores.n3_pattern_occurrences`) over every row and column,
    given as one string of lines of `size` modules each followed by `_GAP` light ones (a
    match never spans two lines)."""
    count = 0
    stride = size + _GAP
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


def _runs(bits: int) -> int:
    """segno's N1 over the runs that the set bits of `bits` make: 3 for a run of five, one
    more for each further module. A run of n ≥ 5 leaves n - 4 bits in `five` (where five in
    a row begin), one stretch whose top bit has no set bit above it."""
    five = bits & (bits >> 1) & (bits >> 2) & (bits >> 3) & (bits >> 4)
    return five.bit_count() + 2 * (five & ~(five >> 1)).bit_count()


def _penalty(joined: int, layout: _Layout) -> int:
    """segno's score of a masked symbol given as `_Layout.joined` gives it."""
    size, stride = layout.size, layout.stride
    n1 = _runs(joined) + _runs(~joined & layout.modules)
    n3 = _finder_like(format(joined, f"0{stride * 2 * size}b"), size)
    rows = joined >> layout.columns_at
    above = rows >> stride  # each row moved to the place of the one below it
    same = ~(rows ^ above) & ~(rows ^ (rows >> 1)) & ~(above ^ (above >> 1)) & layout.pairs
    n2 = same.bit_count()
    dark = rows.bit_count()
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
    unmasked = layout.joined(
        [(encoded[i] ^ layout.patterns[0][i]) & layout.data[i] for i in range(size)]
    )
    best, best_score = 0, None
    for number, pattern in enumerate(layout.patterns_joined):
        score = _penalty(layout.fixed_joined | (unmasked ^ pattern), layout)
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
