"""/vendor/webhooks/ and /operator/webhooks/: the same pages for two portals."""

from __future__ import annotations

from django.urls import URLPattern, path

from agora.web.webhooks import views
from agora.web.webhooks.views import OPERATOR, VENDOR, Portal


def _patterns(portal: Portal, prefix: str) -> list[URLPattern]:
    return [
        path("", views.webhook_list(portal), name=f"{prefix}-webhooks"),
        path("<int:webhook_id>/", views.webhook_detail(portal), name=f"{prefix}-webhook"),
        path(
            "<int:webhook_id>/rotate/",
            views.webhook_rotate(portal),
            name=f"{prefix}-webhook-rotate",
        ),
        path(
            "<int:webhook_id>/delete/",
            views.webhook_delete(portal),
            name=f"{prefix}-webhook-delete",
        ),
        path(
            "<int:webhook_id>/deliveries/<int:delivery_id>/replay/",
            views.webhook_replay(portal),
            name=f"{prefix}-webhook-replay",
        ),
        path(
            "<int:webhook_id>/<slug:action>/",
            views.webhook_switch(portal),
            name=f"{prefix}-webhook-switch",
        ),
    ]


vendor_urlpatterns = _patterns(VENDOR, "vendor")
operator_urlpatterns = _patterns(OPERATOR, "operator")
