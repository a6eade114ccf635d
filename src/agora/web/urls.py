"""Pages. Each portal owns its own URL module, views and templates folder."""

from django.urls import include, path

from agora.web import views

app_name = "web"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("", include("agora.web.auth.urls")),
    path("account/", include("agora.web.account.urls")),
    path("vendor/", include("agora.web.vendor_portal.urls")),
    path("operator/", include("agora.web.operator_portal.urls")),
    # Public pages last: they own the root and the short SEO paths.
    path("", include("agora.web.public.urls")),
]
