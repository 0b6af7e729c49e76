"""Public pages (no login): the monthly 公示 and its workbook — /public/…"""

from django.urls import path

from hongfeng.activities import attendance_views

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
]
