from django.urls import path

from ledger import views

app_name = "ledger"

urlpatterns = [
    path("checkpoint", views.checkpoint, name="checkpoint"),
    path("key", views.key, name="key"),
    path("proof/consistency", views.consistency, name="consistency"),
    path("cosignature", views.cosignature, name="cosignature"),
]
