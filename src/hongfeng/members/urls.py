from django.urls import path

from hongfeng.members import recruitment_views, roster_views, views

app_name = "members"

urlpatterns = [
    path("", views.member_list, name="list"),
    path("new/", views.register, name="register"),
    path("me/", views.my_profile, name="me"),
    path("applications/", recruitment_views.queue, name="applications"),
    path("applications/<str:application_id>/", recruitment_views.review, name="review"),
    path("charter/<str:team_id>/", recruitment_views.charter, name="charter"),
    path("roster/", roster_views.upload, name="roster_upload"),
    path("roster/template.xlsx", roster_views.template, name="roster_template"),
    path("roster/export.xlsx", roster_views.export, name="roster_export"),
    path("roster/<str:import_id>/", roster_views.import_detail, name="roster_import"),
    path("roster/<str:import_id>/confirm/", roster_views.confirm, name="roster_confirm"),
    path("roster/<str:import_id>/report.xlsx", roster_views.report, name="roster_report"),
    path("<str:member_id>/", views.member_file, name="file"),
    path("<str:member_id>/edit/", views.edit, name="edit"),
    path("<str:member_id>/file.pdf", views.file_pdf, name="file_pdf"),
    path("<str:member_id>/photo.jpg", views.photo, name="photo"),
    path("<str:member_id>/photo/", views.upload_photo, name="upload_photo"),
    path("<str:member_id>/move/", views.move, name="move"),
    path("<str:member_id>/partner/", views.partner, name="partner"),
    path(
        "<str:member_id>/certificates/<str:certificate_id>/remove/",
        views.remove_certificate,
        name="remove_certificate",
    ),
    path("<str:member_id>/status/", views.change_status, name="status"),
    path("<str:member_id>/pre-job-training/", views.pre_job_training, name="pre_job_training"),
    path("<str:member_id>/reveal/", views.reveal, name="reveal"),
    path(
        "<str:member_id>/equipment/<str:issue_id>/return/",
        views.return_equipment,
        name="return_equipment",
    ),
    path("<str:member_id>/<slug:kind>/new/", views.add_record, name="add_record"),
]
