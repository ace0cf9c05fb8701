from django.urls import path

from tinhso.accounts import views

app_name = "accounts"

urlpatterns = [
    path("dang-nhap/", views.login_view, name="login"),
    path("dang-nhap/ma-xac-thuc/", views.login_otp_view, name="login_otp"),
    path("dang-nhap/dinh-danh-dien-tu/", views.eid_demo_view, name="eid_demo"),
    path("dang-nhap/oidc/", views.oidc_start_view, name="oidc_start"),
    path("dang-nhap/oidc/callback/", views.oidc_callback_view, name="oidc_callback"),
    path("dang-xuat/", views.logout_view, name="logout"),
    path("tai-khoan/", views.account_view, name="account"),
    path("tai-khoan/xac-thuc-hai-buoc/", views.totp_enrol_view, name="totp_enrol"),
    path("tai-khoan/ma-truy-cap/", views.token_create_view, name="token_create"),
    path(
        "tai-khoan/ma-truy-cap/<int:token_id>/thu-hoi/",
        views.token_revoke_view,
        name="token_revoke",
    ),
    path("can-bo/tra-cuu-cong-dan/", views.citizen_lookup_view, name="citizen_lookup"),
]
