"""ASGI application: Basic auth, request journal and fault injection around the OData handlers."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import logging
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from sandbox.onec.config import OneCEmulatorConfig
from sandbox.onec.errors import ODataError, internal_error
from sandbox.onec.odata import ODataRequest
from sandbox.onec.query import parse_query_string
from sandbox.onec.sandbox_api import routes as sandbox_routes
from sandbox.onec.state import EmulatorState, build_state

logger = logging.getLogger("sandbox.onec")
ODATA_METHODS = ["GET", "POST", "PATCH", "MERGE", "PUT", "DELETE"]


def _authorized(request: Request, config: OneCEmulatorConfig) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        # Logins are UTF-8 (a cp1251-encoded Cyrillic login was refused by the real IIS, GATE-P4).
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except ValueError:  # not base64 (binascii.Error), not ASCII at all, not UTF-8 inside
        return False
    username, _, password = decoded.partition(":")
    return username == config.username and password == config.password


def _journal_body(raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return text


async def odata_endpoint(request: Request) -> Response:
    state: EmulatorState = request.app.state.base
    path = request.path_params.get("rest", "")
    raw_query = request.scope.get("query_string", b"")
    options = parse_query_string(raw_query)
    body = await request.body()
    response = await _answer(state, request, path, options, body)
    state.record_call(
        {
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "method": request.method,
            "path": path,
            "query": options,
            "raw_query": raw_query.decode("latin-1"),
            "status": response.status_code,
            "body": _journal_body(body),
        }
    )
    return response


async def _answer(
    state: EmulatorState, request: Request, path: str, options: dict[str, str], body: bytes
) -> Response:
    if not _authorized(request, state.config):
        return Response(status_code=401, headers={"WWW-Authenticate": 'Basic realm="1C:Enterprise"'})
    fault = state.take_fault(request.method, path)
    if fault is not None:
        if fault.kind in ("hang", "slow"):
            await asyncio.sleep(fault.seconds)
        if fault.kind in ("error", "hang"):
            error = internal_error()
            error.status = fault.status
            return error.response()
    try:
        with state.lock:
            return ODataRequest(state, request, path, options, body).handle()
    except ODataError as error:
        return error.response()
    except Exception:
        logger.exception("emulator failure on %s %s", request.method, path)
        return internal_error().response()


def create_app(config: OneCEmulatorConfig | None = None) -> Starlette:
    config = config or OneCEmulatorConfig()
    base = config.base_path.rstrip("/")
    app = Starlette(
        routes=[
            Route(base, odata_endpoint, methods=ODATA_METHODS),
            Route(base + "/{rest:path}", odata_endpoint, methods=ODATA_METHODS),
            Mount("/_sandbox", routes=sandbox_routes),
        ]
    )
    app.state.base = build_state(config)
    return app
