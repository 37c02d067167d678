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

from bridge.errors import BridgeError, TransientError
from bridge.observability import logger
from bridge.parties.onec_map import CONTACT_PERSONS, COUNTERPARTIES
from bridge.parties.sync import FLOW, MANIFESTS, PartiesFlow

SWEEP_CURSOR = "parties-b24-sweep"
_MANIFEST_SELECT = ["Ref_Key", "DataVersion", "DeletionMark"]


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
    # Companies before contacts: a contact person needs its company's link.
    for entity, entity_id in sorted(targets, key=lambda t: (t[0] != "COMPANY", t[1])):
        key = f"B24#{entity}#{entity_id}"
        try:
            report.outcomes[key] = flow.sync_b24(entity, entity_id)
        except BridgeError as error:
            report.failures[key] = f"{type(error).__name__}: {error}"
            logger.warning("party sync failed", extra={"subject": key, "error": str(error)})
    if latest != since and not report.failures:
        links.put_cursor(SWEEP_CURSOR, {"since": latest}, expected_version=cursor.version if cursor else None)


def run(flow: PartiesFlow) -> RunReport:
    report = RunReport()
    poll_onec(flow, report)
    sweep_b24(flow, report)
    return report
