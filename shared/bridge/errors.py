"""The two kinds of failure every flow distinguishes, and the one place that decides retry."""

from __future__ import annotations


class BridgeError(Exception):
    """Base of every error the bridge raises on purpose."""


class TransientError(BridgeError):
    """The other side is down, slow or rate-limiting: retry later (the queue redelivers)."""


class CredentialsRejected(TransientError):
    """The other system refused our credentials (1C 401/403, a Bitrix24 auth error), even after the
    secret was re-read. Not bad data but an outage of the integration: the work waits in the queue,
    then reaches the DLQ, and `AuthFailed` raises an alarm so a person fixes the secret."""


class SetupMissing(TransientError):
    """A flow's setup has not run, or must run again. Not the event's fault and not permanent: the
    work waits (the queue keeps the event, a route answers 503, a schedule tries next time) and the
    `SetupMissing` metric raises an alarm so a person runs setup."""


class PermanentError(BridgeError):
    """Bad data or configuration: retrying cannot help; tell a person and stop."""


class ConfigurationError(PermanentError):
    """A setting is missing or invalid; the message names the setting."""


def is_transient(error: BaseException) -> bool:
    """Whether a failed unit of work should be retried by the queue."""
    return isinstance(error, TransientError)
