from django.urls import path

from hongfeng.points import rule_views, views

app_name = "points"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("ranking/", views.ranking, name="ranking"),
    path("ratings/<str:run_id>/", views.rating_run, name="rating"),
    path("rules/", rule_views.rules_page, name="rules"),
]
