"""Typed Bitrix24 errors, decided from the error envelope `{"error", "error_description"}`.

The `error` code decides first (compared case-insensitively; it may be a string, `""` or an integer
for `catalog.*`), the HTTP status only when the code says nothing: the docs and the official SDK
disagree on the status of several system errors (README §12), the codes do not. Each class is also a
`bridge.errors.TransientError` (retry later) or `PermanentError` (retrying cannot help), so the queue
decides redelivery without knowing Bitrix24.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bridge.b24.masking import mask_secret
from bridge.errors import CredentialsRejected, PermanentError, TransientError


class B24Error(Exception):
    """A Bitrix24 call failed; `code` is the envelope's `error` as text ("" for legacy CRM errors)."""

    def __init__(self, code: str, description: str, status: int | None, method: str) -> None:
        self.code = code
        self.description = mask_secret(description)
        self.status = status
        self.method = method
        super().__init__(self._text())

    def _text(self) -> str:
        status = f"HTTP {self.status}" if self.status is not None else "no HTTP status"
        return (
            f"{self.method}: {self.code or '(no code)'}: {self.description or '(no description)'} ({status})"
        )


class B24TransientError(B24Error, TransientError):
    """Bitrix24 is busy, slow or down: the same call may succeed later."""


class B24PermanentError(B24Error, PermanentError):
    """The request itself is wrong or not allowed: the same call will fail again."""


class QueryLimitExceeded(B24TransientError):
    """503 QUERY_LIMIT_EXCEEDED: the portal's leaky bucket is full."""


class OperationTimeLimit(B24TransientError):
    """429 OPERATION_TIME_LIMIT: this method spent its server-time budget; others still work."""

    def __init__(
        self,
        code: str,
        description: str,
        status: int | None,
        method: str,
        operating_reset_at: float | None = None,
    ) -> None:
        self.operating_reset_at = operating_reset_at
        super().__init__(code, description, status, method)


class Overloaded(B24TransientError):
    """503 OVERLOAD_LIMIT: REST is blocked for the portal (by Bitrix support) until further notice."""


class ServerError(B24TransientError):
    """5xx or an answer that is not the documented envelope."""


class B24Unavailable(B24TransientError):
    """No answer at all: timeout, refused or reset connection, TLS failure."""


class AuthError(B24TransientError, CredentialsRejected):
    """The webhook code or token is wrong, expired, or lacks the method's scope. Transient: it is
    the integration's outage (a rotated or revoked webhook), not bad data, so the queue keeps the
    work until the secret is fixed (then the DLQ), and the client re-reads the secret first."""


class AccessDenied(B24PermanentError):
    """The webhook's user (or the plan) may not do this."""


class MethodNotFound(B24PermanentError):
    """The method does not exist (typo, REST v3-only method, module not installed)."""


class NotFound(B24PermanentError):
    """The entity addressed by the call does not exist."""


class ValidationFailed(B24PermanentError):
    """The portal rejected the parameters (bad field, missing id, business rule)."""


class PortalDeleted(B24PermanentError):
    """The portal no longer exists."""


_BY_CODE: dict[str, type[B24Error]] = {
    "QUERY_LIMIT_EXCEEDED": QueryLimitExceeded,
    "OPERATION_TIME_LIMIT": OperationTimeLimit,
    "OVERLOAD_LIMIT": Overloaded,
    "NO_AUTH_FOUND": AuthError,
    "EXPIRED_TOKEN": AuthError,
    "INVALID_TOKEN": AuthError,
    "INVALID_CREDENTIALS": AuthError,
    "INSUFFICIENT_SCOPE": AuthError,
    "WRONG_AUTH_TYPE": AuthError,
    "ACCESS_DENIED": AccessDenied,
    "USER_ACCESS_ERROR": AccessDenied,
    "PAYMENT_REQUIRED": AccessDenied,
    # catalog.* integer codes for "no rights" (README §1.4)
    "200040300010": AccessDenied,
    "200040300040": AccessDenied,
    "ERROR_METHOD_NOT_FOUND": MethodNotFound,
    "NOT_FOUND": NotFound,
    "OWNER_NOT_FOUND": NotFound,
    "INTERNAL_SERVER_ERROR": ServerError,
    "ERROR_UNEXPECTED_ANSWER": ServerError,
    "PORTAL_DELETED": PortalDeleted,
}

# Legacy crm.* errors carry no code, only a fixed English sentence; these two are the documented
# ones that mean something other than "bad parameters" (README §1.4, method-level table).
_LEGACY_DESCRIPTIONS: dict[str, type[B24Error]] = {
    "not found": NotFound,
    "access denied": AccessDenied,
}

_BY_STATUS: dict[int, type[B24Error]] = {
    401: AuthError,
    403: AccessDenied,
    404: NotFound,
    429: OperationTimeLimit,
    503: ServerError,
}


def code_text(raw: Any) -> str:
    """The envelope's `error` as text: ints stay digits, null becomes ""."""
    if raw is None:
        return ""
    return str(raw)


def error_class(code: str, description: str, status: int | None) -> type[B24Error]:
    by_code = _BY_CODE.get(code.upper())
    if by_code is not None:
        return by_code
    if code == "":
        by_text = _LEGACY_DESCRIPTIONS.get(description.strip().rstrip(".!").lower())
        if by_text is not None:
            return by_text
    if status is not None:
        by_status = _BY_STATUS.get(status)
        if by_status is not None:
            return by_status
        if status >= 500:
            return ServerError
    return ValidationFailed


def error_from_envelope(
    envelope: Mapping[str, Any],
    *,
    status: int | None,
    method: str,
    operating_reset_at: float | None = None,
) -> B24Error:
    """The typed error for an error envelope (a whole response, or one `result_error` entry)."""
    code = code_text(envelope.get("error"))
    description = str(envelope.get("error_description") or "")
    cls = error_class(code, description, status)
    if cls is OperationTimeLimit:
        return OperationTimeLimit(code, description, status, method, operating_reset_at)
    return cls(code, description, status, method)
