"""Every documented error body becomes the right typed error, transient or permanent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.b24.client import B24Client
from bridge.b24.errors import (
    AccessDenied,
    AuthError,
    B24Error,
    MethodNotFound,
    NotFound,
    OperationTimeLimit,
    Overloaded,
    PortalDeleted,
    QueryLimitExceeded,
    ServerError,
    ValidationFailed,
)
from bridge.b24.ratelimit import LocalBucket
from bridge.errors import PermanentError, TransientError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "b24"
WEBHOOK = "https://example.bitrix24.ru/rest/1/8g9l071eismy9q2l/"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text("utf-8"))


def failing_call(status: int, body: Any, method: str = "crm.deal.get") -> B24Error:
    """One call that gets `body` with `status`; no retries so transient errors surface as-is."""

    def answer(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    client = B24Client(
        WEBHOOK,
        limiter=LocalBucket(),
        http=httpx.Client(transport=httpx.MockTransport(answer)),
        max_attempts=1,
        sleep=lambda _: None,
    )
    with pytest.raises(B24Error) as caught:
        client.call(method, {"id": 1})
    return caught.value


DOCUMENTED = [
    ("error.QUERY_LIMIT_EXCEEDED.json", 503, QueryLimitExceeded, True),
    ("error.OPERATION_TIME_LIMIT.json", 429, OperationTimeLimit, True),
    ("error.NO_AUTH_FOUND.json", 401, AuthError, True),
    ("error.expired_token.json", 401, AuthError, True),
    ("error.insufficient_scope.json", 403, AuthError, True),
    ("error.INVALID_CREDENTIALS.json", 403, AuthError, True),
    ("error.ACCESS_DENIED.json", 403, AccessDenied, False),
    ("error.ERROR_METHOD_NOT_FOUND.json", 404, MethodNotFound, False),
    ("error.generic.json", 400, ValidationFailed, False),
    ("crm.company.get.error.json", 400, NotFound, False),
    ("crm.deal.delete.error.json", 400, ValidationFailed, False),
    ("crm.deal.add.error.json", 400, ValidationFailed, False),
    ("crm.deal.productrows.set.error.json", 400, ValidationFailed, False),
    ("crm.status.list.error.json", 400, ValidationFailed, False),
    ("crm.duplicate.findbycomm.error.json", 400, ValidationFailed, False),
    ("crm.category.list.error.json", 400, NotFound, False),
    ("crm.timeline.comment.add.error.json", 400, NotFound, False),
    ("catalog.product.add.error.json", 400, AccessDenied, False),
    ("catalog.section.add.error.json", 400, AccessDenied, False),
    ("catalog.catalog.list.error.json", 400, ValidationFailed, False),
]


@pytest.mark.parametrize(("name", "status", "expected", "transient"), DOCUMENTED)
def test_documented_error_bodies_map_to_typed_errors(
    name: str, status: int, expected: type[B24Error], transient: bool
) -> None:
    body = fixture(name)
    error = failing_call(status, body)
    assert type(error) is expected
    assert isinstance(error, TransientError) is transient
    assert isinstance(error, PermanentError) is not transient
    assert error.code == str(body["error"])
    assert error.description == body["error_description"]
    assert error.status == status
    assert error.method == "crm.deal.get"


def test_integer_catalog_codes_keep_their_digits() -> None:
    error = failing_call(400, fixture("catalog.product.add.error.json"), "catalog.product.add")
    assert error.code == "200040300010"
    assert "catalog.product.add" in str(error)


@pytest.mark.parametrize(
    ("status", "body", "expected", "transient"),
    [
        (
            503,
            {"error": "OVERLOAD_LIMIT", "error_description": "REST API is blocked due to overload"},
            Overloaded,
            True,
        ),
        (500, {"error": "INTERNAL_SERVER_ERROR", "error_description": ""}, ServerError, True),
        (500, {"error": "PORTAL_DELETED", "error_description": "Portal was deleted"}, PortalDeleted, False),
        (400, {"error": "", "error_description": "Access denied."}, AccessDenied, False),
        (400, {"error": "", "error_description": "Not found"}, NotFound, False),
        # the code decides even where b24pysdk and the docs disagree on the status (README §12)
        (401, {"error": "insufficient_scope", "error_description": ""}, AuthError, True),
        (410, {"error": "PORTAL_DELETED", "error_description": ""}, PortalDeleted, False),
        (
            503,
            {"error": "query_limit_exceeded", "error_description": "Too many requests"},
            QueryLimitExceeded,
            True,
        ),
        # unknown codes fall back to the status
        (502, "<html>Bad gateway</html>", ServerError, True),
        (503, {"error": "SOMETHING_NEW", "error_description": ""}, ServerError, True),
        (405, {"error": "ERROR_BATCH_METHOD_NOT_ALLOWED", "error_description": ""}, ValidationFailed, False),
    ],
)
def test_code_decides_before_status(
    status: int, body: Any, expected: type[B24Error], transient: bool
) -> None:
    error = failing_call(status, body)
    assert type(error) is expected
    assert isinstance(error, TransientError) is transient


def test_error_text_names_method_code_and_description() -> None:
    error = failing_call(400, fixture("crm.deal.delete.error.json"), "crm.deal.delete")
    assert str(error) == "crm.deal.delete: (no code): ID is not defined or invalid. (HTTP 400)"
