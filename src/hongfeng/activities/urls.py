from django.urls import path

from hongfeng.activities import attendance_views, console_views, risk_views, views

app_name = "activities"

urlpatterns = [
    path("", views.activity_list, name="list"),
    path("new/", console_views.create, name="new"),
    path("attendance/", attendance_views.attendance, name="attendance"),
    path("risk-defaults/", risk_views.risk_defaults, name="risk_defaults"),
    path("<str:activity_id>/", views.detail, name="detail"),
    path("<str:activity_id>/signup/", views.sign_up, name="signup"),
    path("<str:activity_id>/signup/cancel/", views.cancel_sign_up, name="cancel_signup"),
    path("<str:activity_id>/decline/", views.decline, name="decline"),
    path("<str:activity_id>/console/", console_views.console, name="console"),
    path("<str:activity_id>/edit/", console_views.edit, name="edit"),
    path("<str:activity_id>/console/counts/", console_views.counts, name="counts"),
    path("<str:activity_id>/console/qr/", console_views.qr_code, name="qr"),
    path("<str:activity_id>/publish/", console_views.publish, name="publish"),
    path("<str:activity_id>/finish/", console_views.finish, name="finish"),
    path("<str:activity_id>/cancel/", console_views.cancel, name="cancel"),
    path(
        "<str:activity_id>/checkins/<str:checkin_id>/review/",
        console_views.review,
        name="review",
    ),
    path("<str:activity_id>/checkins/manual/", console_views.manual, name="manual"),
    path("<str:activity_id>/ratings/", console_views.rate, name="rate"),
    path("<str:activity_id>/evaluate/", console_views.evaluate, name="evaluate"),
    path("<str:activity_id>/hours/", console_views.correct, name="correct"),
]
