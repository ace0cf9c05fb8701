from django.contrib import admin

from tinhso.products.models import Batch, Certificate, Producer, Product, Signal


@admin.register(Producer)
class ProducerAdmin(admin.ModelAdmin[Producer]):
    list_display = ("name", "kind", "commune", "order_limit", "year_limit")
    list_filter = ("kind",)
    search_fields = ("name_folded", "tax_code")
    # Never the address, tax code or ID: a household's address is its head's home.
    fields = ("name", "kind", "commune", "order_limit", "year_limit")
    readonly_fields = ("name", "kind", "commune")

    def has_add_permission(self, request: object) -> bool:
        return False  # producers register themselves (their tax code or the registry's ID)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin[Product]):
    list_display = ("name", "producer", "group", "gtin", "certificate")
    list_filter = ("group",)
    search_fields = ("name_folded", "gtin")
    readonly_fields = ("producer", "gtin", "gtin_assigned", "certificate")


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin[Certificate]):
    list_display = ("number", "product", "stars", "issued_on", "valid_until")
    readonly_fields = ("number", "application", "product", "agency", "stars", "total",
                       "issued_on", "valid_until", "signer", "signed", "issuing")  # fmt: skip


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin[Batch]):
    list_display = ("code", "product", "lot", "quantity", "issued", "state")
    list_filter = ("state",)
    readonly_fields = ("code", "product", "producer", "lot", "produced_on", "expires_on",
                       "place", "quantity", "issued", "state", "ordered_by", "ordered_at",
                       "issued_at")  # fmt: skip


@admin.register(Signal)
class SignalAdmin(admin.ModelAdmin[Signal]):
    list_display = ("code", "kind", "product", "status", "raised_at")
    list_filter = ("kind", "status")
    readonly_fields = ("code", "kind", "key", "product", "batch", "stamp", "serial", "facts",
                       "latitude", "longitude", "commune", "agency", "raised_at", "status",
                       "state", "conclusion")  # fmt: skip
