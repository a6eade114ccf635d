"""The OpenAPI document is a contract a generated client can live by (API.md, Conventions).

Every assertion runs over the whole served document, so an endpoint added tomorrow is held
to the same rules: problem+json error responses with the shared schema, its auth, 404 for
an id in the path, the Idempotency-Key header on every write, a media type on every
download. The last test generates a client with openapi-python-client from the document a
real `agora serve` answers, and drives that server with it.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.test import Client

from agora.api import api
from agora.core.openapi import IDEMPOTENCY_DESCRIPTION, SCARCE_PREFIX
from agora.web.problems import problem_types
from tests.conftest import ApiClient, assert_problem
from tests.core.test_asgi_lanes import serve  # noqa: F401 - the served-app fixture

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
WRITES = {"post", "put", "patch", "delete"}


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicated = {key for key in keys if keys.count(key) > 1}
    assert not duplicated, f"duplicate keys in the document: {duplicated}"
    return dict(pairs)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    parsed: dict[str, Any] = json.loads(response.content, object_pairs_hook=_no_duplicate_keys)
    return parsed


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def ops(document: dict[str, Any], predicate: Any) -> list[str]:
    """`METHOD path` of every operation for which predicate(method, path, operation)."""
    return sorted(
        f"{method.upper()} {path}"
        for method, path, operation in operations(document)
        if predicate(method, path, operation)
    )


def header(operation: dict[str, Any], name: str) -> dict[str, Any] | None:
    found = [p for p in operation.get("parameters", []) if p["in"] == "header"]
    return next((p for p in found if p["name"] == name), None)


# --- the shape of the whole document ------------------------------------------------------------


def test_the_document_covers_the_api(document: dict[str, Any]) -> None:
    count = sum(1 for _ in operations(document))
    assert count >= 140, count  # every router's operations, not a partial build


def test_the_shared_problem_schema(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    problem = schemas["Problem"]

    assert problem["required"] == ["type", "title", "status", "detail", "code"]
    assert set(problem["properties"]) == {
        "type",
        "title",
        "status",
        "detail",
        "code",
        "request_id",
        "errors",
        "retry_after",
    }
    assert problem["properties"]["errors"]["items"] == {
        "$ref": "#/components/schemas/ProblemFieldError"
    }
    assert problem["additionalProperties"] is True  # codes add members (`lines`)
    assert schemas["ProblemFieldError"]["required"] == ["loc", "msg"]


def test_every_error_response_is_problem_json_with_the_shared_schema(
    document: dict[str, Any],
) -> None:
    wrong = [
        f"{method.upper()} {path} {status}"
        for method, path, operation in operations(document)
        for status, response in operation["responses"].items()
        if int(status) >= 400 and response.get("content") != PROBLEM
    ]
    assert wrong == []


def test_every_operation_declares_its_failures(document: dict[str, Any]) -> None:
    assert ops(document, lambda m, p, op: not {"500", "503"} <= set(op["responses"])) == []
    # Each names the codes it answers with, each one explained on its problem page.
    codes = {
        code
        for _, _, operation in operations(document)
        for status, response in operation["responses"].items()
        if int(status) >= 400
        for code in response["x-problem-codes"]
    }
    assert codes - problem_types().keys() == set()


def test_every_operation_with_input_declares_422(document: dict[str, Any]) -> None:
    def takes_input(method: str, path: str, operation: dict[str, Any]) -> bool:
        return bool(operation.get("parameters") or operation.get("requestBody"))

    assert (
        ops(document, lambda m, p, op: takes_input(m, p, op) and "422" not in op["responses"]) == []
    )


def test_every_operation_with_an_id_in_its_path_declares_404(document: dict[str, Any]) -> None:
    def has_path_parameter(operation: dict[str, Any]) -> bool:
        return any(p["in"] == "path" for p in operation.get("parameters", []))

    assert "{" in "".join(document["paths"])  # there are such paths
    missing = ops(
        document, lambda m, p, op: has_path_parameter(op) and "404" not in op["responses"]
    )
    assert missing == []


def test_every_operation_that_needs_auth_declares_it_and_401_403(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["BearerAuth"]["type"] == "http"
    assert schemes["BearerAuth"]["scheme"] == "bearer"
    assert all(scheme.get("description") for scheme in schemes.values())

    authed = ops(document, lambda m, p, op: bool(op.get("security")))
    assert "GET /api/v1/me" in authed
    assert "POST /api/v1/bookings" in authed
    assert "POST /api/v1/auth/register" not in authed
    undeclared = {
        name
        for _, _, operation in operations(document)
        for requirement in operation.get("security", [])
        for name in requirement
    } - schemes.keys()
    assert undeclared == set()
    assert (
        ops(
            document,
            lambda m, p, op: op.get("security") and not {"401", "403"} <= set(op["responses"]),
        )
        == []
    )


def test_every_write_declares_the_idempotency_key_header(document: dict[str, Any]) -> None:
    assert (
        ops(document, lambda m, p, op: m in WRITES and header(op, "Idempotency-Key") is None) == []
    )
    assert (
        ops(
            document, lambda m, p, op: m not in WRITES and header(op, "Idempotency-Key") is not None
        )
        == []
    )
    key = header(document["paths"]["/api/v1/reviews"]["post"], "Idempotency-Key")
    assert key == {
        "in": "header",
        "name": "Idempotency-Key",
        "required": False,
        "description": IDEMPOTENCY_DESCRIPTION,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    }
    # every write may answer with the replayed response, and 422 for a reused key
    for method, path, operation in operations(document):
        if method in WRITES:
            assert "idempotency_key_reused" in operation["responses"]["422"]["x-problem-codes"]
            success = [s for s in operation["responses"] if s.startswith("2")]
            for status in success:
                assert "Idempotent-Replayed" in operation["responses"][status]["headers"], path


def test_the_writes_that_take_a_slot_reserve_stock_or_move_money_are_marked(
    document: dict[str, Any],
) -> None:
    def marked(method: str, path: str, operation: dict[str, Any]) -> bool:
        key = header(operation, "Idempotency-Key")
        return key is not None and key["description"].startswith(SCARCE_PREFIX)

    scarce = set(ops(document, marked))

    assert {
        "POST /api/v1/bookings",
        "POST /api/v1/bookings/{booking_id}/pay",
        "POST /api/v1/bookings/{booking_id}/reschedule",
        "POST /api/v1/checkout",
        "POST /api/v1/checkout/{checkout_id}/pay",
        "POST /api/v1/cart/checkout",
        "POST /api/v1/vendors/{vendor_id}/payouts",
        "POST /api/v1/operator/refunds",
        "POST /api/v1/operator/disputes",
    } <= scarce
    assert "POST /api/v1/reviews" not in scarce
    assert "PATCH /api/v1/listings/{listing_id}" not in scarce
    booking = document["paths"]["/api/v1/bookings"]["post"]
    assert "send an `Idempotency-Key` with every attempt" in booking["description"]


def test_payments_refusals_and_throttles_are_declared(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for path in ("/api/v1/bookings/{booking_id}/pay", "/api/v1/checkout/{checkout_id}/pay"):
        declined = paths[path]["post"]["responses"]["402"]
        assert declined["x-problem-codes"] == [
            "card_declined",
            "insufficient_funds",
            "authentication_required",
        ]
    for path in ("/api/v1/auth/token", "/api/v1/auth/register"):
        throttled = paths[path]["post"]["responses"]["429"]
        assert throttled["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    hold = paths["/api/v1/bookings"]["post"]["responses"]
    assert hold["409"]["x-problem-codes"] == ["conflict", "slot_unavailable", "schedule_missing"]
    assert hold["404"]["x-problem-codes"] == ["not_found"]  # listing_id in the body
    assert paths["/api/v1/auth/token"]["post"]["responses"]["401"]["x-problem-codes"] == [
        "invalid_credentials",
        "otp_required",
        "otp_invalid",
    ]


def test_downloads_declare_their_media_types(document: dict[str, Any]) -> None:
    def content(path: str) -> dict[str, Any]:
        media: dict[str, Any] = document["paths"][path]["get"]["responses"]["200"]["content"]
        return media

    text = {"schema": {"type": "string"}}
    binary = {"schema": {"type": "string", "format": "binary"}}
    stored_file = {
        "application/pdf": binary,
        "image/jpeg": binary,
        "image/png": binary,
        "image/webp": binary,
        "application/octet-stream": binary,
    }
    assert content("/api/v1/vendors/{vendor_id}/statement.csv") == {"text/csv": text}
    assert content("/api/v1/vendors/{vendor_id}/statement")["text/csv"] == text
    assert content("/api/v1/calendar/{token}.ics") == {"text/calendar": text}
    assert content("/api/v1/vendors/{vendor_id}/documents/{document_id}/file") == stored_file
    assert (
        content("/api/v1/operator/vendors/{vendor_id}/documents/{document_id}/file") == stored_file
    )
    assert content("/api/v1/messages/{message_id}/attachments/{attachment_id}") == stored_file
    # and no success response anywhere is left without a media type
    assert (
        ops(
            document,
            lambda m, p, op: any(
                s.startswith("2") and s not in {"202", "204"} and not r.get("content")
                for s, r in op["responses"].items()
            ),
        )
        == []
    )


# --- errors the document promises ----------------------------------------------------------------


@pytest.mark.django_db
def test_malformed_json_is_400_with_the_request_id(anon: ApiClient) -> None:
    response = anon.post("/auth/register", '{"email": ', raw=True)

    body = assert_problem(response, 400, "validation_error")
    assert body["request_id"] == response["X-Request-ID"]
    assert body["type"] == "/problems/validation_error"


# --- built once, served fast ---------------------------------------------------------------------


def test_the_document_is_built_once_per_process_and_revalidated_with_an_etag() -> None:
    # Given a process that has not built the document yet
    api.forget_openapi_document()
    builds = api.openapi_builds
    client = Client()

    # When it is asked for twice
    started = time.perf_counter()
    first = client.get("/api/v1/openapi.json")
    built_in = time.perf_counter() - started
    started = time.perf_counter()
    second = client.get("/api/v1/openapi.json")
    served_in = time.perf_counter() - started

    # Then it was built once, and both answers are the same bytes with the same ETag
    assert api.openapi_builds == builds + 1
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert first["ETag"] == second["ETag"]
    assert first["Content-Type"].startswith("application/json")
    assert served_in < built_in
    # ...and a client that has it is told so without the body
    revalidated = client.get("/api/v1/openapi.json", headers={"If-None-Match": first["ETag"]})
    assert revalidated.status_code == 304
    assert revalidated.content == b""
    assert revalidated["ETag"] == first["ETag"]
    assert api.openapi_builds == builds + 1


# --- a generated client --------------------------------------------------------------------------

GENERATOR_CONFIG = "post_hooks: []\n"  # the generated code is imported, not formatted


def generate_client(document: bytes, workdir: Path) -> Path:
    """Generate the `agora_api_client` package with openapi-python-client; return its folder."""
    spec = workdir / "openapi.json"
    spec.write_bytes(document)
    config = workdir / "generator.yaml"
    config.write_text(GENERATOR_CONFIG + "package_name_override: agora_api_client\n")
    output = workdir / "agora_api_client"
    command = [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(spec)]
    command += ["--output-path", str(output), "--meta", "none", "--config", str(config)]
    command += ["--fail-on-warning"]
    try:
        result = subprocess.run(  # noqa: S603 - our interpreter, our arguments
            command, capture_output=True, text=True, timeout=240, check=False
        )
    except FileNotFoundError as error:  # pragma: no cover - a broken interpreter
        pytest.fail(f"could not run openapi-python-client: {error}")
    if result.returncode != 0:
        pytest.fail(
            "openapi-python-client could not generate a client from /api/v1/openapi.json "
            "(is the dev extra installed? `pip install -e '.[dev]'`); it said:\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return output


@pytest.mark.django_db(transaction=True)
def test_a_generated_client_registers_signs_in_reads_problems_and_retries_safely(
    serve: Any,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a real server and a client generated from the document it serves
    served = serve(workers=1, lanes=None)
    spec = httpx.get(f"{served.base_url}/api/v1/openapi.json", timeout=30)
    assert spec.status_code == 200
    generate_client(spec.content, tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    client_module = importlib.import_module("agora_api_client")

    def endpoint(name: str) -> Any:
        return importlib.import_module(f"agora_api_client.api.{name}")

    models = importlib.import_module("agora_api_client.models")
    anonymous = client_module.Client(base_url=served.base_url)

    # When a customer registers with it
    email = f"gen-{uuid.uuid4().hex[:8]}@example.test"
    registration = models.RegisterIn(email=email, password="a-Long-passw0rd!", name="Gen")
    register = endpoint("accounts.agora_accounts_api_register")
    created = register.sync_detailed(client=anonymous, body=registration)
    assert created.status_code == 201, created.content
    assert isinstance(created.parsed, models.UserOut)
    assert created.parsed.email == email

    # ...signs in and reads who they are
    token = endpoint("accounts.agora_accounts_api_token").sync(
        client=anonymous, body=models.TokenIn(email=email, password="a-Long-passw0rd!")
    )
    assert isinstance(token, models.TokenOut), token
    signed_in = client_module.AuthenticatedClient(
        base_url=served.base_url, token=token.access_token
    )
    me = endpoint("accounts.agora_accounts_api_me").sync(client=signed_in)
    assert isinstance(me, models.MeOut)
    assert me.email == email

    # Then errors arrive as Problem objects, not None
    missing = endpoint("bookings.agora_bookings_api_booking_detail").sync_detailed(
        987654, client=signed_in
    )
    assert missing.status_code == 404
    assert isinstance(missing.parsed, models.Problem)
    assert (missing.parsed.code, missing.parsed.type_) == ("not_found", "/problems/not_found")
    duplicate = register.sync(client=anonymous, body=registration)
    assert isinstance(duplicate, models.Problem)
    assert (duplicate.status, duplicate.code) == (409, "email_taken")
    invalid = endpoint("vendors.agora_vendors_api_vendor_apply").sync(
        client=signed_in,
        body=models.VendorApplyIn(name="", timezone="Europe/London", currency="GBP"),
    )
    assert isinstance(invalid, models.Problem)
    assert invalid.code == "validation_error"
    assert invalid.errors
    assert invalid.errors[0].loc[-1] == "name"
    unauthenticated = endpoint("accounts.agora_accounts_api_me").sync(client=anonymous)
    assert isinstance(unauthenticated, models.Problem)
    assert unauthenticated.code == "not_authenticated"

    # ...and a write retried with its Idempotency-Key is answered from the first attempt
    apply = endpoint("vendors.agora_vendors_api_vendor_apply")
    application = models.VendorApplyIn(
        name="Generated Garage", timezone="Europe/London", currency="GBP"
    )
    first = apply.sync_detailed(client=signed_in, body=application, idempotency_key="gen-1")
    again = apply.sync_detailed(client=signed_in, body=application, idempotency_key="gen-1")
    assert first.status_code == again.status_code == 201, first.content
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.parsed.id == first.parsed.id
    assert again.content == first.content
    other = models.VendorApplyIn(name="Another Garage", timezone="Europe/London", currency="GBP")
    reused = apply.sync(client=signed_in, body=other, idempotency_key="gen-1")
    assert isinstance(reused, models.Problem)
    assert (reused.status, reused.code) == (422, "idempotency_key_reused")
