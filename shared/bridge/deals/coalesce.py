"""The deal flow's Bitrix24 reads and write-backs, coalesced across one worker invocation (issue 15).

Record by record, every deal event costs a read `batch` and (when an order is written) a
write-back `batch`, and the portal's leaky bucket (2 requests/s on the standard plan) is what binds
100 deals. An SQS FIFO batch holds up to 10 records, ~9.5 different deals, so the invocation:

- reads every deal of its batch before the first record runs, 7 deals (49 commands) per `batch`
  call, the most the 50-command limit allows with each deal's back-references kept together;
- holds every write-back (order number and key on the deal, the "order created" comment) and sends
  them all in one `batch` after the last record (`finish`).

What keeps this as safe as record by record:

- A prefetched snapshot serves only the first record of its deal. A later record of the same deal
  (same FIFO group, so it runs after) first sends that deal's held write-back, then reads the deal
  afresh: it never decides on a state its predecessor changed.
- A read error inside one deal's commands stays in that deal's slice and is parsed when its record
  runs, with the flow's usual handling (comment, audit, retry); the other deals proceed. When a
  whole prefetch call fails, the records of its deals read for themselves.
- The held write-backs land or fail per deal. `finish` returns the FIFO groups whose write-back did
  not land; the worker reports their records failed and forgets their idempotency records, so the
  queue redelivers them and the retry, finding the link, creates no order and writes back again.
- The flow's decisions stay pure (`plan.py`); this module only changes when the calls go out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from bridge.b24.models import BatchResult, CallTime, Command
from bridge.deals import seen
from bridge.deals.refs import deal_ref, order_ref
from bridge.deals.snapshot import DealSnapshot, deal_read_plan, parse_deal_snapshot
from bridge.domain.events import Entity, QueuedEvent
from bridge.errors import TransientError
from bridge.observability import logger
from bridge.ports import Ports

# Keys of one deal's read plan; 50 // 7 deals fit one `batch` call.
_READ_COMMANDS = len(deal_read_plan(0))
DEALS_PER_READ = 50 // _READ_COMMANDS

# Kept as long as a redelivery or a DLQ replay of the deal's first event can come (14 days).
COMMENT_KEEP_S = 14 * 86_400


def group_of(deal_id: int) -> str:
    """The FIFO group of a deal's events (`QueuedEvent.group_id`)."""
    return f"{Entity.DEAL.value}-{deal_id}"


@dataclass(frozen=True)
class WriteBack:
    """One deal's write-back: commands keyed "update" / "created", and the claim on the "created"
    comment (settled when Bitrix24 accepted it, released otherwise)."""

    deal_id: int
    commands: Mapping[str, Command]
    comment_claim: tuple[str, str] | None = None
    order_ref: str | None = None  # the linked order: its link records when the update landed


def note_landed(ports: Ports, write: WriteBack, time: CallTime | None) -> None:
    """The deal's `update` landed: record Bitrix24's finish time of it on the link, so the sweep
    does not take our own write for a manager's edit (`bridge.deals.seen`)."""
    if write.order_ref is None or "update" not in write.commands:
        return
    moment = seen.written_at(time)
    if moment is not None:
        seen.note_seen(ports, deal_ref(write.deal_id), order_ref(write.order_ref), moment)


def land(ports: Ports, write: WriteBack, result: Mapping[str, Any], errors: Mapping[str, Any]) -> str | None:
    """Settle the write-back's comment claim by its answer; the reason it failed, or None."""
    if write.comment_claim is not None:
        name, owner = write.comment_claim
        if "created" in result:
            ports.store.links.settle_claim(name, owner, str(result["created"]), keep_s=COMMENT_KEEP_S)
        else:
            ports.store.links.release_claim(name, owner)
    if errors:
        return str(next(iter(errors.values())))
    if any(key not in result for key in write.commands):
        return "not answered"
    return None


def send_now(ports: Ports, write: WriteBack) -> None:
    """The record-by-record path: one `batch`, and a transient failure when it did not land (the
    order and its link exist; the retry, the next event or the sweep writes these again)."""
    answer = ports.b24.batch(dict(write.commands))
    reason = land(ports, write, answer.result, answer.errors)
    if reason is not None:
        raise TransientError(f"deal {write.deal_id}: write-back failed: {reason}")
    note_landed(ports, write, answer.time.get("update"))


def _sliced(answer: BatchResult, prefix: str, *, wire: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """One deal's part of a shared answer, keys without the prefix; `wire`: errors as the
    `result_error` entries `parse_deal_snapshot` reads, else as the client's error objects."""
    cut = len(prefix)
    result = {k[cut:]: v for k, v in answer.result.items() if k.startswith(prefix)}
    errors: dict[str, Any] = {
        k[cut:]: {"error": e.code, "error_description": e.description} if wire else e
        for k, e in answer.errors.items()
        if k.startswith(prefix)
    }
    return result, errors


def _read_prefix(deal_id: int) -> str:
    return f"d{deal_id}_"


def _write_prefix(deal_id: int) -> str:
    return f"w{deal_id}_"


class DealBatch:
    """The deal flow's view of one worker invocation (a `pipeline.worker.BatchScope`).

    Built once per worker in `bridge.deps` and handed both to the worker (begin/finish around each
    invocation) and to the deal flow's handler (read/hold per record). Not thread-safe: one
    invocation at a time, as a Lambda container runs them.
    """

    def __init__(self, ports: Callable[[], Ports], events: Iterable[str]) -> None:
        self._ports = ports
        self._events = frozenset(e.upper() for e in events)
        self._prefetched: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
        self._held: dict[int, WriteBack] = {}
        self._failed: dict[int, str] = {}
        self._kept: dict[str, Any] = {}
        self.active = False

    # --- the worker's side ---------------------------------------------------------------------

    def begin(self, events: Sequence[QueuedEvent]) -> None:
        """Read every deal the batch names, in as few `batch` calls as the command limit allows."""
        self._prefetched, self._held, self._failed, self._kept = {}, {}, {}, {}
        self.active = True
        deal_ids = list(dict.fromkeys(q.id for q in events if q.event.upper() in self._events))
        if not deal_ids:
            return
        ports = self._ports()
        for start in range(0, len(deal_ids), DEALS_PER_READ):
            chunk = deal_ids[start : start + DEALS_PER_READ]
            plan: dict[str, tuple[str, dict[str, Any]]] = {}
            for deal_id in chunk:
                plan.update(deal_read_plan(deal_id, _read_prefix(deal_id)))
            try:
                answer = ports.b24.batch(plan)
            except Exception as error:
                # Each of these records reads for itself and fails (or not) on its own.
                logger.warning(
                    "coalesced deal read failed; the records read one by one",
                    extra={"deals": chunk, "error": type(error).__name__, "reason": str(error)},
                )
                continue
            for deal_id in chunk:
                self._prefetched[deal_id] = _sliced(answer, _read_prefix(deal_id))
        logger.info(
            "deals read ahead for the batch",
            extra={"deals": len(deal_ids), "prefetched": len(self._prefetched)},
        )

    def finish(self) -> dict[str, str]:
        """Send every held write-back in one `batch`; the FIFO groups whose write-back did not
        land, with the reason (their records are to be retried)."""
        try:
            if self._held:
                self._flush(list(self._held.values()))
            return {group_of(deal_id): reason for deal_id, reason in self._failed.items()}
        finally:
            self._prefetched, self._held, self._failed, self._kept = {}, {}, {}, {}
            self.active = False

    # --- the deal flow's side ------------------------------------------------------------------

    def read(self, ports: Ports, deal_id: int) -> DealSnapshot:
        """The deal's snapshot: the prefetched one for the first record of the deal, otherwise a
        fresh read after the deal's held write-back went out."""
        if not self.active:
            answer = ports.b24.batch(deal_read_plan(deal_id))
            return parse_deal_snapshot(*_sliced(answer, ""))
        slice_ = self._prefetched.pop(deal_id, None)
        if slice_ is not None:
            return parse_deal_snapshot(*slice_)
        held = self._held.pop(deal_id, None)
        if held is not None:
            self._flush([held])
            if deal_id in self._failed:
                raise TransientError(f"deal {deal_id}: write-back failed: {self._failed[deal_id]}")
        answer = ports.b24.batch(deal_read_plan(deal_id))
        return parse_deal_snapshot(*_sliced(answer, ""))

    def kept[T](self, name: str, load: Callable[[], T]) -> T:
        """`load()` once per invocation (e.g. the resolved configuration, one SyncTable read
        per record otherwise); outside an invocation, every time. A setup run lands at the
        next invocation, as it would between two records."""
        if not self.active:
            return load()
        if name not in self._kept:
            self._kept[name] = load()
        return cast(T, self._kept[name])

    def hold(self, ports: Ports, write: WriteBack) -> None:
        """Keep the write-back for `finish` (the deal has at most one: `read` sends the previous one);
        outside an invocation (no `begin`), send it now."""
        if not self.active:
            send_now(ports, write)
            return
        earlier = self._held.get(write.deal_id)
        if earlier is not None:
            self._flush([earlier])
        self._held[write.deal_id] = write

    # --- sending -------------------------------------------------------------------------------

    def _flush(self, writes: list[WriteBack]) -> None:
        for write in writes:
            self._held.pop(write.deal_id, None)
        commands = {
            f"{_write_prefix(w.deal_id)}{key}": command for w in writes for key, command in w.commands.items()
        }
        ports = self._ports()
        try:
            answer = ports.b24.batch(commands)
        except Exception as error:
            reason = f"{type(error).__name__}: {error}"
            answer = None
        for write in writes:
            if answer is None:
                result: Mapping[str, Any] = {}
                errors: Mapping[str, Any] = {"batch": reason}
            else:
                result, errors = _sliced(answer, _write_prefix(write.deal_id), wire=False)
            try:
                failure = land(ports, write, result, errors)
            except Exception as error:
                failure = f"claim not settled: {type(error).__name__}: {error}"
            if failure is None:
                if answer is not None:
                    note_landed(ports, write, answer.time.get(f"{_write_prefix(write.deal_id)}update"))
                continue
            self._failed[write.deal_id] = failure
            logger.warning(
                "deal write-back did not land; its event is retried",
                extra={"deal_id": write.deal_id, "reason": failure},
            )
