from django.urls import path

from services.social_security.api import views

urlpatterns = [
    path("social-security/employments", views.EmploymentReportView.as_view(), name="api-ss-employments"),
    path("social-security/contributions", views.ContributionReportView.as_view(), name="api-ss-contributions"),
    path("social-security/statement", views.StatementView.as_view(), name="api-ss-statement"),
    path("social-security/claims/query", views.ClaimQueryView.as_view(), name="api-ss-claims-query"),
]
