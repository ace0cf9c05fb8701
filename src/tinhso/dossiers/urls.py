from django.urls import path

from tinhso.dossiers import official_views, views

app_name = "dossiers"

urlpatterns = [
    # Under the procedure's page (/thu-tuc/<code>/), served by the module that owns dossiers.
    path("thu-tuc/<str:code>/nop-ho-so/", views.submit, name="submit"),
    path("ho-so-cua-toi/", views.mine, name="mine"),
    path("ho-so-cua-toi/<uuid:public_id>/", views.mine_detail, name="mine_detail"),
    path("ho-so-cua-toi/<uuid:public_id>/danh-gia/", views.mine_rate, name="mine_rate"),
    path("tra-cuu-ho-so/", views.track, name="track"),
    path("can-bo/ho-so/", official_views.inbox_view, name="inbox"),
    path("can-bo/ho-so/<str:code>/", official_views.dossier_view, name="official_dossier"),
    path("can-bo/ho-so/<str:code>/thao-tac/", official_views.act_view, name="act"),
    path("can-bo/ho-so/<str:code>/tep/<int:file_id>/", official_views.file_view, name="file"),
    path(
        "can-bo/ho-so/<str:code>/bieu-mau/<int:document_id>/",
        official_views.document_view,
        name="document",
    ),
    path("can-bo/ho-so/<str:code>/bm05/", official_views.control_sheet_view, name="bm05"),
    path("can-bo/ho-so/<str:code>/gia-han/", official_views.extend_view, name="extend"),
    path("can-bo/so-theo-doi/", official_views.register_view, name="register"),
    path("can-bo/tiep-nhan-truc-tiep/", official_views.counter_view, name="counter"),
    path(
        "ho-so-cua-toi/<uuid:public_id>/bieu-mau/<int:document_id>/",
        views.mine_document,
        name="mine_document",
    ),
]
