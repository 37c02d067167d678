"""The local stack: API Gateway, SQS event sources and EventBridge schedules played for the real
Lambda handlers, as declared in template.yaml (docs/sandbox.md).

Names are loaded lazily so that `sandbox.local.runtime`, which runs inside every local Lambda
container, does not pay for importing the whole stack (boto3, Starlette) on each cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.local.journal import Invocation, Journal
    from sandbox.local.stack import LocalStack, LocalStackConfig

__all__ = ["Invocation", "Journal", "LocalStack", "LocalStackConfig"]


def __getattr__(name: str) -> Any:
    if name in ("Invocation", "Journal"):
        from sandbox.local import journal

        return getattr(journal, name)
    if name in ("LocalStack", "LocalStackConfig"):
        from sandbox.local import stack

        return getattr(stack, name)
    raise AttributeError(name)
