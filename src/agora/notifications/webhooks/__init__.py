"""Webhooks: events delivered to vendors' and the operator's own HTTPS endpoints.

Deliveries follow the Standard Webhooks specification (https://www.standardwebhooks.com):
a JSON body `{"type", "timestamp", "data"}` with `webhook-id`, `webhook-timestamp` and
`webhook-signature` headers, signed with the endpoint's `whsec_` secret, retried with
backoff for about four days, each event delivered at least once under one stable id.

The models belong to the `notifications` app (its models module imports them).
"""

# Registers the `webhook.disabled` event type with the catalogue whenever the app loads.
from agora.notifications.webhooks import events as _events  # noqa: F401
