"""1C:Enterprise standard OData interface: client, literals and typed errors."""

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
