from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from tinhso.opendata.models import Activity, Dataset, Publisher, Resource, Theme


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin[Theme]):
    list_display = ["title", "name", "eu_theme"]


@admin.register(Publisher)
class PublisherAdmin(admin.ModelAdmin[Publisher]):
    list_display = ["name", "agency"]
    raw_id_fields = ["agency"]


class ResourceInline(admin.TabularInline[Resource, Dataset]):
    model = Resource
    fields = ["name", "format", "size", "url", "download_count"]
    extra = 0
    # A link typed without a scheme is an https one, as on the publishers' pages.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request: HttpRequest, obj: Dataset | None = None) -> bool:
        return False


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin[Dataset]):
    """Read-mostly: datasets change through the API or the services, which validate,
    keep the search text and write the activity and audit rows."""

    list_display = ["title", "name", "publisher", "private", "metadata_modified"]
    list_filter = ["private", "themes"]
    search_fields = ["name", "title"]
    inlines = [ResourceInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Dataset | None = None) -> bool:
        return False


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin[Activity]):
    list_display = ["at", "dataset", "kind", "actor"]
    readonly_fields = ["dataset", "at", "kind", "note", "actor"]
