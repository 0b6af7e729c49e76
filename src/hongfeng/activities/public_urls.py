"""Public pages (no login): the monthly 公示 and its workbook, published star ratings —
/public/…"""

from django.urls import path

from hongfeng.activities import attendance_views
from hongfeng.points import views as points_views

app_name = "public"

urlpatterns = [
    path(
        "attendance/<uuid:public_id>/",
        attendance_views.public_attendance,
        name="attendance",
    ),
    path(
        "attendance/<uuid:public_id>.xlsx",
        attendance_views.public_attendance_xlsx,
        name="attendance_xlsx",
    ),
    path("ratings/<str:run_id>/", points_views.public_rating, name="rating"),
]
