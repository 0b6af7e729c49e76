from django.urls import path

from hongfeng.honours import rules_views, views

app_name = "honours"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("certificates/<str:certificate_id>.pdf", views.certificate_pdf, name="pdf"),
    path("desk/", views.desk, name="desk"),
    path("titles/<str:title_id>/retire", rules_views.retire_title, name="retire_title"),
    path("violations/", views.violations, name="violations"),
    path("violation-rule/", rules_views.violation_rule, name="violation_rule"),
    path("proposals/<str:proposal_id>/decide", views.decide, name="decide"),
]
