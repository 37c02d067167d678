"""Link-store failures, and the one place DynamoDB `ClientError` codes become them."""

from __future__ import annotations

from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

from bridge.errors import BridgeError, PermanentError, TransientError
from bridge.store.models import Link


class LinkConflict(PermanentError):
    """An object is already linked to a different counterpart; a person decides which is right."""

    def __init__(self, requested: Link, existing: list[Link]) -> None:
        self.requested = requested
        self.existing = existing
        described = "; ".join(_describe(link) for link in existing) or "a link being changed concurrently"
        super().__init__(f"cannot link {_describe(requested)}: already linked as {described}")


class LinkNotFound(PermanentError):
    """The object has no link to update."""


class CursorConflict(TransientError):
    """Another run moved the cursor first. Transient: re-reading the cursor and redoing the run fixes it."""


class StoreBusy(TransientError):
    """DynamoDB throttled, failed internally or saw a competing transaction; retry later."""


class StoreError(PermanentError):
    """DynamoDB rejected the request itself (missing table, invalid request): configuration or a bug."""


def _describe(link: Link) -> str:
    return f"B24 {link.b24.entity} {link.b24.id} ⇄ 1C {link.onec.entity_set} {link.onec.ref}"


_TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
        "TransactionInProgressException",
        "LimitExceededException",
    }
)
_TRANSIENT_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
)
_CONDITION_FAILED = "ConditionalCheckFailed"


def translate(
    error: ClientError | BotoCoreError, conflict: Callable[[], BridgeError] | None = None
) -> BridgeError:
    """Domain error for a failed DynamoDB call; `conflict` builds the error for a failed condition."""
    if isinstance(error, BotoCoreError):
        return StoreBusy(f"DynamoDB unreachable: {type(error).__name__}")
    code = error.response.get("Error", {}).get("Code", "")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    reasons = {reason.get("Code") or "None" for reason in error.response.get("CancellationReasons", [])}
    failed_condition = code == f"{_CONDITION_FAILED}Exception" or (
        code == "TransactionCanceledException" and _CONDITION_FAILED in reasons
    )
    if failed_condition and conflict is not None:
        return conflict()
    if code in _TRANSIENT_CODES or status >= 500 or reasons & _TRANSIENT_REASONS:
        return StoreBusy(f"DynamoDB busy: {code}")
    return StoreError(f"DynamoDB rejected the request: {code}")
