from django.contrib import admin

from tinhso.documents.models import Register, Unit


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin[Unit]):
    list_display = ("code", "name", "agency")
    search_fields = ("code", "name")
    autocomplete_fields = ("agency",)
    filter_horizontal = ("members",)


@admin.register(Register)
class RegisterAdmin(admin.ModelAdmin[Register]):
    """A register's numbers are the numbering's: only its name and the types it numbers
    are kept here (a decisions' register apart from the default one)."""

    list_display = ("name", "agency", "direction", "is_default")
    list_filter = ("direction",)
    fields = ("agency", "direction", "name", "doc_types", "is_default")
    autocomplete_fields = ("agency",)
