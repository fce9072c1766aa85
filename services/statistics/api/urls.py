from django.urls import path

from services.statistics.api import views

urlpatterns = [path("statistics/releases", views.ReleasePublishView.as_view(), name="api-statistics-releases")]
