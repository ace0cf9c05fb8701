"""VietQR: the NAPAS 247 profile of the EMVCo merchant-presented QR code (QRCPS-MPM).

A payload is a string of TLV fields (two-digit tag, two-digit length in characters, value):
00 payload format "01"; 01 point of initiation "12" (dynamic: one amount, one payment);
38 the beneficiary (00 NAPAS GUID "A000000727", 01 the bank's BIN and the account, 02 the
service "QRIBFTTA", transfer to an account); 53 currency "704" (VND); 54 the amount;
58 "VN"; 62/08 the purpose, which carries the payment's reference; 63 a CRC-16/CCITT-FALSE
over everything before its value (including "6304").
"""

from __future__ import annotations

from dataclasses import dataclass

NAPAS_GUID = "A000000727"
SERVICE_TO_ACCOUNT = "QRIBFTTA"


class VietQRError(ValueError):
    """A payload that is not a well-formed VietQR."""


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, no reflection, no xor-out."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def _tlv(tag: str, value: str) -> str:
    if len(value) > 99:
        raise VietQRError(f"field {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


@dataclass(frozen=True)
class VietQR:
    bank_bin: str
    account: str
    amount: int
    reference: str

    def payload(self) -> str:
        if not (self.bank_bin.isdigit() and len(self.bank_bin) == 6):
            raise VietQRError("the bank BIN has six digits")
        if not self.account.isalnum() or len(self.account) > 19:
            raise VietQRError("the account is at most 19 letters or digits")
        if self.amount <= 0 or self.amount > 9_999_999_999_999:
            raise VietQRError("the amount is a positive whole number of đồng")
        if not self.reference.isascii() or not self.reference.isalnum():
            raise VietQRError("the reference is ASCII letters and digits")
        beneficiary = _tlv("00", self.bank_bin) + _tlv("01", self.account)
        body = (
            _tlv("00", "01")
            + _tlv("01", "12")
            + _tlv("38", _tlv("00", NAPAS_GUID) + _tlv("01", beneficiary)
                   + _tlv("02", SERVICE_TO_ACCOUNT))
            + _tlv("53", "704")
            + _tlv("54", str(self.amount))
            + _tlv("58", "VN")
            + _tlv("62", _tlv("08", self.reference))
            + "6304"
        )  # fmt: skip
        return body + f"{crc16_ccitt_false(body.encode('ascii')):04X}"


def _fields(data: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    at = 0
    while at < len(data):
        tag, size = data[at : at + 2], data[at + 2 : at + 4]
        if len(tag) < 2 or not size.isdigit():
            raise VietQRError(f"malformed field at position {at}")
        value = data[at + 4 : at + 4 + int(size)]
        if len(value) != int(size):
            raise VietQRError(f"field {tag} is cut short")
        fields[tag] = value
        at += 4 + int(size)
    return fields


def vietqr_parse(payload: str) -> VietQR:
    """Read a dynamic VietQR back (what a banking app does); VietQRError if its CRC or a
    required field is wrong."""
    if len(payload) < 8 or payload[-8:-4] != "6304":
        raise VietQRError("no CRC field at the end")
    if f"{crc16_ccitt_false(payload[:-4].encode('ascii')):04X}" != payload[-4:].upper():
        raise VietQRError("the CRC does not match")
    top = _fields(payload[:-8])
    if top.get("00") != "01" or top.get("53") != "704" or top.get("58") != "VN":
        raise VietQRError("not a VND payment in Việt Nam")
    merchant = _fields(top.get("38", ""))
    if merchant.get("00") != NAPAS_GUID:
        raise VietQRError("not a NAPAS VietQR")
    beneficiary = _fields(merchant.get("01", ""))
    extra = _fields(top.get("62", ""))
    try:
        amount = int(top.get("54", "0"))
    except ValueError as exc:
        raise VietQRError("the amount is not a number") from exc
    return VietQR(
        bank_bin=beneficiary.get("00", ""), account=beneficiary.get("01", ""), amount=amount,
        reference=extra.get("08", ""),
    )  # fmt: skip
