from django.urls import path

from hongfeng.notices import views

app_name = "notices"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("read-all/", views.read_all, name="read_all"),
    path("<str:notice_id>/read/", views.read, name="read"),
]
