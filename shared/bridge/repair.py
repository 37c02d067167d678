"""The operator's repair actions (through `bridge.cli`): force one record through its flow now
(`resync`), link open deals to orders typed into 1C before go-live (`link-existing`), the first
load of the parties (`parties sync`).

Top layer, beside `bridge.operations`: it names every flow. Each action takes its ports and returns a
report; printing is the command's. What a flow wrote is taken from the clients themselves (a
recording wrapper around both), so the report lists every write on either side, not a summary the
flow chose to give.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, cast

from bridge import deps
from bridge.b24.batching import Commands, keyed_commands
from bridge.b24.client import B24Client
from bridge.b24.models import B24Response, BatchResult
from bridge.catalog.runs import run_nomenclature, run_refresh
from bridge.catalog.state import forget_written
from bridge.deals import existing
from bridge.deals.flow import sync_deal
from bridge.deals.refs import deal_ref
from bridge.domain.onec_sets import COUNTERPARTIES, ORDERS
from bridge.domain.records import RecordRef
from bridge.errors import BridgeError
from bridge.onec.client import ODataClient
from bridge.onec.odata import Filter, eq
from bridge.parties import poller
from bridge.parties.sync import PartiesFlow
from bridge.ports import Ports
from bridge.store import B24Ref, OneCRef

# The last part of a Bitrix24 method that only reads; every other method is taken as a write.
_B24_READS = frozenset({"get", "list", "fields", "getfields", "current", "getlist", "search", "count"})


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else repr(value)
    if isinstance(value, list):
        text = f"{len(value)} row(s)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fields(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={_short(value)}" for key, value in values.items())


def _b24_write(method: str, params: Mapping[str, Any]) -> str:
    target = f" #{params['id']}" if "id" in params else ""
    values = params.get("fields")
    detail = (
        _fields(values)
        if isinstance(values, Mapping)
        else _fields({k: v for k, v in params.items() if k != "id"})
    )
    return f"Bitrix24 {method}{target}: {detail}".rstrip(": ")


@dataclass
class WriteLog:
    """Every write either client made, in order (one line each)."""

    lines: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, line: str) -> None:
        with self._lock:  # the catalog run writes from several threads
            self.lines.append(line)


def _is_b24_write(method: str) -> bool:
    return method.rsplit(".", 1)[-1].lower() not in _B24_READS


class _RecordingB24:
    def __init__(self, inner: B24Client, log: WriteLog) -> None:
        self._inner, self._log = inner, log

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> B24Response:
        response = self._inner.call(method, params)
        if _is_b24_write(method):
            self._log.add(_b24_write(method, params or {}))
        return response

    def batch(self, commands: Commands, *, halt: bool = False) -> BatchResult:
        answer = self._inner.batch(commands, halt=halt)
        for key, command in keyed_commands(commands):
            if _is_b24_write(command.method) and key in answer.result:
                self._log.add(_b24_write(command.method, command.params))
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _RecordingOneC:
    def __init__(self, inner: ODataClient, log: WriteLog) -> None:
        self._inner, self._log = inner, log

    def create(self, entity_set: str, body: Mapping[str, Any]) -> dict[str, Any]:
        created = self._inner.create(entity_set, body)
        self._log.add(f"1C create {entity_set} {created.get('Ref_Key', '')}: {_fields(body)}")
        return created

    def update(self, entity_set: str, ref: Any, body: Mapping[str, Any]) -> dict[str, Any]:
        updated = self._inner.update(entity_set, ref, body)
        self._log.add(f"1C update {entity_set} {ref}: {_fields(body)}")
        return updated

    def delete(self, entity_set: str, ref: Any, *, missing_ok: bool = False) -> None:
        self._inner.delete(entity_set, ref, missing_ok=missing_ok)
        self._log.add(f"1C delete {entity_set} {ref}")

    def post_document(self, entity_set: str, ref: Any, *, operational: bool = False) -> None:
        self._inner.post_document(entity_set, ref, operational=operational)
        self._log.add(f"1C post {entity_set} {ref}")

    def unpost_document(self, entity_set: str, ref: Any, *, operational: bool = False) -> None:
        self._inner.unpost_document(entity_set, ref, operational=operational)
        self._log.add(f"1C unpost {entity_set} {ref}")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def recording(ports: Ports) -> tuple[Ports, WriteLog]:
    """`ports` whose clients log each write they make."""
    log = WriteLog()
    b24 = cast(B24Client, _RecordingB24(ports.b24, log))
    onec = cast(ODataClient, _RecordingOneC(ports.onec, log))
    return replace(ports, b24=b24, onec=onec), log


@dataclass
class ResyncReport:
    record: RecordRef
    notes: list[str] = field(default_factory=list)  # what the flow said it did
    writes: list[str] = field(default_factory=list)  # what was written, either side
    problem: str | None = None  # why the record could not be resynced

    @property
    def ok(self) -> bool:
        return self.problem is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "record": {"kind": self.record.kind, "key": self.record.key},
            "ok": self.ok,
            "notes": self.notes,
            "writes": self.writes,
            "problem": self.problem,
        }


def _parties(ports: Ports) -> PartiesFlow:
    flow = deps.parties_flow(ports)
    flow.force = True
    return flow


def _resync_order(number: str, ports: Ports, report: ResyncReport) -> None:
    rows = ports.onec.list(ORDERS, filter=eq("Number", number), select=["Ref_Key", "Number"])
    if not rows:
        report.problem = f"no 1C order numbered {number!r}"
        return
    for row in rows:
        link = ports.store.links.find_by_onec(OneCRef(entity_set=ORDERS, ref=str(row["Ref_Key"])))
        if link is None:
            report.problem = f"1C order {number} is linked to no deal (see `link-existing`)"
            return
        report.notes.append(f"order {number} belongs to deal {link.b24.id}")
        report.notes.append(sync_deal(int(link.b24.id), ports, force=True))


def _resync_counterparty(inn: str, ports: Ports, report: ResyncReport) -> None:
    rows = ports.onec.list(
        COUNTERPARTIES,
        filter=Filter(f"{eq('ИНН', inn)} and IsFolder eq false"),
        select=["Ref_Key", "Description"],
    )
    if not rows:
        report.problem = f"no 1C counterparty with ИНН {inn}"
        return
    flow = _parties(ports)
    for row in rows:
        note = flow.sync_onec(COUNTERPARTIES, str(row["Ref_Key"]))
        report.notes.append(f"counterparty {row.get('Description', '')} ({row['Ref_Key']}): {note}")


def _resync_product(product_id: int, ports: Ports, report: ResyncReport) -> None:
    ref = forget_written(ports.store, product_id)
    if ref is None:
        report.problem = f"product {product_id} is not synced from 1C (not in the catalog manifest)"
        return
    report.notes.append(f"product {product_id} is 1C item {ref}")
    report.notes.append(run_nomenclature(ports).summary())
    report.notes.append(run_refresh([product_id], ports).summary())


def resync(record: RecordRef, ports: Ports) -> ResyncReport:
    """Force `record` through its flow now, fingerprints ignored; the report lists every write."""
    recorded, log = recording(ports)
    report = ResyncReport(record)
    try:
        if record.kind == "deal":
            if recorded.store.links.find_by_b24(deal_ref(int(record.key))) is None:
                report.notes.append("the deal has no 1C order yet: the flow decides whether to create one")
            report.notes.append(sync_deal(int(record.key), recorded, force=True))
        elif record.kind == "order":
            _resync_order(record.key, recorded, report)
        elif record.kind == "company":
            report.notes.append(_parties(recorded).sync_b24("COMPANY", int(record.key)))
        elif record.kind == "counterparty":
            _resync_counterparty(record.key, recorded, report)
        else:
            _resync_product(int(record.key), recorded, report)
    except BridgeError as error:
        report.problem = f"{type(error).__name__}: {error}"
    failed = [note for note in report.notes if note.startswith("failed")]
    if report.problem is None and failed:
        report.problem = failed[0]
    report.writes = list(log.lines)
    # The operator's action is part of the record's history (`journal`), like any flow's.
    ports.store.audit.record(
        "repair",
        _SUBJECTS[record.kind].format(record.key),
        "Resync" if report.ok else "ResyncFailed",
        {"notes": report.notes, "writes": len(report.writes), "problem": report.problem},
    )
    return report


# The audit subject each flow files the record under.
_SUBJECTS = {
    "deal": "DEAL-{}",
    "order": "ORDER-{}",
    "company": "B24#COMPANY#{}",
    "counterparty": "INN-{}",
    "product": "PRODUCT-{}",
}


# ---- link-existing -------------------------------------------------------------------------------


@dataclass
class LinkReport:
    applied: bool
    rows: list[existing.MatchRow]

    def count(self, verdict: existing.Verdict) -> int:
        return sum(1 for row in self.rows if row.verdict is verdict)

    def summary(self) -> str:
        counts = ", ".join(f"{v.value} {self.count(v)}" for v in existing.Verdict)
        linked = sum(1 for row in self.rows if row.linked)
        tail = (
            f"; linked {linked}" if self.applied else "; dry run, nothing linked (--apply links the matches)"
        )
        return f"{len(self.rows)} open deal(s) without an order: {counts}{tail}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "counts": {v.value: self.count(v) for v in existing.Verdict},
            "rows": [row.as_csv() for row in self.rows],
        }


def link_existing(ports: Ports, *, apply: bool, tick: Callable[[int, int], None] | None = None) -> LinkReport:
    """Match open deals to orders typed into 1C before go-live; with `apply`, link the matches.
    `tick(done, total)` after each deal matched (and linked)."""
    deals = existing.open_deals(ports, existing.buyer_counterparties(ports))
    rows = existing.match(deals, existing.typed_orders(ports))
    if tick is not None:
        tick(0 if apply else len(rows), len(rows))  # a dry run is done once matched
    if apply:
        done = []
        for row in rows:
            if row.verdict is existing.Verdict.MATCHED:
                detail = {"order": row.orders[0].ref, "number": row.orders[0].number, "by": row.by}
                try:
                    existing.link(ports, row)
                except BridgeError as error:  # e.g. linked meanwhile by the deal flow itself
                    detail["error"] = str(error)
                    ports.store.audit.record("repair", f"DEAL-{row.deal_id}", "LinkExistingFailed", detail)
                    row = row.model_copy(update={"problem": str(error)})
                else:
                    ports.store.audit.record("repair", f"DEAL-{row.deal_id}", "LinkedExisting", detail)
                    row = row.model_copy(update={"linked": True})
            done.append(row)
            if tick is not None:
                tick(len(done), len(rows))
        rows = done
    return LinkReport(applied=apply, rows=rows)


# ---- parties sync (the first load) ---------------------------------------------------------------


@dataclass
class PartiesLoad:
    dry_run: bool
    pending: int  # 1C objects to bring over before this run
    outcomes: dict[str, str] = field(default_factory=dict)  # key → what the flow did
    failures: dict[str, str] = field(default_factory=dict)
    unlinked_b24: int = 0  # Bitrix24 companies/contacts not linked yet (dry run)
    stopped: bool = False  # the limit ended it; the next run resumes

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for outcome in self.outcomes.values():
            kind = "written" if outcome.startswith(("1C ", "B24 ")) else outcome.split(":")[0]
            counts[kind] = counts.get(kind, 0) + 1
        if self.failures:
            counts["failed"] = len(self.failures)
        return dict(sorted(counts.items()))

    def summary(self) -> str:
        if self.dry_run:
            return (
                f"parties sync would bring over {self.pending} 1C object(s) "
                f"and look at {self.unlinked_b24} unlinked Bitrix24 companies and contacts; nothing written"
            )
        parts = ", ".join(f"{kind} {count}" for kind, count in self.counts().items()) or "nothing to do"
        tail = "; stopped at the limit, run again to resume" if self.stopped else ""
        return f"parties sync: {parts}{tail}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "pending": self.pending,
            "counts": self.counts(),
            "failures": self.failures,
            "unlinked_b24": self.unlinked_b24,
            "stopped": self.stopped,
            "outcomes": self.outcomes,
        }


def _unlinked_b24(ports: Ports) -> int:
    count = 0
    for entity in ("COMPANY", "CONTACT"):
        for row in ports.b24.list_all(f"crm.{entity.lower()}.list", {"select": ["ID"]}):
            if ports.store.links.find_by_b24(B24Ref(entity=entity, id=str(row["ID"]))) is None:
                count += 1
    return count


def parties_sync(
    ports: Ports, *, dry_run: bool = False, limit: int | None = None, tick: poller.Tick | None = None
) -> PartiesLoad:
    """The first load of counterparties ⇄ companies: every changed 1C object, then the Bitrix24
    sweep. `limit`: stop after that many 1C objects (the manifest remembers them; the next run
    resumes with the rest)."""
    flow = deps.parties_flow(ports)
    pending, _ = poller.onec_changes(flow)
    if dry_run:
        return PartiesLoad(dry_run=True, pending=len(pending), unlinked_b24=_unlinked_b24(ports))
    report = poller.RunReport()
    done = 0

    def counted(done_now: int, total: int) -> None:
        nonlocal done
        done = done_now
        if tick is not None:
            tick(done_now, total)

    finished = poller.poll_onec(
        flow, report, should_stop=lambda: limit is not None and done >= limit, tick=counted
    )
    if finished:
        poller.sweep_b24(flow, report, ports.clock())
    return PartiesLoad(
        dry_run=False,
        pending=len(pending),
        outcomes=report.outcomes,
        failures=report.failures,
        stopped=not finished,
    )
