from django.urls import path, re_path

from tinhso.products import views

app_name = "products"

urlpatterns = [
    path("ocop/", views.catalogue, name="catalogue"),
    path("ocop/san-pham/<int:pk>/", views.product_detail, name="product"),
    path("ocop/anh/<uuid:public_id>/", views.photo, name="photo"),
    path("ocop/co-so/", views.producer_home, name="producer-home"),
    path("ocop/co-so/dang-ky/", views.producer_new, name="producer-new"),
    path("ocop/co-so/san-pham/moi/", views.product_new, name="product-new"),
    path("ocop/co-so/san-pham/<int:pk>/dang-ky-ocop/", views.application_new, name="apply"),
    path("ocop/co-so/san-pham/<int:pk>/dat-tem/", views.order_new, name="order"),
    path("ocop/co-so/tem/<str:code>/", views.batch_detail, name="batch"),
    path("ocop/co-so/tem/<str:code>/nhan-<int:part>.pdf", views.sheet_download, name="sheet"),
    path("ocop/co-so/tem/<str:code>/tem.csv", views.batch_csv, name="batch-csv"),
    path("ocop/ho-so/<str:code>/", views.application_detail, name="application"),
    path("ocop/ho-so/<str:code>/tep/<uuid:public_id>/", views.evidence_download, name="evidence"),
    path("can-bo/ocop/", views.council_inbox, name="council-inbox"),
    path("can-bo/tem/", views.signal_list, name="signals"),
    path("can-bo/tem/<str:code>/", views.signal_detail, name="signal"),
    # GS1 Digital Link: /01/{gtin}[/10/{lot}][/21/{serial}] (the resolver parses the rest).
    re_path(r"^01/(?P<rest>.*)$", views.resolve, name="resolve"),
]
