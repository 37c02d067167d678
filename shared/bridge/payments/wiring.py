"""The payments flow's context built from settings, once per process (the handlers' default)."""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

from bridge import aws
from bridge.config.payments import PaymentFieldCodes
from bridge.deps import default_ports
from bridge.payments.recompute import PaymentsContext
from bridge.payments.resolved import SyncTableResolved
from bridge.payments.state import OrderStateStore
from bridge.settings import credentials, runtime_settings
from bridge.settings import push_secret as settings_push_secret


def portal_origin(webhook_url: str) -> str:
    parts = urlsplit(webhook_url)
    return f"{parts.scheme}://{parts.netloc}"


@cache
def default_context() -> PaymentsContext:
    ports = default_ports()
    options = ports.mapping.payments
    table = runtime_settings().table_name
    db = aws.dynamodb_client(runtime_settings().aws_endpoint_url)
    return PaymentsContext(
        ports=ports,
        options=options,
        resolved=SyncTableResolved.beside(ports.links),
        states=OrderStateStore(table, db),
        codes=PaymentFieldCodes.of(ports.mapping.deal),
        portal_url=options.portal_url or portal_origin(credentials().b24_webhook_url.get_secret_value()),
    )


def push_secret() -> str:
    """The shared secret of POST /1c/events (`settings.push_secret()`); empty when not
    configured, and then every push is refused."""
    secret = settings_push_secret()
    return secret.get_secret_value() if secret is not None else ""
