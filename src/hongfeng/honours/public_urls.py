"""Public certificate verification (no login) — /verify/<serial>/?h=<mac>."""

from django.urls import path

from hongfeng.honours import views

app_name = "verify"

urlpatterns = [path("<str:serial>/", views.verify, name="certificate")]
