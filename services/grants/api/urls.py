from django.urls import path

from services.grants.api import views

urlpatterns = [
    path("grants/eligibility", views.EligibilityView.as_view(), name="api-grants-eligibility"),
    path("grants/disbursements", views.DisbursementListView.as_view(), name="api-grants-disbursements"),
    path(
        "grants/disbursements/<uuid:reference>/confirmation",
        views.DisbursementConfirmView.as_view(),
        name="api-grants-disbursement-confirm",
    ),
]
