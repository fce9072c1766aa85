"""The bare signed-in page the dashboard is measured against (bench/http_bench.py). Never deploy this.

It runs every middleware the portal runs and renders the site's base template,
but reads nothing of the resident's: what the dashboard costs beyond it is the
dashboard's own work.
"""

from django.contrib.auth.decorators import login_required
from django.template.response import TemplateResponse
from django.urls import include, path


@login_required
def bare_page(request):
    return TemplateResponse(request, "base.html", {})


urlpatterns = [path("bench/bare/", bare_page), path("", include("portal.urls"))]
