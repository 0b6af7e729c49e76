from django.urls import path

from hongfeng.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.events, name="events"),
    path("verify/", views.verify, name="verify"),
    path("verify/<str:verification_id>/", views.verification_status, name="verification"),
    path("<str:event_id>/", views.event_detail, name="event"),
]
