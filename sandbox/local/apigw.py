"""API Gateway's side of a Lambda proxy integration: route matching, the request event (HTTP API
payload 2.0 and 1.0 / REST API), and turning the function's answer into an HTTP response.

Pure functions over plain data, so the shapes can be checked without sockets.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from sandbox.local.intrinsics import ACCOUNT_ID
from sandbox.local.model import RouteSpec

LOCAL_API_ID = "local"

# Measured against real HTTP APIs: only these bodies arrive as text; everything else, including
# application/x-www-form-urlencoded (Bitrix24's outbound events) and a missing Content-Type, arrives
# base64-encoded with isBase64Encoded=true.
_TEXT_TYPES = ("application/json", "application/xml", "application/javascript")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    raw_query: str
    headers: list[tuple[str, str]]  # as received, in order, names in any case
    body: bytes
    source_ip: str
    host: str
    port: int


@dataclass(frozen=True)
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


@dataclass(frozen=True)
class Match:
    route: RouteSpec
    path_parameters: dict[str, str]


def _pattern(path: str) -> re.Pattern[str]:
    parts = []
    for segment in path.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("+}"):
            parts.append(f"(?P<{segment[1:-2]}>.+)")
        elif segment.startswith("{") and segment.endswith("}"):
            parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    return re.compile("^/" + "/".join(parts) + "/?$")


def _specificity(route: RouteSpec) -> tuple[int, int, int, int, int]:
    """API Gateway prefers exact paths, then fewer variables, greedy last, a named method over ANY."""
    if route.path == "$default":
        return (1, 0, 0, 0, 0)
    segments = route.path.strip("/").split("/")
    greedy = int(any(s.endswith("+}") for s in segments))
    variables = sum(s.startswith("{") for s in segments)
    return (0, greedy, variables, -len(segments), int(route.method == "ANY"))


def match_route(routes: Iterable[RouteSpec], method: str, path: str) -> Match | None:
    for route in sorted(routes, key=_specificity):
        if route.method not in ("ANY", method.upper()):
            continue
        if route.path == "$default":
            return Match(route, {})
        found = _pattern(route.path).match(path)
        if found:
            return Match(route, dict(found.groupdict()))
    return None


def _is_text(content_type: str | None) -> bool:
    if not content_type:
        return False
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith("text/") or kind in _TEXT_TYPES


def _joined_headers(request: Request) -> dict[str, str]:
    joined: dict[str, str] = {}
    for name, value in request.headers:
        key = name.lower()
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    # API Gateway's own forwarding headers.
    joined.setdefault("x-forwarded-for", request.source_ip)
    joined.setdefault("x-forwarded-port", str(request.port))
    joined.setdefault("x-forwarded-proto", "http")
    joined.setdefault("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}")
    return joined


def _body(request: Request, content_type: str | None, http_api: bool) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    if http_api and not _is_text(content_type):
        return base64.b64encode(request.body).decode("ascii"), True
    try:
        return request.body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(request.body).decode("ascii"), True


def _query(raw: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    multi: dict[str, list[str]] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        multi.setdefault(key, []).append(value)
    return {k: ",".join(v) for k, v in multi.items()}, multi


def build_event(match: Match, request: Request, *, stage: str = "$default") -> dict[str, Any]:
    if match.route.payload_version == "2.0":
        return build_v2_event(match, request, stage=stage)
    return build_v1_event(match, request, stage="$default" if match.route.api == "HttpApi" else "Prod")


def build_v2_event(match: Match, request: Request, *, stage: str = "$default") -> dict[str, Any]:
    now = datetime.now(UTC)
    headers = _joined_headers(request)
    cookie = headers.pop("cookie", None)
    body, encoded = _body(request, headers.get("content-type"), http_api=True)
    request_id = base64.b32encode(uuid.uuid4().bytes)[:16].decode()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": match.route.route_key,
        "rawPath": request.path,
        "rawQueryString": request.raw_query,
    }
    if cookie:
        event["cookies"] = [c.strip() for c in cookie.replace(";", ",").split(",") if c.strip()]
    event["headers"] = headers
    if request.raw_query:
        event["queryStringParameters"] = _query(request.raw_query)[0]
    event["requestContext"] = {
        "accountId": ACCOUNT_ID,
        "apiId": LOCAL_API_ID,
        "domainName": request.host,
        "domainPrefix": request.host.split(".", 1)[0],
        "http": {
            "method": request.method.upper(),
            "path": request.path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": match.route.route_key,
        "stage": stage,
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if match.path_parameters:
        event["pathParameters"] = match.path_parameters
    if body is not None:
        event["body"] = body
    event["isBase64Encoded"] = encoded
    return event


def build_v1_event(match: Match, request: Request, *, stage: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        multi_headers.setdefault(name, []).append(value)
    headers = {name: values[-1] for name, values in multi_headers.items()}
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    body, encoded = _body(request, content_type, http_api=match.route.api == "HttpApi")
    multi = _query(request.raw_query)[1]
    resource = match.route.path if match.route.path != "$default" else "/{proxy+}"
    return {
        "version": "1.0",
        "resource": resource,
        "path": request.path,
        "httpMethod": request.method.upper(),
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {k: v[-1] for k, v in multi.items()} or None,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": match.path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": LOCAL_API_ID,
            "httpMethod": request.method.upper(),
            "path": f"/{stage}{request.path}" if stage != "$default" else request.path,
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "resourcePath": resource,
            "stage": stage,
            "identity": {
                "sourceIp": request.source_ip,
                "userAgent": headers.get("User-Agent") or headers.get("user-agent"),
            },
        },
        "body": body,
        "isBase64Encoded": encoded,
    }


def _body_bytes(body: Any, base64_encoded: bool) -> bytes:
    if body is None:
        return b""
    text = body if isinstance(body, str) else json.dumps(body)
    return base64.b64decode(text) if base64_encoded else text.encode("utf-8")


def translate_response(result: Any, payload_version: str) -> Response:
    """The function's return value as API Gateway sends it to the client."""
    if isinstance(result, dict) and "statusCode" in result:
        headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers.extend((str(name), str(v)) for v in values)
        headers.extend(("set-cookie", str(c)) for c in result.get("cookies") or [])
        body = _body_bytes(result.get("body"), bool(result.get("isBase64Encoded")))
        return Response(int(result["statusCode"]), headers, body)
    if payload_version == "2.0":
        # HTTP API 2.0 infers a 200 JSON response from any other valid JSON value.
        text = result if isinstance(result, str) else json.dumps(result)
        return Response(200, [("content-type", "application/json")], text.encode("utf-8"))
    return bad_gateway()


def function_failed(payload_version: str) -> Response:
    if payload_version == "2.0":
        return Response(500, [("content-type", "application/json")], b'{"message":"Internal Server Error"}')
    return bad_gateway()


def bad_gateway() -> Response:
    return Response(502, [("content-type", "application/json")], b'{"message": "Internal server error"}')


def not_found() -> Response:
    return Response(404, [("content-type", "application/json")], b'{"message":"Not Found"}')
