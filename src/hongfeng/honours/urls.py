from django.urls import path

from hongfeng.honours import desk_views, rules_views, views

app_name = "honours"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("statement", views.issue_my_statement, name="my_statement"),
    path(
        "grants/<str:grant_id>/certificate",
        views.issue_my_honour_certificate,
        name="my_honour_certificate",
    ),
    path("certificates/<str:certificate_id>.pdf", views.certificate_pdf, name="pdf"),
    # the desk: one page, one view per action posted from it
    path("desk/", desk_views.desk, name="desk"),
    path("desk/grant", desk_views.grant_honour, name="grant"),
    path("desk/statement", desk_views.issue_statement, name="issue_statement"),
    path("desk/titles", desk_views.create_title, name="create_title"),
    path("desk/grant-by-rule", desk_views.grant_by_rule, name="grant_by_rule"),
    path(
        "desk/grants/<str:grant_id>/certificate",
        desk_views.issue_honour_certificate,
        name="issue_honour_certificate",
    ),
    path(
        "desk/certificates/<str:certificate_id>/revoke",
        desk_views.revoke_certificate,
        name="revoke_certificate",
    ),
    path("titles/<str:title_id>/retire", rules_views.retire_title, name="retire_title"),
    path("violations/", views.violations, name="violations"),
    path("violation-rule/", rules_views.violation_rule, name="violation_rule"),
    path("proposals/<str:proposal_id>/decide", views.decide, name="decide"),
]
