from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductsConfig(AppConfig):
    name = "tinhso.products"
    label = "products"
    verbose_name = _("OCOP products and stamps")

    def ready(self) -> None:
        from tinhso.cases.effects import effect_register
        from tinhso.core.demo import demo_step_register
        from tinhso.core.documents import document_handler
        from tinhso.core.files import file_field_register
        from tinhso.core.indicators import figure_set_register
        from tinhso.core.outbox import outbox_handler
        from tinhso.products import demo, figures
        from tinhso.products.certificate import certificate_issue
        from tinhso.products.photos import PHOTO_CLEAN, photo_clean_stored
        from tinhso.products.services import (
            CERTIFICATE,
            STAMPS_ISSUE,
            certificate_effect,
            stamps_issue_handler,
        )
        from tinhso.products.subject import products_register, workflows_ensure

        products_register()
        effect_register("ocop.certificate", certificate_effect, module="products")
        document_handler(CERTIFICATE)(certificate_issue)
        outbox_handler(STAMPS_ISSUE)(stamps_issue_handler)
        outbox_handler(PHOTO_CLEAN)(photo_clean_stored)
        figure_set_register(figures.FIGURES)
        file_field_register("products.Evidence", "storage_name", ("ocop",))
        file_field_register("products.LabelSheet", "storage_name", ("stamp-labels",))
        file_field_register("products.ProductPhoto", "storage_name", ("products",))
        file_field_register("products.ProductPhoto", "raw_name", ("products-raw",))
        demo_step_register(order=47, name="products.workflows", seed=lambda run: workflows_ensure())
        demo_step_register(order=48, name="products.officials", seed=demo.demo_officials_step)
        demo_step_register(order=96, name="products.catalogue", seed=demo.demo_products_step)
