from django.urls import path

from hongfeng.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.events, name="events"),
    path("<str:event_id>/", views.event_detail, name="event"),
]
