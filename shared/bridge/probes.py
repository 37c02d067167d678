"""Live-check probes: the open wire questions of docs/sandbox-b24.md and docs/sandbox-onec.md,
asked of the customer's systems on first contact (`check`).

Each probe reads (never writes unless `--allow-writes`, and then only an object it creates and
deletes again), records its answer in SyncTable (`ports.store.probes`) and prints it as a note.
The 1C client follows the recorded `$count` and `Condition` answers (`ODataClient.answer`); with
nothing recorded it keeps tolerating every plausible form. Top layer, beside `bridge.checks`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from bridge.b24.errors import B24Error
from bridge.checks import CheckReport, Finding, published_sets
from bridge.domain import onec_sets
from bridge.errors import BridgeError
from bridge.onec.client import (
    CONDITION_FORMS,
    CONDITION_PROBE,
    COUNT_PROBE,
    VALUE_TYPE_PROBE,
    condition_argument,
    encode_path,
)
from bridge.onec.odata import full_value_type, value_type_kept
from bridge.ports import Ports
from bridge.setup.onec_names import string_value_type

type Probe = Callable[[Ports, CheckReport], None]

MODE_STATUS_PROBE = "b24.document_mode_status"
PROPERTIES_PROBE = "onec.properties_chart"
CONTACT_ROLES_PROBE = "onec.contact_roles"
AT_ID_PROBE = "b24.deal_list_at_id"
FOLDER_PROBE = "onec.folder_create"

EMPTY_REF = "00000000-0000-0000-0000-000000000000"
# A Condition that matches nothing: what is asked is only whether the parser takes the form.
PROBE_CONDITION = f"Номенклатура_Key eq guid'{EMPTY_REF}'"


def _record(ports: Ports, report: CheckReport, name: str, answer: str, detail: str = "") -> None:
    ports.store.probes.record(name, answer, detail)
    report.notes.append(f"probe {name}: {answer}" + (f" ({detail})" if detail else ""))


def count_form(text: str) -> str:
    """ "text" for a bare number (text/plain), "json" for a JSON document, else "other"."""
    body = text.strip()
    if body.isdigit():
        return "text"
    try:
        json.loads(body)
    except ValueError:
        return "other"
    return "json"


def probe_count(ports: Ports, report: CheckReport) -> None:
    """docs/sandbox-onec.md "`$count` with `$format=json`": how `<Set>/$count` answers."""
    path = f"{encode_path(onec_sets.ORGANIZATIONS)}/$count"
    bare = count_form(ports.onec.read_raw(path, json_format=False).text)
    try:
        with_format = count_form(ports.onec.read_raw(path, json_format=True).text)
    except BridgeError as error:
        with_format = f"refused: {error}"
    _record(ports, report, COUNT_PROBE, bare, f"with $format=json: {with_format}")


def condition_request(form: str) -> tuple[str, list[tuple[str, str]]]:
    """(path, options) of a stock-balance read whose Condition is written in `form`."""
    arguments = "Dimensions='Номенклатура'"
    options: list[tuple[str, str]] = []
    if form == "query":
        options.append(("Condition", PROBE_CONDITION))
    else:
        arguments += "," + condition_argument(PROBE_CONDITION, form)
    return f"{encode_path(onec_sets.STOCK)}/Balance({encode_path(arguments)})", options


def probe_condition(ports: Ports, report: CheckReport) -> None:
    """docs/sandbox-onec.md "`Condition` forms": which forms the 1C parser takes."""
    accepted, refused = [], []
    for form in CONDITION_FORMS:
        path, options = condition_request(form)
        try:
            ports.onec.read_raw(path, options)
        except BridgeError as error:
            refused.append(f"{form}: {error}")
        else:
            accepted.append(form)
    if not accepted:
        report.problems.append(
            Finding(
                "1C OData stock balance",
                "no Condition form is accepted: " + "; ".join(refused),
                "check that AccumulationRegister_ЗапасыНаСкладах is published; report the answers",
            )
        )
        return
    _record(ports, report, CONDITION_PROBE, accepted[0], "accepted: " + ", ".join(accepted))


def mode_status_form(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str) and value.upper() in ("Y", "N"):
        return "string"
    return "other"


def probe_document_mode(ports: Ports, report: CheckReport) -> None:
    """docs/sandbox-b24.md: `catalog.document.mode.status` answers "Y"/"N" or a JSON boolean."""
    value = ports.b24.call("catalog.document.mode.status", {}).result
    _record(ports, report, MODE_STATUS_PROBE, mode_status_form(value), f"answered {value!r}")


def probe_publication(ports: Ports, report: CheckReport) -> None:
    """The additional-attributes chart and the contact roles catalog in the OData composition."""
    published = published_sets(json.loads(ports.onec.read_raw("").text))
    for name, entity_set in (
        (PROPERTIES_PROBE, onec_sets.PROPERTIES),
        (CONTACT_ROLES_PROBE, onec_sets.CONTACT_ROLES),
    ):
        _record(ports, report, name, "published" if entity_set in published else "not published", entity_set)


def probe_at_id(ports: Ports, report: CheckReport) -> None:
    """docs/sandbox-b24.md "`@ID` on `crm.deal.list`": is the IN filter honoured?"""
    some = ports.b24.call("crm.deal.list", {"select": ["ID"], "start": 0}).result or []
    if not some:
        _record(ports, report, AT_ID_PROBE, "unknown", "no deals on the portal to compare with")
        return
    asked = ports.b24.call("crm.deal.list", {"filter": {"@ID": [0]}, "select": ["ID"], "start": 0}).result
    answer = "honoured" if not asked else "ignored"
    _record(ports, report, AT_ID_PROBE, answer, f"@ID [0] returned {len(asked or [])} deal(s)")


def probe_folder(ports: Ports, report: CheckReport) -> None:
    """docs/sandbox-onec.md "Folder creation": does 1C take a counterparty group over OData?
    Writes: a uniquely named group, deleted again at once."""
    name = f"bridge check {uuid.uuid4().hex[:8]}"
    try:
        created = ports.onec.create(onec_sets.COUNTERPARTIES, {"Description": name, "IsFolder": True})
    except BridgeError as error:
        _record(ports, report, FOLDER_PROBE, "refused", str(error))
        return
    try:
        ports.onec.delete(onec_sets.COUNTERPARTIES, created["Ref_Key"], missing_ok=True)
    except BridgeError as error:
        report.problems.append(
            Finding(
                "1C Catalog_Контрагенты", f"the probe's group {name!r} was not deleted: {error}", "delete it"
            )
        )
    _record(ports, report, FOLDER_PROBE, "accepted", f"created and deleted {name!r}")


def _try_value_type(ports: Ports, report: CheckReport, sent: dict[str, Any]) -> tuple[bool, str]:
    """POST a uniquely named attribute with `sent`, read back what 1C stored, delete it again:
    (kept, what happened)."""
    name = f"bridge check {uuid.uuid4().hex[:8]}"
    try:
        created = ports.onec.create(
            onec_sets.PROPERTIES, {"Description": name, "Заголовок": name, "ValueType": sent}
        )
    except BridgeError as error:
        return False, f"refused: {error}"
    try:
        stored = ports.onec.get(onec_sets.PROPERTIES, created["Ref_Key"]).get("ValueType")
    finally:
        try:
            ports.onec.delete(onec_sets.PROPERTIES, created["Ref_Key"], missing_ok=True)
        except BridgeError as error:
            report.problems.append(
                Finding(
                    f"1C {onec_sets.PROPERTIES}",
                    f"the probe's attribute {name!r} was not deleted: {error}",
                    "mark it for deletion in 1C",
                )
            )
    if value_type_kept(sent, stored):
        return True, "kept as sent"
    return False, f"accepted, stored {json.dumps(stored, ensure_ascii=False, sort_keys=True)}"


def probe_value_type(ports: Ports, report: CheckReport) -> None:
    """docs/sandbox-onec.md "`ValueType` on POST": does 1C keep the string attribute type setup
    sends (`Types` + `StringQualifiers` only), or only the fully qualified form, or neither?
    Writes: a uniquely named additional attribute per form tried, deleted again at once."""
    if ports.store.probes.answer(PROPERTIES_PROBE) == "not published":
        # A refusal would only say the chart is missing, which the publication probe reports.
        report.notes.append(f"probe {VALUE_TYPE_PROBE}: skipped, {onec_sets.PROPERTIES} is not published")
        return
    short = string_value_type()
    tried = []
    for form, sent in (("short", short), ("full", full_value_type(short))):
        kept, what = _try_value_type(ports, report, sent)
        tried.append(f"{form}: {what}")
        if kept:
            _record(ports, report, VALUE_TYPE_PROBE, form, "; ".join(tried))
            return
    answer = "ignored" if any(": accepted" in t for t in tried) else "refused"
    _record(ports, report, VALUE_TYPE_PROBE, answer, "; ".join(tried))
    report.problems.append(
        Finding(
            f"1C {onec_sets.PROPERTIES}",
            "1C does not keep the ValueType of an additional attribute created over OData "
            f"({answer}): setup cannot create the bridge's attributes as String(150)",
            "create them in 1C by hand as strings of length 150 (docs/admin-1c.md), then run setup",
        )
    )


READ_PROBES: Sequence[tuple[str, Probe]] = (
    (COUNT_PROBE, probe_count),
    (CONDITION_PROBE, probe_condition),
    (MODE_STATUS_PROBE, probe_document_mode),
    (PROPERTIES_PROBE, probe_publication),
    (AT_ID_PROBE, probe_at_id),
)
WRITE_PROBES: Sequence[tuple[str, Probe]] = (
    (FOLDER_PROBE, probe_folder),
    (VALUE_TYPE_PROBE, probe_value_type),
)


def _guarded(name: str, probe: Probe) -> Probe:
    def run(ports: Ports, report: CheckReport) -> None:
        try:
            probe(ports, report)
        except (B24Error, BridgeError, ValueError) as error:
            report.problems.append(
                Finding(
                    f"probe {name}", f"could not ask: {error}", "check the connection and run check again"
                )
            )
        report.checks.append(f"probe {name}")

    return run


def _skipped(name: str) -> Probe:
    def run(ports: Ports, report: CheckReport) -> None:
        recorded = ports.store.probes.answer(name)
        shown = f"recorded earlier: {recorded}" if recorded else "nothing recorded"
        report.notes.append(f"probe {name}: skipped, it writes (run with --allow-writes; {shown})")

    return run


def all_probes(allow_writes: bool) -> list[Probe]:
    probes = [_guarded(name, probe) for name, probe in READ_PROBES]
    probes += [_guarded(n, p) if allow_writes else _skipped(n) for n, p in WRITE_PROBES]

    def settle(ports: Ports, report: CheckReport) -> None:
        ports.onec.forget_answers()  # this process's client follows what was just recorded

    return [*probes, settle]
