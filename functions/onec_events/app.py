"""POST /1c/events: a 1C extension announces changed payments/orders (logic: bridge.payments.push)."""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from bridge.errors import PermanentError, TransientError
from bridge.observability import logger, metrics, tracer
from bridge.payments.push import PushBody, authentic, handle_push
from bridge.payments.recompute import PaymentsContext
from bridge.payments.wiring import default_context, push_secret


def _answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body, ensure_ascii=False),
    }


def _raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(
    event: dict[str, Any],
    context: LambdaContext,
    ctx: PaymentsContext | None = None,
    secret: str | None = None,
) -> dict[str, Any]:
    raw = _raw_body(event)
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    if not authentic(push_secret() if secret is None else secret, raw, headers):
        logger.warning("1C push refused: bad or missing signature")
        return _answer(401, {"error": "signature or token missing or wrong"})
    try:
        body = PushBody.model_validate_json(raw)
    except ValidationError as error:
        return _answer(400, {"error": "body must be {objects: [{type, ref}]}", "detail": error.errors()[:3]})
    try:
        report = handle_push(ctx or default_context(), body)
    except TransientError as error:
        logger.warning("1C push: retry later", extra={"error": str(error)})
        return _answer(
            503, {"error": "temporarily unavailable, the scheduled poll will catch up", "detail": str(error)}
        )
    except PermanentError as error:
        logger.error("1C push failed", extra={"error": str(error)})
        return _answer(422, {"error": str(error)})
    return _answer(202, report.as_dict())
