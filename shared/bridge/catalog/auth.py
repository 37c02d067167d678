"""The shared secret of `POST /stock/refresh` (`settings.refresh_secret()`), checked in
constant time. No token configured means every request is refused.
"""

from __future__ import annotations

import hmac

from bridge.settings import refresh_secret

HEADER = "x-bridge-token"


def refresh_token() -> str | None:
    token = refresh_secret()
    value = token.get_secret_value().strip() if token is not None else ""
    return value or None


def token_matches(presented: str | None, expected: str | None) -> bool:
    if not presented or not expected:
        return False
    # surrogatepass: a header that is not valid text compares unequal instead of raising.
    return hmac.compare_digest(presented.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))
