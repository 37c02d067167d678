"""What every Lambda handler shares, so `functions/*/app.py` only says what is particular to it.

- `scheduled`: the Powertools stack (context in the logs, metrics with cold start, tracing) around a
  function of one `Invocation`, which carries the event and the time budget left by Lambda.
- `HttpApi`: a Powertools HTTP resolver whose exception handlers give every public route the same
  answers: `Unauthorized` → 401, a refused body (`BodyRejected`, pydantic `ValidationError`) → its
  4xx (400, 413 for size), `TransientError` → 503, `PermanentError` → 422, `ConfigurationError` →
  500; each with a JSON reason, a log line and the route's refusal metric. `read_body` turns a raw
  body into a pydantic model or a 400.
- Dependency overrides for tests: handlers get their dependencies with `use(provider)` (providers
  are the zero-argument functions in `bridge.deps`); a test wraps its call in
  `overridden({deps.default_ports: ports, deps.push_secret: "s3cret"})` (the value replaces what
  the provider would return) instead of passing the handler extra arguments.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from typing import Any, cast

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError

from bridge import deps
from bridge.errors import BridgeError, ConfigurationError, PermanentError, TransientError
from bridge.http_edge import BodyRejected, describe, load_json, utf8_text
from bridge.observability import logger, metrics, tracer
from bridge.ports import Ports

type LambdaHandler = Callable[[dict[str, Any], LambdaContext], Any]

# --- dependency overrides --------------------------------------------------------------------------

_overrides: dict[Callable[[], Any], Any] = {}


def use[T](provider: Callable[[], T]) -> T:
    """What `provider` gives, unless a test overrode it."""
    if provider in _overrides:
        return cast(T, _overrides[provider])
    return provider()


@contextmanager
def overridden(values: dict[Callable[[], Any], Any]) -> Iterator[None]:
    """Within the block, `use(provider)` returns `values[provider]` (tests only)."""
    saved = dict(_overrides)
    _overrides.update(values)
    try:
        yield
    finally:
        _overrides.clear()
        _overrides.update(saved)


def count(name: str, value: float = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


# --- scheduled functions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Invocation:
    event: dict[str, Any]
    context: LambdaContext

    @property
    def ports(self) -> Ports:
        return use(deps.default_ports)

    def budget_s(self, reserve_s: float) -> float:
        return budget_s(self.context, reserve_s)


def run_marker[R](flow: str) -> Callable[[Callable[[Invocation], R]], Callable[[Invocation], R]]:
    """Keep the run's end as `run-<flow>` in SyncTable (under `@scheduled`) for `status`'s lag."""

    def decorate(run: Callable[[Invocation], R]) -> Callable[[Invocation], R]:
        @wraps(run)
        def marked(invocation: Invocation) -> R:
            started = deps.utc_now()
            try:
                result = run(invocation)
            except Exception as error:
                _mark(flow, started, "failed", f"{type(error).__name__}: {error}")
                raise
            _mark(flow, started, "ok")
            return result

        return marked

    return decorate


def _mark(flow: str, started: datetime, outcome: str, error: str | None = None) -> None:
    from bridge.oversight import runs  # lazy: SyncTable's stores load on the first marker only

    try:
        runs.mark_run(use(deps.default_ports).store, flow, started, outcome, error)
    except Exception as failure:
        # The run itself is done (or already failing); a lost marker only makes `status` show lag.
        logger.warning("could not mark the run", extra={"flow": flow, "error": type(failure).__name__})


def budget_s(context: LambdaContext, reserve_s: float) -> float:
    """Seconds a run may take so it stops `reserve_s` before Lambda's own timeout (at least 1)."""
    return max(context.get_remaining_time_in_millis() / 1000 - reserve_s, 1.0)


def _powertools(handler: LambdaHandler, correlation_id_path: str | None = None) -> LambdaHandler:
    traced = tracer.capture_lambda_handler(handler, capture_response=False)
    measured = metrics.log_metrics(traced, capture_cold_start_metric=True)
    return cast(
        LambdaHandler,
        logger.inject_lambda_context(measured, correlation_id_path=correlation_id_path, clear_state=True),
    )


def scheduled[R](run: Callable[[Invocation], R]) -> LambdaHandler:
    """A Lambda handler that runs `run` once per invocation (schedules and the queue worker)."""

    @wraps(run)
    def handler(event: dict[str, Any], context: LambdaContext) -> R:
        return run(Invocation(event, context))

    return _powertools(handler)


def asgi(adapter: Callable[..., Any]) -> LambdaHandler:
    """An ASGI app already wrapped for Lambda (the deal tab: Starlette behind mangum, which the
    function imports itself, so no other function loads it) with the Powertools stack."""

    def handler(event: dict[str, Any], context: LambdaContext) -> Any:
        return adapter(event, context)

    return _powertools(handler, correlation_paths.API_GATEWAY_HTTP)


# --- HTTP routes -----------------------------------------------------------------------------------


class Unauthorized(BridgeError):
    """The caller did not prove who it is (401); the message is the reason given back."""


def _labelled(label: str) -> Callable[[str], dict[str, Any]]:
    return lambda reason: {"error": label, "reason": reason}


@dataclass(frozen=True)
class Wording:
    """How one route words its answers: callers already rely on these bodies."""

    refused: Callable[[int, str], dict[str, Any]]  # 4xx: status, reason
    transient: Callable[[str], dict[str, Any]] = field(default=_labelled("temporarily unavailable"))
    permanent: Callable[[str], dict[str, Any]] = field(default=_labelled("cannot process"))
    # 500: the details stay in the log, never in the answer.
    configuration: dict[str, Any] = field(default_factory=lambda: {"error": "not configured"})


@dataclass(frozen=True)
class Response:
    """An HTTP answer, given back to API Gateway (HTTP API, payload 2.0) as its dict."""

    status_code: int
    headers: dict[str, str]
    body: str

    def as_lambda_result(self) -> dict[str, Any]:
        return {
            "statusCode": self.status_code,
            "headers": self.headers,
            "body": self.body,
            "isBase64Encoded": False,
            "cookies": [],
        }


class Headers(dict[str, str]):
    """Request headers by lowercase name (API Gateway lowercases them); `get` takes any case."""

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


@dataclass(frozen=True)
class HttpEvent:
    """What the routes read of an API Gateway HTTP API event (payload 2.0)."""

    raw: dict[str, Any]

    @property
    def body(self) -> str | None:
        return cast(str | None, self.raw.get("body"))

    @property
    def is_base64_encoded(self) -> bool:
        return bool(self.raw.get("isBase64Encoded"))

    @property
    def headers(self) -> Headers:
        return Headers({str(k).lower(): str(v) for k, v in (self.raw.get("headers") or {}).items()})

    @property
    def method(self) -> str:
        http = (self.raw.get("requestContext") or {}).get("http") or {}
        return str(http.get("method") or self.raw.get("httpMethod") or "").upper()

    @property
    def path(self) -> str:
        return str(self.raw.get("rawPath") or self.raw.get("path") or "")


type Route = Callable[[], object]  # returns a Response (the apps annotate `object`)


class Resolver:
    """The few parts of an HTTP resolver one route per function needs: exact method and path,
    errors mapped by type, the current event and context.

    Not Powertools' `APIGatewayHttpResolver`: importing it (and the event classes of every AWS
    service it brings) was about a third of an HTTP function's cold start (docs/performance.md, P5).
    An unknown route is a 404 as there; an error with no handler propagates (Lambda's 5xx) as there.
    """

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], Route] = {}
        self._errors: dict[type[BaseException], Callable[[Any], Response]] = {}
        self._event: HttpEvent | None = None
        self._context: LambdaContext | None = None

    def post(self, path: str) -> Callable[[Route], Route]:
        def register(route: Route) -> Route:
            self._routes["POST", path] = route
            return route

        return register

    def exception_handler(
        self, kind: type[BaseException]
    ) -> Callable[[Callable[[Any], Response]], Callable[[Any], Response]]:
        def register(handle: Callable[[Any], Response]) -> Callable[[Any], Response]:
            self._errors[kind] = handle
            return handle

        return register

    @property
    def current_event(self) -> HttpEvent:
        if self._event is None:
            raise RuntimeError("no request is being handled")
        return self._event

    @property
    def lambda_context(self) -> LambdaContext:
        if self._context is None:
            raise RuntimeError("no request is being handled")
        return self._context

    def resolve(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        self._event, self._context = HttpEvent(event), context
        try:
            route = self._routes.get((self._event.method, self._event.path))
            if route is None:
                body = json.dumps({"statusCode": 404, "message": "Not found"})
                return Response(404, {"Content-Type": "application/json"}, body).as_lambda_result()
            try:
                return cast(Response, route()).as_lambda_result()
            except Exception as error:
                handle = next((h for k in type(error).__mro__ if (h := self._errors.get(k))), None)
                if handle is None:
                    raise
                return handle(error).as_lambda_result()
        finally:
            self._event = self._context = None


class HttpApi:
    """One public route's resolver: `route` registers it, `handler` is the Lambda entry."""

    def __init__(
        self,
        name: str,
        wording: Wording,
        *,
        refused_metric: str | None = None,
        content_type_header: str = "Content-Type",
    ) -> None:
        self.name = name  # in log lines: "<name> refused", "<name>: retry later", "<name> failed"
        self.wording = wording
        self.refused_metric = refused_metric
        self._header = content_type_header
        self.app = Resolver()
        self.app.exception_handler(Unauthorized)(lambda e: self.refuse(401, str(e)))
        self.app.exception_handler(BodyRejected)(lambda e: self.refuse(e.status, e.reason))
        self.app.exception_handler(ValidationError)(lambda e: self.refuse(400, describe(e)))
        self.app.exception_handler(TransientError)(self._transient)
        self.app.exception_handler(PermanentError)(self._permanent)
        self.app.exception_handler(ConfigurationError)(self._configuration)
        self.handler: LambdaHandler = _powertools(self.app.resolve, correlation_paths.API_GATEWAY_HTTP)

    def reply(self, status: int, body: dict[str, Any]) -> Response:
        return Response(status, {self._header: "application/json"}, json.dumps(body, ensure_ascii=False))

    def refuse(self, status: int, reason: str) -> Response:
        logger.warning(f"{self.name} refused", extra={"status": status, "reason": reason})
        if self.refused_metric:
            count(self.refused_metric)
        return self.reply(status, self.wording.refused(status, reason))

    def _transient(self, error: TransientError) -> Response:
        # The other side is down: say so; the route's schedule catches up anyway.
        logger.warning(f"{self.name}: retry later", extra={"error": str(error)})
        return self.reply(503, self.wording.transient(str(error)))

    def _permanent(self, error: PermanentError) -> Response:
        logger.error(f"{self.name} failed", extra={"error": str(error)})
        return self.reply(422, self.wording.permanent(str(error)))

    def _configuration(self, error: ConfigurationError) -> Response:
        logger.error(f"{self.name}: not configured", extra={"error": str(error)})
        return self.reply(500, self.wording.configuration)

    @property
    def event(self) -> HttpEvent:
        return self.app.current_event

    def budget_s(self, reserve_s: float) -> float:
        return budget_s(self.app.lambda_context, reserve_s)


def read_body[M: BaseModel](model: type[M], raw: bytes, shape: str) -> M:
    """The body as `model`, or a 400 naming the expected `shape` and what was wrong."""
    try:
        return model.model_validate(load_json(utf8_text(raw)))
    except ValidationError as error:
        raise BodyRejected(400, f"body must be {shape}: {describe(error)}") from None
