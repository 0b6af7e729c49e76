from django.urls import path

from hongfeng.honours import views

app_name = "honours"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("certificates/<str:certificate_id>.pdf", views.certificate_pdf, name="pdf"),
    path("desk/", views.desk, name="desk"),
    path("violations/", views.violations, name="violations"),
    path("proposals/<str:proposal_id>/decide", views.decide, name="decide"),
]
