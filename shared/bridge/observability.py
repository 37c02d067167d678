"""Powertools Logger, Tracer and Metrics shared by every function.

Service name, log level and metrics namespace come from the Powertools environment variables that
template.yaml sets (POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL, POWERTOOLS_METRICS_NAMESPACE),
so each function reports under its own service. These objects hold no network client, so creating
them at import is cheap and is what Powertools expects (one logger per process).
"""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger, Metrics, Tracer

from bridge.b24.masking import SecretMaskingFilter, install_secret_filter

logger = Logger()
tracer = Tracer()
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
    from aws_lambda_powertools.metrics import MetricUnit

    from bridge.b24.masking import mask_secret

    logger.error(
        f"{system} refused the bridge's credentials; rotate or fix the secret (docs/operations.md)",
        extra={"step": "auth", "system": system, "reason": mask_secret(reason)},
    )
    metrics.add_metric(name="AuthFailed", unit=MetricUnit.Count, value=1)
