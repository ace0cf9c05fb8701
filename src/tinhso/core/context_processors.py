from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    """Values every page layout needs (the demo banner shows while TINHSO_DEMO is on)."""
    return {
        "TINHSO_VERSION": __import__("tinhso").__version__,
        "DEBUG": settings.DEBUG,
        "TINHSO_DEMO": settings.TINHSO_DEMO,
    }
