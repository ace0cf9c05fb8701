from django.urls import path

from tinhso.signing import views

app_name = "signing"

urlpatterns = [
    path("xac-thuc/", views.verify_upload, name="verify"),
    path("xac-thuc/<str:public_id>/", views.verify_document, name="document"),
    path("pki/<str:slug>.crl", views.crl, name="crl"),
    path("pki/<str:slug>.crt", views.ca_certificate, name="ca_certificate"),
]
