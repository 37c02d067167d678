"""The one place a configured `B24Client` is built from settings and secrets.

`bridge.deps` caches it per process: a warm Lambda keeps its HTTP connection pool and its view
of each method's operating time. The webhook is not frozen in it: the client asks the settings for the current
one (re-read on the secret's TTL, and at once after an auth error), so a rotation needs no restart.
Nothing is built at import.
"""

from __future__ import annotations

from bridge.b24.client import B24Client
from bridge.b24.ratelimit import RateLimiter
from bridge.settings import credentials, refresh_credentials, runtime_settings


def current_webhook(fresh: bool) -> str:
    """The webhook URL the credentials secret holds (re-read now when `fresh`)."""
    held = refresh_credentials() if fresh else credentials()
    return held.b24_webhook_url.get_secret_value()


def client_from_settings(limiter: RateLimiter) -> B24Client:
    """A client paced by `limiter` (in AWS the SyncTable bucket, which `bridge.deps` injects)."""
    settings = runtime_settings()
    rate = settings.b24_rate_limit
    return B24Client(
        current_webhook(False),
        webhook_source=current_webhook,
        limiter=limiter,
        max_attempts=settings.max_attempts,
        timeout_s=settings.http_timeout_s,
        operating_budget_s=rate.operating_budget_s,
        operating_headroom=rate.operating_headroom,
    )
