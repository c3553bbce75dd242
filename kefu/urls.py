from django.contrib import admin
from django.urls import include, path

from kefu.accounts.views import admin_login, home
from kefu.api.urls import api
from kefu.lib import health

urlpatterns = [
    path("", home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/", include("kefu.accounts.urls")),
    path("tickets/", include("kefu.tickets.urls")),
    path("portal/", include("kefu.portal.urls")),
    path("customers/", include("kefu.customers.urls")),
    path("intake/", include("kefu.intake.urls")),
    path("sla/", include("kefu.sla.urls")),
    path("routing/", include("kefu.routing.urls")),
    path("automation/", include("kefu.automation.urls")),
    path("triage/", include("kefu.triage.urls")),
    # Erasure is its own app (above the apps it erases from); its pages keep their addresses.
    path("audit/privacy/", include("kefu.privacy.urls")),
    path("audit/", include("kefu.audit.urls")),
    path("notifications/", include("kefu.notifications.urls")),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # Before admin.site.urls: the admin's own login form has no throttle.
    path("admin/login/", admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
]

handler404 = "kefu.lib.health.not_found"
