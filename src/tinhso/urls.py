from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, reverse
from django.views.i18n import set_language

from tinhso import views
from tinhso.api import api
from tinhso.core import views as core_views

admin.site.site_header = "Tỉnh Số"
admin.site.site_title = "Tỉnh Số"


def _admin_login(request: HttpRequest, extra_context: object = None) -> HttpResponse:
    # The admin signs in through the platform's own sign-in, so the lock-out and the second
    # factor apply there too.
    return redirect_to_login(
        request.GET.get("next", reverse("admin:index")), reverse("accounts:login")
    )


admin.site.login = _admin_login  # type: ignore[method-assign]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("manifest.webmanifest", views.web_manifest, name="web-manifest"),
    path("sw.js", views.service_worker, name="service-worker"),
    path("ngoai-tuyen/", views.offline, name="offline"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/v1/", api.urls),
    path("co-quan/", include("tinhso.agencies.urls")),
    path("thu-tuc/", include("tinhso.catalog.urls")),
    path("", include("tinhso.opendata.urls")),
    path("", include("tinhso.signing.urls")),
    path("", include("tinhso.payments.urls")),
    path("", include("tinhso.dossiers.urls")),
    path("", include("tinhso.feedback.urls")),
    path("", include("tinhso.products.urls")),
    path("", include("tinhso.documents.urls")),
    path("", include("tinhso.accounts.urls")),
    path("quan-tri/", admin.site.urls),
]
