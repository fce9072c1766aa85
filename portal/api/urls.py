"""The partner API gateway: every service in the catalogue that has an API is mounted under /api/v1/."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularSwaggerSplitView

from portal.api import views
from services.core.catalogue import services_all

urlpatterns = [path("v1/", include(service.api_urls)) for service in services_all() if service.api_urls] + [
    path("schema/", views.SchemaView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("problems/<slug:slug>", views.problem_type, name="api-problem-type"),
    re_path(r"^.*$", views.api_not_found),
]
