from django.contrib import admin
from django.urls import include, path

from portal import health, views
from portal.admin_site import OneCardAdminSite

# No admin page opens without a verified OTP device (portal/admin_site.py).
admin.site.__class__ = OneCardAdminSite
admin.site.site_header = "OneCard staff"
admin.site.site_title = "OneCard staff"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("ledger/", include("ledger.urls")),
    path("log/", include("ledger.log_urls")),
    path("api/", include("portal.api.urls")),
    path("statistics/", include("services.statistics.urls")),
    path("", include("cards.urls")),
    path("", include("services.pharmacy.urls")),
    path("", include("portal.web.urls")),
]

handler400 = "portal.api.views.handler400"
handler403 = "portal.api.views.handler403"
handler404 = "portal.api.views.handler404"
handler500 = "portal.api.views.handler500"
