"""The one place dependencies are built: adapters, per-flow contexts, the event → flow table.

Flows take what they need as arguments (`(event, ports)`, or a flow context built from ports);
nothing below this module fetches a global. Lambda handlers ask for what they need through
`bridge.handlers.use(provider)`, so a test replaces any provider here with
`bridge.handlers.overridden({provider: value})` instead of passing extra handler arguments.
Everything built once per process is cached here, and `reset()` forgets all of it at once.

Imports: at module level only what every function needs (settings, the Ports bundle). The
receiver's request models and the SQS sender load with the receiver's providers, so the other ten
functions never build the webhook's pydantic models.
A provider that needs a client, a flow or the worker's Powertools utilities imports them when it
is first called (the documented lazy imports of the handler layer): every Lambda imports this
module, and the webhook receiver, which must answer Bitrix24 fast from a cold start, would
otherwise load httpx, every flow and boto3 (Powertools' idempotency) it never uses — about
2.5 s more on the development VM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import cache, update_wrapper
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bridge import aws, settings
from bridge.domain.events import EventSender, QueuedEvent
from bridge.errors import ConfigurationError
from bridge.ports import Ports
from bridge.ports import utc_now as clock_now
from bridge.settings import ENV_PREFIX

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from bridge.b24.as_user import PortalAsUser
    from bridge.b24.client import B24Client
    from bridge.config.mapping import Mapping
    from bridge.deals.coalesce import DealBatch
    from bridge.onec.client import ODataClient
    from bridge.parties.sync import PartiesFlow
    from bridge.payments.recompute import PaymentsContext
    from bridge.pipeline.dispatch import FlowHandler
    from bridge.pipeline.receiver import ReceiverDeps
    from bridge.pipeline.worker import WorkerDeps
    from bridge.store import SyncStore


def _endpoint() -> str | None:
    """Where the AWS services are: None in AWS, moto server in the local stack."""
    return settings.runtime_settings().aws_endpoint_url


@cache
def event_sender() -> EventSender:
    queue_url = settings.runtime_settings().queue_url
    if not queue_url:
        raise ConfigurationError(f"bad setting: {ENV_PREFIX}QUEUE_URL: required by the webhook receiver")
    from bridge.pipeline.queue import SqsEventSender  # lazy: see the module's docstring

    return SqsEventSender(aws.sqs_client(_endpoint()), queue_url)


class _EventsQueue:
    """The events queue, looked up on the first send: functions that never queue anything do not
    need the queue's URL configured."""

    def send(self, body: str, *, group_id: str, deduplication_id: str) -> str:
        return event_sender().send(body, group_id=group_id, deduplication_id=deduplication_id)


def utc_now() -> datetime:
    """The time handlers read: a provider, so a test fixes it with `handlers.overridden`."""
    return clock_now()


def refresh_stock(product_ids: Sequence[int], ports: Ports) -> object:
    """The catalog flow's stock refresh, handed to the deal flow through `Ports.refresh_stock`."""
    from bridge.catalog.runs import run_refresh  # lazy: see the module's docstring

    return run_refresh(product_ids, ports)


def ports_for(b24: B24Client, onec: ODataClient, store: SyncStore, mapping: Mapping, **extra: Any) -> Ports:
    """Ports over the given adapters, with the events queue and the stock refresh wired as in
    Lambda (tests, the sandbox and benchmarks build theirs here; `extra` overrides a field)."""
    wired: dict[str, Any] = {"queue": _EventsQueue(), "refresh_stock": refresh_stock, "clock": clock_now}
    return Ports(b24=b24, onec=onec, store=store, mapping=mapping, **(wired | extra))


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
        # The wire forms `check` recorded on this base (bridge.store.probes), looked up on first use.
        answers=lambda probe: sync_store().probes.answer(probe),
    )


@cache
def sync_store() -> SyncStore:
    from bridge.store import SyncStore  # lazy: see the module's docstring

    runtime = settings.runtime_settings()
    return SyncStore(
        runtime.table_name, aws.dynamodb_client(_endpoint()), audit_ttl_days=runtime.audit_ttl_days
    )


@cache
def b24_client() -> B24Client:
    from bridge.b24 import factory  # lazy: see the module's docstring
    from bridge.b24.ratelimit import SAFETY_MARGIN

    # The rate bucket lives in SyncTable (shared by every Lambda); the client gets it injected.
    rate = settings.runtime_settings().b24_rate_limit
    bucket = sync_store().rate_bucket(burst=rate.burst, per_second=rate.per_second, margin=SAFETY_MARGIN)
    client = factory.client_from_settings(bucket)
    # Its view of each method's operating time goes to SyncTable now and then, for `status`.
    client.operating.publish_to(sync_store().operating)
    return client


@cache
def portal_as_user() -> PortalAsUser:
    """REST calls with a portal user's token (the «1С» deal tab), to the configured portal only:
    its origin is the webhook secret's, never a host named in a request."""
    from bridge.b24.as_user import PortalAsUser  # lazy: see the module's docstring
    from bridge.b24.ratelimit import SAFETY_MARGIN

    runtime = settings.runtime_settings()
    rate = runtime.b24_rate_limit
    bucket = sync_store().rate_bucket(burst=rate.burst, per_second=rate.per_second, margin=SAFETY_MARGIN)
    webhook = settings.credentials().b24_webhook_url.get_secret_value()
    return PortalAsUser(
        portal_origin(webhook) + "/rest/", limiter=bucket, timeout_s=min(runtime.http_timeout_s, 10.0)
    )


def deal_tab_key() -> str:
    """The HMAC key of the deal tab's CSRF tokens (the app's secret)."""
    return settings.deal_tab_key().get_secret_value()


class _PerMapping[T]:
    """Built once per mapping: built again when `settings.mapping()` hands out another one (a
    mapping pushed to Parameter Store, seen after its cache TTL), so no redeploy is needed."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._held: tuple[object, T] | None = None
        update_wrapper(self, build)

    def __call__(self) -> T:
        current = settings.mapping()
        held = self._held
        if held is None or held[0] is not current:
            held = (current, self._build())
            self._held = held
        return held[1]

    def cache_clear(self) -> None:
        self._held = None


@_PerMapping
def default_ports() -> Ports:
    return ports_for(b24_client(), onec_client(), sync_store(), settings.mapping())


# --- per-flow contexts -----------------------------------------------------------------------------


def portal_origin(webhook_url: str) -> str:
    parts = urlsplit(webhook_url)
    return f"{parts.scheme}://{parts.netloc}"


@_PerMapping
def payments_context() -> PaymentsContext:
    from bridge.config.payments import PaymentFieldCodes
    from bridge.payments import recompute, resolved  # lazy: see the module's docstring

    ports = default_ports()
    options = ports.mapping.payments
    webhook = settings.credentials().b24_webhook_url.get_secret_value()
    return recompute.PaymentsContext(
        ports=ports,
        options=options,
        resolved=resolved.resolved_config(ports.store),
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
    from bridge.parties import resolved, sync  # lazy: see the module's docstring

    ports = ports or default_ports()
    stored = resolved.resolved_config(ports.store).load()
    return sync.PartiesFlow(ports, stored, sync.parties_mapping(ports))


# --- the event pipeline ----------------------------------------------------------------------------


def _bound(flow: Callable[[QueuedEvent, Ports], str | None], ports: Callable[[], Ports]) -> FlowHandler:
    def run(queued: QueuedEvent) -> str | None:
        return flow(queued, ports())

    # The worker logs the flow's own name, not this wrapper's.
    return update_wrapper(run, flow)


def _table(pairs: Iterable[tuple[Iterable[str], FlowHandler]]) -> dict[str, FlowHandler]:
    return {name: handler for names, handler in pairs for name in names}


def flow_table(
    ports: Callable[[], Ports] = default_ports, deal_batch: DealBatch | None = None
) -> dict[str, FlowHandler]:
    """Which flow runs for which Bitrix24 event. An event not listed is recorded as ignored: Bitrix24
    sends what the portal admin subscribed to. The ports are looked up when an event runs, so a
    worker that only ignores events needs no credentials. `deal_batch`: the deal flow coalesces
    its Bitrix24 calls across the worker's invocation (the same object is the worker's scope)."""
    # lazy: see the module's docstring
    from bridge.deals import flow as deals
    from bridge.parties import events as parties

    def party_event(queued: QueuedEvent, current: Ports) -> str:
        return parties.handle(queued, parties_flow(current))

    def deal_event(queued: QueuedEvent, current: Ports) -> str | None:
        return deals.handle_deal_event(queued, current, deal_batch)

    return _table(
        [
            (deals.DEAL_EVENTS, update_wrapper(_bound(deal_event, ports), deals.handle_deal_event)),
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
    from bridge.pipeline.receiver import ReceiverDeps  # lazy: see the module's docstring

    return ReceiverDeps(sender=event_sender())


@cache
def worker_deps() -> WorkerDeps:
    from bridge.deals import flow as deals  # lazy: see the module's docstring
    from bridge.pipeline import audit, dispatch, worker  # lazy: see the module's docstring

    runtime = settings.runtime_settings()
    # One per worker: the deal flow reads its batch's deals at once and writes back at the end.
    coalesced = deals.deal_batch(default_ports)
    return worker.WorkerDeps(
        registry=dispatch.Registry(flow_table(deal_batch=coalesced)),
        batch_scopes=(coalesced,),
        persistence=idempotency_store(),
        idempotency_ttl_s=runtime.idempotency_ttl_s,
        audit=audit.LinkStoreAudit(sync_store()),
        journal=audit.LinkStoreAudit(sync_store()),
        visibility=worker.SqsVisibility(aws.sqs_client(_endpoint()), runtime.queue_url),
    )


# --- one reset -------------------------------------------------------------------------------------


def reset() -> None:
    """Forget every per-process cache: settings, clients, stores, flow contexts and the flows' own
    caches (tests and the local stack, after the environment changed)."""
    for cached in (
        onec_client,
        sync_store,
        b24_client,
        portal_as_user,
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
    from bridge.domain import directory

    directory.forget()
