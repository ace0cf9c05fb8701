from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgenciesConfig(AppConfig):
    name = "tinhso.agencies"
    label = "agencies"
    verbose_name = _("Agencies")

    def ready(self) -> None:
        from tinhso.agencies.demo import (
            demo_boundaries_step,
            demo_province_loaded,
            demo_province_step,
        )
        from tinhso.core.demo import demo_step_register

        demo_step_register(
            order=10, name="agencies.province", seed=demo_province_step,
            loaded=demo_province_loaded,
        )  # fmt: skip
        demo_step_register(order=11, name="agencies.boundaries", seed=demo_boundaries_step)
