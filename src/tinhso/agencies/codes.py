"""Electronic identifier codes of agencies, structure of Decision 20/2020/QĐ-TTg.

A code is dot-separated groups written from the lowest level on the left to the highest
on the right: `G.H.K.L.M` where M is the level-1 unit (one letter and two digits, e.g.
`H56` for Thanh Hóa), L the level-2 unit (2 digits), K level 3 (2 digits), H level 4
(3 digits) and any further groups on the left are levels 5 and below (3 digits each).
Unused levels are zeros: `000.00.00.H56` is the province's People's Committee itself,
`000.00.04.H56` a level-2 unit under it. At most 35 characters.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_LENGTH = 35
_SHAPE = re.compile(r"^(?:\d{3}\.)*\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")


def eid_groups(code: str) -> list[str]:
    """Groups from level 1 upwards: `000.01.04.H56` → ['H56', '04', '01', '000']."""
    return list(reversed(code.split(".")))


def eid_level(code: str) -> int:
    """The level the code identifies: the deepest non-zero group (1 for `000.00.00.H56`)."""
    groups = eid_groups(code)
    level = 1
    for index, group in enumerate(groups[1:], start=2):
        if set(group) != {"0"}:
            level = index
    return level


def validate_eid_code(code: str) -> None:
    """Raise ValidationError (Vietnamese message) unless `code` has the Decision 20 structure."""
    if len(code) > MAX_LENGTH:
        raise ValidationError(
            _("An agency code has at most %(max)d characters; this one has %(n)d.")
            % {"max": MAX_LENGTH, "n": len(code)},
            code="eid_length",
        )
    if not _SHAPE.match(code):
        raise ValidationError(
            _(
                "An agency code is dot-separated groups ending in the level-1 unit "
                "(a capital letter and two digits), e.g. 000.00.04.H56."
            ),
            code="eid_shape",
        )
    groups = eid_groups(code)
    seen_zero = False
    for group in groups[1:]:
        if set(group) == {"0"}:
            seen_zero = True
        elif seen_zero:
            raise ValidationError(
                _("A lower level of an agency code is set while a higher level is zero."),
                code="eid_gap",
            )


def validate_child_code(*, parent_code: str, child_code: str) -> None:
    """A child's code keeps its parent's groups and identifies a deeper level."""
    parent_groups, child_groups = eid_groups(parent_code), eid_groups(child_code)
    parent_level = eid_level(parent_code)
    if child_groups[:parent_level] != parent_groups[:parent_level]:
        raise ValidationError(
            _("The code %(child)s does not belong under its parent's code %(parent)s.")
            % {"child": child_code, "parent": parent_code},
            code="eid_parent",
        )
    if eid_level(child_code) <= parent_level:
        raise ValidationError(
            _("The code %(child)s must identify a lower level than its parent's code %(parent)s.")
            % {"child": child_code, "parent": parent_code},
            code="eid_parent_level",
        )


def eid_code(root: str, *levels: int) -> str:
    """Build a code from the level-1 root and the numbers of levels 2, 3, 4…"""
    widths = [2, 2, 3]
    groups = [root]
    padded = list(levels) + [0] * max(0, 3 - len(levels))
    for index, number in enumerate(padded):
        width = widths[index] if index < len(widths) else 3
        groups.append(f"{number:0{width}d}")
    return ".".join(reversed(groups))
