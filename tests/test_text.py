import pytest

from tinhso.core.text import fold


@pytest.mark.parametrize(
    "text",
    ["dang ky khai sinh", "Đăng ký khai sinh", "ĐĂNG KÝ KHAI SINH", "  đăng  ký khai   sinh "],
)
def test_fold_ignores_diacritics_case_and_spacing(text: str) -> None:
    assert fold(text) == "dang ky khai sinh"


def test_fold_maps_d_with_stroke() -> None:
    assert fold("Đồng Đức đường") == "dong duc duong"
