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
from bridge.config.mapping import Mapping
from bridge.links.store import LinkStore
from bridge.onec.client import ODataClient
from bridge.settings import credentials, mapping, refresh_credentials, runtime_settings


@dataclass(frozen=True)
class Ports:
    b24: B24Client
    onec: ODataClient
    links: LinkStore
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
def link_store() -> LinkStore:
    settings = runtime_settings()
    db = aws.dynamodb_client(settings.aws_endpoint_url)
    return LinkStore(settings.table_name, db, audit_ttl_days=settings.audit_ttl_days)


@cache
def default_ports() -> Ports:
    return Ports(b24=b24_factory.default_client(), onec=onec_client(), links=link_store(), mapping=mapping())


def reset() -> None:
    """After the environment changed (tests, local stack)."""
    for cached in (onec_client, link_store, default_ports):
        cached.cache_clear()
    b24_factory.reset()
    aws.reset()
