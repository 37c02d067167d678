"""1C:Enterprise standard OData interface: client, literals and typed errors.

The client and the errors are loaded on first use (PEP 562 `__getattr__`), not when the package is:
both import httpx (~0.2 s of a cold start), and code that only needs the literal helpers in
`bridge.onec.odata` should not pay for it (issue 15, P5).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridge.onec.client import ODataClient
    from bridge.onec.errors import (
        AccessDenied,
        BadRequest,
        NotFound,
        ODataError,
        ODataUnavailable,
        ServerError,
        UnexpectedResponse,
    )

_HOME = {
    "ODataClient": "bridge.onec.client",
    "AccessDenied": "bridge.onec.errors",
    "BadRequest": "bridge.onec.errors",
    "NotFound": "bridge.onec.errors",
    "ODataError": "bridge.onec.errors",
    "ODataUnavailable": "bridge.onec.errors",
    "ServerError": "bridge.onec.errors",
    "UnexpectedResponse": "bridge.onec.errors",
}

__all__ = [
    "AccessDenied",
    "BadRequest",
    "NotFound",
    "ODataClient",
    "ODataError",
    "ODataUnavailable",
    "ServerError",
    "UnexpectedResponse",
]


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(_HOME[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
