"""The fault scenarios' world: both emulators over HTTP, SyncTable in moto, the real queue worker
(Powertools batch processing and idempotency records in SyncTable) and the real flows, fed by a
simulated FIFO queue that keeps SQS's and Lambda's rules on a simulated clock.

Why a simulated queue: the scenarios span hours of queue time (visibility timeouts, retry
delays, redrive after 5 receives). moto keeps those in real time; the simulation follows the same
rules from template.yaml (visibility timeout, maxReceiveCount) on a clock the test moves, so
"1C down for 30 minutes" runs in seconds. Everything else is the code that runs in AWS.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, cast

import httpx
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from bridge import deadline, deps
from bridge.catalog.setup import setup as catalog_setup
from bridge.deals import flow as deal_flow
from bridge.deals.coalesce import DealBatch
from bridge.deals.flow import sync_deal
from bridge.deals.setup import setup as deal_setup
from bridge.domain.events import Entity, QueuedEvent
from bridge.parties import events as party_events
from bridge.parties.resolved import resolved_config
from bridge.parties.setup import setup as parties_setup
from bridge.parties.sync import PartiesFlow, parties_mapping
from bridge.pipeline.audit import LinkStoreAudit
from bridge.pipeline.dispatch import Registry
from bridge.pipeline.idempotency import persistence_layer
from bridge.pipeline.worker import Worker, WorkerDeps
from bridge.ports import Ports
from bridge.setup import run_steps
from bridge.store import SyncStore
from sandbox.template import resource
from sandbox.world import onec as onec_reads
from sandbox.world.deals import World, linked_product, make_ports
from sandbox.world.rest import B24Rest
from tests.harness import onec as harness_onec
from tests.harness.lambda_edge import LambdaContext as FakeLambdaContext

ONEC_COUNTERPARTIES = "Catalog_Контрагенты"


class SimClock:
    """Epoch seconds that move with real time plus whatever the test skips ahead."""

    def __init__(self) -> None:
        self._start_epoch = time.time()
        self._start = time.monotonic()
        self.skipped = 0.0

    def now(self) -> float:
        return self._start_epoch + (time.monotonic() - self._start) + self.skipped

    def advance(self, seconds: float) -> None:
        self.skipped += max(seconds, 0.0)

    def elapsed(self) -> float:
        return self.now() - self._start_epoch


def queue_rules() -> tuple[int, int]:
    """(visibility timeout, maxReceiveCount) of EventsQueue as template.yaml declares them."""
    properties = resource("EventsQueue")["Properties"]
    return int(properties["VisibilityTimeout"]), int(properties["RedrivePolicy"]["maxReceiveCount"])


@dataclass
class Message:
    id: str
    body: str
    group: str
    sent_at: float
    visible_at: float
    receives: int = 0
    receipt: str = ""


@dataclass
class SimQueue:
    """A FIFO queue with a dead-letter queue: group order, visibility, receive counts, redrive."""

    clock: SimClock
    visibility_timeout: int
    max_receives: int
    messages: list[Message] = field(default_factory=list)
    dead: list[Message] = field(default_factory=list)
    delays: list[tuple[str, int]] = field(default_factory=list)  # (message id, seconds) asked for
    _seq: Iterator[int] = field(default_factory=itertools.count)

    def send(self, queued: QueuedEvent) -> str:
        now = self.clock.now()
        message = Message(
            id=f"m{next(self._seq):04d}-{uuid.uuid4().hex[:6]}",
            body=queued.model_dump_json(),
            group=queued.group_id,
            sent_at=now,
            visible_at=now,
        )
        self.messages.append(message)
        return message.id

    def receive(self, limit: int = 10) -> list[Message]:
        """What one ReceiveMessage hands out now: per group, the head and its followers, unless a
        message of the group is in flight. A head past maxReceiveCount moves to the DLQ first."""
        now = self.clock.now()
        taken: list[Message] = []
        for group in dict.fromkeys(m.group for m in self.messages):
            members = [m for m in self.messages if m.group == group]
            if any(m.receives and m.visible_at > now for m in members):
                continue  # in flight: the group is blocked
            while members and members[0].receives >= self.max_receives:
                head = members.pop(0)
                self.messages.remove(head)
                self.dead.append(head)
            for message in members:
                if len(taken) >= limit:
                    break
                message.receives += 1
                message.receipt = uuid.uuid4().hex
                message.visible_at = now + self.visibility_timeout
                taken.append(message)
        return taken

    def delete(self, message_id: str) -> None:
        self.messages = [m for m in self.messages if m.id != message_id]

    def delay(self, record: SQSRecord, seconds: int) -> None:
        """The worker's ChangeMessageVisibility on a received message."""
        for message in self.messages:
            if message.id == record.message_id and message.receipt == record.receipt_handle:
                message.visible_at = self.clock.now() + seconds
                self.delays.append((message.id, seconds))

    def next_visible_at(self) -> float | None:
        return min((m.visible_at for m in self.messages), default=None)

    def record(self, message: Message) -> dict[str, Any]:
        return {
            "messageId": message.id,
            "receiptHandle": message.receipt,
            "body": message.body,
            "attributes": {
                "ApproximateReceiveCount": str(message.receives),
                "SentTimestamp": str(int(message.sent_at * 1000)),
                "MessageGroupId": message.group,
                "MessageDeduplicationId": message.id,
                "SequenceNumber": f"{int(message.sent_at * 1000):013d}{int(message.id[1:5]):07d}",
                "ApproximateFirstReceiveTimestamp": str(int(self.clock.now() * 1000)),
            },
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-central-1:123456789012:Events.fifo",
            "awsRegion": "eu-central-1",
        }


def worker_context(remaining_ms: int) -> LambdaContext:
    """The Lambda context the worker reads: the time left in the invocation."""
    return FakeLambdaContext("QueueWorkerFunction", remaining_ms=remaining_ms, memory_limit_in_mb=512).typed()


@dataclass
class Invocation:
    at: float
    records: list[str]
    failed: list[str]


class FaultWorld:
    """One world per test module (emulators are slow to start); `fresh()` per test."""

    def __init__(self, moto_url: str) -> None:
        self.world = World(moto_url).start()
        self.clock = SimClock()
        self.ports: Ports = self.world.ports  # type: ignore[assignment]
        self.queue = SimQueue(self.clock, *queue_rules())
        self.invocations: list[Invocation] = []
        self.timeout_s = 60  # QueueWorkerFunction's Timeout
        self.worker_options: dict[str, Any] = {}
        self.coalesce = False  # the worker as bridge.deps wires it (see new_worker)
        # How a flow run sees the ports (fault proxies), per queued event.
        self.wrap_ports: Callable[[Ports, QueuedEvent], Ports] = lambda ports, queued: ports
        self._worker: Worker | None = None
        self._product: int | None = None
        self._seed: dict[str, dict[str, str]] | None = None
        self.last_company = 0

    def stop(self) -> None:
        deadline.use_clock(time.monotonic)
        self.world.stop()

    # ---- per test ------------------------------------------------------------------------------

    def fresh(self, **worker_options: Any) -> FaultWorld:
        self.world.reset()
        self.clock = SimClock()
        deadline.use_clock(self.clock.now)
        store = SyncStore(self.world.table, self.world.dynamodb(), clock=self.clock.now)
        base = make_ports(
            self.world.b24_webhook_url, self.world.onec_url, self.world.table, self.world.dynamodb()
        )
        self.ports = replace(base, store=store)
        self.world.ports = self.ports
        report = run_steps([("deals", deal_setup), ("catalog", catalog_setup)], self.ports, dry_run=False)
        assert report.ok, report.lines()
        deps.reset()
        self.queue = SimQueue(self.clock, *queue_rules())
        self.invocations = []
        self.worker_options = worker_options
        self.coalesce = False
        self.wrap_ports = lambda ports, queued: ports
        self._worker = None
        self._product = None
        self._seed = None
        self.onec_faults_clear()
        self.b24_faults_clear()
        return self

    def fresh_coalescing(self) -> FaultWorld:
        """`fresh`, with the worker as bridge.deps wires it: deal events coalesced per invocation,
        audit and journal written to SyncTable."""
        world = self.fresh()
        world.coalesce = True
        sink = LinkStoreAudit(world.ports.store)
        world.worker_options = {"audit": sink, "journal": sink}
        return world

    def parties_flow(self, ports: Ports | None = None) -> PartiesFlow:
        ports = ports or self.ports
        if resolved_config(ports.store).find() is None:  # setup runs before the flows
            parties_setup(ports, dry_run=False)
        return PartiesFlow(ports, resolved_config(ports.store).load(), parties_mapping(ports))

    def registry(self, deal_batch: DealBatch | None = None) -> Registry:
        registry = Registry()
        registry.register(
            ("ONCRMDEALADD", "ONCRMDEALUPDATE"),
            lambda q: sync_deal(q.id, self.wrap_ports(self.ports, q), batch=deal_batch),
        )
        registry.register(
            party_events.ENTITY_EVENTS + party_events.DELETE_EVENTS + party_events.REQUISITE_EVENTS,
            lambda q: party_events.handle(q, self.parties_flow(self.wrap_ports(self.ports, q))),
        )
        return registry

    def new_worker(self) -> Worker:
        """A worker as one Lambda container builds it (its own persistence client); with
        `coalesce`, the deal flow's Bitrix24 calls are coalesced per invocation as bridge.deps does."""
        deal_batch = deal_flow.deal_batch(lambda: self.ports) if self.coalesce else None
        deps = WorkerDeps(
            registry=self.registry(deal_batch),
            batch_scopes=(deal_batch,) if deal_batch is not None else (),
            persistence=persistence_layer(self.world.table, self.world.dynamodb()),
            clock=self.clock.now,
            **({"visibility": self.queue} | self.worker_options),
        )
        return Worker(deps)

    def worker(self) -> Worker:
        if self._worker is None:
            self._worker = self.new_worker()
        return self._worker

    # ---- Bitrix24 events -----------------------------------------------------------------------

    def event(self, name: str, entity_id: int, *, ts: int | None = None) -> str:
        entity = {"DEAL": Entity.DEAL, "COMPANY": Entity.COMPANY, "CONTACT": Entity.CONTACT}[
            name.removeprefix("ONCRM").removesuffix("ADD").removesuffix("UPDATE")
        ]
        queued = QueuedEvent(
            event=name,
            entity=entity,
            id=entity_id,
            ts=int(self.clock.now()) if ts is None else ts,
            received_at=datetime.fromtimestamp(self.clock.now(), UTC),
        )
        return self.queue.send(queued)

    # ---- Lambda's event source mapping -------------------------------------------------------

    def invoke_once(self, remaining_s: float | None = None) -> Invocation | None:
        batch = self.queue.receive()
        if not batch:
            return None
        event = {"Records": [self.queue.record(m) for m in batch]}
        context = worker_context(int((remaining_s or self.timeout_s) * 1000))
        response = self.worker().process_batch(event, context)
        failed = [str(item["itemIdentifier"]) for item in response["batchItemFailures"]]
        for message in batch:
            if message.id not in failed:
                self.queue.delete(message.id)
        invocation = Invocation(at=self.clock.elapsed(), records=[m.id for m in batch], failed=failed)
        self.invocations.append(invocation)
        return invocation

    def drain(self, *, horizon_s: float = 6 * 3600, on_time: Callable[[float], None] | None = None) -> None:
        """Run the event source mapping until the queue is empty, skipping idle time; `on_time`
        sees the simulated elapsed seconds before every receive (to end an outage, say)."""
        while self.clock.elapsed() < horizon_s:
            if on_time is not None:
                on_time(self.clock.elapsed())
            if self.invoke_once() is not None:
                continue
            upcoming = self.queue.next_visible_at()
            if upcoming is None:
                return
            self.clock.advance(max(upcoming - self.clock.now(), 0.0) + 0.001)
        raise AssertionError(f"queue not drained within {horizon_s} simulated seconds")

    def receives_of(self, message_id: str) -> int:
        return sum(message_id in i.records for i in self.invocations)

    # ---- fault injection (the emulators' /_sandbox API) ---------------------------------------

    def onec_fault(self, **fault: Any) -> None:
        assert self.world.onec is not None
        httpx.post(self.world.onec.url + "/_sandbox/faults", json=fault).raise_for_status()

    def onec_faults_clear(self) -> None:
        assert self.world.onec is not None
        httpx.delete(self.world.onec.url + "/_sandbox/faults").raise_for_status()

    def b24_fault(self, **fault: Any) -> None:
        assert self.world.b24 is not None
        httpx.post(self.world.b24.url + "/_sandbox/faults", json=fault).raise_for_status()

    def b24_faults_clear(self) -> None:
        assert self.world.b24 is not None
        httpx.delete(self.world.b24.url + "/_sandbox/faults").raise_for_status()

    # ---- what a person would see -------------------------------------------------------------

    @property
    def rest(self) -> B24Rest:
        return B24Rest(self.world.b24_webhook_url)

    def seed(self) -> dict[str, dict[str, str]]:
        if self._seed is None:
            assert self.world.onec is not None
            self._seed = onec_reads.seed(self.world.onec.url)
        return self._seed

    def onec_rows(self, entity_set: str, flt: str | None = None) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = onec_reads.get(
            self.world.onec_url, entity_set, **({"$filter": flt} if flt else {})
        )["value"]
        return rows

    def orders_for(self, deal_id: int) -> list[dict[str, Any]]:
        assert self.world.onec is not None
        orders = harness_onec.orders_for(self.world.onec_url, self.world.onec.url, deal_id)
        return [r for r in orders if not r.get("DeletionMark")]

    def counterparties(self, inn: str) -> list[dict[str, Any]]:
        return [
            r for r in self.onec_rows(ONEC_COUNTERPARTIES, f"ИНН eq '{inn}'") if not r.get("DeletionMark")
        ]

    def comments(self, deal_id: int) -> list[str]:
        return self.rest.comments(deal_id)

    def new_deal(self, title: str, inn: str, *, quantity: int = 10, company_title: str | None = None) -> int:
        """A deal at the trigger stage with a brand-new company (never seen by 1C) and one product."""
        rest = self.rest
        if self._product is None:
            nomenclature = self.seed()["Catalog_Номенклатура"]["Болт М10х50"]
            self._product = linked_product(
                rest, self.ports.store.links, "Болт М10х50", nomenclature, "catalog"
            )
        product = self._product
        company, contact = rest.company_with_contact(company_title or f"{title} ООО", inn, inn[:4] + "01001")
        self.last_company = company
        return rest.deal(
            title,
            rest.stage_id("Продажи", "Продажа материала"),
            company,
            contact,
            [rest.goods_row(product, "Болт М10х50", quantity)],
        )


# ---- concurrency -------------------------------------------------------------------------------


class Rendezvous:
    """Holds each thread at its first matching call until every thread got there, so two workers
    that each look something up do so before either acts on it: the worst interleaving, on purpose."""

    def __init__(self, parties: int) -> None:
        self._barrier = threading.Barrier(parties, timeout=60)
        self._passed = threading.local()

    def wait_once(self) -> None:
        if getattr(self._passed, "done", False):
            return
        self._passed.done = True
        self._barrier.wait()


type CallMatch = Callable[[str, tuple[Any, ...], dict[str, Any]], bool]


class _AfterEachCall:
    """A proxy that runs `_after(name, args, kwargs)` once each call of the real object returned."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def _after(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._real, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            self._after(name, args, kwargs)
            return result

        return call


class _After(_AfterEachCall):
    """Meets the rendezvous right after the first call `matches`."""

    def __init__(self, real: Any, matches: CallMatch, meet: Rendezvous) -> None:
        super().__init__(real)
        self._matches, self._meet = matches, meet

    def _after(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if self._matches(name, args, kwargs):
            self._meet.wait_once()


def _with_stores(store: SyncStore, wrap: Callable[[Any], Any]) -> SyncStore:
    """The same store with its links, cursors and manifests seen through `wrap`."""
    wrapped = copy.copy(store)
    wrapped.links, wrapped.cursors, wrapped.manifests = (
        wrap(store.links),
        wrap(store.cursors),
        wrap(store.manifests),
    )
    return wrapped


def meet_after(
    ports: Ports,
    meet: Rendezvous,
    *,
    onec: CallMatch | None = None,
    links: CallMatch | None = None,
) -> Ports:
    never: CallMatch = lambda name, args, kwargs: False  # noqa: E731
    return replace(
        ports,
        onec=cast(Any, _After(ports.onec, onec or never, meet)),
        store=_with_stores(ports.store, lambda real: _After(real, links or never, meet)),
    )


def run_side_by_side(world: FaultWorld, batches: list[list[Message]]) -> list[Invocation]:
    """Each batch in its own worker (its own Lambda container), all at the same time."""
    results: list[Invocation | BaseException] = [RuntimeError("not run")] * len(batches)

    def run(index: int, batch: list[Message]) -> None:
        try:
            worker = world.new_worker()
            event = {"Records": [world.queue.record(m) for m in batch]}
            response = worker.process_batch(event, worker_context(world.timeout_s * 1000))
            failed = [str(item["itemIdentifier"]) for item in response["batchItemFailures"]]
            results[index] = Invocation(
                at=world.clock.elapsed(), records=[m.id for m in batch], failed=failed
            )
        except BaseException as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, b)) for i, b in enumerate(batches)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    invocations: list[Invocation] = []
    for result in results:
        if isinstance(result, BaseException):
            raise result
        for message_id in result.records:
            if message_id not in result.failed:
                world.queue.delete(message_id)
        world.invocations.append(result)
        invocations.append(result)
    return invocations


# ---- crashes -----------------------------------------------------------------------------------

ONEC_WRITES = frozenset({"create", "update", "delete", "post_document", "unpost_document"})
# Method names of the SyncStore's links, cursors and manifests stores that write.
LINK_WRITES = frozenset(
    {"link", "unlink", "update_sync_state", "put", "put_entries", "put_changes", "claim", "settle_claim"}
)
_B24_WRITE_SUFFIXES = (".add", ".update", ".set", ".delete", ".bind")


def _b24_write(name: str, args: tuple[Any, ...]) -> str | None:
    if name == "call" and args and str(args[0]).endswith(_B24_WRITE_SUFFIXES):
        return f"b24 {args[0]}"
    if name == "batch" and args:
        methods = [str(getattr(c, "method", None) or c[0]) for c in dict(args[0]).values()]
        writes = [m for m in methods if m.endswith(_B24_WRITE_SUFFIXES)]
        if writes:
            return "b24 batch " + "+".join(writes)
    return None


class WorkerDied(Exception):
    """Stands for the process dying right after a write reached the other system."""


@dataclass
class CrashPlan:
    """Counts the writes a run makes (`seen`) and dies right after write number `at` (0-based)."""

    at: int | None = None
    seen: list[str] = field(default_factory=list)
    crashed: str | None = None

    def after_write(self, label: str) -> None:
        index = len(self.seen)
        self.seen.append(label)
        if self.at is not None and index == self.at and self.crashed is None:
            self.crashed = label
            raise WorkerDied(f"crash after write #{index}: {label}")


class _Crashing(_AfterEachCall):
    """Dies (per the plan) right after a write of its kind returned."""

    def __init__(self, real: Any, kind: str, plan: CrashPlan) -> None:
        super().__init__(real)
        self._kind, self._plan = kind, plan

    def _after(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        label: str | None = None
        if self._kind == "onec" and name in ONEC_WRITES:
            label = f"1C {name} {args[0] if args else ''}"
        elif self._kind == "links" and name in LINK_WRITES:
            label = f"SyncTable {name}"
        elif self._kind == "b24":
            label = _b24_write(name, args)
        if label is not None:
            self._plan.after_write(label)


def crashing(ports: Ports, plan: CrashPlan) -> Ports:
    return replace(
        ports,
        b24=cast(Any, _Crashing(ports.b24, "b24", plan)),
        onec=cast(Any, _Crashing(ports.onec, "onec", plan)),
        store=_with_stores(ports.store, lambda real: _Crashing(real, "links", plan)),
    )
