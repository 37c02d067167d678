"""The local API: every HttpApi/Api route of the template, plus the `/_local/...` control routes."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request as HttpRequest
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.local import apigw
from sandbox.local.invoker import Invoker
from sandbox.local.journal import Invocation
from sandbox.local.model import RouteSpec

log = logging.getLogger("sandbox.api")


def create_router(
    routes: list[RouteSpec],
    invoker: Invoker,
    status: Callable[[], dict[str, Any]],
    default_event: Callable[[str], Any],
) -> Starlette:
    async def status_endpoint(request: HttpRequest) -> Response:
        return JSONResponse(await run_in_threadpool(status))

    async def invoke_endpoint(request: HttpRequest) -> Response:
        return await _invoke(request, request.path_params["logical_id"])

    async def lambda_invoke_endpoint(request: HttpRequest) -> Response:
        """Lambda's own Invoke API (boto3 `lambda.invoke` with this API as endpoint), by the
        function's name as `!Ref` gives it, so `setup --on-aws` runs unchanged against the stack."""
        name = request.path_params["name"]
        by_name = {runtime.spec.name: logical_id for logical_id, runtime in invoker.runtimes.items()}
        return await _invoke(request, by_name.get(name, name))

    async def _invoke(request: HttpRequest, logical_id: str) -> Response:
        if logical_id not in invoker.runtimes:
            return JSONResponse({"message": f"no function {logical_id} in the template"}, status_code=404)
        raw = await request.body()
        try:
            event = json.loads(raw) if raw.strip() else default_event(logical_id)
        except ValueError:
            return JSONResponse({"message": "the body must be the event as JSON"}, status_code=400)
        log.info("manual invoke → %s", logical_id)
        invocation = await run_in_threadpool(
            invoker.invoke, logical_id, event, trigger="manual", source="_local/invoke"
        )
        log.info("manual invoke → %s: %s (%.0f ms)", logical_id, invocation.outcome, invocation.duration_ms)
        headers = {"x-amz-request-id": invocation.request_id}
        if invocation.error is not None:
            # Lambda's Invoke API: HTTP 200, the error object as payload, X-Amz-Function-Error set.
            headers["x-amz-function-error"] = "Unhandled"
            return JSONResponse(invocation.error, headers=headers)
        return Response(json.dumps(invocation.result), media_type="application/json", headers=headers)

    async def api_endpoint(request: HttpRequest) -> Response:
        match = apigw.match_route(routes, request.method, request.url.path)
        if match is None:
            log.info("%s %s → no route (404)", request.method, request.url.path)
            answer = apigw.not_found()
        else:
            client = request.client
            local = apigw.Request(
                method=request.method,
                path=request.url.path,
                raw_query=request.url.query,
                headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
                body=await request.body(),
                source_ip=client.host if client else "127.0.0.1",
                host=request.headers.get("host", "127.0.0.1"),
                port=request.url.port or 80,
            )
            answer = await run_in_threadpool(_call, match, local)
        return _with_headers(answer)

    def _call(match: apigw.Match, request: apigw.Request) -> apigw.Response:
        route = match.route
        started = time.monotonic()
        log.info("%s %s → %s (%s)", request.method, request.path, route.function, route.route_key)
        event = apigw.build_event(match, request)
        answers: list[apigw.Response] = []

        def answer_for(invocation: Invocation) -> None:
            if invocation.outcome == "ok":
                answers.append(apigw.translate_response(invocation.result, route.payload_version))
            else:
                answers.append(apigw.function_failed(route.payload_version))
            invocation.notes["status"] = answers[0].status

        invocation = invoker.invoke(
            route.function, event, trigger="http", source=route.route_key, after=answer_for
        )
        log.info(
            "%s %s → %s: HTTP %d (%.0f ms)%s",
            request.method,
            request.path,
            route.function,
            answers[0].status,
            (time.monotonic() - started) * 1000,
            f" [{invocation.error['errorType']}]" if invocation.error else "",
        )
        return answers[0]

    def _with_headers(answer: apigw.Response) -> Response:
        response = Response(answer.body, status_code=answer.status)
        for name, value in answer.headers:
            if name.lower() == "content-length":
                continue
            response.headers.append(name, value)
        return response

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    return Starlette(
        routes=[
            Route("/_local/status", status_endpoint, methods=["GET"]),
            Route("/_local/invoke/{logical_id}", invoke_endpoint, methods=["POST"]),
            Route("/2015-03-31/functions/{name}/invocations", lambda_invoke_endpoint, methods=["POST"]),
            Route("/{path:path}", api_endpoint, methods=methods),
        ]
    )
