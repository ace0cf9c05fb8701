"""Numbers, amounts and dates in Vietnamese words, as papers write them: "hai nghìn không
trăm hai mươi sáu", "Một trăm năm mươi nghìn đồng", "ngày mồng năm tháng tư năm hai nghìn
không trăm hai mươi sáu".

The rules of reading a number: groups of three digits from the right, each read as
hundreds, tens and units, with the group's scale (nghìn, triệu, tỷ; past a tỷ the reading
starts again, "một nghìn tỷ"). A group after the first is read in full ("một nghìn không
trăm linh năm"); a ten of zero before a unit is "linh"; a unit 1 after a ten of two or more
is "mốt", a 5 after any ten is "lăm", a 4 after a ten of two or more is "tư"; a group of
zeros is skipped.
"""

from __future__ import annotations

from datetime import date

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
SCALES = ("", "nghìn", "triệu")
BILLION = 10**9


def _group(value: int, full: bool) -> list[str]:
    """A group of three digits (0-999); `full` when a group stands before it."""
    hundreds, tens, units = value // 100, value // 10 % 10, value % 10
    words: list[str] = []
    if full or hundreds:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units and words:
            words.append("linh")
    elif tens == 1:
        words.append("mười")
    else:
        words += [DIGITS[tens], "mươi"]
    if units:
        if units == 1 and tens >= 2:
            words.append("mốt")
        elif units == 5 and tens >= 1:
            words.append("lăm")
        elif units == 4 and tens >= 2:
            words.append("tư")
        else:
            words.append(DIGITS[units])
    return words


def _below_billion(value: int, full: bool) -> list[str]:
    groups = []
    while value:
        groups.append(value % 1000)
        value //= 1000
    words: list[str] = []
    for scale in range(len(groups) - 1, -1, -1):
        group = groups[scale]
        if group == 0:
            continue
        words += _group(group, full or bool(words))
        if SCALES[scale]:
            words.append(SCALES[scale])
    return words


def number_words(value: int) -> str:
    """A whole number in words: 21 → "hai mươi mốt", 1005 → "một nghìn không trăm linh
    năm", -3 → "âm ba"."""
    if value < 0:
        return "âm " + number_words(-value)
    if value == 0:
        return DIGITS[0]
    words: list[str] = []
    high, low = divmod(value, BILLION)
    if high:
        words += [*number_words(high).split(" "), "tỷ"]
    if low:
        words += _below_billion(low, bool(high))
    return " ".join(words)


def grouped(value: float) -> str:
    """A number with Vietnamese separators: 1500000 → "1.500.000", 82.5 → "82,5"."""
    if isinstance(value, float) and not value.is_integer():
        whole, _dot, fraction = f"{value:,.2f}".rstrip("0").partition(".")
        return whole.replace(",", ".") + ("," + fraction if fraction else "")
    return f"{int(value):,}".replace(",", ".")


def vnd(amount: int) -> str:
    """An amount in figures as papers and messages write it: "1.500.000 đồng"."""
    return f"{grouped(amount)} đồng"


def money_words(amount: int, currency: str = "đồng") -> str:
    """An amount in VND as a receipt writes it: "Một trăm nghìn đồng"."""
    text = f"{number_words(amount)} {currency}"
    return text[0].upper() + text[1:]


def day_words(day: int) -> str:
    """The day of a month: "mồng" before one to ten, as dates are read."""
    return f"mồng {number_words(day)}" if day <= 10 else number_words(day)


MONTHS = {1: "một", 4: "tư"}


def date_words(value: date) -> str:
    """A date as papers write it in words: "ngày hai mươi chín tháng mười một năm hai nghìn
    không trăm hai mươi sáu"."""
    month = MONTHS.get(value.month, number_words(value.month))
    return f"ngày {day_words(value.day)} tháng {month} năm {number_words(value.year)}"
