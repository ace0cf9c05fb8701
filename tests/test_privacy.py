import logging

from tinhso.core.privacy import (
    PersonalDataLogFilter,
    mask_address,
    mask_email,
    mask_personal_id,
    mask_phone,
    mask_text,
)


def test_masks_keep_only_what_identifies_nobody() -> None:
    assert mask_personal_id("038090000001") == "038******001"
    assert mask_phone("0912 345 678") == "091****678"
    assert mask_email("nguyen.van.a@example.vn") == "n***@example.vn"
    assert mask_address("Số 5 Lê Lai, phường Hạc Thành, tỉnh Thanh Hóa") == "***, tỉnh Thanh Hóa"


def test_free_text_and_log_lines_are_masked() -> None:
    assert mask_text("CCCD 038090000001, SĐT 0912345678") == "CCCD 038******001, SĐT 091****678"
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "looked up %s", ("038090000001",), None
    )
    assert PersonalDataLogFilter().filter(record)
    assert record.getMessage() == "looked up 038******001"
