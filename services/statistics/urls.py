from django.urls import path

from services.statistics import views

app_name = "statistics"

urlpatterns = [
    path("", views.statistics_page, name="page"),
    path("releases.json", views.releases_json, name="releases-json"),
]
