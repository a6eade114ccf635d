"""/vendor/: day-to-day operations (agenda, bookings, orders, staff, profile) and
management (catalogue, schedule, money, analytics) live in separate packages."""

from django.urls import include, path

urlpatterns = [
    path("", include("agora.web.vendor_portal.operations.urls")),
    path("", include("agora.web.vendor_portal.management.urls")),
]
