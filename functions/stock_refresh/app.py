"""POST /stock/refresh: refresh the stock of given Bitrix24 products (or all) now.

Body `{"product_ids": [12, 15]}` (Bitrix24 product ids) or `{}` / `{"all": true}` for every synced
product. Header `X-Bridge-Token` must equal the shared secret (bridge.catalog.auth), compared in
constant time; otherwise 401 and nothing runs.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge.catalog.auth import HEADER, refresh_token, token_matches
from bridge.catalog.resolved import ResolvedStore
from bridge.catalog.runs import run_refresh
from bridge.deps import Ports, default_ports
from bridge.errors import PermanentError, TransientError
from bridge.observability import logger, metrics, tracer

app = APIGatewayHttpResolver()


def _json(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, ensure_ascii=False),
    )


def _product_ids(raw: str | None) -> list[int] | None:
    """The ids asked for, None for all; ValueError with a reason for a malformed body."""
    if not raw or not raw.strip():
        return None
    try:
        body = json.loads(raw)
    except ValueError:
        raise ValueError("body is not JSON") from None
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    ids = body.get("product_ids")
    if ids is None:
        if body.get("all", True) is not True:
            raise ValueError("give product_ids or all: true")
        return None
    if not isinstance(ids, list) or not all(
        isinstance(i, int) or (isinstance(i, str) and i.isdigit()) for i in ids
    ):
        raise ValueError("product_ids must be a list of Bitrix24 product ids")
    return [int(i) for i in ids]


@app.post("/stock/refresh")
def stock_refresh() -> Response[str]:
    event = app.current_event
    if not token_matches(event.headers.get(HEADER), refresh_token()):
        logger.warning("stock refresh refused: missing or wrong token")
        return _json(401, {"error": "unauthorized", "reason": f"missing or wrong {HEADER} header"})
    try:
        ids = _product_ids(event.decoded_body)
    except ValueError as error:
        return _json(400, {"error": "bad_request", "reason": str(error)})
    context = app.context
    try:
        report = run_refresh(ids, context["ports"], store=context.get("store"), budget_s=context["budget_s"])
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
    store: ResolvedStore | None = None,
) -> dict[str, Any]:
    ports = ports or default_ports()
    budget_s = context.get_remaining_time_in_millis() / 1000 - 5
    app.context.update({"ports": ports, "store": store, "budget_s": max(budget_s, 1.0)})
    return app.resolve(event, context)
