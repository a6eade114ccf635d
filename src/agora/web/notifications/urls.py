"""The notification centre in each portal (`/account/notifications/`, `/vendor/...`,
`/operator/...`) and the actions every portal shares under `/notifications/`."""

from django.urls import path

from agora.web.notifications import views
from agora.web.notifications.portals import PORTALS

urlpatterns = [
    path("notifications/bell/", views.bell, name="notifications-bell"),
    path("notifications/read/", views.mark_read, name="notifications-read"),
    path(
        "notifications/<int:notification_id>/open/",
        views.open_notification,
        name="notifications-open",
    ),
    path(
        "notifications/unsubscribe/<str:token>/",
        views.unsubscribe,
        name="notifications-unsubscribe",
    ),
]

for portal in PORTALS.values():
    prefix = portal.prefix.lstrip("/")
    urlpatterns += [
        path(
            f"{prefix}notifications/",
            portal.required(views.centre),
            {"portal": portal.key},
            name=f"{portal.key}-notifications",
        ),
        path(
            f"{prefix}notifications/preferences/",
            portal.required(views.preferences),
            {"portal": portal.key},
            name=f"{portal.key}-notification-preferences",
        ),
    ]
