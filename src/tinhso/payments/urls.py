from django.urls import path

from tinhso.payments import views

app_name = "payments"

urlpatterns = [
    path("thanh-toan/<str:reference>/", views.notice, name="notice"),
    path("thanh-toan/<str:reference>/bien-lai/", views.receipt, name="receipt"),
    path("ho-so-cua-toi/<uuid:public_id>/thanh-toan/", views.pay, name="pay"),
    path("can-bo/thanh-toan/", views.accountant, name="accountant"),
    path("can-bo/thanh-toan/doi-soat/", views.reconcile_view, name="reconcile"),
    path("can-bo/thanh-toan/<str:reference>/hoan-tien/", views.refund, name="refund"),
    path("ngan-hang-mo-phong/", views.simulated_bank, name="bank"),
]
