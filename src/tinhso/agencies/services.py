"""Writes of the agency tree. Every change also writes its audit entry."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from tinhso.agencies.codes import eid_code, validate_child_code
from tinhso.agencies.models import Agency, AgencyKind, AgencyLevel
from tinhso.core.audit import audit_record
from tinhso.core.text import fold

_PUNCTUATION = re.compile(r"[^\w\s.]", re.UNICODE)

_AUDITED_FIELDS = [
    "code",
    "name",
    "name_en",
    "short_name",
    "kind",
    "level",
    "parent_id",
    "admin_unit_code",
    "admin_unit_type",
    "admin_unit_name",
    "address",
    "phone",
    "email",
    "website",
    "calendar",
    "is_active",
]


def _search_text(agency: Agency) -> str:
    parts = [agency.name, agency.short_name, agency.name_en, agency.admin_unit_name, agency.code]
    return fold(_PUNCTUATION.sub(" ", " ".join(p for p in parts if p)))


def _snapshot(agency: Agency) -> dict[str, Any]:
    return {field: getattr(agency, field) for field in _AUDITED_FIELDS}


def check_parent(agency: Agency) -> None:
    """ValidationError unless the agency may sit under its parent: not under itself or one
    of its own units, and its code one level below the parent's (Decision 20/2020)."""
    parent = agency.parent
    if parent is None:
        return
    if agency.pk is not None and (parent.pk == agency.pk or f"/{agency.pk}/" in parent.path):
        raise ValidationError(
            {"parent": "An agency cannot be placed under itself or one of its own units."}
        )
    try:
        validate_child_code(parent_code=parent.code, child_code=agency.code)
    except ValidationError as exc:
        raise ValidationError({"code": exc.messages}) from exc


def _place(agency: Agency) -> None:
    """Set path and depth from the parent (the agency must already have a primary key)."""
    parent_path = agency.parent.path if agency.parent is not None else "/"
    # Zero-padded so that ordering by path is tree order on every database.
    agency.path = f"{parent_path}{agency.pk:010d}/"
    agency.depth = agency.path.count("/") - 2


def agency_validate(agency: Agency) -> None:
    """Raise ValidationError unless the agency's fields, code and place in the tree are right."""
    agency.full_clean(exclude=["path", "depth", "search_text"])
    check_parent(agency)


def agency_save(*, actor: AbstractBaseUser | None, agency: Agency) -> Agency:
    """Create or update an agency after validating it (code structure, parent's code, no
    cycle), keep the subtree's paths right when it moves, and audit the change."""
    agency_validate(agency)
    agency.search_text = _search_text(agency)
    with transaction.atomic():
        if agency.pk is None:
            before: dict[str, Any] = {}
            agency.save()
            _place(agency)
            agency.save(update_fields=["path", "depth"])
            action = "agency.created"
        else:
            stored = Agency.objects.select_for_update().get(pk=agency.pk)
            before = _snapshot(stored)
            old_path = stored.path
            _place(agency)
            agency.save()
            if agency.path != old_path:
                for descendant in Agency.objects.filter(path__startswith=old_path).exclude(
                    pk=agency.pk
                ):
                    descendant.path = agency.path + descendant.path[len(old_path) :]
                    descendant.depth = descendant.path.count("/") - 2
                    descendant.save(update_fields=["path", "depth"])
            action = "agency.updated"
        after = _snapshot(agency)
        changed = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
        if changed or action == "agency.created":
            audit_record(actor=actor, action=action, obj=agency, data={"changed": changed})
    return agency


def agency_create(*, actor: AbstractBaseUser | None, **fields: Any) -> Agency:
    """A new agency from its fields, validated, placed in the tree and audited."""
    return agency_save(actor=actor, agency=Agency(**fields))


# --- Loading a province ---------------------------------------------------------------

# Level-1 codes of Decision 20/2020/QĐ-TTg that we know. For a province not listed here the
# operator passes --eid-root; otherwise a provisional root "T{province code}" is used and
# reported, to be replaced by the official one (the code is editable in the admin).
KNOWN_EID_ROOTS = {38: "H56"}

# Level-2 numbers of the province-level bodies (ADR 0002). Each row: number, kind,
# Vietnamese name pattern, English name, short name, children.
_PROVINCE_BODIES: list[tuple[int, str, str, str, str]] = [
    (
        1,
        AgencyKind.OFFICE,
        "Văn phòng Ủy ban nhân dân {of}",
        "Office of the People's Committee",
        "VP UBND",
    ),
    (3, AgencyKind.DEPARTMENT, "Sở Nội vụ", "Department of Home Affairs", "SNV"),
    (4, AgencyKind.DEPARTMENT, "Sở Tư pháp", "Department of Justice", "STP"),
    (5, AgencyKind.DEPARTMENT, "Sở Tài chính", "Department of Finance", "STC"),
    (6, AgencyKind.DEPARTMENT, "Sở Công Thương", "Department of Industry and Trade", "SCT"),
    (
        7,
        AgencyKind.DEPARTMENT,
        "Sở Nông nghiệp và Môi trường",
        "Department of Agriculture and Environment",
        "SNNMT",
    ),
    (8, AgencyKind.DEPARTMENT, "Sở Xây dựng", "Department of Construction", "SXD"),
    (
        9,
        AgencyKind.DEPARTMENT,
        "Sở Khoa học và Công nghệ",
        "Department of Science and Technology",
        "SKHCN",
    ),
    (
        10,
        AgencyKind.DEPARTMENT,
        "Sở Giáo dục và Đào tạo",
        "Department of Education and Training",
        "SGDĐT",
    ),
    (11, AgencyKind.DEPARTMENT, "Sở Y tế", "Department of Health", "SYT"),
    (
        12,
        AgencyKind.DEPARTMENT,
        "Sở Văn hóa, Thể thao và Du lịch",
        "Department of Culture, Sports and Tourism",
        "SVHTTDL",
    ),
    (
        13,
        AgencyKind.DEPARTMENT,
        "Sở Dân tộc và Tôn giáo",
        "Department of Ethnic and Religious Affairs",
        "SDTTG",
    ),
    (14, AgencyKind.INSPECTORATE, "Thanh tra {of}", "Provincial Inspectorate", "TT"),
    (20, AgencyKind.POLICE, "Công an {of}", "Provincial Police", "CA"),
]
# The service centre belongs to the Office of the People's Committee (level 3 under 01).
_SERVICE_CENTRE = (
    "Trung tâm Phục vụ hành chính công {of}",
    "Public Administration Service Centre",
    "TTPVHCC",
)
# Commune People's Committees are numbered at level 3 inside level-2 blocks from 60 up,
# 99 to a block, in the order of their official unit codes.
COMMUNE_BLOCK_START = 60


@dataclass(frozen=True)
class ProvinceSeedResult:
    province: Agency
    created: int
    updated: int
    communes: int
    eid_root: str
    eid_root_known: bool


_UNIT_WORDS = ("thành phố", "tỉnh", "phường", "xã", "đặc khu")


def _division_phrase(name: str, division_type: str) -> str:
    """'Phường Hạc Thành' → 'phường Hạc Thành'; 'Thành phố Hà Nội' → 'thành phố Hà Nội';
    'Thanh Hóa' (a tỉnh) → 'tỉnh Thanh Hóa': how the name reads inside a longer one."""
    for word in _UNIT_WORDS:
        if name.lower().startswith(word + " "):
            return word + name[len(word) :]
    return f"{division_type} {name}"


_ENGLISH_TYPES = {"xã": "Commune", "phường": "Ward", "đặc khu": "Special Zone"}


def _english_unit(name: str, division_type: str) -> str:
    """'Phường Hạc Thành' → 'Hạc Thành Ward'."""
    rest = name[len(division_type) :].strip() if name.lower().startswith(division_type) else name
    return f"{rest} {_ENGLISH_TYPES.get(division_type, '')}".strip()


def _upsert(
    *, actor: AbstractBaseUser | None, code: str, fields: dict[str, Any], counts: dict[str, int]
) -> Agency:
    agency = Agency.objects.filter(code=code).first()
    if agency is None:
        counts["created"] += 1
        return agency_save(actor=actor, agency=Agency(code=code, **fields))
    if any(getattr(agency, key) != value for key, value in fields.items()):
        for key, value in fields.items():
            setattr(agency, key, value)
        counts["updated"] += 1
        return agency_save(actor=actor, agency=agency)
    return agency


def province_seed(
    *, province_code: int, actor: AbstractBaseUser | None = None, eid_root: str | None = None
) -> ProvinceSeedResult:
    """Load one of the 34 provinces: its People's Committee, the office and service centre,
    the departments, and the People's Committee of every commune, ward and special zone from
    the official post-2025 list in `vietnam-provinces`. Running it again updates, never
    duplicates."""
    from vietnam_provinces import Province, ProvinceCode, Ward

    try:
        province = Province.from_code(ProvinceCode(province_code))
    except ValueError as exc:
        raise ValidationError(
            f"{province_code} is not the code of one of the 34 provinces."
        ) from exc
    known = province_code in KNOWN_EID_ROOTS
    root = eid_root or KNOWN_EID_ROOTS.get(province_code) or f"T{province_code:02d}"
    of = _division_phrase(province.name, province.division_type.value)
    counts = {"created": 0, "updated": 0}
    in_province = {
        "level": AgencyLevel.PROVINCE,
        "admin_unit_code": province_code,
        "admin_unit_type": province.division_type.value,
        "admin_unit_name": province.name,
        "address": of[0].upper() + of[1:],
    }
    with transaction.atomic():
        committee = _upsert(
            actor=actor,
            code=eid_code(root),
            fields={
                "name": f"Ủy ban nhân dân {of}",
                "name_en": f"People's Committee of {province.name}",
                "short_name": "UBND",
                "kind": AgencyKind.PEOPLES_COMMITTEE,
                "parent": None,
                **in_province,
            },
            counts=counts,
        )
        office = None
        for number, kind, pattern, name_en, short in _PROVINCE_BODIES:
            body = _upsert(
                actor=actor,
                code=eid_code(root, number),
                fields={
                    "name": pattern.format(of=of),
                    "name_en": name_en,
                    "short_name": short,
                    "kind": kind,
                    "parent": committee,
                    **in_province,
                },
                counts=counts,
            )
            if number == 1:
                office = body
        centre_name, centre_en, centre_short = _SERVICE_CENTRE
        _upsert(
            actor=actor,
            code=eid_code(root, 1, 1),
            fields={
                "name": centre_name.format(of=of),
                "name_en": centre_en,
                "short_name": centre_short,
                "kind": AgencyKind.SERVICE_CENTRE,
                "parent": office,
                **in_province,
            },
            counts=counts,
        )
        wards = sorted(Ward.iter_by_province(ProvinceCode(province_code)), key=lambda w: w.code)
        for index, ward in enumerate(wards):
            block, number = divmod(index, 99)
            phrase = _division_phrase(ward.name, ward.division_type.value)
            english = _english_unit(ward.name, ward.division_type.value)
            _upsert(
                actor=actor,
                code=eid_code(root, COMMUNE_BLOCK_START + block, number + 1),
                fields={
                    "name": f"Ủy ban nhân dân {phrase}",
                    "name_en": f"People's Committee of {english}",
                    "short_name": "UBND",
                    "kind": AgencyKind.PEOPLES_COMMITTEE,
                    "level": AgencyLevel.COMMUNE,
                    "parent": committee,
                    "admin_unit_code": int(ward.code),
                    "admin_unit_type": ward.division_type.value,
                    "admin_unit_name": ward.name,
                    "address": f"{ward.name}, {of}",
                },
                counts=counts,
            )
    return ProvinceSeedResult(
        province=committee,
        created=counts["created"],
        updated=counts["updated"],
        communes=len(wards),
        eid_root=root,
        eid_root_known=known,
    )
