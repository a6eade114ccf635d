from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from agora.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("django-admin/", admin.site.urls),
    # Public media only (listing images, logos). Verification documents live under
    # media/vendors/documents/ and are served solely through the scoped API downloads.
    re_path(
        r"^media/(?P<path>(?:listings|vendors/logos)/.+)$",
        serve,
        {"document_root": settings.MEDIA_ROOT},
    ),
    path("", include("agora.web.urls")),
]

# A database outage met outside a view becomes 503, not 500 (agora.web.errors).
handler500 = "agora.web.errors.server_error"
