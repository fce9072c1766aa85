from django.urls import path

from services.pharmacy.api import views

urlpatterns = [
    path("pharmacy/sessions", views.SessionOpenView.as_view(), name="api-pharmacy-sessions"),
    path(
        "pharmacy/sessions/<uuid:session_id>/holder",
        views.SessionHolderView.as_view(),
        name="api-pharmacy-session-holder",
    ),
    path(
        "pharmacy/sessions/<uuid:session_id>/photo", views.SessionPhotoView.as_view(), name="api-pharmacy-session-photo"
    ),
    path("pharmacy/dispensations", views.DispensationCreateView.as_view(), name="api-pharmacy-dispensations"),
    path(
        "pharmacy/otc-dispensations", views.OtcDispensationCreateView.as_view(), name="api-pharmacy-otc-dispensations"
    ),
]
