"""/vendor/: day-to-day operations (agenda, bookings, orders, staff, profile) and
management (catalogue, schedule, money, analytics) live in separate packages."""

from django.urls import include, path

from agora.web.webhooks.urls import vendor_urlpatterns as webhook_urlpatterns

urlpatterns = [
    path("", include("agora.web.vendor_portal.operations.urls")),
    path("", include("agora.web.vendor_portal.management.urls")),
    path("webhooks/", include(webhook_urlpatterns)),
]
