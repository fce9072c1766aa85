"""The log as C2SP tlog-tiles, mounted at /log/ (docs/ledger.md)."""

from django.urls import path

from ledger import views

app_name = "log"

urlpatterns = [
    path("checkpoint", views.log_checkpoint, name="checkpoint"),
    path("tile/<path:path>", views.log_tile, name="tile"),
]
