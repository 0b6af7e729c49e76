from django.urls import include, path

from hongfeng.api import api
from hongfeng.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico before reading the page's <link rel="icon">.
    path("favicon.ico", core_views.favicon),
    path("api/v1/", api.urls),
    path("", include("hongfeng.accounts.urls")),
    path("orgs/", include("hongfeng.orgs.urls")),
    path("audit/", include("hongfeng.audit.urls")),
    path("members/", include("hongfeng.members.urls")),
    path("points/", include("hongfeng.points.urls")),
    path("redemption/", include("hongfeng.redemption.urls")),
    path("apply/", include("hongfeng.members.apply_urls")),
    path("activities/", include("hongfeng.activities.urls")),
    path("inbox/", include("hongfeng.notices.urls")),
    path("honours/", include("hongfeng.honours.urls")),
    # Public certificate verification (no login): the QR code on every certificate opens it.
    path("verify/", include("hongfeng.honours.public_urls")),
    # Public pages (no login): the monthly 公示.
    path("public/", include("hongfeng.activities.public_urls")),
]

handler400 = "hongfeng.core.views.bad_request"
handler403 = "hongfeng.core.views.permission_denied"
handler404 = "hongfeng.core.views.page_not_found"
handler500 = "hongfeng.core.views.server_error"
