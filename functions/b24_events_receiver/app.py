"""POST /b24/events: Bitrix24 outbound events in, queued per entity (logic: bridge.pipeline.receiver)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge.observability import logger, metrics, tracer
from bridge.pipeline.receiver import HttpRequest, ReceiverDeps, default_receiver_deps, receive

app = APIGatewayHttpResolver()


@app.post("/b24/events")
def b24_events() -> Response[str]:
    event = app.current_event
    request = HttpRequest(
        body=event.body,
        is_base64_encoded=bool(event.is_base64_encoded),
        content_type=event.headers.get("content-type"),
    )
    answer = receive(request, app.context["deps"])
    return Response(
        status_code=answer.status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(answer.body, ensure_ascii=False),
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(
    event: dict[str, Any], context: LambdaContext, deps: ReceiverDeps | None = None
) -> dict[str, Any]:
    app.context["deps"] = deps or default_receiver_deps()
    return app.resolve(event, context)
