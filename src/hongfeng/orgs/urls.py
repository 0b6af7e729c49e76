from django.urls import path

from hongfeng.orgs import views

app_name = "orgs"

urlpatterns = [
    path("", views.tree, name="tree"),
    path("units/", views.units, name="units"),
    path("new/", views.unit_create, name="unit_create"),
    path("<str:unit_id>/", views.unit_detail, name="unit"),
    path("<str:unit_id>/children/", views.children, name="children"),
    path("<str:unit_id>/edit/", views.unit_edit, name="unit_edit"),
    path("<str:unit_id>/move/", views.unit_move, name="unit_move"),
    path("<str:unit_id>/onboard/", views.onboard, name="onboard"),
    path("<str:unit_id>/<str:action>/", views.unit_archive, name="unit_archive"),
]
