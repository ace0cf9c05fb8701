from django.urls import path, re_path

from tinhso.feedback import open311, views

app_name = "feedback"

FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    path("phan-anh/", views.report_list, name="list"),
    path("phan-anh/gui/", views.report_new, name="new"),
    path("phan-anh/anh/<uuid:public_id>/", views.photo, name="photo"),
    path("phan-anh/<str:code>/", views.report_detail, name="detail"),
    path("can-bo/phan-anh/", views.official_inbox, name="inbox"),
    path("can-bo/phan-anh/<str:code>/", views.official_report, name="official-report"),
    # Open311 GeoReport v2.
    re_path(r"^open311/v2/discovery" + FMT, open311.discovery, name="open311-discovery"),
    re_path(r"^open311/v2/services" + FMT, open311.services, name="open311-services"),
    re_path(
        r"^open311/v2/services/(?P<code>[\w-]{1,64})" + FMT,
        open311.service_definition,
        name="open311-service",
    ),
    re_path(r"^open311/v2/requests" + FMT, open311.requests_view, name="open311-requests"),
    re_path(
        r"^open311/v2/requests/(?P<code>[\w-]{1,64})" + FMT,
        open311.request_one,
        name="open311-request",
    ),
    re_path(
        r"^open311/v2/tokens/(?P<token_id>[\w-]{1,64})" + FMT, open311.token, name="open311-token"
    ),
]
