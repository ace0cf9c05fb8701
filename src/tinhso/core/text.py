"""Vietnamese text folding for accent-insensitive search.

`fold("ĐĂNG KÝ Khai sinh") == "dang ky khai sinh"`: decompose, drop the combining
marks, map đ/Đ (a letter of its own, not a d with a mark) to d, lower-case and collapse
white space. Searchable models store the folded text in a column so both SQLite and
PostgreSQL can match it with a plain index-friendly LIKE.
"""

import re
import unicodedata

_SPACES = re.compile(r"\s+")


_VOWELS = frozenset("aeiouy")


def search_form(text: str) -> str:
    """`fold`, then one spelling for the sounds Vietnamese writes two ways: a final y after a
    consonant is an i (ký/kí, lý/lí, mỹ/mĩ: "dang ki khai sinh" finds "Đăng ký khai sinh").
    Index and query both go through it."""
    words = fold(text).split(" ")
    return " ".join(
        w[:-1] + "i" if len(w) >= 2 and w[-1] == "y" and w[-2] not in _VOWELS else w for w in words
    )


def fold(text: str) -> str:
    """Return `text` without diacritics, lower-cased, with single spaces."""
    if text.isascii():  # nothing to decompose: the common case for codes and numbers
        return _SPACES.sub(" ", text).strip().lower()
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("đ", "d").replace("Đ", "D")
    return _SPACES.sub(" ", stripped).strip().lower()
