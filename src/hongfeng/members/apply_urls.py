"""Public recruitment pages (no login): /apply/…"""

from django.urls import path

from hongfeng.members import recruitment_views

app_name = "apply"

urlpatterns = [
    path("", recruitment_views.choose_team, name="choose"),
    path("status/", recruitment_views.lookup, name="status"),
    path("privacy/", recruitment_views.privacy_notice, name="privacy"),
    path("<str:team_id>/", recruitment_views.apply, name="form"),
]
