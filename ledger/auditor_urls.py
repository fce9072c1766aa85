"""Auditor endpoints under /api/v1/ledger/; the API gateway will take over their authentication."""

from django.urls import path

from ledger import views

app_name = "ledger-auditor"

urlpatterns = [
    path("entries/<int:index>", views.entry, name="entry"),
    path("proof/inclusion", views.inclusion, name="inclusion"),
]
