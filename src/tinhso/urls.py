from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from tinhso.api import api
from tinhso.core import views as core_views

admin.site.site_header = "Tỉnh Số"
admin.site.site_title = "Tỉnh Số"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/v1/", api.urls),
    path("co-quan/", include("tinhso.agencies.urls")),
    path("", include("tinhso.accounts.urls")),
    path("quan-tri/", admin.site.urls),
]
