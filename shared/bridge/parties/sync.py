"""One party, both ways: read both sides, merge against the last synced state, write the
differences, remember what was written (fingerprints on both link items).

Entry points: `sync_onec` (a changed 1C object), `sync_b24` (a changed Bitrix24 company or
contact), `b24_deleted`, `onec_deleted`. Each is safe to repeat: the second run finds the
fingerprints equal and writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bridge.b24.errors import NotFound as B24NotFound
from bridge.config.parties import PartiesMapping, PartyField, PersonField
from bridge.domain import directory
from bridge.domain.counterparty import CounterpartyKind
from bridge.domain.onec_sets import CONTACT_PERSONS, COUNTERPARTIES
from bridge.observability import logger
from bridge.onec.errors import NotFound as OneCNotFound
from bridge.onec.errors import nothing_written
from bridge.onec.odata import all_of, eq, guid
from bridge.parties import b24_gateway as gw
from bridge.parties import b24_map, onec_map
from bridge.parties.b24_map import ORIGINATOR, B24Party
from bridge.parties.merge import MergeResult, Sameness, merge
from bridge.parties.resolved import PartiesResolved
from bridge.parties.responsible import ResponsibleMap
from bridge.parties.state import (
    State,
    clean_text,
    dump_state,
    fit,
    load_state,
    split_person_name,
    state_fingerprint,
)
from bridge.ports import Ports
from bridge.store.claims import ClaimHeld, contact_person_claim_name, counterparty_claim_name
from bridge.store.models import B24Ref, Link, OneCRef

FLOW = "parties"
PARTY_FIELDS = tuple(f.value for f in PartyField)
PERSON_FIELDS = tuple(f.value for f in PersonField)
MANIFESTS = {COUNTERPARTIES: "parties-counterparties", CONTACT_PERSONS: "parties-persons"}
_ADDRESS_FIELDS = tuple(b24_map.ADDRESS_TYPES)
_REQUISITE_FIELDS = (
    PartyField.KIND,
    PartyField.INN,
    PartyField.KPP,
    PartyField.OKPO,
    PartyField.FULL_NAME,
    PartyField.NAME,
)


def parties_mapping(ports: Ports) -> PartiesMapping:
    return ports.mapping.parties


@dataclass
class PartiesFlow:
    ports: Ports
    resolved: PartiesResolved
    config: PartiesMapping
    # 1C refs whose manifest entry this flow wrote (with the version after its own writes).
    recorded: set[str] = field(default_factory=set)
    # The operator's `resync`: reconcile even when a side's fingerprint says it did not change.
    force: bool = False
    _users: ResponsibleMap | None = field(default=None, init=False)

    @property
    def users(self) -> ResponsibleMap:
        if self._users is None:
            self._users = ResponsibleMap(
                self.ports.b24,
                lambda: directory.employees(self.ports.onec, shared=self.ports.store.employee_directory),
                self.ports.mapping.managers,
            )
        return self._users

    def _assigned_by(self, changes: dict[str, Any], subject: str) -> dict[str, Any]:
        """Pops the responsible change; `ASSIGNED_BY_ID` when the employee has a Bitrix24 user."""
        employee = str(changes.pop(PartyField.RESPONSIBLE, "") or "")
        if not employee:
            return {}
        user_id = self.users.user_of(employee)
        if user_id:
            return {"ASSIGNED_BY_ID": int(user_id)}
        self.ports.store.audit.record(
            FLOW, subject, "responsible_unmatched", {"side": "1c", "employee": employee}
        )
        return {}

    # ---- 1C → Bitrix24 ------------------------------------------------------------------------

    def sync_onec(self, entity_set: str, ref: str) -> str:
        try:
            row = self.ports.onec.get(entity_set, ref)
        except OneCNotFound:
            return self.onec_deleted(entity_set, ref, vanished=True)
        if row.get("IsFolder"):
            return "folder"
        if row.get("DeletionMark"):
            return self.onec_deleted(entity_set, ref, vanished=False)
        onec_ref = OneCRef(entity_set=entity_set, ref=ref)
        link = self.ports.store.links.find_by_onec(onec_ref)
        person = entity_set == CONTACT_PERSONS
        onec_state = self._onec_state(row, person)
        if link is not None:
            if not self.force and state_fingerprint(onec_state) == link.extra.get("fp_onec"):
                return "unchanged"
            party = gw.read_party(self.ports.b24, link.b24.entity, int(link.b24.id))
            if party is None:
                return self.b24_deleted(link.b24.entity, int(link.b24.id))
            return self._reconcile(link, row, party, person)
        found = self._find_in_b24(entity_set, row, onec_state, person)
        if isinstance(found, str):
            return found
        party = found
        if party is None:
            party = self._create_in_b24(entity_set, row, onec_state, person)
            if party is None:
                return "skipped: owner not linked yet"
        return self._reconcile(None, row, party, person)

    def _onec_state(self, row: Mapping[str, Any], person: bool) -> State:
        if person:
            return onec_map.person_state(row, self.resolved)
        return onec_map.counterparty_state(row, self.resolved)

    def _b24_entity_for(self, row: Mapping[str, Any], person: bool) -> str:
        if person:
            return "CONTACT"
        kind = onec_map.kind_of(row)
        return "COMPANY" if kind in self.config.company_kinds else "CONTACT"

    def _find_in_b24(
        self, entity_set: str, row: Mapping[str, Any], state: State, person: bool
    ) -> B24Party | str | None:
        """Lookup before create: our own earlier creation, then INN(+KPP), then the exact name."""
        entity = self._b24_entity_for(row, person)
        ref = str(row["Ref_Key"]).lower()
        b24 = self.ports.b24
        ids = [
            int(r["ID"])
            for r in b24.list_all(
                gw.method(entity, "list"),
                {"filter": {"ORIGINATOR_ID": ORIGINATOR, "ORIGIN_ID": ref}, "select": ["ID"]},
            )
        ]
        if not ids and not person and state.get(PartyField.INN):
            requisites = list(
                b24.list_all(
                    "crm.requisite.list",
                    {
                        "filter": {
                            "RQ_INN": state[PartyField.INN],
                            "ENTITY_TYPE_ID": 4 if entity == "COMPANY" else 3,
                        }
                    },
                )
            )
            kpp = state.get(PartyField.KPP)
            exact = [r for r in requisites if kpp and clean_text(r.get("RQ_KPP")) == kpp]
            pool = exact or [r for r in requisites if not kpp or not clean_text(r.get("RQ_KPP"))]
            ids = list(dict.fromkeys(int(r["ENTITY_ID"]) for r in pool))
        if not ids:
            ids = self._b24_by_name(entity, row, state, person)
        ids = [i for i in ids if self.ports.store.links.find_by_b24(B24Ref(entity=entity, id=str(i))) is None]
        if len(ids) > 1:
            self._ambiguous_in_b24(entity, ids, row)
            return f"ambiguous: {entity} {ids}"
        if not ids:
            return None
        return gw.read_party(b24, entity, ids[0])

    def _b24_by_name(self, entity: str, row: Mapping[str, Any], state: State, person: bool) -> list[int]:
        name = str(state.get(PartyField.NAME) or "")
        if not name:
            return []
        if entity == "COMPANY":
            limit = onec_map.LIMITS[PartyField.NAME]
            # A 1C name as long as Description allows may be the cut copy of a longer title.
            condition = {"=%TITLE": name.replace("%", "_") + "%"} if len(name) >= limit else {"=TITLE": name}
            rows = self.ports.b24.list_all(
                "crm.company.list", {"filter": condition, "select": ["ID", "TITLE"]}
            )
            return [
                int(r["ID"])
                for r in rows
                if str(fit(clean_text(r.get("TITLE")), limit)).casefold() == name.casefold()
            ]
        last = split_person_name(name)[0]
        query: dict[str, Any] = {"=LAST_NAME": last}
        if person:
            owner = (
                self.ports.store.links.find_by_onec(
                    OneCRef(entity_set=COUNTERPARTIES, ref=str(row["Owner_Key"]))
                )
                if onec_map._ref(row.get("Owner_Key"))
                else None
            )
            if owner is None:
                return []
            query["COMPANY_ID"] = owner.b24.id
        rows = self.ports.b24.list_all(
            "crm.contact.list", {"filter": query, "select": ["ID", "NAME", "LAST_NAME", "SECOND_NAME"]}
        )
        return [
            int(r["ID"])
            for r in rows
            if " ".join(
                p
                for p in (
                    clean_text(r.get("LAST_NAME")),
                    clean_text(r.get("NAME")),
                    clean_text(r.get("SECOND_NAME")),
                )
                if p
            ).casefold()
            == name.casefold()
        ]

    def _ambiguous_in_b24(self, entity: str, ids: list[int], row: Mapping[str, Any]) -> None:
        text = (
            f"1C: «{row.get('Description')}» matches several Bitrix24 records ({', '.join(map(str, ids))}); "
            "nothing was linked or created. Make the names or INN unique, or link them by hand."
        )
        self.ports.store.audit.record(
            FLOW, f"1C#{row['Ref_Key']}", "ambiguous", {"entity": entity, "candidates": ids}
        )
        for entity_id in ids:
            gw.timeline_comment(self.ports.b24, entity, entity_id, text)

    def _create_in_b24(
        self, entity_set: str, row: Mapping[str, Any], state: State, person: bool
    ) -> B24Party | None:
        entity = self._b24_entity_for(row, person)
        ref = str(row["Ref_Key"]).lower()
        # ORIGIN_ID makes the creation findable if the link write below never happens.
        fields: dict[str, Any] = {"ORIGINATOR_ID": ORIGINATOR, "ORIGIN_ID": ref}
        if person:
            owner = self._b24_owner_of(str(state.get(PersonField.OWNER) or ""))
            if owner is None:
                return None
            fields["COMPANY_ID"] = owner
            fields |= b24_map.entity_fields(
                entity,
                {k: v for k, v in state.items() if v and k != PersonField.OWNER},
                {},
                self.resolved,
                self.config,
                person=True,
                phone_types=onec_map.phone_types(row, "person", self.resolved),
            )
            entity_id = gw.create_entity(self.ports.b24, entity, fields)
        else:
            changes = {k: v for k, v in state.items() if v}
            fields |= self._assigned_by(changes, f"1C#{ref}")
            fields |= b24_map.entity_fields(
                entity,
                changes,
                {},
                self.resolved,
                self.config,
                phone_types=onec_map.phone_types(row, "counterparty", self.resolved),
            )
            if entity == "COMPANY" and not fields.get("COMPANY_TYPE"):
                fields["COMPANY_TYPE"] = self.resolved.buyer_company_type
            entity_id = gw.create_entity(self.ports.b24, entity, fields)
            party = B24Party(entity, {"ID": entity_id})
            addresses = {f: v for f, v in changes.items() if f in _ADDRESS_FIELDS}
            gw.write_party(
                self.ports.b24,
                party,
                {},
                {},
                b24_map.new_requisite(entity, entity_id, state, self.resolved),
                addresses,
            )
        self.ports.store.audit.record(
            FLOW, f"1C#{ref}", "created_in_b24", {"entity": entity, "id": entity_id}
        )
        created = gw.read_party(self.ports.b24, entity, entity_id)
        assert created is not None
        return created

    def _b24_owner_of(self, onec_owner: str) -> int | None:
        if not onec_owner:
            return None
        link = self.ports.store.links.find_by_onec(OneCRef(entity_set=COUNTERPARTIES, ref=onec_owner))
        if link is None or link.b24.entity != "COMPANY":
            return None
        return int(link.b24.id)

    # ---- Bitrix24 → 1C ------------------------------------------------------------------------

    def sync_b24(self, entity: str, entity_id: int) -> str:
        party = gw.read_party(self.ports.b24, entity, entity_id)
        if party is None:
            return self.b24_deleted(entity, entity_id)
        b24_ref = B24Ref(entity=entity, id=str(entity_id))
        link = self.ports.store.links.find_by_b24(b24_ref)
        if link is not None:
            person = link.onec.entity_set == CONTACT_PERSONS
            if not self.force and state_fingerprint(self._b24_state(party, person)) == link.extra.get(
                "fp_b24"
            ):
                return "unchanged"
            try:
                row = self.ports.onec.get(link.onec.entity_set, link.onec.ref)
            except OneCNotFound:
                return self.onec_deleted(link.onec.entity_set, link.onec.ref, vanished=True)
            return self._reconcile(link, row, party, person)
        if party.record.get("ORIGINATOR_ID") == ORIGINATOR and party.record.get("ORIGIN_ID"):
            # Created by the 1C poller, which links it right after; nothing to do here.
            return "created by the bridge; its creator links it"
        person = entity == "CONTACT" and bool(party.record.get("COMPANY_ID"))
        if person:
            owner_link = self.ports.store.links.find_by_b24(
                B24Ref(entity="COMPANY", id=str(party.record["COMPANY_ID"]))
            )
            if owner_link is None:
                self.sync_b24("COMPANY", int(party.record["COMPANY_ID"]))
                owner_link = self.ports.store.links.find_by_b24(
                    B24Ref(entity="COMPANY", id=str(party.record["COMPANY_ID"]))
                )
            if owner_link is None:
                return "skipped: the contact's company is not linked to a 1C counterparty"
            return self._person_to_onec(party, owner_link.onec.ref)
        return self._party_to_onec(party)

    def _b24_state(self, party: B24Party, person: bool) -> State:
        if person:
            owner = ""
            company = party.record.get("COMPANY_ID")
            if company:
                link = self.ports.store.links.find_by_b24(B24Ref(entity="COMPANY", id=str(company)))
                owner = link.onec.ref if link is not None else ""
            return b24_map.person_state(party, owner, self.resolved)
        responsible = self.users.employee_of(party.record.get("ASSIGNED_BY_ID"))
        if party.entity == "COMPANY":
            return b24_map.company_state(party, self.resolved, self.config, responsible)
        return b24_map.private_person_state(party, self.resolved, responsible)

    def _party_to_onec(self, party: B24Party) -> str:
        state = self._b24_state(party, person=False)
        if party.entity == "CONTACT":
            state[PartyField.KIND] = CounterpartyKind.PRIVATE_PERSON.value  # never a legal entity
        candidates = self._onec_candidates(state)
        if isinstance(candidates, str):
            return self._ambiguous_in_onec(party, candidates)
        if candidates is None:
            found = self._create_counterparty_once(party, state)
            if isinstance(found, str):
                return self._ambiguous_in_onec(party, found)
            row = found
        else:
            row = candidates
        return self._reconcile(None, row, party, person=False)

    def _create_counterparty_once(self, party: B24Party, state: State) -> dict[str, Any] | str:
        """Create the counterparty under the SyncTable claim the deal flow also takes, so the
        same brand-new company reaching both flows at once ends as one counterparty."""
        name = counterparty_claim_name(
            inn=str(state.get(PartyField.INN) or ""),
            kpp=str(state.get(PartyField.KPP) or ""),
            # No requisite means a legal entity to the deal flow too (`buyer_party`).
            kind=str(state.get(PartyField.KIND) or CounterpartyKind.LEGAL_ENTITY.value),
            name=str(state.get(PartyField.NAME) or ""),
        )
        owner = f"parties:{uuid.uuid4()}"
        claim = self.ports.store.links.claim(name, owner)
        if not claim.won:
            if claim.result is None:
                raise ClaimHeld(f"another worker is creating the 1C counterparty {name!r}; retried")
            again = self._onec_candidates(state)
            if again is not None:
                return again
            try:
                return self.ports.onec.get(COUNTERPARTIES, claim.result)
            except OneCNotFound:
                raise ClaimHeld(f"the counterparty claimed as {name!r} is gone from 1C; retried") from None
        if claim.taken_over:
            # The previous holder died, perhaps right after its create: look again first.
            again = self._onec_candidates(state)
            if isinstance(again, dict):
                self.ports.store.links.settle_claim(name, owner, str(again["Ref_Key"]))
                return again
            if again is not None:
                self.ports.store.links.release_claim(name, owner)
                return again
        try:
            row = self.ports.onec.create(
                COUNTERPARTIES,
                onec_map.counterparty_create_body(state, self.resolved, b24_map.phone_types(party.record)),
            )
        except Exception as error:
            if nothing_written(error):  # a retry (or the deal flow) may create it at once
                self.ports.store.links.release_claim(name, owner)
            raise
        self.ports.store.links.settle_claim(name, owner, str(row["Ref_Key"]))
        self.ports.store.audit.record(
            FLOW, f"B24#{party.entity}#{party.id}", "created_in_onec", {"ref": row["Ref_Key"]}
        )
        return row

    def _onec_candidates(self, state: State) -> dict[str, Any] | str | None:
        """The one unlinked 1C counterparty with the same INN(+KPP), else the same name; a text
        when several fit (§2.2.12.10)."""
        onec = self.ports.onec
        inn, kpp = str(state.get(PartyField.INN) or ""), str(state.get(PartyField.KPP) or "")
        private = state.get(PartyField.KIND) == CounterpartyKind.PRIVATE_PERSON.value

        def usable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            fit = [r for r in rows if not r.get("IsFolder") and not r.get("DeletionMark")]
            fit = [r for r in fit if (onec_map.kind_of(r) is CounterpartyKind.PRIVATE_PERSON) == private]
            return [
                r
                for r in fit
                if self.ports.store.links.find_by_onec(OneCRef(entity_set=COUNTERPARTIES, ref=r["Ref_Key"]))
                is None
            ]

        if inn:
            same = usable(onec.list(COUNTERPARTIES, filter=eq("ИНН", inn)))
            exact = [r for r in same if kpp and clean_text(r.get("КПП")) == kpp]
            pool = exact or [r for r in same if not kpp or not clean_text(r.get("КПП"))]
            if len(pool) == 1:
                return pool[0]
            if len(pool) > 1:
                return f"several 1C counterparties have ИНН {inn}"
        # 1C keeps the first 100 characters of a longer Bitrix24 title.
        name = str(fit(str(state.get(PartyField.NAME) or ""), onec_map.LIMITS[PartyField.NAME]))
        same_name = [
            r
            for r in usable(onec.list(COUNTERPARTIES, filter=eq("Description", name)))
            if clean_text(r.get("Description")).casefold() == name.casefold()
            and (not inn or not clean_text(r.get("ИНН")) or clean_text(r.get("ИНН")) == inn)
        ]
        if len(same_name) == 1:
            return same_name[0]
        if len(same_name) > 1:
            return f"several 1C counterparties are named «{name}»"
        return None

    def _ambiguous_in_onec(self, party: B24Party, reason: str) -> str:
        subject = f"B24#{party.entity}#{party.id}"
        marker = f"parties-ambiguous-{party.entity}-{party.id}"
        fp = state_fingerprint(self._b24_state(party, person=False))
        seen = self.ports.store.cursors.get(marker)
        if seen is not None and seen.value.get("fp") == fp:
            return f"ambiguous (already reported): {reason}"
        self.ports.store.audit.record(FLOW, subject, "ambiguous", {"reason": reason})
        gw.timeline_comment(
            self.ports.b24,
            party.entity,
            party.id,
            f"1С: {reason}; контрагент не создан и не связан. Уточните ИНН/название.",
        )
        self.ports.store.cursors.put(marker, {"fp": fp}, expected_version=seen.version if seen else None)
        return f"ambiguous: {reason}"

    def _unlinked_persons(self, owner_ref: str, name: str) -> list[dict[str, Any]]:
        rows = self.ports.onec.list(
            CONTACT_PERSONS, filter=all_of(eq("Owner_Key", guid(owner_ref)), eq("Description", name))
        )
        return [
            r
            for r in rows
            if not r.get("DeletionMark")
            and self.ports.store.links.find_by_onec(OneCRef(entity_set=CONTACT_PERSONS, ref=r["Ref_Key"]))
            is None
        ]

    def _person_to_onec(self, party: B24Party, owner_ref: str) -> str:
        state = self._b24_state(party, person=True)
        name = str(state.get(PersonField.NAME) or "")
        rows = self._unlinked_persons(owner_ref, name)
        if len(rows) > 1:
            return self._ambiguous_in_onec(party, f"several contact persons are named «{name}»")
        if rows:
            return self._reconcile(None, rows[0], party, person=True)
        row = self._create_person_once(party, state, owner_ref)
        # The deal flow may have created and linked it meanwhile: reconcile against its link.
        link = self.ports.store.links.find_by_b24(B24Ref(entity=party.entity, id=str(party.id)))
        same = link is not None and link.onec.ref.lower() == str(row["Ref_Key"]).lower()
        return self._reconcile(link if same else None, row, party, person=True)

    def _create_person_once(self, party: B24Party, state: State, owner_ref: str) -> dict[str, Any]:
        """Create the contact person under the SyncTable claim the deal flow also takes for the
        deal's contact, so a new deal and its new contact handled at once give one person."""
        name = contact_person_claim_name(owner=owner_ref, contact_id=party.id)
        owner = f"parties:{uuid.uuid4()}"
        claim = self.ports.store.links.claim(name, owner)
        subject = f"B24#CONTACT#{party.id}"
        if not claim.won:
            if claim.result is None:
                logger.info("contact person is being created by another worker", extra={"claim": name})
                self.ports.store.audit.record(FLOW, subject, "claim_held", {"claim": name})
                raise ClaimHeld(f"another worker is creating the 1C contact person {name!r}; retried")
            try:
                return self.ports.onec.get(CONTACT_PERSONS, claim.result)
            except OneCNotFound:
                raise ClaimHeld(f"the contact person claimed as {name!r} is gone from 1C; retried") from None
        if claim.taken_over:
            # The previous holder died, perhaps right after its create: look again first.
            again = self._unlinked_persons(owner_ref, str(state.get(PersonField.NAME) or ""))
            if again:
                self.ports.store.links.settle_claim(name, owner, str(again[0]["Ref_Key"]))
                return again[0]
        body = onec_map.person_create_body(
            {k: v for k, v in state.items() if k != PersonField.OWNER},
            owner_ref,
            self.resolved,
            b24_map.phone_types(party.record),
        )
        try:
            row = self.ports.onec.create(CONTACT_PERSONS, body)
        except Exception as error:
            if nothing_written(error):  # a retry (or the deal flow) may create it at once
                self.ports.store.links.release_claim(name, owner)
            raise
        self.ports.store.links.settle_claim(name, owner, str(row["Ref_Key"]))
        self.ports.store.audit.record(FLOW, subject, "created_in_onec", {"ref": row["Ref_Key"]})
        return row

    # ---- both ---------------------------------------------------------------------------------

    def _reconcile(self, link: Link | None, row: dict[str, Any], party: B24Party, person: bool) -> str:
        entity_set = CONTACT_PERSONS if person else COUNTERPARTIES
        fields = PERSON_FIELDS if person else PARTY_FIELDS
        base = load_state(link.extra.get("state")) if link is not None else {}
        onec_state = self._onec_state(row, person)
        b24_state = self._b24_state(party, person)
        owner_of = self.config.owner_of if base else self.config.first_link_owner_of
        result = merge(base, onec_state, b24_state, owner_of, fields, self._sameness(party.entity))
        if party.entity == "CONTACT" and not person:
            result.to_b24.pop(PartyField.KIND, None)  # a contact is a private person by being a contact
        wrote = []
        if result.to_onec:
            body = self._onec_body(result, row, party, person)
            if body:
                row = self.ports.onec.update(entity_set, row["Ref_Key"], body)
                wrote.append("1C " + ",".join(sorted(result.to_onec)))
        if result.to_b24 and self._write_b24(party, result, row, person):
            wrote.append("B24 " + ",".join(sorted(result.to_b24)))
            refreshed = gw.read_party(self.ports.b24, party.entity, party.id)
            party = refreshed if refreshed is not None else party
        subject = f"B24#{party.entity}#{party.id}"
        assigned = str(party.record.get("ASSIGNED_BY_ID") or "")
        unmatched = not b24_state.get(PartyField.RESPONSIBLE) and PartyField.RESPONSIBLE not in result.to_b24
        if not person and assigned and unmatched:
            self.ports.store.audit.record(
                FLOW, subject, "responsible_unmatched", {"side": "b24", "user": assigned}
            )
        for conflict in result.conflicts:
            self.ports.store.audit.record(
                FLOW,
                subject,
                "conflict",
                {
                    "field": conflict.field,
                    "winner": conflict.winner,
                    "kept": conflict.kept,
                    "lost": conflict.lost,
                },
            )
        final_onec = self._onec_state(row, person)
        final_b24 = self._b24_state(party, person)
        self.ports.store.links.link(
            B24Ref(entity=party.entity, id=str(party.id)),
            OneCRef(entity_set=entity_set, ref=row["Ref_Key"]),
            fingerprint=state_fingerprint(result.merged),
            data_version=str(row.get("DataVersion") or ""),
            extra={
                "state": dump_state(result.merged),
                "fp_onec": state_fingerprint(final_onec),
                "fp_b24": state_fingerprint(final_b24),
            },
        )
        ref = str(row["Ref_Key"]).lower()
        self.ports.store.manifests.put_entries(
            MANIFESTS[entity_set], {ref: str(row.get("DataVersion") or "")}, ()
        )
        self.recorded.add(ref)
        if wrote:
            self.ports.store.audit.record(FLOW, subject, "synced", {"onec": row["Ref_Key"], "wrote": wrote})
            logger.info("party synced", extra={"subject": subject, "wrote": wrote})
            return "; ".join(wrote)
        return "linked" if link is None else "in sync"

    def _sameness(self, entity: str) -> Sameness:
        both = self.resolved.both_company_type if entity == "COMPANY" else self.resolved.both_contact_type
        # Without a "both" type either single type stands for buyer + supplier (never clears a flag).
        wider = {} if both else {PartyField.RELATION.value: {"both": ("buyer", "supplier")}}
        return Sameness(limits=onec_map.LIMITS, wider=wider)

    def _onec_body(
        self, result: MergeResult, row: Mapping[str, Any], party: B24Party, person: bool
    ) -> dict[str, Any]:
        types = b24_map.phone_types(party.record)
        if person:
            return onec_map.person_patch(result.to_onec, row, self.resolved, types)
        changes = dict(result.to_onec)
        if onec_map.kind_of(row) is CounterpartyKind.PRIVATE_PERSON:
            for field in onec_map.PERSON_ONLY_BLANK:
                changes.pop(field, None)
        return onec_map.counterparty_patch(changes, row, self.resolved, types)

    def _write_b24(self, party: B24Party, result: MergeResult, row: Mapping[str, Any], person: bool) -> bool:
        changes = dict(result.to_b24)
        types = onec_map.phone_types(row, "person" if person else "counterparty", self.resolved)
        if person:
            owner = changes.pop(PersonField.OWNER, None)
            fields = b24_map.entity_fields(
                party.entity,
                changes,
                party.record,
                self.resolved,
                self.config,
                person=True,
                phone_types=types,
            )
            if owner and (company := self._b24_owner_of(str(owner))) is not None:
                fields["COMPANY_ID"] = company
            return gw.write_party(self.ports.b24, party, fields, {}, None, {}) > 0
        assigned = self._assigned_by(changes, f"B24#{party.entity}#{party.id}")
        entity_fields = assigned | b24_map.entity_fields(
            party.entity, changes, party.record, self.resolved, self.config, phone_types=types
        )
        requisite_changes = {k: v for k, v in changes.items() if k in _REQUISITE_FIELDS}
        addresses = {k: v for k, v in changes.items() if k in _ADDRESS_FIELDS}
        rq_fields = b24_map.requisite_fields(party.entity, requisite_changes, result.merged, self.resolved)
        new_rq = None
        if party.requisite is None and (rq_fields or addresses):
            new_rq = b24_map.new_requisite(party.entity, party.id, result.merged, self.resolved)
        return gw.write_party(self.ports.b24, party, entity_fields, rq_fields, new_rq, addresses) > 0

    # ---- deletions ----------------------------------------------------------------------------

    def b24_deleted(self, entity: str, entity_id: int) -> str:
        link = self.ports.store.links.find_by_b24(B24Ref(entity=entity, id=str(entity_id)))
        if link is None:
            return "deleted in Bitrix24; was not linked"
        detail: dict[str, Any] = {"onec": link.onec.ref, "entity_set": link.onec.entity_set}
        if self.config.delete_in_onec_when_b24_deleted:
            try:
                row = self.ports.onec.update(link.onec.entity_set, link.onec.ref, {"DeletionMark": True})
                self.ports.store.manifests.put_entries(
                    MANIFESTS[link.onec.entity_set], {link.onec.ref: str(row.get("DataVersion") or "")}, ()
                )
                detail["marked_for_deletion"] = True
            except OneCNotFound:
                pass
        self.ports.store.links.unlink(link.b24)
        self.ports.store.audit.record(FLOW, f"B24#{entity}#{entity_id}", "b24_deleted", detail)
        return "deleted in Bitrix24: unlinked" + (
            ", 1C object marked for deletion" if detail.get("marked_for_deletion") else ""
        )

    def onec_deleted(self, entity_set: str, ref: str, *, vanished: bool) -> str:
        link = self.ports.store.links.find_by_onec(OneCRef(entity_set=entity_set, ref=ref))
        outcome = "onec_vanished" if vanished else "onec_marked_for_deletion"
        detail: dict[str, Any] = {"entity_set": entity_set}
        if link is not None:
            detail["b24"] = f"{link.b24.entity}#{link.b24.id}"
            if self.config.delete_in_b24_when_onec_marked:
                try:
                    self.ports.b24.call(gw.method(link.b24.entity, "delete"), {"id": int(link.b24.id)})
                    detail["deleted_in_b24"] = True
                except B24NotFound:
                    pass
            if vanished or detail.get("deleted_in_b24"):
                self.ports.store.links.unlink(link.onec)
        self.ports.store.audit.record(FLOW, f"1C#{ref}", outcome, detail)
        return outcome
