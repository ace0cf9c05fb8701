from django.urls import path

from tinhso.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.search, name="search"),
    path("<str:code>/", views.detail, name="detail"),
    path("<str:code>/to-khai/", views.blank_form, name="blank_form"),
]
