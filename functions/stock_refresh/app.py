"""POST /stock/refresh: refresh the stock of given Bitrix24 products (or all) now.

Body `{"product_ids": [12, 15]}` (Bitrix24 product ids) or `{}` / `{"all": true}` for every synced
product. Header `X-Bridge-Token` must equal the shared secret (bridge.catalog.auth), compared in
constant time; otherwise 401 and nothing runs. The body is strict: an unknown field (a typo such
as `produkt_ids`) is a 400, never read as "refresh everything"; over 64 KB is a 413.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge.catalog.auth import HEADER, refresh_token, token_matches
from bridge.catalog.refresh_request import MAX_BODY_BYTES, requested_ids
from bridge.catalog.runs import run_refresh
from bridge.deps import Ports, default_ports
from bridge.errors import PermanentError, TransientError
from bridge.http_edge import BodyRejected, raw_body
from bridge.observability import logger, metrics, tracer

app = APIGatewayHttpResolver()


def _json(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, ensure_ascii=False),
    )


@app.post("/stock/refresh")
def stock_refresh() -> Response[str]:
    event = app.current_event
    if not token_matches(event.headers.get(HEADER), refresh_token()):
        logger.warning("stock refresh refused: missing or wrong token")
        return _json(401, {"error": "unauthorized", "reason": f"missing or wrong {HEADER} header"})
    try:
        raw = raw_body(event.body, is_base64_encoded=bool(event.is_base64_encoded), max_bytes=MAX_BODY_BYTES)
        ids = requested_ids(raw)
    except BodyRejected as error:
        logger.warning("stock refresh refused", extra={"status": error.status, "reason": error.reason})
        label = "payload_too_large" if error.status == 413 else "bad_request"
        return _json(error.status, {"error": label, "reason": error.reason})
    context = app.context
    try:
        report = run_refresh(ids, context["ports"], budget_s=context["budget_s"])
    except TransientError as error:
        # Bitrix24 or 1C unreachable: say so; the 5-minute stock schedule catches up anyway.
        logger.warning("stock refresh: retry later", extra={"error": str(error)})
        return _json(503, {"error": "temporarily unavailable", "reason": str(error)})
    except PermanentError as error:
        logger.error("stock refresh failed", extra={"error": str(error)})
        return _json(422, {"error": "cannot refresh", "reason": str(error)})
    return _json(200, report.as_dict())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(
    event: dict[str, Any],
    context: LambdaContext,
    ports: Ports | None = None,
) -> dict[str, Any]:
    ports = ports or default_ports()
    budget_s = context.get_remaining_time_in_millis() / 1000 - 5
    app.context.update({"ports": ports, "budget_s": max(budget_s, 1.0)})
    return app.resolve(event, context)
