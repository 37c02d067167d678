"""The adapters a flow needs, built once per process from settings: the injection seam.

Flows take a `Ports` bundle as an argument; Lambda handlers pass `default_ports()`, tests and the
local stack pass their own. Only this module knows how adapters are configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from bridge import aws
from bridge.b24 import factory as b24_factory
from bridge.b24.client import B24Client
from bridge.b24.ratelimit import SAFETY_MARGIN
from bridge.onec.client import ODataClient
from bridge.settings import Mapping, credentials, mapping, refresh_credentials, runtime_settings
from bridge.store import SyncStore


@dataclass(frozen=True)
class Ports:
    b24: B24Client
    onec: ODataClient
    store: SyncStore
    mapping: Mapping


def current_onec_login(fresh: bool) -> tuple[str, str, str]:
    """(base URL, login, password) as the credentials secret holds them (re-read now when `fresh`)."""
    held = refresh_credentials() if fresh else credentials()
    return str(held.onec_base_url), held.onec_user, held.onec_password.get_secret_value()


@cache
def onec_client() -> ODataClient:
    settings = runtime_settings()
    # The client asks for the login before each request, so a rotated password needs no restart.
    return ODataClient(
        *current_onec_login(False),
        timeout_s=settings.http_timeout_s,
        max_attempts=settings.max_attempts,
        credentials_source=current_onec_login,
    )


@cache
def sync_store() -> SyncStore:
    settings = runtime_settings()
    return SyncStore(settings.table_name, aws.dynamodb_client(), audit_ttl_days=settings.audit_ttl_days)


@cache
def b24_client() -> B24Client:
    # The rate bucket lives in SyncTable (shared by every Lambda); the client gets it injected.
    rate = runtime_settings().b24_rate_limit
    bucket = sync_store().rate_bucket(burst=rate.burst, per_second=rate.per_second, margin=SAFETY_MARGIN)
    return b24_factory.client_from_settings(bucket)


@cache
def default_ports() -> Ports:
    return Ports(b24=b24_client(), onec=onec_client(), store=sync_store(), mapping=mapping())


def reset() -> None:
    """After the environment changed (tests, local stack)."""
    for cached in (onec_client, sync_store, b24_client, default_ports):
        cached.cache_clear()
    aws.reset()
