from django.urls import path

from services.pharmacy import views

app_name = "pharmacy"

urlpatterns = [
    path("pharmacy/counter/", views.counter, name="counter"),
]
