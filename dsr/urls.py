from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from dsr.exports.views import download_page

urlpatterns = [
    path("api/v1/", include("dsr.api.urls")),
    path("dashboard/", include("dsr.dashboard.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("requests/<uuid:request_id>/download", download_page, name="download-page"),
    path(
        "api/docs/",
        SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html"),
        name="api-docs",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("dsr.ops.urls")),  # /healthz, /readyz, /metrics
    path("", include("dsr.tasks.urls")),
    path("", include("dsr.portal.urls")),
]

# The Django admin: behind the second factor (an OTPAdminSite, dsr/staff/apps.py), and off in
# production unless DSR_ADMIN_ENABLED turns it on.
if settings.DSR_ADMIN_ENABLED:
    urlpatterns.insert(0, path("admin/", admin.site.urls))
