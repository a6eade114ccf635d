"""Webhook pages of the vendor portal (/vendor/webhooks/) and the operator console
(/operator/webhooks/): one set of views, two portals."""
