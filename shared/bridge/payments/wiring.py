"""The payments flow's context built from settings, once per process (the handlers' default)."""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

from bridge.deps import default_ports
from bridge.payments.config import PaymentFieldCodes, PaymentsMapping
from bridge.payments.recompute import PaymentsContext
from bridge.payments.resolved import resolved_config
from bridge.settings import Mapping, credentials
from bridge.settings import push_secret as settings_push_secret


def payments_mapping(mapping: Mapping) -> PaymentsMapping:
    """The `[payments]` section; defaults until the mapping model carries one."""
    found = getattr(mapping, "payments", None)
    return found if isinstance(found, PaymentsMapping) else PaymentsMapping()


def portal_origin(webhook_url: str) -> str:
    parts = urlsplit(webhook_url)
    return f"{parts.scheme}://{parts.netloc}"


@cache
def default_context() -> PaymentsContext:
    ports = default_ports()
    options = payments_mapping(ports.mapping)
    return PaymentsContext(
        ports=ports,
        options=options,
        resolved=resolved_config(ports.store),
        codes=PaymentFieldCodes.of(ports.mapping.deal),
        portal_url=options.portal_url or portal_origin(credentials().b24_webhook_url.get_secret_value()),
    )


def push_secret() -> str:
    """The shared secret of POST /1c/events (`settings.push_secret()`); empty when not
    configured, and then every push is refused."""
    secret = settings_push_secret()
    return secret.get_secret_value() if secret is not None else ""
