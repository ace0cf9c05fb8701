"""E-forms from JSON Schema: fields, prefill, typed values, Vietnamese validation."""

from datetime import date

import pytest
from django.utils import translation

from tinhso.catalog.eform import (
    FormField,
    FormFieldset,
    form_coerce,
    form_fields,
    form_prefill,
    form_validate,
)
from tinhso.catalog.models import Procedure

pytestmark = pytest.mark.django_db

SCHEMA = {
    "type": "object",
    "x-order": ["ho_ten", "so_luong", "loai", "ngay", "ghi_chu"],
    "required": ["ho_ten", "so_luong", "loai"],
    "properties": {
        "ghi_chu": {"type": "string", "title": "Ghi chú", "x-widget": "textarea"},
        "so_luong": {"type": "integer", "title": "Số lượng", "minimum": 1, "maximum": 10},
        "ho_ten": {
            "type": "string",
            "title": "Họ và tên",
            "maxLength": 20,
            "x-prefill": "full_name",
        },
        "loai": {
            "type": "string",
            "title": "Loại",
            "enum": ["1", "2"],
            "x-enum-titles": ["Số 1", "Số 2"],
        },
        "ngay": {"type": "string", "format": "date", "title": "Ngày"},
    },
}


def test_fields_follow_the_declared_order_with_widgets_and_choices() -> None:
    fields = form_fields(SCHEMA)
    assert [f.name for f in fields] == ["ho_ten", "so_luong", "loai", "ngay", "ghi_chu"]
    widgets = {f.name: f.widget for f in fields if isinstance(f, FormField)}
    assert widgets == {
        "ho_ten": "text",
        "so_luong": "integer",
        "loai": "radio",
        "ngay": "date",
        "ghi_chu": "textarea",
    }
    loai = next(f for f in fields if f.name == "loai")
    assert isinstance(loai, FormField)
    assert loai.choices == [("1", "Số 1"), ("2", "Số 2")]


def test_prefill_comes_from_the_registry_profile() -> None:
    values, filled = form_prefill(
        SCHEMA, {"full_name": "Nguyễn Văn An", "date_of_birth": date(1990, 3, 14)}
    )
    assert values == {"ho_ten": "Nguyễn Văn An"}
    assert filled == {"ho_ten"}
    birth = Procedure.objects.get(code="1.001193").form_schema
    values, filled = form_prefill(
        birth, {"full_name": "Nguyễn Văn An", "personal_id": "038090000001"}
    )
    assert values["nguoi_yeu_cau"] == {"ho_ten": "Nguyễn Văn An", "so_dinh_danh": "038090000001"}
    assert values["tre"]["quoc_tich"] == "Việt Nam"  # a schema default
    assert "nguoi_yeu_cau.ho_ten" in filled
    groups = [f for f in form_fields(birth, values, {}, filled) if isinstance(f, FormFieldset)]
    assert [g.label for g in groups] == ["Người đi đăng ký", "Người được khai sinh", "Mẹ", "Cha"]


def test_submitted_strings_become_typed_values() -> None:
    data = form_coerce(
        SCHEMA, {"ho_ten": "  An ", "so_luong": "3", "loai": "2", "ngay": "", "ghi_chu": ""}
    )
    assert data == {"ho_ten": "An", "so_luong": 3, "loai": "2"}
    assert form_coerce(SCHEMA, {"so_luong": "ba"})["so_luong"] == "ba"


def test_validation_messages_are_per_field_and_vietnamese() -> None:
    with translation.override("vi"):
        errors = form_validate(
            SCHEMA, {"ho_ten": "x" * 30, "so_luong": "ba", "loai": "9", "ngay": "2026-02-30"}
        )
    assert errors["ho_ten"] == ["Họ và tên có nhiều nhất 20 ký tự."]
    assert errors["so_luong"] == ["Số lượng phải là số nguyên."]
    assert errors["loai"] == ["Vui lòng chọn một trong các giá trị của Loại."]
    assert errors["ngay"] == ["Ngày không phải là ngày hợp lệ."]
    with translation.override("vi"):
        missing = form_validate(SCHEMA, {})
    assert missing["ho_ten"] == ["Vui lòng nhập Họ và tên."]
    assert set(missing) == {"ho_ten", "so_luong", "loai"}
    assert form_validate(SCHEMA, {"ho_ten": "An", "so_luong": 2, "loai": "1"}) == {}


def test_nested_required_fields_are_reported_by_dotted_name() -> None:
    birth = Procedure.objects.get(code="1.001193").form_schema
    with translation.override("vi"):
        errors = form_validate(birth, {"nguoi_yeu_cau": {}, "quan_he": "cha", "tre": {}, "me": {}})
    assert "tre.ngay_sinh" in errors
    assert "me.ho_ten" in errors
    assert "nguoi_yeu_cau.ho_ten" in errors
