"""Powertools Logger, Tracer and Metrics shared by every function.

Service name, log level and metrics namespace come from the Powertools environment variables that
template.yaml sets (POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL, POWERTOOLS_METRICS_NAMESPACE),
so each function reports under its own service. These objects hold no network client, so creating
them at import is cheap and is what Powertools expects (one logger per process).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()


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
