from django.urls import path

from hongfeng.points import views

app_name = "points"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("ranking/", views.ranking, name="ranking"),
]
