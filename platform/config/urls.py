"""Root URLs: pages, admin, the OpenAPI document and its viewers, and the API under /api/v1/."""

from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from api.problems import page_not_found
from api.views import guard_declared
from web import catalogue as web_catalogue
from web import views as web_views

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("sensors.api.urls")),
    path("", include("datasets.api.urls")),
    path("", include("purposes.api.urls")),
]

# The API viewers inject inline styles (Redoc also runs its search in a blob: worker); their scripts are
# files (the Swagger UI's set-up script too, through the split view), so script-src stays 'self'.
docs_csp = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})

urlpatterns = [
    path("", web_views.home, name="home"),
    path("register/", web_views.register, name="register"),
    path("register/sensors/<int:pk>/", web_views.register_sensor, name="register-sensor"),
    path("dashboard/", web_views.dashboard, name="dashboard"),
    path("catalogue/", web_catalogue.catalogue, name="catalogue"),
    path("catalogue/<int:pk>/", web_catalogue.catalogue_dataset, name="catalogue-dataset"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/",
        docs_csp(SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="web/api_swagger.html")),
        name="swagger-ui",
    ),
    path(
        "api/redoc/",
        docs_csp(SpectacularRedocView.as_view(url_name="schema", template_name="web/api_redoc.html")),
        name="redoc",
    ),
    path("api/v1/", include(api_v1)),
    # Unknown API paths answer problem+json even with DEBUG on (Django's debug 404 is HTML), whatever the
    # method: exempt from CSRF, which would otherwise refuse a POST to it with an HTML 403 first.
    re_path(r"^api/", guard_declared("public", "answers 404 problem+json; reads nothing")(csrf_exempt(page_not_found))),
]

handler400 = "api.problems.bad_request"
handler403 = "api.problems.permission_denied"
handler404 = "api.problems.page_not_found"
handler500 = "api.problems.server_error"
