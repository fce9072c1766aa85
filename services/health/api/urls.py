from django.urls import path

from services.health.api import views

urlpatterns = [
    path("health/coverage", views.CoverageView.as_view(), name="api-health-coverage"),
    path("health/visits", views.VisitRecordView.as_view(), name="api-health-visits"),
    path("health/visits/query", views.VisitQueryView.as_view(), name="api-health-visits-query"),
    path("health/prescriptions", views.PrescriptionIssueView.as_view(), name="api-health-prescriptions"),
]
