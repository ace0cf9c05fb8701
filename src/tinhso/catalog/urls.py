from django.urls import path

from tinhso.catalog import views
from tinhso.dossiers import views as dossier_views

app_name = "catalog"

urlpatterns = [
    path("", views.search, name="search"),
    path("<str:code>/", views.detail, name="detail"),
    path("<str:code>/to-khai/", views.blank_form, name="blank_form"),
    path("<str:code>/nop-ho-so/", dossier_views.submit, name="submit"),
]
