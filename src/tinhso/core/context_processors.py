import functools

from django.conf import settings
from django.http import HttpRequest


@functools.cache
def _province_name(code: int) -> str:
    from vietnam_provinces import Province, ProvinceCode

    try:
        province = Province.from_code(ProvinceCode(code))
    except ValueError:
        return ""
    # "tỉnh Thanh Hóa"; the centrally run cities carry "Thành phố" in their name already.
    name = str(province.name)
    return name if name.lower().startswith("thành phố") else f"tỉnh {name}"


def province_name() -> str:
    """The province the installation serves, as written after "Dịch vụ công": "tỉnh Thanh
    Hóa" (TINHSO_PROVINCE_NAME, else from its official code TINHSO_PROVINCE_CODE)."""
    return settings.TINHSO_PROVINCE_NAME or _province_name(settings.TINHSO_PROVINCE_CODE)


def province_place() -> str:
    """The province as a paper's place and date line names it: "Thanh Hóa"."""
    name = province_name()
    return name[5:] if name.lower().startswith("tỉnh ") else name


def portal_identity() -> dict[str, str]:
    """The installation's identity (settings TINHSO_PROVINCE_*, TINHSO_PORTAL_*): the
    province's name as written after "Dịch vụ công" (from its official code unless set:
    "tỉnh Thanh Hóa"), the responsible agency, address,
    hotline, e-mail and logo."""
    province = province_name()
    return {
        "province": province,
        "agency": settings.TINHSO_PORTAL_AGENCY
        or (f"Văn phòng Ủy ban nhân dân {province}" if province else ""),
        "address": settings.TINHSO_PORTAL_ADDRESS,
        "hotline": settings.TINHSO_PORTAL_HOTLINE,
        "email": settings.TINHSO_PORTAL_EMAIL,
        "logo": settings.TINHSO_PORTAL_LOGO,
    }


def site(request: HttpRequest) -> dict[str, object]:
    """Values every page layout needs (the demo banner shows while TINHSO_DEMO is on)."""
    return {
        "TINHSO_VERSION": __import__("tinhso").__version__,
        "DEBUG": settings.DEBUG,
        "TINHSO_DEMO": settings.TINHSO_DEMO,
        "PORTAL": portal_identity(),
    }
