from django.urls import path

from tinhso.dossiers import views

app_name = "dossiers"

urlpatterns = [
    path("ho-so-cua-toi/", views.mine, name="mine"),
    path("ho-so-cua-toi/<uuid:public_id>/", views.mine_detail, name="mine_detail"),
    path("tra-cuu-ho-so/", views.track, name="track"),
]
