"""Start the Bitrix24 and 1C emulators when their packages are present, and point Bitrix24's
outbound events at the local API."""

from __future__ import annotations

import importlib
import logging
from typing import Any

import httpx

from sandbox.serve import RunningServer, serve_in_thread

log = logging.getLogger("sandbox.emulators")

APPLICATION_TOKEN = "sandbox-application-token"
# Shared secrets of the bridge's own routes on the sandbox (POST /1c/events, POST /stock/refresh).
ONEC_PUSH_SECRET = "sandbox-push-secret"
STOCK_REFRESH_TOKEN = "sandbox-refresh-token"
# The portal the «1С» deal tab accepts requests from: the Bitrix24 emulator's own identity
# (sandbox/b24/config.py defaults), which its application requests carry.
PORTAL_IDENTITY = {
    "BRIDGE_B24_PORTAL_DOMAIN": "sandbox.bitrix24.local",
    "BRIDGE_B24_MEMBER_ID": "5a1d0b0c0e0f4a2b9c8d7e6f5a4b3c2d",
}
DEAL_TAB_KEY = "sandbox-deal-tab-key"
WEBHOOK_PATH = "/rest/1/sandbox/"
ODATA_PATH = "/unf/odata/standard.odata/"
ONEC_USER = "odata"
ONEC_PASSWORD = "odata"

# The events the receiver turns into flows (architecture §1).
B24_EVENTS = (
    "ONCRMDEALADD",
    "ONCRMDEALUPDATE",
    "ONCRMCOMPANYADD",
    "ONCRMCOMPANYUPDATE",
    "ONCRMCONTACTADD",
    "ONCRMCONTACTUPDATE",
    # Editing only a requisite changes neither the company nor its DATE_MODIFY.
    "ONCRMREQUISITEADD",
    "ONCRMREQUISITEUPDATE",
    "ONCRMCOMPANYDELETE",
    "ONCRMCONTACTDELETE",
)


def _load(package: str, config_module: str, config_class: str) -> tuple[Any, Any] | None:
    """(create_app, config class) of an emulator package, or None while it is not written yet."""
    try:
        module = importlib.import_module(package)
        create_app = getattr(module, "create_app")  # noqa: B009 - optional attribute of a lazy import
        config = getattr(importlib.import_module(config_module), config_class)
    except (ImportError, AttributeError) as error:
        log.warning("%s is not available (%s): skipped", package, error)
        return None
    return create_app, config


def start_b24(host: str, port: int | None) -> RunningServer | None:
    loaded = _load("sandbox.b24", "sandbox.b24.config", "B24EmulatorConfig")
    if loaded is None:
        return None
    create_app, config_class = loaded
    server = serve_in_thread(create_app(config_class(application_token=APPLICATION_TOKEN)), host, port)
    log.info("Bitrix24 emulator on %s (webhook %s%s)", server.url, server.url, WEBHOOK_PATH)
    return server


def start_onec(host: str, port: int | None) -> RunningServer | None:
    loaded = _load("sandbox.onec", "sandbox.onec.config", "OneCEmulatorConfig")
    if loaded is None:
        return None
    create_app, config_class = loaded
    from sandbox.serve import free_port

    chosen = port or free_port(host)
    server = serve_in_thread(create_app(config_class(host=host, port=chosen)), host, chosen)
    log.info(
        "1C OData emulator on %s%s (Basic %s/%s)",
        server.url,
        ODATA_PATH.rstrip("/"),
        ONEC_USER,
        ONEC_PASSWORD,
    )
    return server


def bind_b24_events(webhook_url: str, handler_url: str, events: tuple[str, ...] = B24_EVENTS) -> list[str]:
    """Register `handler_url` for each event through the inbound webhook; returns the bound events."""
    bound: list[str] = []
    with httpx.Client(timeout=10) as client:
        for event in events:
            response = client.post(f"{webhook_url}event.bind", data={"event": event, "handler": handler_url})
            body: Any = (
                response.json()
                if response.headers.get("content-type", "").startswith("application/json")
                else {}
            )
            if response.status_code == 200 and "error" not in body:
                bound.append(event)
            else:
                log.warning(
                    "event.bind %s → %s refused: HTTP %d %s",
                    event,
                    handler_url,
                    response.status_code,
                    body.get("error_description") or body.get("error") or response.text[:200],
                )
    if bound:
        log.info("Bitrix24 delivers %s to %s", ", ".join(bound), handler_url)
    return bound
