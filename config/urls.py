"""The URL tree: the core's routes, and each app's pages under
``/t/<tenant_slug>/`` and its API under ``/api/v1/``."""

from django.urls import URLPattern, URLResolver, include, path

from catalog import api as catalog_api
from kb import api as kb_api
from servicedesk import urls as core
from servicedesk.search import api as search_api
from slo import api as slo_api
from tickets import api as tickets_api
from tickets import desk, portal

tenant_patterns: list[URLPattern | URLResolver] = [
    *core.tenant_patterns,
    # The two areas' front pages keep their short names: every layout links them.
    path("portal/", portal.home, name="portal"),
    path("desk/", desk.queue, name="desk"),
    path("", include("tickets.urls")),
    path("", include("slo.urls")),
    path("", include("catalog.urls")),
    path("", include("kb.urls")),
]

urlpatterns: list[URLPattern | URLResolver] = [
    *core.urlpatterns,
    path("t/<slug:tenant_slug>/", include(tenant_patterns)),
    path("api/v1/", include(tickets_api.router.urls)),
    path("api/v1/", include(slo_api.router.urls)),
    path("api/v1/", include(catalog_api.router.urls)),
    path("api/v1/", include(kb_api.router.urls)),
    path("api/v1/search/", search_api.SearchView.as_view(), name="api-search"),
]

# Every uncaught exception; a database that cannot be reached answers 503.
handler500 = "servicedesk.views.server_error"
