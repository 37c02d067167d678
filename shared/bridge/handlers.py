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
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError

from bridge import deps
from bridge.errors import BridgeError, ConfigurationError, PermanentError, TransientError
from bridge.http_edge import BodyRejected, describe, load_json, utf8_text
from bridge.observability import logger, metrics, tracer
from bridge.ports import Ports

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response

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
        # Lazy: only the HTTP functions load Powertools' resolver (and its event classes).
        from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

        self.app = APIGatewayHttpResolver()
        self.app.exception_handler(Unauthorized)(lambda e: self.refuse(401, str(e)))
        self.app.exception_handler(BodyRejected)(lambda e: self.refuse(e.status, e.reason))
        self.app.exception_handler(ValidationError)(lambda e: self.refuse(400, describe(e)))
        self.app.exception_handler(TransientError)(self._transient)
        self.app.exception_handler(PermanentError)(self._permanent)
        self.app.exception_handler(ConfigurationError)(self._configuration)
        self.handler: LambdaHandler = _powertools(self.app.resolve, correlation_paths.API_GATEWAY_HTTP)

    def reply(self, status: int, body: dict[str, Any]) -> Response[str]:
        from aws_lambda_powertools.event_handler import Response  # loaded by __init__ already

        return Response(
            status_code=status,
            headers={self._header: "application/json"},
            body=json.dumps(body, ensure_ascii=False),
        )

    def refuse(self, status: int, reason: str) -> Response[str]:
        logger.warning(f"{self.name} refused", extra={"status": status, "reason": reason})
        if self.refused_metric:
            count(self.refused_metric)
        return self.reply(status, self.wording.refused(status, reason))

    def _transient(self, error: TransientError) -> Response[str]:
        # The other side is down: say so; the route's schedule catches up anyway.
        logger.warning(f"{self.name}: retry later", extra={"error": str(error)})
        return self.reply(503, self.wording.transient(str(error)))

    def _permanent(self, error: PermanentError) -> Response[str]:
        logger.error(f"{self.name} failed", extra={"error": str(error)})
        return self.reply(422, self.wording.permanent(str(error)))

    def _configuration(self, error: ConfigurationError) -> Response[str]:
        logger.error(f"{self.name}: not configured", extra={"error": str(error)})
        return self.reply(500, self.wording.configuration)

    @property
    def event(self) -> Any:
        return self.app.current_event

    def budget_s(self, reserve_s: float) -> float:
        return budget_s(self.app.lambda_context, reserve_s)


def read_body[M: BaseModel](model: type[M], raw: bytes, shape: str) -> M:
    """The body as `model`, or a 400 naming the expected `shape` and what was wrong."""
    try:
        return model.model_validate(load_json(utf8_text(raw)))
    except ValidationError as error:
        raise BodyRejected(400, f"body must be {shape}: {describe(error)}") from None
