"""The one place dependencies are built: adapters, per-flow contexts, the event → flow table.

Flows take what they need as arguments (`(event, ports)`, or a flow context built from ports);
nothing below this module fetches a global. Lambda handlers ask for what they need through
`bridge.handlers.use(provider)`, so a test replaces any provider here with
`bridge.handlers.overridden({provider: value})` instead of passing extra handler arguments.
Everything built once per process is cached here, and `reset()` forgets all of it at once.

Imports: at module level only what every function needs (settings, the receiver, the queue).
A provider that needs a client, a flow or the worker's Powertools utilities imports them when it
is first called (the documented lazy imports of the handler layer): every Lambda imports this
module, and the webhook receiver, which must answer Bitrix24 fast from a cold start, would
otherwise load httpx, every flow and boto3 (Powertools' idempotency) it never uses — about
2.5 s more on the development VM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, update_wrapper
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bridge import aws, settings
from bridge.config.mapping import Mapping
from bridge.domain.events import EventSender, QueuedEvent
from bridge.errors import ConfigurationError
from bridge.pipeline.dispatch import FlowHandler
from bridge.pipeline.queue import SqsEventSender
from bridge.pipeline.receiver import ReceiverDeps
from bridge.settings import ENV_PREFIX

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from bridge.b24.client import B24Client
    from bridge.links.store import LinkStore
    from bridge.onec.client import ODataClient
    from bridge.parties.sync import PartiesFlow
    from bridge.payments.recompute import PaymentsContext
    from bridge.pipeline.worker import WorkerDeps

type Clock = Callable[[], datetime]
# Brings the given Bitrix24 products' stock in line with 1C now (the deal flow calls it after it
# changed an order, so deals need not import the catalog flow).
type StockRefresher = Callable[[Sequence[int], Ports], object]


def _endpoint() -> str | None:
    """Where the AWS services are: None in AWS, moto server in the local stack."""
    return settings.runtime_settings().aws_endpoint_url


def utc_now() -> datetime:
    return datetime.now(UTC)


@cache
def event_sender() -> EventSender:
    queue_url = settings.runtime_settings().queue_url
    if not queue_url:
        raise ConfigurationError(f"bad setting: {ENV_PREFIX}QUEUE_URL: required by the webhook receiver")
    return SqsEventSender(aws.sqs_client(_endpoint()), queue_url)


class _EventsQueue:
    """The events queue, looked up on the first send: functions that never queue anything do not
    need the queue's URL configured."""

    def send(self, body: str, *, group_id: str, deduplication_id: str) -> str:
        return event_sender().send(body, group_id=group_id, deduplication_id=deduplication_id)


def _refresh_stock(product_ids: Sequence[int], ports: Ports) -> object:
    from bridge.catalog.stock import refresh_stock  # lazy: see the module's docstring

    return refresh_stock(product_ids, ports)


@dataclass(frozen=True)
class Ports:
    b24: B24Client
    onec: ODataClient
    links: LinkStore
    mapping: Mapping
    clock: Clock = utc_now
    queue: EventSender = field(default_factory=_EventsQueue)
    refresh_stock: StockRefresher = _refresh_stock


def current_onec_login(fresh: bool) -> tuple[str, str, str]:
    """(base URL, login, password) as the credentials secret holds them (re-read now when `fresh`)."""
    held = settings.refresh_credentials() if fresh else settings.credentials()
    return str(held.onec_base_url), held.onec_user, held.onec_password.get_secret_value()


@cache
def onec_client() -> ODataClient:
    from bridge.onec.client import ODataClient  # lazy: see the module's docstring

    runtime = settings.runtime_settings()
    # The client asks for the login before each request, so a rotated password needs no restart.
    return ODataClient(
        *current_onec_login(False),
        timeout_s=runtime.http_timeout_s,
        max_attempts=runtime.max_attempts,
        credentials_source=current_onec_login,
    )


@cache
def link_store() -> LinkStore:
    from bridge.links.store import LinkStore  # lazy: see the module's docstring

    runtime = settings.runtime_settings()
    return LinkStore(
        runtime.table_name,
        aws.dynamodb_client(_endpoint()),
        audit_ttl_days=runtime.audit_ttl_days,
    )


@cache
def default_ports() -> Ports:
    from bridge.b24.factory import default_client  # lazy: see the module's docstring

    return Ports(b24=default_client(), onec=onec_client(), links=link_store(), mapping=settings.mapping())


# --- per-flow contexts -----------------------------------------------------------------------------


def portal_origin(webhook_url: str) -> str:
    parts = urlsplit(webhook_url)
    return f"{parts.scheme}://{parts.netloc}"


@cache
def payments_context() -> PaymentsContext:
    from bridge.config.payments import PaymentFieldCodes
    from bridge.payments import recompute, resolved, state  # lazy: see the module's docstring

    ports = default_ports()
    options = ports.mapping.payments
    webhook = settings.credentials().b24_webhook_url.get_secret_value()
    return recompute.PaymentsContext(
        ports=ports,
        options=options,
        resolved=resolved.SyncTableResolved.beside(ports.links),
        states=state.OrderStateStore(
            settings.runtime_settings().table_name,
            aws.dynamodb_client(_endpoint()),
        ),
        codes=PaymentFieldCodes.of(ports.mapping.deal),
        portal_url=options.portal_url or portal_origin(webhook),
    )


def push_secret() -> str:
    """The shared secret of POST /1c/events; empty when not configured, and then every push is
    refused."""
    secret = settings.push_secret()
    return secret.get_secret_value() if secret is not None else ""


def parties_flow(ports: Ports | None = None) -> PartiesFlow:
    """Built per run: it reads the resolved setup, which setup may have changed meanwhile."""
    from bridge.parties import resolved, setup, sync  # lazy: see the module's docstring

    ports = ports or default_ports()
    stored = setup.load_or_setup(ports, resolved.ResolvedStore(ports.links))
    return sync.PartiesFlow(ports, stored, sync.parties_mapping(ports))


# --- the event pipeline ----------------------------------------------------------------------------


def _bound(flow: Callable[[QueuedEvent, Ports], str | None], ports: Callable[[], Ports]) -> FlowHandler:
    def run(queued: QueuedEvent) -> str | None:
        return flow(queued, ports())

    # The worker logs the flow's own name, not this wrapper's.
    return update_wrapper(run, flow)


def _table(pairs: Iterable[tuple[Iterable[str], FlowHandler]]) -> dict[str, FlowHandler]:
    return {name: handler for names, handler in pairs for name in names}


def flow_table(ports: Callable[[], Ports] = default_ports) -> dict[str, FlowHandler]:
    """Which flow runs for which Bitrix24 event. An event not listed is recorded as ignored: Bitrix24
    sends what the portal admin subscribed to. The ports are looked up when an event runs, so a
    worker that only ignores events needs no credentials."""
    # lazy: see the module's docstring
    from bridge.deals import flow as deals
    from bridge.parties import events as parties

    def party_event(queued: QueuedEvent, current: Ports) -> str:
        return parties.handle(queued, parties_flow(current))

    return _table(
        [
            (deals.DEAL_EVENTS, _bound(deals.handle_deal_event, ports)),
            (parties.ALL_EVENTS, update_wrapper(_bound(party_event, ports), parties.handle)),
        ]
    )


@cache
def idempotency_store() -> DynamoDBPersistenceLayer:
    from bridge.pipeline.idempotency import persistence_layer  # lazy: see the module's docstring

    return persistence_layer(
        settings.runtime_settings().table_name,
        aws.dynamodb_client(_endpoint()),
    )


def receiver_deps() -> ReceiverDeps:
    return ReceiverDeps(sender=event_sender())


@cache
def worker_deps() -> WorkerDeps:
    from bridge.pipeline import audit, dispatch, worker  # lazy: see the module's docstring

    runtime = settings.runtime_settings()
    return worker.WorkerDeps(
        registry=dispatch.Registry(flow_table()),
        persistence=idempotency_store(),
        idempotency_ttl_s=runtime.idempotency_ttl_s,
        audit=audit.LinkStoreAudit(link_store()),
        visibility=worker.SqsVisibility(aws.sqs_client(_endpoint()), runtime.queue_url),
    )


# --- one reset -------------------------------------------------------------------------------------


def reset() -> None:
    """Forget every per-process cache: settings, clients, stores, flow contexts and the flows' own
    caches (tests and the local stack, after the environment changed)."""
    for cached in (
        onec_client,
        link_store,
        default_ports,
        payments_context,
        event_sender,
        idempotency_store,
        worker_deps,
    ):
        cached.cache_clear()
    settings.reset_caches()
    aws.reset()
    # lazy: see the module's docstring (reset runs in tests and the local stack, never in Lambda)
    from bridge.b24 import factory
    from bridge.deals import resolved
    from bridge.domain import directory

    factory.reset()
    resolved.forget()
    directory.forget()
