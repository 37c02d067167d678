"""REST calls as one portal user, with the access token an application frame carries (`AUTH_ID`).

The «1С» deal tab proves who opened it by asking the configured portal (`app.info`,
`user.current`, `crm.deal.get`) with the token the request brought. Unlike `B24Client` this is
not the bridge's own credential: a refused token is the caller's problem (a 401/403 to them),
never the integration's outage, so it is not retried, not counted as `AuthFailed` and never
re-read from a secret. The address is the configured portal's (from the webhook secret), never a
host named in the request. Calls take a slot of the shared rate budget like every other call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from bridge.b24.client import USER_AGENT
from bridge.b24.errors import B24Unavailable, ServerError, error_from_envelope
from bridge.b24.ratelimit import RateLimiter


class PortalAsUser:
    def __init__(
        self,
        rest_base: str,
        *,
        limiter: RateLimiter,
        http: httpx.Client | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        """`rest_base`: `https://<portal>/rest/` (the portal's origin plus `/rest/`)."""
        self._base = rest_base if rest_base.endswith("/") else rest_base + "/"
        self._limiter = limiter
        self._http = http or httpx.Client(follow_redirects=False)
        self._timeout = httpx.Timeout(timeout_s)

    def __repr__(self) -> str:
        return f"PortalAsUser({self._base!r})"

    def call(self, method: str, token: str, params: Mapping[str, Any] | None = None) -> Any:
        """The method's `result`; a typed `B24Error` for an error answer (not retried)."""
        self._limiter.acquire()
        try:
            response = self._http.post(
                f"{self._base}{method}.json",
                # The token travels in the body: a query string ends up in access logs.
                json={**(params or {}), "auth": token},
                headers={"Accept": "application/json", "User-Agent": USER_AGENT},
                timeout=self._timeout,
            )
        except httpx.HTTPError as error:
            raise B24Unavailable(type(error).__name__.upper(), type(error).__name__, None, method) from None
        try:
            payload: Any = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, Mapping):
            raise ServerError("", "answer is not a JSON object", response.status_code, method)
        if "error" in payload and (response.status_code >= 400 or "result" not in payload):
            raise error_from_envelope(payload, status=response.status_code, method=method)
        if "result" not in payload:
            raise ServerError("", "answer without result", response.status_code, method)
        return payload["result"]
