"""Datasets the platform publishes from its own records and keeps fresh itself: the agency
list with the communes, the procedure catalogue, and dossier statistics per agency and
month. None of them holds personal data: agencies' public contacts, procedures, counts.

`platform_datasets_refresh()` (hourly on the worker, and at seeding) regenerates each CSV;
when its content changed, the resource's file and table are replaced and the dataset's
modified time moves, in one transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from tinhso.agencies.models import Agency
from tinhso.catalog.models import Procedure
from tinhso.core.spreadsheet import csv_row
from tinhso.opendata.formats import ResourceFile
from tinhso.opendata.models import Dataset, Frequency, Resource, Theme
from tinhso.opendata.services import (
    ResourceInput,
    dataset_create,
    publisher_for,
    resource_create,
    resource_replace_file,
)


def _csv(header: list[str], rows: Iterable[Iterable[object]]) -> bytes:
    # Names and addresses are typed by people: formula-like text is neutralised
    # (core.spreadsheet), numbers stay numbers.
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(csv_row(header))
    for row in rows:
        writer.writerow(csv_row(row))
    return out.getvalue().encode("utf-8")


def agencies_csv() -> bytes:
    agencies = Agency.objects.filter(is_active=True).select_related("parent").order_by("path")
    return _csv(
        [
            "Mã định danh", "Tên cơ quan", "Tên tiếng Anh", "Tên viết tắt", "Loại", "Cấp",
            "Mã cơ quan cấp trên", "Mã đơn vị hành chính", "Loại đơn vị hành chính",
            "Đơn vị hành chính", "Địa chỉ", "Điện thoại", "Thư điện tử", "Trang thông tin",
        ],
        (
            [
                a.code, a.name, a.name_en, a.short_name, a.get_kind_display(),
                a.get_level_display(), a.parent.code if a.parent else "",
                a.admin_unit_code, a.admin_unit_type, a.admin_unit_name, a.address, a.phone,
                a.email, a.website,
            ]
            for a in agencies
        ),
    )  # fmt: skip


def procedures_csv() -> bytes:
    procedures = (
        Procedure.objects.filter(is_active=True)
        .select_related("field", "implementing_agency")
        .order_by("code")
    )
    return _csv(
        [
            "Mã thủ tục", "Tên thủ tục", "Lĩnh vực", "Cấp thực hiện", "Cơ quan thực hiện",
            "Cơ quan quyết định", "Thời hạn (ngày làm việc)", "Mức độ trực tuyến", "Phí, lệ phí",
        ],
        (
            [
                p.code, p.name, p.field.name, p.get_level_display(),
                p.implementing_agency.name if p.implementing_agency else "", p.deciding_body,
                p.time_days, p.get_online_level_display(),
                "; ".join(str(f.get("name") or f.get("label") or "") for f in p.fees or []
                          if isinstance(f, dict)),
            ]
            for p in procedures
        ),
    )  # fmt: skip


def dossier_statistics_csv() -> bytes:
    """Per receiving agency and month: dossiers received (accepted), of them online,
    finished, and finished late (core.indicators.timeliness, as the figures count it).
    Counts only, read from the monthly rollups the dossiers' events keep (ADR 0026)."""
    from tinhso.dossiers.models import DossierRollup, RollupSpan

    months = (
        DossierRollup.objects.filter(span=RollupSpan.MONTH)
        .filter(Q(received__gt=0) | Q(finished_early__gt=0) | Q(finished_on_time__gt=0)
                | Q(finished_late__gt=0))
        .order_by("day", "agency__code")
        .values_list("agency__code", "agency__name", "day", "received", "received_online",
                     "finished_early", "finished_on_time", "finished_late")
    )  # fmt: skip
    rows = [
        [code, name, day.strftime("%Y-%m"), received, online, early + on_time + late, late]
        for code, name, day, received, online, early, on_time, late in months
    ]
    return _csv(
        [
            "Mã cơ quan", "Tên cơ quan", "Tháng", "Hồ sơ tiếp nhận", "Trong đó trực tuyến",
            "Hồ sơ đã giải quyết", "Trong đó quá hạn",
        ],
        rows,
    )  # fmt: skip


@dataclass(frozen=True)
class Generated:
    key: str
    name: str
    title: str
    title_en: str
    notes: str
    theme: str
    tags: list[str]
    frequency: str
    filename: str
    build: Callable[[], bytes]


GENERATED = [
    Generated(
        "agencies",
        "danh-sach-co-quan-nha-nuoc",
        "Danh sách cơ quan nhà nước và đơn vị hành chính cấp xã",
        "State agencies and commune-level administrative units",
        "Các cơ quan của tỉnh và Ủy ban nhân dân các xã, phường, với mã định danh điện tử "
        "(Quyết định 20/2020/QĐ-TTg), mã đơn vị hành chính và thông tin liên hệ công khai. "
        "Nền tảng tự tạo từ danh bạ cơ quan và tự cập nhật.",
        "hanh-chinh-cong",
        ["cơ quan nhà nước", "đơn vị hành chính", "mã định danh"],
        Frequency.DAILY,
        "co-quan-nha-nuoc.csv",
        agencies_csv,
    ),
    Generated(
        "procedures",
        "danh-muc-thu-tuc-hanh-chinh",
        "Danh mục thủ tục hành chính",
        "Catalogue of administrative procedures",
        "Các thủ tục hành chính đang áp dụng: mã, lĩnh vực, cấp và cơ quan thực hiện, thời "
        "hạn giải quyết, mức độ trực tuyến, phí và lệ phí. Nền tảng tự tạo từ danh mục thủ "
        "tục và tự cập nhật.",
        "hanh-chinh-cong",
        ["thủ tục hành chính", "dịch vụ công"],
        Frequency.DAILY,
        "thu-tuc-hanh-chinh.csv",
        procedures_csv,
    ),
    Generated(
        "dossier_statistics",
        "thong-ke-ho-so-theo-co-quan-va-thang",
        "Thống kê hồ sơ thủ tục hành chính theo cơ quan và tháng",
        "Administrative dossiers per agency and month",
        "Số hồ sơ tiếp nhận (trong đó trực tuyến), đã giải quyết và quá hạn, theo cơ quan "
        "tiếp nhận và tháng. Chỉ có số đếm, không có dữ liệu cá nhân. Nền tảng tự tính từ "
        "hồ sơ và tự cập nhật.",
        "hanh-chinh-cong",
        ["hồ sơ", "dịch vụ công", "thống kê"],
        Frequency.DAILY,
        "thong-ke-ho-so.csv",
        dossier_statistics_csv,
    ),
]


def platform_datasets_refresh() -> int:
    """Create the platform's own datasets if missing and refresh their files; returns how
    many resources changed."""
    province = Agency.objects.filter(parent__isnull=True).order_by("path").first()
    theme = {t.name: t for t in Theme.objects.all()}
    if province is None:
        return 0
    changed = 0
    for spec in GENERATED:
        content = spec.build()
        file = ResourceFile(spec.filename, content, "CSV")
        with transaction.atomic():
            dataset = Dataset.objects.filter(generator=spec.key).first()
            if dataset is None:
                dataset = dataset_create(
                    actor=None,
                    publisher=publisher_for(province),
                    data={
                        "name": spec.name,
                        "title": spec.title,
                        "title_en": spec.title_en,
                        "notes": spec.notes,
                        "tags": spec.tags,
                        "groups": [spec.theme] if spec.theme in theme else [],
                        "frequency": spec.frequency,
                        "license_id": "CC-BY-4.0",
                        "spatial": province.name,
                        "contact_name": province.name,
                        "contact_email": province.email,
                        "private": False,
                    },
                )
                Dataset.objects.filter(pk=dataset.pk).update(generator=spec.key)
            resource = Resource.objects.filter(dataset=dataset).order_by("position").first()
            if resource is None:
                resource_create(
                    actor=None,
                    dataset=dataset,
                    data=ResourceInput(name=spec.title, file=file),
                    background=False,  # small, and already on the worker
                )
                changed += 1
            elif resource.sha256 != file.sha256:
                resource_replace_file(actor=None, resource=resource, file=file, background=False)
                changed += 1
    return changed
