from django.urls import path

from cards import views

app_name = "cards"

urlpatterns = [
    path(".well-known/jwks.json", views.jwks, name="jwks"),
    path("cards/status", views.status_list, name="status-list"),
]
