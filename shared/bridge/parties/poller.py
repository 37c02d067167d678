"""The scheduled run: 1C → Bitrix24 manifest diff, then the Bitrix24 → 1C sweep.

1C has no change feed: `Ref_Key, DataVersion, DeletionMark` of every counterparty and contact
person is diffed against the versions stored in SyncTable (architecture §4); only changed objects
are read. Bitrix24's sweep lists companies, contacts and requisites modified since the last sweep
(the events' safety net: an edited requisite alone has no company event).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bridge.b24.models import Command
from bridge.errors import BridgeError, TransientError
from bridge.links.fingerprint import fingerprint
from bridge.observability import logger
from bridge.parties.b24_map import REQUISITE_OWNER
from bridge.parties.onec_map import CONTACT_PERSONS, COUNTERPARTIES
from bridge.parties.sync import FLOW, MANIFESTS, PartiesFlow

SWEEP_CURSOR = "parties-b24-sweep"
_MANIFEST_SELECT = ["Ref_Key", "DataVersion", "DeletionMark"]
# Requisite id → digest of its addresses, as the last sweep saw them (an address has no DATE_MODIFY).
ADDRESS_MANIFEST = "parties-b24-addresses"
_ADDRESS_SELECT = [
    "TYPE_ID",
    "ENTITY_ID",
    "ANCHOR_TYPE_ID",
    "ANCHOR_ID",
    "ADDRESS_1",
    "ADDRESS_2",
    "CITY",
    "POSTAL_CODE",
    "REGION",
    "PROVINCE",
    "COUNTRY",
]
_OWNER_TYPES = {"4": "COMPANY", "3": "CONTACT"}
_PAGE = 50


@dataclass
class RunReport:
    outcomes: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"outcomes": self.outcomes, "failures": self.failures}


def poll_onec(flow: PartiesFlow, report: RunReport) -> None:
    # Counterparties first: a contact person needs its counterparty's link.
    for entity_set in (COUNTERPARTIES, CONTACT_PERSONS):
        name = MANIFESTS[entity_set]
        known = flow.ports.links.get_manifest(name)
        seen: dict[str, str] = {}
        for row in flow.ports.onec.iter_all(entity_set, select=_MANIFEST_SELECT):
            ref, version = str(row["Ref_Key"]).lower(), str(row.get("DataVersion") or "")
            seen[ref] = version
            if known.get(ref) == version:
                continue
            key = f"1C#{entity_set}#{ref}"
            try:
                report.outcomes[key] = flow.sync_onec(entity_set, ref)
            except BridgeError as error:
                report.failures[key] = f"{type(error).__name__}: {error}"
                logger.warning("party sync failed", extra={"subject": key, "error": str(error)})
                if isinstance(error, TransientError):
                    continue
                flow.ports.links.audit(FLOW, key, "failed", {"error": str(error)})
            # A reconciled object's entry already holds its version after our own writes.
            if ref not in flow.recorded:
                flow.ports.links.put_manifest_entries(name, {ref: version}, ())
        gone = [ref for ref in known if ref not in seen]
        for ref in gone:
            report.outcomes[f"1C#{entity_set}#{ref}"] = flow.onec_deleted(entity_set, ref, vanished=True)
        if gone:
            flow.ports.links.put_manifest_entries(name, {}, gone)


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
    known = flow.ports.links.get_manifest(ADDRESS_MANIFEST)
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


def sweep_b24(flow: PartiesFlow, report: RunReport) -> None:
    links = flow.ports.links
    cursor = links.get_cursor(SWEEP_CURSOR)
    since = str(cursor.value.get("since", "")) if cursor else ""
    latest = since
    targets: dict[tuple[str, int], None] = {}
    for entity in ("COMPANY", "CONTACT"):
        for row in _modified(flow, f"crm.{entity.lower()}.list", since, ["ID", "DATE_MODIFY"]):
            targets[(entity, int(row["ID"]))] = None
            latest = max(latest, str(row.get("DATE_MODIFY") or ""))
    for row in _modified(
        flow, "crm.requisite.list", since, ["ID", "ENTITY_TYPE_ID", "ENTITY_ID", "DATE_MODIFY"]
    ):
        owner = {"4": "COMPANY", "3": "CONTACT"}.get(str(row.get("ENTITY_TYPE_ID")))
        if owner and str(row.get("ENTITY_ID") or "").isdigit():
            targets[(owner, int(row["ENTITY_ID"]))] = None
        latest = max(latest, str(row.get("DATE_MODIFY") or ""))
    address_owners, digests, gone = address_changes(flow, first_sweep=cursor is None)
    targets.update(dict.fromkeys(address_owners))
    # Companies before contacts: a contact person needs its company's link.
    for entity, entity_id in sorted(targets, key=lambda t: (t[0] != "COMPANY", t[1])):
        key = f"B24#{entity}#{entity_id}"
        try:
            report.outcomes[key] = flow.sync_b24(entity, entity_id)
        except BridgeError as error:
            report.failures[key] = f"{type(error).__name__}: {error}"
            logger.warning("party sync failed", extra={"subject": key, "error": str(error)})
    # A failed owner's addresses stay unrecorded, so the next sweep tries it again.
    failed = {
        r
        for owner, rqs in address_owners.items()
        if f"B24#{owner[0]}#{owner[1]}" in report.failures
        for r in rqs
    }
    links.put_manifest_entries(
        ADDRESS_MANIFEST,
        {r: d for r, d in digests.items() if r not in failed},
        [r for r in gone if r not in failed],
    )
    if latest != since and not report.failures:
        links.put_cursor(SWEEP_CURSOR, {"since": latest}, expected_version=cursor.version if cursor else None)


def run(flow: PartiesFlow) -> RunReport:
    report = RunReport()
    poll_onec(flow, report)
    sweep_b24(flow, report)
    return report
