"""The OpenAPI document as a contract a generated client can live by (API.md, Conventions).

Ninja describes each operation's success response from its schema. This module adds what a
client needs besides, by rules rather than endpoint by endpoint, so that an endpoint is
covered the day it is written:

- its error responses, as `application/problem+json` with the shared `Problem` schema:
  422 when it takes input, 401 and 403 when it needs a token, 404 when its path or input
  names an object, 400 and 409 for writes, 413 with a body, 500 and 503 always — plus the
  refusals known for a few operations (`KNOWN_REFUSALS`: 402 for payments, 429 for
  throttled sign-in, the domain codes);
- the optional `Idempotency-Key` header on every write (the idempotency middleware serves
  all of them), marked on the writes that take a slot, reserve stock or move money, where a
  retry without it could do so twice;
- the `Retry-After`, `WWW-Authenticate` and `Idempotent-Replayed` response headers.

`ContractAPI` builds the document once per process — lazily, on the first request, when
every router has been added (Ninja refuses routers after that) — and serves the rendered
bytes with an ETag, so a client that revalidates gets a 304.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from collections.abc import Iterable, Mapping
from functools import partial
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path
from django.utils.cache import get_conditional_response
from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema
from ninja.responses import NinjaJSONEncoder

from agora.core.errors import PROBLEM_CONTENT_TYPE
from agora.core.idempotency import MAX_KEY_LENGTH

PROBLEM_SCHEMA_NAME = "Problem"
PROBLEM_REF = f"#/components/schemas/{PROBLEM_SCHEMA_NAME}"
IDEMPOTENCY_HEADER = "Idempotency-Key"
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})

PROBLEM_SCHEMAS: dict[str, Any] = {
    "ProblemFieldError": {
        "title": "ProblemFieldError",
        "type": "object",
        "description": "One refused field: `loc` is its path, starting with where it was sent "
        "(`body`, `query`, `path` or `header`).",
        "properties": {
            "loc": {
                "type": "array",
                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            },
            "msg": {"type": "string"},
            "type": {"type": "string"},
        },
        "required": ["loc", "msg"],
    },
    PROBLEM_SCHEMA_NAME: {
        "title": PROBLEM_SCHEMA_NAME,
        "type": "object",
        "description": (
            "Problem details (RFC 9457), the body of every error. Branch on `code`, which is "
            "stable; `type` is the page explaining it. Some codes add members (`lines` short "
            "of stock, `gateway_code`)."
        ),
        "properties": {
            "type": {
                "type": "string",
                "description": "`/problems/<code>`: a page that explains the code.",
            },
            "title": {"type": "string", "description": "The HTTP status phrase."},
            "status": {"type": "integer", "description": "The HTTP status code."},
            "detail": {"type": "string", "description": "What went wrong, for a person."},
            "code": {"type": "string", "description": "The stable machine-readable code."},
            "request_id": {
                "anyOf": [{"type": "string"}, {"type": "null"}],
                "description": "The request's id (also the X-Request-ID header), for support.",
            },
            "errors": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/ProblemFieldError"},
                "description": "Each refused field (validation errors).",
            },
            "retry_after": {
                "type": "integer",
                "description": "Seconds to wait before trying again (429).",
            },
        },
        "required": ["type", "title", "status", "detail", "code"],
        "additionalProperties": True,
    },
}

# What each status means here, whatever the endpoint; codes of the endpoint are added.
_STATUS_MEANING = {
    400: "The body is not JSON, or the Idempotency-Key header is empty or too long.",
    401: "Not signed in: send `Authorization: Bearer <token>` (from `POST /auth/token`).",
    402: "The payment was refused and nothing was charged; pay again with another method.",
    403: "Signed in, without the role this needs.",
    404: "No such object, or one of another tenant's (the two look the same on purpose).",
    409: "A conflict with the current state of the data.",
    413: "The request body is larger than allowed.",
    422: "The input does not fit: `errors` names each field.",
    429: "Too many attempts: wait `retry_after` seconds (also the Retry-After header).",
    500: "A fault on the server, logged with `request_id`; a write may be retried with the "
    "same Idempotency-Key.",
    502: "The payment provider failed; nothing moved twice, so retry with the same "
    "Idempotency-Key.",
    503: "Unavailable for a moment (the database, a data provider) or busy (a row this "
    "needs stayed locked): retry after Retry-After seconds, a write with the same "
    "Idempotency-Key.",
}

_PAYMENT_REFUSALS: dict[int, tuple[str, ...]] = {
    402: ("card_declined", "insufficient_funds", "authentication_required"),
    502: ("gateway_error",),
}

# Refusals known for particular operations, beyond what the rules derive. Keys are
# "METHOD /path" regular expressions matched against the whole route, with `{}` for any
# path parameter (its name does not matter).
KNOWN_REFUSALS: tuple[tuple[str, Mapping[int, tuple[str, ...]]], ...] = (
    ("POST /auth/register", {409: ("email_taken",), 429: ("rate_limited",)}),
    (
        "POST /auth/token",
        {401: ("invalid_credentials", "otp_required", "otp_invalid"), 429: ("rate_limited",)},
    ),
    # two-factor sign-in and the account's data (agora.accounts)
    ("(POST|DELETE) /me/2fa", {401: ("otp_required", "otp_invalid"), 429: ("rate_limited",)}),
    ("POST /me/2fa/recovery-codes", {401: ("otp_required", "otp_invalid"), 429: ("rate_limited",)}),
    ("POST /me/2fa/recovery-codes", {409: ("otp_not_enabled",)}),
    ("DELETE /me/2fa", {409: ("otp_not_enabled", "otp_required_for_operators")}),
    ("POST /me/2fa/confirm", {409: ("otp_enrolment_not_started",)}),
    (
        "DELETE /me",
        {
            401: ("invalid_credentials",),
            409: ("account_has_obligations",),
            429: ("rate_limited",),
        },
    ),
    ("(GET|POST|PUT|PATCH|DELETE) /operator/.*", {403: ("otp_enrolment_required",)}),
    ("POST /vendors", {409: ("slug_taken",)}),
    ("POST /vendors/{}/staff/invitations", {409: ("already_member",)}),
    ("POST /invitations/accept", {404: ("invitation_invalid",), 409: ("already_member",)}),
    ("(PATCH|DELETE) /vendors/{}/staff/{}", {409: ("last_owner",)}),
    ("POST /vendors/{}/documents", {422: ("document_invalid",)}),
    ("(POST|PATCH) /operator/(categories|cities)(/{})?", {409: ("slug_taken",)}),
    (
        "POST /bookings",
        {409: ("slot_unavailable", "schedule_missing"), 422: ("invalid_slot", "not_bookable")},
    ),
    (
        "POST /bookings/{}/pay",
        {**_PAYMENT_REFUSALS, 409: ("hold_expired", "already_paid", "invalid_transition")},
    ),
    (
        "POST /bookings/{}/reschedule",
        {409: ("slot_unavailable", "invalid_transition"), 422: ("invalid_slot",)},
    ),
    (
        "POST /bookings/{}/(accept|decline|start|complete|no-show|cancel|pickup/confirm)",
        {409: ("invalid_transition",)},
    ),
    (
        "POST /(checkout|cart/checkout)",
        {**_PAYMENT_REFUSALS, 409: ("out_of_stock",)},
    ),
    ("POST /checkout/{}/pay", {**_PAYMENT_REFUSALS, 409: ("checkout_expired", "already_paid")}),
    ("POST /orders/{}/(accept|ship|deliver|confirm|cancel)", {409: ("invalid_transition",)}),
    (
        "POST /quotes/{}/accept",
        {**_PAYMENT_REFUSALS, 409: ("quote_expired", "invalid_transition", "slot_unavailable")},
    ),
    ("POST /vendors/{}/payouts", {409: ("insufficient_balance",), 502: ("gateway_error",)}),
    (
        "POST /operator/refunds",
        {409: ("refund_exceeds_captured", "already_reversed"), 502: ("gateway_error",)},
    ),
    (
        "POST /operator/disputes",
        {409: ("dispute_exceeds_captured", "dispute_exceeds_hold"), 422: ("currency_mismatch",)},
    ),
    ("POST /operator/disputes/{}/decide", {409: ("invalid_transition",)}),
    ("(POST|PATCH) /operator/commission-rules(/{})?", {422: ("invalid_rule",)}),
    ("POST /payments/webhooks/stripe", {400: ("invalid_signature",), 404: ("not_found",)}),
    ("POST /reviews", {409: ("not_reviewable", "already_reviewed")}),
    ("PATCH /reviews/{}", {409: ("edit_window_closed", "not_editable")}),
    ("POST /reviews/{}/reply", {409: ("already_replied",)}),
    (
        "POST /(bookings|orders|quote-requests)/{}/messages",
        {422: ("attachment_type_refused", "attachment_too_large", "too_many_attachments")},
    ),
    ("PUT /me/notification-preferences", {422: ("unknown_notification_group", "email_locked")}),
    ("POST /notifications/read", {422: ("nothing_to_mark",)}),
    (
        "POST (/operator|/vendors/{})/webhooks",
        {409: ("webhook_limit_reached",), 422: ("webhook_url_refused",)},
    ),
    ("PATCH .*/webhooks/{}", {422: ("webhook_url_refused",)}),
    ("POST .*/webhooks/{}/deliveries/{}/replay", {409: ("webhook_disabled",)}),
    (
        "GET /vehicles/lookup",
        {404: ("vehicle_not_found",), 429: ("rate_limited",), 503: ("vehicle_data_unavailable",)},
    ),
    ("POST /me/vehicles", {404: ("vehicle_not_found",), 503: ("vehicle_data_unavailable",)}),
)

# Writes that take a slot, reserve stock or move money (API.md: "Idempotency-Key on every
# POST that takes a slot, reserves stock or moves money"); an operation whose summary names
# the header is one too.
SCARCE_WRITES: tuple[str, ...] = (
    "POST /bookings",
    "POST /bookings/{}/(pay|reschedule|cancel)",
    "POST /(checkout|cart/checkout)",
    "POST /checkout/{}/pay",
    "POST /orders/{}/cancel",
    "POST /quotes/{}/accept",
    "POST /vendors/{}/payouts",
    "POST /operator/refunds",
    "POST /operator/disputes",
    "POST /operator/disputes/{}/decide",
)

IDEMPOTENCY_DESCRIPTION = (
    f"Optional, 1 to {MAX_KEY_LENGTH} characters, unique per attempt of one intended request "
    "(a UUID). Sent again with the same request within 24 hours, the first response is "
    "returned again, marked `Idempotent-Replayed: true`, and nothing is done twice; with a "
    "different request it is 422 `idempotency_key_reused`. Successes and 402/409 refusals "
    "are kept; bad input, auth failures, throttling and 5xx are not, so the request can be "
    "fixed and sent again with the same key. Keys are scoped to the caller. A response that "
    "carries a secret (a token, a signing secret) is never kept: its retry runs again."
)
SCARCE_PREFIX = (
    "**Send one with every attempt**: this request takes a slot, reserves stock or moves "
    "money, and a retry without the key could do it twice. "
)

_SECURITY_DESCRIPTIONS = {
    "BearerAuth": "A token from `POST /auth/token`, as `Authorization: Bearer <token>`.",
    "OperatorAuth": "The bearer token of an operator account.",
    "SessionAuth": "The session cookie of a signed-in visitor of the pages.",
}


def file_responses(*media_types: str, description: str) -> dict[str, Any]:
    """`openapi_extra` for an operation that answers 200 with a file instead of JSON (or
    besides it): each media type with a text or binary string schema.

    Binary files are listed as `application/octet-stream` too, last: the generic type for
    "these bytes", which generated clients read as a file whatever the exact type."""
    binary = {"type": "string", "format": "binary"}
    content = {
        media_type: {"schema": {"type": "string"} if media_type.startswith("text/") else binary}
        for media_type in media_types
    }
    if any(not media_type.startswith("text/") for media_type in media_types):
        content.setdefault("application/octet-stream", {"schema": binary})
    return {"responses": {200: {"description": description, "content": content}}}


def _compile(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p.replace('{}', '[{][}]')})" for p in patterns))


_SCARCE = _compile(SCARCE_WRITES)
_KNOWN = [(_compile([pattern]), refusals) for pattern, refusals in KNOWN_REFUSALS]
_PATH_PARAMETER = re.compile(r"\{[^}]*\}")


def _route_shape(method: str, route: str) -> str:
    return f"{method.upper()} {_PATH_PARAMETER.sub('{}', route)}"


def _resolve(schema: Mapping[str, Any], schemas: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        return schemas.get(ref.rsplit("/", 1)[-1], {})
    return schema


def _names_an_object(operation: Mapping[str, Any], schemas: Mapping[str, Any]) -> bool:
    """An id in the path, the query or the JSON body: another tenant's or a missing one is
    404 (ARCHITECTURE.md, tenant isolation)."""
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "path" or str(parameter.get("name", "")).endswith("_id"):
            return True
    for media in operation.get("requestBody", {}).get("content", {}).values():
        body = _resolve(media.get("schema", {}), schemas)
        if any(name.endswith(("_id", "_ids")) for name in body.get("properties", {})):
            return True
    return False


class _Refusals:
    def __init__(self) -> None:
        self.codes: dict[int, list[str]] = {}

    def add(self, status: int, *codes: str) -> None:
        known = self.codes.setdefault(status, [])
        known.extend(code for code in codes if code not in known)


def _derive_refusals(
    shape: str, method: str, operation: Mapping[str, Any], schemas: Mapping[str, Any]
) -> dict[int, list[str]]:
    refusals = _Refusals()
    is_write = method in WRITE_METHODS
    body = operation.get("requestBody", {}).get("content", {})
    if is_write or "application/json" in body:
        refusals.add(400, "validation_error")
    if operation.get("security"):
        refusals.add(401, "not_authenticated")
        refusals.add(403, "forbidden")
    if _names_an_object(operation, schemas):
        refusals.add(404, "not_found")
    if is_write:
        refusals.add(409, "conflict")
    if is_write or operation.get("parameters") or body:
        refusals.add(422, "validation_error")
    if body:
        refusals.add(413, "payload_too_large")
    if is_write:
        refusals.add(422, "idempotency_key_reused")
        refusals.add(503, "busy")
    refusals.add(500, "internal_error")
    refusals.add(503, "unavailable")
    for pattern, known in _KNOWN:
        if pattern.fullmatch(shape):
            for status, codes in known.items():
                refusals.add(status, *codes)
    return refusals.codes


def _problem_response(status: int, codes: list[str], described: str | None) -> dict[str, Any]:
    listed = ", ".join(f"`{code}`" for code in codes)
    meaning = described or _STATUS_MEANING.get(status, HTTPStatus(status).phrase + ".")
    response: dict[str, Any] = {
        "description": f"{meaning} Codes: {listed}." if codes else meaning,
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": PROBLEM_REF}}},
    }
    if codes:
        response["x-problem-codes"] = codes
    if status == 401:
        response["headers"] = {
            "WWW-Authenticate": {
                "description": 'The scheme to use: `Bearer realm="agora"`.',
                "schema": {"type": "string"},
            }
        }
    if status in (429, 503):
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {"type": "integer"},
            }
        }
    return response


def _idempotency_parameter(scarce: bool) -> dict[str, Any]:
    return {
        "in": "header",
        "name": IDEMPOTENCY_HEADER,
        "required": False,
        "description": (SCARCE_PREFIX if scarce else "") + IDEMPOTENCY_DESCRIPTION,
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    }


_REPLAYED_HEADER = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored response to an earlier request with "
        "the same Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


def _complete_operation(
    shape: str, method: str, operation: dict[str, Any], schemas: Mapping[str, Any]
) -> None:
    refusals = _derive_refusals(shape, method, operation, schemas)
    # Status keys as strings (Ninja uses ints, `openapi_extra` strings: merge the two).
    responses: dict[str, Any] = {}
    for status, response in operation.get("responses", {}).items():
        responses.setdefault(str(status), {}).update(response)
    for status in {int(key) for key in responses if key.isdigit() and int(key) >= 400}:
        refusals.setdefault(status, [])
    is_write = method in WRITE_METHODS
    for key, response in responses.items():
        if is_write and key.startswith("2"):
            response["headers"] = {**response.get("headers", {}), **_REPLAYED_HEADER}
    for status in sorted(refusals):
        declared = responses.get(str(status), {}).get("description")
        phrase = HTTPStatus(status).phrase
        described = declared if declared and declared != phrase else None
        responses[str(status)] = _problem_response(status, refusals[status], described)
    operation["responses"] = dict(sorted(responses.items()))

    if is_write:
        scarce = bool(_SCARCE.fullmatch(shape)) or IDEMPOTENCY_HEADER in str(
            operation.get("summary") or ""
        )
        parameters = operation.setdefault("parameters", [])
        if not any(p.get("name", "").lower() == IDEMPOTENCY_HEADER.lower() for p in parameters):
            parameters.append(_idempotency_parameter(scarce))
        if scarce:
            note = (
                "Takes a slot, reserves stock or moves money: send an `Idempotency-Key` with "
                "every attempt, so a retry after a timeout does it once."
            )
            description = operation.get("description")
            operation["description"] = f"{description}\n\n{note}" if description else note


def complete_document(document: dict[str, Any], *, path_prefix: str) -> None:
    """Add the shared problem schema, every operation's error responses, the
    Idempotency-Key header and security scheme descriptions to a Ninja document, in place.

    `path_prefix` is the one the document was built with (its paths start with it)."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(copy.deepcopy(PROBLEM_SCHEMAS))
    for name, scheme in components.get("securitySchemes", {}).items():
        scheme.setdefault("description", _SECURITY_DESCRIPTIONS.get(name, "Authentication."))
    prefix = "/" + path_prefix.strip("/")
    for document_path, operations in document.get("paths", {}).items():
        route = document_path[len(prefix) :] if prefix != "/" else document_path
        route = "/" + route.lstrip("/")
        for method in list(operations):
            # A private copy: Ninja shares dicts between methods of one view and with the
            # `openapi_extra` of the routers.
            operation = copy.deepcopy(operations[method])
            _complete_operation(_route_shape(method, route), method, operation, schemas)
            operations[method] = operation


class ContractAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI document is complete (`complete_document`), built once per
    process and path prefix, and served as cached bytes with an ETag."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._documents: dict[str, OpenAPISchema] = {}
        self._rendered: dict[str, tuple[bytes, str]] = {}
        self._document_lock = threading.Lock()
        self.openapi_builds = 0

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        """The completed document; shared, so read it, do not change it."""
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        document = self._documents.get(path_prefix)
        if document is None:
            with self._document_lock:
                document = self._documents.get(path_prefix)
                if document is None:
                    document = super().get_openapi_schema(path_prefix=path_prefix)
                    complete_document(document, path_prefix=path_prefix)
                    self.openapi_builds += 1
                    self._documents[path_prefix] = document
        return document

    def openapi_document(self, *, path_params: dict[str, Any] | None = None) -> tuple[bytes, str]:
        """The rendered document and its ETag."""
        path_prefix = self.get_root_path(path_params or {})
        rendered = self._rendered.get(path_prefix)
        if rendered is None:
            document = self.get_openapi_schema(path_prefix=path_prefix)
            body = json.dumps(document, cls=NinjaJSONEncoder).encode()
            rendered = (body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')
            self._rendered[path_prefix] = rendered
        return rendered

    def forget_openapi_document(self) -> None:
        """Drop the built document (tests; a process never needs to)."""
        with self._document_lock:
            self._documents.clear()
            self._rendered.clear()

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        urls = super()._get_urls()
        if not self.openapi_url:
            return urls
        view: Any = partial(openapi_document_view, api=self)
        if self.docs_decorator:
            view = self.docs_decorator(view)
        ours = path(self.openapi_url.lstrip("/"), view, name="openapi-json")
        return [
            ours if isinstance(url, URLPattern) and url.name == "openapi-json" else url
            for url in urls
        ]


def openapi_document_view(request: HttpRequest, api: ContractAPI, **kwargs: Any) -> HttpResponse:
    body, etag = api.openapi_document(path_params=kwargs)
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        if not_modified.status_code == 304:
            not_modified["ETag"] = etag
        return not_modified
    response = HttpResponse(body, content_type=api.renderer.media_type)
    response["ETag"] = etag
    # Cached by anyone, but revalidated every time: a deploy changes the document.
    response["Cache-Control"] = "public, no-cache"
    return response
