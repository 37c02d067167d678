"""POST /1c/events: a 1C extension announces changed payments/orders (logic: bridge.payments.push)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from bridge.errors import PermanentError, TransientError
from bridge.http_edge import BodyRejected, describe, load_json, raw_body, utf8_text
from bridge.observability import logger, metrics, tracer
from bridge.payments.push import SIGNATURE_HEADER, PushBody, handle_push, refusal
from bridge.payments.recompute import PaymentsContext
from bridge.payments.wiring import default_context, push_secret

# ≤ 100 objects of ~100 bytes each; anything bigger is not the 1C extension.
MAX_BODY_BYTES = 32 * 1024


def _answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body, ensure_ascii=False),
    }


def _refused(status: int, reason: str, **extra: Any) -> dict[str, Any]:
    logger.warning("1C push refused", extra={"status": status, "reason": reason})
    metrics.add_metric(name="OneCPushRefused", unit=MetricUnit.Count, value=1)
    return _answer(status, {"error": reason, **extra})


def _now() -> datetime:
    return datetime.now(UTC)


def _parse(raw: bytes) -> PushBody:
    try:
        return PushBody.model_validate(load_json(utf8_text(raw)))
    except ValidationError as error:
        raise BodyRejected(400, f"body must be {{objects: [{{type, ref}}]}}: {describe(error)}") from None


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(
    event: dict[str, Any],
    context: LambdaContext,
    ctx: PaymentsContext | None = None,
    secret: str | None = None,
    clock: Callable[[], datetime] = _now,
) -> dict[str, Any]:
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    try:
        raw = raw_body(
            event.get("body"), is_base64_encoded=bool(event.get("isBase64Encoded")), max_bytes=MAX_BODY_BYTES
        )
    except BodyRejected as error:
        return _refused(error.status, error.reason)
    key = push_secret() if secret is None else secret
    why_not = refusal(key, raw, headers, clock())
    if why_not is not None:
        if not key:  # the log says why; the caller is not told that the route is switched off
            logger.error("1C push refused: no push secret is configured (onec_push_secret)")
            why_not = f"{SIGNATURE_HEADER} does not match"
        return _refused(401, why_not)
    try:
        body = _parse(raw)
    except BodyRejected as error:
        return _refused(error.status, error.reason)
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
