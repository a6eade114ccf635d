"""Pages. Each portal owns its own URL module, views and templates folder."""

from django.urls import include, path

from agora.web import problems, views
from agora.web.quotes import urls as quote_urls

app_name = "web"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("", include("agora.web.auth.urls")),
    # The notification centre of every portal, before the portals' own modules.
    path("", include("agora.web.notifications.urls")),
    # Quote jobs (agora.web.quotes), before the portals' own modules.
    path("account/quotes/", include(quote_urls.account_urlpatterns)),
    path("vendor/quotes/", include(quote_urls.vendor_urlpatterns)),
    path("operator/quotes/", include(quote_urls.operator_urlpatterns)),
    path("account/", include("agora.web.account.urls")),
    path("vendor/", include("agora.web.vendor_portal.urls")),
    path("operator/", include("agora.web.operator_portal.urls")),
    # The pages behind problem+json `type`s ("/problems/<code>", as the API writes them).
    path("problems/", problems.problem_index, name="problems"),
    path("problems/<slug:code>/", problems.problem_detail, name="problem"),
    path("problems/<slug:code>", problems.problem_redirect),
    # Public pages last: they own the root and the short SEO paths.
    path("", include("agora.web.public.urls")),
]
