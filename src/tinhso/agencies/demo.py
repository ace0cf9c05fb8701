"""The agencies' part of the demo province (core.demo): the province of
TINHSO_PROVINCE_CODE with its departments and communes."""

from __future__ import annotations

from django.conf import settings

from tinhso.agencies.models import Agency
from tinhso.agencies.services import province_seed
from tinhso.core.demo import DemoRun


def demo_province_step(run: DemoRun) -> None:
    run.agencies_created += province_seed(province_code=settings.TINHSO_PROVINCE_CODE).created


def demo_boundaries_step(run: DemoRun) -> None:
    """The communes' and the province's boundaries shipped with the platform (agencies/data:
    Thanh Hóa's), for finding the commune of a reported place and drawing the map."""
    from tinhso.agencies.boundaries import boundaries_load_bundled

    boundaries_load_bundled(settings.TINHSO_PROVINCE_CODE)


def demo_province_loaded() -> bool:
    """Any agency means the database holds data: `seed_demo --if-empty` leaves it alone."""
    return Agency.objects.exists()
