"""Powertools Logger, Tracer and Metrics shared by every function.

Service name, log level and metrics namespace come from the Powertools environment variables that
template.yaml sets (POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL, POWERTOOLS_METRICS_NAMESPACE),
so each function reports under its own service. These objects hold no network client, so creating
them at import is cheap and is what Powertools expects (one logger per process).

The Tracer is the one exception to "cheap": a plain `Tracer()` imports the X-Ray SDK's recorder
(which imports botocore.session for its sampling rules) and, with auto-patching, every library the
SDK knows how to patch — ~40 % of a function's import even where tracing is off. So (issue 15, P5):
where Powertools would disable tracing anyway (POWERTOOLS_TRACE_DISABLED, outside Lambda, SAM local)
the Tracer gets a no-op provider and the X-Ray SDK is never imported; where tracing is on (deployed,
`Tracing: Active`), it is the X-Ray recorder as before, patching only the two libraries we call
through — botocore (DynamoDB, SQS, Secrets Manager, Scheduler) and httpx (Bitrix24, 1C).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

from bridge.b24.masking import SecretMaskingFilter, install_secret_filter, mask_secret

# The libraries whose calls become X-Ray subsegments: every outbound call of the bridge goes through
# one of them (boto3 clients are botocore; both HTTP clients are httpx).
TRACED_LIBRARIES = ("botocore", "httpx")


class _NoSegment(BaseSegment):
    """What the handler decorator annotates when tracing is off: nothing is recorded or sent."""

    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        pass


class NoTracingProvider(BaseProvider):
    """Stands in for the X-Ray recorder where tracing is disabled, so the SDK is not imported."""

    @contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[BaseSegment]:
        yield _NoSegment()

    def in_subsegment_async(self, name: Any = None, **kwargs: Any) -> Any:
        raise NotImplementedError("the bridge has no async handlers")

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def patch(self, modules: Sequence[str]) -> None:
        pass

    def patch_all(self) -> None:
        pass


def make_tracer() -> Tracer:
    """Powertools' own rule decides whether tracing is on, so behaviour is what `Tracer()` gave."""
    if Tracer._is_tracer_disabled():
        return Tracer(disabled=True, auto_patch=False, provider=NoTracingProvider())
    return Tracer(auto_patch=True, patch_modules=TRACED_LIBRARIES)


logger = Logger()
tracer = make_tracer()
metrics = Metrics()

# Libraries that log secrets: httpx writes every request URL at INFO (the webhook code is a path
# segment), httpcore/urllib3 write headers (the 1C Basic header) at DEBUG, and botocore writes the
# whole GetSecretValue answer at DEBUG. They stay at WARNING whatever the function's log level.
NOISY_LIBRARIES = ("httpx", "httpcore", "urllib3", "botocore", "boto3", "s3transfer")


class LibraryDebugFilter(logging.Filter):
    """Drops the libraries' DEBUG records even when someone turns their loggers to DEBUG: those
    carry request and response bodies, which masking cannot fully know in advance (the first
    GetSecretValue answer arrives before its values are registered)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG:
            return True
        return not any(record.name == n or record.name.startswith(n + ".") for n in NOISY_LIBRARIES)


def count_call(waited_s: float) -> None:
    """One Bitrix24 call for the dashboard, and the time it waited for the rate and operating
    budgets. Only inside Lambda, where the handler flushes metrics: a CLI run must not print them."""
    if "AWS_LAMBDA_FUNCTION_NAME" not in os.environ:
        return
    metrics.add_metric(name="B24Calls", unit=MetricUnit.Count, value=1)
    if waited_s >= 0.001:
        metrics.add_metric(name="B24RateWaitSeconds", unit=MetricUnit.Seconds, value=round(waited_s, 3))


@contextmanager
def correlated(correlation_id: str) -> Generator[None]:
    """Every log line inside carries `correlation_id` (`DEAL-42` in the worker, the 1C ref or
    `1C#<set>#<ref>` in the pollers), so one Logs Insights query follows one record's path."""
    logger.set_correlation_id(correlation_id)
    try:
        yield
    finally:
        logger.set_correlation_id(None)


def protect_logging(root: logging.Logger | None = None) -> None:
    """Quiet the noisy libraries and put the masking on every handler that writes out: the
    Powertools logger's and the root logger's (Lambda's own handler, where libraries log)."""
    for name in NOISY_LIBRARIES:
        library = logging.getLogger(name)
        if library.getEffectiveLevel() < logging.WARNING:
            library.setLevel(logging.WARNING)
    install_secret_filter(logger)
    for handler in (root or logging.getLogger()).handlers:
        if not any(isinstance(f, LibraryDebugFilter) for f in handler.filters):
            handler.addFilter(LibraryDebugFilter())
        if not any(isinstance(f, SecretMaskingFilter) for f in handler.filters):
            install_secret_filter(handler)


protect_logging()


def report_auth_failure(system: str, reason: str) -> None:
    """The other side refused our credentials even after re-reading the secret: an outage of the
    integration, not bad data. Logged and counted (`AuthFailed`, alarmed in template.yaml); the
    caller raises a transient error so the work waits in the queue and reaches the DLQ."""
    logger.error(
        f"{system} refused the bridge's credentials; rotate or fix the secret (docs/operations.md)",
        extra={"step": "auth", "system": system, "reason": mask_secret(reason)},
    )
    metrics.add_metric(name="AuthFailed", unit=MetricUnit.Count, value=1)
