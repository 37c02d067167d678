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
