from django.urls import path

from hongfeng.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("activate/", views.activate, name="activate"),
    path("activate/code/", views.activation_request, name="activation_request"),
    path("me/", views.me, name="me"),
    path("me/password/", views.password_change, name="password_change"),
    path("me/tokens/<str:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("roles/", views.roles, name="roles"),
    path("roles/grant/", views.grant, name="grant"),
    path("roles/<str:assignment_id>/revoke/", views.role_revoke, name="role_revoke"),
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/<str:user_id>/", views.account_detail, name="account"),
    path("accounts/<str:user_id>/<slug:action>/", views.account_action, name="account_action"),
]
