"""The scheduled run: 1C → Bitrix24 manifest diff, then the Bitrix24 → 1C sweep.

1C has no change feed: `Ref_Key, DataVersion, DeletionMark` of every counterparty and contact
person is diffed against the versions stored in SyncTable (architecture §4); only changed objects
are read. Bitrix24's sweep lists companies, contacts and requisites modified since the last sweep
(the events' safety net: an edited requisite alone has no company event).

The Bitrix24 sweep's cursor always moves on: a company or contact that fails joins the cursor's
retry set instead of pinning the cursor (which made every later run re-list everything since the
first failure). Due entries are synced again directly (no listing) with a doubling backoff; after
`SWEEP_MAX_RETRIES` the sweep gives up and reports (audit item, error log, `PartiesSweepGaveUp`
metric, alarmed). A run costs its window plus the due retries, never the old failures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from bridge.b24.models import Command
from bridge.domain.fingerprint import fingerprint
from bridge.domain.onec_sets import CONTACT_PERSONS, COUNTERPARTIES
from bridge.errors import BridgeError, TransientError
from bridge.notices import CrmEntity, tell_once
from bridge.observability import correlated, logger, metrics
from bridge.parties.b24_map import ADDRESS_PARTS, REQUISITE_OWNER
from bridge.parties.sync import FLOW, MANIFESTS, PartiesFlow
from bridge.store import OneCRef

SWEEP_CURSOR = "parties-b24-sweep"
_MANIFEST_SELECT = ["Ref_Key", "DataVersion", "DeletionMark"]
# Requisite id → digest of its addresses, as the last sweep saw them (an address has no DATE_MODIFY).
ADDRESS_MANIFEST = "parties-b24-addresses"
_ADDRESS_SELECT = ["TYPE_ID", "ENTITY_ID", "ANCHOR_TYPE_ID", "ANCHOR_ID", *ADDRESS_PARTS]
_OWNER_TYPES = {"4": "COMPANY", "3": "CONTACT"}
_PAGE = 50
# Retries of a failed company/contact: after 10, 20, 40, 80, 160 minutes, then reported.
SWEEP_RETRY_BASE = timedelta(minutes=10)
SWEEP_MAX_RETRIES = 5


@dataclass
class RunReport:
    outcomes: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    gave_up: list[str] = field(default_factory=list)  # reported by the Bitrix24 sweep this run
    retried: list[str] = field(default_factory=list)  # earlier failures synced again this run

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _attempt(report: RunReport, key: str, sync: Callable[[], str]) -> BridgeError | None:
    """Sync one object; a failure goes into the report and the log, and is returned."""
    try:
        with correlated(key):
            report.outcomes[key] = sync()
    except BridgeError as error:
        report.failures[key] = f"{type(error).__name__}: {error}"
        logger.warning("party sync failed", extra={"subject": key, "error": str(error)})
        return error
    return None


@dataclass(frozen=True)
class Pending:
    """A 1C object whose DataVersion differs from the manifest's (new, changed or not yet synced)."""

    entity_set: str
    ref: str
    version: str


def onec_changes(flow: PartiesFlow) -> tuple[list[Pending], dict[str, list[str]]]:
    """(objects to sync, counterparties first; refs gone from 1C per entity set), from the cheap
    manifest read. The manifest is the cursor: each synced object's entry is written at once, so a
    run that stopped halfway resumes with what is left."""
    pending: list[Pending] = []
    gone: dict[str, list[str]] = {}
    # Counterparties first: a contact person needs its counterparty's link.
    for entity_set in (COUNTERPARTIES, CONTACT_PERSONS):
        known = flow.ports.store.manifests.get(MANIFESTS[entity_set])
        seen: set[str] = set()
        for row in flow.ports.onec.iter_all(entity_set, select=_MANIFEST_SELECT):
            ref, version = str(row["Ref_Key"]).lower(), str(row.get("DataVersion") or "")
            seen.add(ref)
            if known.get(ref) != version:
                pending.append(Pending(entity_set, ref, version))
        gone[entity_set] = [ref for ref in known if ref not in seen]
    return pending, gone


type Tick = Callable[[int, int], None]  # (objects done, objects in all) after each one


def poll_onec(
    flow: PartiesFlow,
    report: RunReport,
    *,
    should_stop: Callable[[], bool] = lambda: False,
    tick: Tick | None = None,
) -> bool:
    """1C → Bitrix24 for every changed object; False when `should_stop` ended it early."""
    pending, gone = onec_changes(flow)
    done = 0
    for entity_set in (COUNTERPARTIES, CONTACT_PERSONS):
        name = MANIFESTS[entity_set]
        for item in (p for p in pending if p.entity_set == entity_set):
            if should_stop():
                return False
            ref, version = item.ref, item.version
            key = f"1C#{entity_set}#{ref}"
            error = _attempt(report, key, partial(flow.sync_onec, entity_set, ref))
            done += 1
            if tick is not None:
                tick(done, len(pending))
            if isinstance(error, TransientError):
                continue
            if error is not None:
                flow.ports.store.audit.record(FLOW, key, "failed", {"error": str(error)})
                tell_party(flow, key, str(error))
            # A reconciled object's entry already holds its version after our own writes.
            if ref not in flow.recorded:
                flow.ports.store.manifests.put_entries(name, {ref: version}, ())
        for ref in gone[entity_set]:
            report.outcomes[f"1C#{entity_set}#{ref}"] = flow.onec_deleted(entity_set, ref, vanished=True)
        if gone[entity_set]:
            flow.ports.store.manifests.put_entries(name, {}, gone[entity_set])
    return True


def _modified(flow: PartiesFlow, method: str, since: str, select: list[str]) -> Iterator[dict[str, Any]]:
    params: dict[str, Any] = {"select": select, "order": {"DATE_MODIFY": "ASC"}}
    if since:
        params["filter"] = {">=DATE_MODIFY": since}
    yield from flow.ports.b24.list_all(method, params)


def _all_addresses(flow: PartiesFlow) -> list[dict[str, Any]]:
    """Every requisite address: the first page, then the rest as batches of 50 pages (`start`
    offsets are known from `total`), so 10 000 addresses cost 5 HTTP calls."""
    params: dict[str, Any] = {
        "filter": {"ENTITY_TYPE_ID": REQUISITE_OWNER},
        "select": _ADDRESS_SELECT,
        "order": {"ENTITY_ID": "ASC", "TYPE_ID": "ASC"},
    }
    first = flow.ports.b24.call("crm.address.list", {**params, "start": 0})
    rows = [r for r in first.result or [] if isinstance(r, dict)]
    total = first.total or 0
    if total > len(rows):
        pages = {
            f"a{start}": Command("crm.address.list", {**params, "start": start})
            for start in range(_PAGE, total, _PAGE)
        }
        answer = flow.ports.b24.batch(pages)
        if answer.errors:
            raise next(iter(answer.errors.values()))
        for key in pages:
            rows += [r for r in answer.result.get(key) or [] if isinstance(r, dict)]
    return rows


def address_changes(
    flow: PartiesFlow, first_sweep: bool
) -> tuple[dict[tuple[str, int], set[str]], dict[str, str], list[str]]:
    """Owners whose requisite addresses changed since the last sweep (an address-only edit moves no
    DATE_MODIFY and sends no event): `{(entity, id): requisite ids}`, the new digests, the requisites
    that lost every address. Nothing is reported on the first digest (a baseline, logged)."""
    known = flow.ports.store.manifests.get(ADDRESS_MANIFEST)
    by_requisite: dict[str, list[dict[str, Any]]] = {}
    anchors: dict[str, tuple[str, int]] = {}
    for row in _all_addresses(flow):
        requisite = str(row.get("ENTITY_ID") or "")
        by_requisite.setdefault(requisite, []).append(row)
        owner = _OWNER_TYPES.get(str(row.get("ANCHOR_TYPE_ID") or ""))
        if owner and str(row.get("ANCHOR_ID") or "").isdigit():
            anchors[requisite] = (owner, int(row["ANCHOR_ID"]))
    digests = {
        requisite: fingerprint(
            {"addresses": sorted([str(r.get(f) or "") for f in _ADDRESS_SELECT] for r in rows)}
        )
        for requisite, rows in by_requisite.items()
    }
    changed = {r: d for r, d in digests.items() if known.get(r) != d}
    gone = [r for r in known if r not in digests]
    if not known and not first_sweep:
        # Upgraded from a version without the digest: record it rather than re-read every company.
        logger.info("address digests recorded", extra={"requisites": len(digests)})
        return {}, changed, gone
    owners: dict[tuple[str, int], set[str]] = {}
    missing = [r for r in [*changed, *gone] if r not in anchors]
    for chunk in range(0, len(missing), _PAGE):
        for rq in flow.ports.b24.list_all(
            "crm.requisite.list",
            {
                "filter": {"@ID": missing[chunk : chunk + _PAGE]},
                "select": ["ID", "ENTITY_TYPE_ID", "ENTITY_ID"],
            },
        ):
            owner = _OWNER_TYPES.get(str(rq.get("ENTITY_TYPE_ID")))
            if owner and str(rq.get("ENTITY_ID") or "").isdigit():
                anchors[str(rq["ID"])] = (owner, int(rq["ENTITY_ID"]))
    for requisite in [*changed, *gone]:
        if requisite in anchors:
            owners.setdefault(anchors[requisite], set()).add(requisite)
    return owners, changed, gone


def _retry_set(raw: Any, now: datetime) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    for key, value in raw.items() if isinstance(raw, dict) else ():
        entity, _, entity_id = str(key).partition("#")
        if entity not in ("COMPANY", "CONTACT") or not entity_id.isdigit():
            continue
        try:
            entries[str(key)] = {
                "attempts": int(value["attempts"]),
                "due": datetime.fromisoformat(str(value["due"])).isoformat(),
                "first": str(value.get("first") or now.isoformat()),
                "seen": str(value.get("seen") or ""),
            }
        except (KeyError, TypeError, ValueError):
            entries[str(key)] = {"attempts": 1, "due": now.isoformat(), "first": now.isoformat()}
    return entries


def _failed_again(entry: dict[str, Any] | None, now: datetime) -> dict[str, Any]:
    attempts = int(entry["attempts"]) + 1 if entry else 1
    first = entry["first"] if entry else now.isoformat()
    due = now + SWEEP_RETRY_BASE * 2 ** (attempts - 1)
    return {"attempts": attempts, "due": due.isoformat(), "first": first}


def sweep_b24(flow: PartiesFlow, report: RunReport, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    links = flow.ports.store
    cursor = links.cursors.get(SWEEP_CURSOR)
    since = str(cursor.value.get("since", "")) if cursor else ""
    retry = _retry_set(cursor.value.get("retry") if cursor else None, now)
    raw_memo = cursor.value.get("gave_up") if cursor else None
    # Given up on, with the DATE_MODIFY seen then: the inclusive window may list them again, but
    # only an edit makes them worth another try.
    given_up = {str(k): str(v) for k, v in raw_memo.items()} if isinstance(raw_memo, dict) else {}
    latest = since
    # (entity, id) → the newest DATE_MODIFY seen for it (its own or one of its requisites').
    targets: dict[tuple[str, int], str] = {}

    def seen(entity: str, entity_id: int, modified: str) -> None:
        targets[(entity, entity_id)] = max(targets.get((entity, entity_id), ""), modified)

    for entity in ("COMPANY", "CONTACT"):
        for row in _modified(flow, f"crm.{entity.lower()}.list", since, ["ID", "DATE_MODIFY"]):
            modified = str(row.get("DATE_MODIFY") or "")
            seen(entity, int(row["ID"]), modified)
            latest = max(latest, modified)
    for row in _modified(
        flow, "crm.requisite.list", since, ["ID", "ENTITY_TYPE_ID", "ENTITY_ID", "DATE_MODIFY"]
    ):
        modified = str(row.get("DATE_MODIFY") or "")
        owner = {"4": "COMPANY", "3": "CONTACT"}.get(str(row.get("ENTITY_TYPE_ID")))
        if owner and str(row.get("ENTITY_ID") or "").isdigit():
            seen(owner, int(row["ENTITY_ID"]), modified)
        latest = max(latest, modified)
    for (entity, entity_id), modified in list(targets.items()):
        tracked = f"{entity}#{entity_id}"
        entry = retry.get(tracked)
        if (
            entry is not None
            and modified <= entry.get("seen", "")
            and datetime.fromisoformat(entry["due"]) > now
        ):
            del targets[(entity, entity_id)]  # failed before, not edited since, not due yet
        elif tracked in given_up and modified <= given_up[tracked]:
            del targets[(entity, entity_id)]  # reported already; only an edit brings it back
        else:
            given_up.pop(tracked, None)
            if entry is not None:
                report.retried.append(f"B24#{tracked}")  # listed again and due (or edited)
    # An address-only edit moves no DATE_MODIFY: it counts as an edit, past any backoff.
    address_owners, digests, gone = address_changes(flow, first_sweep=cursor is None)
    for address_owner in address_owners:
        targets.setdefault(address_owner, "")
        given_up.pop(f"{address_owner[0]}#{address_owner[1]}", None)
    # Earlier failures whose backoff is due are synced again even when nobody touched them.
    for tracked, entry in retry.items():
        kind, _, raw_id = tracked.partition("#")
        if (kind, int(raw_id)) not in targets and datetime.fromisoformat(entry["due"]) <= now:
            targets[(kind, int(raw_id))] = str(entry.get("seen", ""))
            report.retried.append(f"B24#{tracked}")
    # Companies before contacts: a contact person needs its company's link.
    for entity, entity_id in sorted(targets, key=lambda t: (t[0] != "COMPANY", t[1])):
        key = f"B24#{entity}#{entity_id}"
        tracked = f"{entity}#{entity_id}"
        error = _attempt(report, key, partial(flow.sync_b24, entity, entity_id))
        if error is None:
            retry.pop(tracked, None)
            continue
        entry = _failed_again(retry.get(tracked), now) | {"seen": targets[(entity, entity_id)]}
        if entry["attempts"] > SWEEP_MAX_RETRIES:
            retry.pop(tracked, None)
            given_up[tracked] = targets[(entity, entity_id)]
            _give_up(flow, report, key, entry, str(error))
        else:
            retry[tracked] = entry
    # Every digest is recorded: a failed owner lives on in the retry set, like any other failure.
    links.manifests.put_entries(ADDRESS_MANIFEST, digests, gone)
    value: dict[str, Any] = {"since": latest}
    if retry:
        value["retry"] = dict(sorted(retry.items()))
    # Older than the window: it cannot be listed again without an edit, so the memo is dropped.
    kept = {k: v for k, v in sorted(given_up.items()) if v >= latest}
    if kept:
        value["gave_up"] = kept
    if cursor is None or value != cursor.value:
        # The cursor moves past failures: they live on in the retry set, not in the window.
        links.cursors.put(SWEEP_CURSOR, value, expected_version=cursor.version if cursor else None)


def failure_text(error: str) -> str:
    return (
        f"Реквизиты не синхронизированы с 1С: {error}. "
        "Исправьте причину; запись синхронизируется при следующем изменении."
    )


def tell_party(flow: PartiesFlow, key: str, error: str) -> None:
    """A comment on the Bitrix24 company or contact a failed sync concerns (`B24#<ENTITY>#<id>`, or
    the one linked to `1C#<set>#<ref>`), once per distinct problem; an unlinked 1C party has none."""
    try:
        entity, entity_id = _b24_party(flow, key)
        if entity is None:
            logger.warning("parties: failed party has no Bitrix24 card to tell", extra={"subject": key})
            return
        tell_once(
            flow.ports,
            entity,
            entity_id,
            flow=FLOW,
            kind="PartySyncFailed",
            text=failure_text(error),
            detail={"subject": key, "error": error},
            channel="parties",
            subject=key,
        )
        metrics.add_metric(name="PartyFailureNotices", unit=MetricUnit.Count, value=1)
    except Exception as failure:  # the audit item stays; one party must not stop the run
        logger.warning("parties: could not tell the card", extra={"subject": key, "error": str(failure)})


def _b24_party(flow: PartiesFlow, key: str) -> tuple[CrmEntity | None, int]:
    parts = key.split("#")
    if parts[0] == "B24" and len(parts) == 3:
        entity, entity_id = parts[1], parts[2]
    elif parts[0] == "1C" and len(parts) == 3:
        link = flow.ports.store.links.find_by_onec(OneCRef(entity_set=parts[1], ref=parts[2]))
        if link is None:
            return None, 0
        entity, entity_id = link.b24.entity, link.b24.id
    else:
        return None, 0
    kinds: dict[str, CrmEntity] = {"COMPANY": "company", "CONTACT": "contact"}
    return (kinds[entity], int(entity_id)) if entity in kinds else (None, 0)


def _give_up(flow: PartiesFlow, report: RunReport, key: str, entry: dict[str, Any], error: str) -> None:
    reason = f"still failing after {entry['attempts']} attempts since {entry['first']}: {error}"
    flow.ports.store.audit.record(FLOW, key, "sweep-gave-up", {"reason": reason})
    tell_party(flow, key, error)
    logger.error("parties sweep gave up on a party", extra={"subject": key, "reason": reason})
    metrics.add_metric(name="PartiesSweepGaveUp", unit=MetricUnit.Count, value=1)
    report.gave_up.append(key)


def run(flow: PartiesFlow, now: datetime | None = None) -> RunReport:
    report = RunReport()
    poll_onec(flow, report)
    sweep_b24(flow, report, now)
    return report
