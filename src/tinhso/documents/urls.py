from django.urls import path

from tinhso.documents import views

app_name = "documents"

urlpatterns = [
    path("can-bo/van-ban/", views.home, name="home"),
    path("can-bo/van-ban/soan/", views.draft_new, name="draft"),
    path("can-bo/van-ban/di/<int:pk>/", views.outgoing_detail, name="outgoing"),
    path("can-bo/van-ban/di/<int:pk>/sua/", views.draft_edit, name="edit"),
    path("can-bo/van-ban/di/<int:pk>/xu-ly/", views.outgoing_act, name="outgoing-act"),
    path("can-bo/van-ban/di/<int:pk>/ban-ky/", views.outgoing_signed, name="outgoing-signed"),
    path("can-bo/van-ban/di/<int:pk>/thu-hoi/", views.outgoing_recall, name="outgoing-recall"),
    path("can-bo/van-ban/den/them/", views.incoming_upload, name="upload"),
    path("can-bo/van-ban/den/<int:pk>/", views.incoming_detail, name="incoming"),
    path("can-bo/van-ban/den/<int:pk>/xu-ly/", views.incoming_act, name="incoming-act"),
    path("can-bo/van-ban/den/<int:pk>/thu-hoi/", views.incoming_recall, name="incoming-recall"),
    path("can-bo/van-ban/tep/<int:pk>/", views.attachment_download, name="attachment"),
]
