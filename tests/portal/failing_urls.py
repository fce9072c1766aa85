"""A urlconf with an endpoint that fails, to see what a 500 looks like."""

from django.urls import include, path

from services.core.api.base import GatewayAPIView


class FailingView(GatewayAPIView):
    def get(self, request):
        raise RuntimeError("secret internal detail")


urlpatterns = [
    path("api/v1/fail", FailingView.as_view()),
    path("api/", include("portal.api.urls")),
]
