"""The emulators' `/_sandbox/…` control endpoints: a request they cannot read gets 400 and why.

These controls are no part of either real API, but people drive them by hand and from scripts
while they try the integration. A body that is not JSON, a missing key or a count that is no
number used to escape as a 500 with no reason; now the answer names what could not be read. A
control that takes several records (1C's `/stock`, `/prices`) applies them in order: the 400
comes at the first one it cannot read, and those before it stay applied."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]

# What reading a control's input raises: JSON and number errors (ValueError, UnicodeDecodeError
# among them), a missing key, a value of the wrong type.
_UNREADABLE = (ValueError, KeyError, TypeError, AttributeError, IndexError, OverflowError)


def control(path: str, endpoint: Endpoint, methods: list[str]) -> Route:
    """`Route` for a control endpoint that answers input it cannot read with 400."""

    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except _UNREADABLE as exc:
            reason = f"cannot read this request to {request.url.path}: {type(exc).__name__}: {exc}"
            log.warning("sandbox control refused", extra={"path": request.url.path, "reason": reason})
            return JSONResponse({"error": reason[:500]}, status_code=400)

    return Route(path, guarded, methods=methods)
