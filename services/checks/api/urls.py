from django.urls import path

from services.checks.api import views

urlpatterns = [path("checks", views.ChecksView.as_view(), name="api-checks")]
