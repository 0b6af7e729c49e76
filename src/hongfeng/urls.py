"""The project's URLs: home, health, the API, and the page URLs every app registers
(registry.url_includes), each under its own prefix."""

from django.urls import include, path

from hongfeng.api import api
from hongfeng.core import registry
from hongfeng.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico before reading the page's <link rel="icon">.
    path("favicon.ico", core_views.favicon),
    path("api/v1/", api.urls),
    *(path(page.prefix, include(page.module)) for page in registry.url_includes),
]

handler400 = "hongfeng.core.views.bad_request"
handler403 = "hongfeng.core.views.permission_denied"
handler404 = "hongfeng.core.views.page_not_found"
handler500 = "hongfeng.core.views.server_error"
