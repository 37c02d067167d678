"""The deal's buyer in 1C: found (link → INN(+KPP) → exact name) or created with its contact person.

One 1C query searches by INN and name at once; a new counterparty is created in the configured
folder, then its contact person, then the counterparty points at it as the main contact. Links
(`COMPANY`/`CONTACT` ↔ `Catalog_Контрагенты`, `CONTACT` ↔ `Catalog_КонтактныеЛица`) make the
next deal of the same buyer cost one read. A crash between two writes is safe: the retry finds
the counterparty by INN/name and the contact person by owner and name.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from bridge.deals.buyer import (
    BuyerParty,
    CounterpartyCandidate,
    CounterpartyDecision,
    CounterpartyDecisionKind,
    contact_person_body,
    counterparty_body,
    decide_counterparty,
    inn_filter,
    main_contact_patch,
    name_filter,
)
from bridge.deals.config import OneCRefs
from bridge.deals.models import Contact
from bridge.domain.fingerprint import fingerprint
from bridge.domain.onec_sets import CONTACT_PERSONS, COUNTERPARTIES
from bridge.domain.records import record_of_subject
from bridge.observability import logger
from bridge.onec.errors import NotFound, nothing_written
from bridge.onec.odata import Filter, all_of, eq, guid
from bridge.ports import Ports
from bridge.store import (
    B24Ref,
    ClaimHeld,
    ClaimSettlement,
    LinkConflict,
    OneCRef,
    contact_person_claim_name,
    counterparty_claim_name,
)

CANDIDATE_FIELDS = [
    "Ref_Key",
    "Description",
    "ИНН",
    "КПП",
    "ВидКонтрагента",
    "Ответственный_Key",
    "КонтактноеЛицо_Key",
    "IsFolder",
    "DeletionMark",
]


CREATED_FOR_DEAL = "created_for_deal"


class BuyerResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    decision: CounterpartyDecision
    created: bool = False
    contact_person: str | None = None
    # The deal whose flow created this counterparty in 1C (from the link), when known.
    created_for_deal: int | None = None

    def created_by(self, deal_id: int) -> bool:
        """True when this deal's own flow created the counterparty (now or on an earlier attempt):
        then it did not exist in 1C before the deal linked it (§2.6.1)."""
        return self.created or self.created_for_deal == deal_id


def _party_ref(party: BuyerParty) -> B24Ref:
    return B24Ref(entity=party.source.upper(), id=str(party.b24_id))


def _link(
    ports: Ports,
    b24: B24Ref,
    onec: OneCRef,
    body: dict[str, object],
    extra: dict[str, str] | None = None,
    settles: ClaimSettlement | None = None,
) -> None:
    """Link the pair, settling in the same write the claim `onec` was created under (if any)."""
    links = ports.store.links
    try:
        links.link(b24, onec, fingerprint=fingerprint(body), extra=extra, settles=settles)
    except LinkConflict as error:
        # The parties flow owns these links; a different pairing there is its decision to make.
        # The deal goes on with `onec`; the operator sees the pair left unlinked (`history`, `status`).
        logger.warning("link not written: the object is linked differently", extra={"reason": str(error)})
        ports.store.audit.record(
            "deals",
            f"B24#{b24.entity}#{b24.id}",
            "link_conflict",
            {"onec": f"{onec.entity_set}#{onec.ref}", "reason": str(error)},
            records=[r for r in [record_of_subject(f"1C#{onec.entity_set}#{onec.ref}")] if r is not None],
        )
        if settles is not None:  # what was created is still recorded for every racing worker
            links.settle_claim(settles.name, settles.owner, settles.result, keep_s=settles.keep_s)


def _linked_counterparty(ports: Ports, party: BuyerParty) -> tuple[dict[str, object] | None, int | None]:
    """The linked counterparty as 1C has it now, and the deal that created it (when one did)."""
    link = ports.store.links.find_by_b24(_party_ref(party))
    if link is None or link.onec.entity_set != COUNTERPARTIES:
        return None, None
    creator = link.extra.get(CREATED_FOR_DEAL, "")
    try:
        row = ports.onec.get(COUNTERPARTIES, link.onec.ref, select=CANDIDATE_FIELDS)
    except NotFound:
        return None, None
    return row, int(creator) if creator.isdigit() else None


def _search(ports: Ports, party: BuyerParty) -> list[dict[str, object]]:
    condition = Filter(name_filter(party.name))
    if party.inn:
        condition = condition | Filter(inn_filter(party.inn))
    return ports.onec.list(COUNTERPARTIES, filter=condition, select=CANDIDATE_FIELDS)


def resolve_buyer(
    ports: Ports,
    party: BuyerParty,
    contact: Contact | None,
    refs: OneCRefs,
    responsible_for_new: Callable[[], str | None],
    deal_id: int | None = None,
) -> BuyerResult:
    """Find or create the counterparty (and, for a company, the deal contact's contact person).
    `responsible_for_new` is asked only when a counterparty is created (it may need 1C reads);
    `deal_id`, when given, is remembered on the link of a counterparty created for that deal."""
    linked, created_for_deal = _linked_counterparty(ports, party)
    found = [] if linked is not None else _search(ports, party)
    decision = decide_counterparty(party, linked, by_inn=found, by_name=found)
    if decision.kind is CounterpartyDecisionKind.AMBIGUOUS:
        return BuyerResult(decision=decision)
    created = decision.kind is CounterpartyDecisionKind.CREATE
    if decision.kind is not CounterpartyDecisionKind.USE_LINKED:
        created_for_deal = None  # the link pointed elsewhere (a deleted counterparty)
    settles = None
    if created:
        decision, settles = _create_once(ports, party, refs, responsible_for_new)
        created = settles is not None
        if decision.kind is CounterpartyDecisionKind.AMBIGUOUS:
            return BuyerResult(decision=decision)
    if created and decision.counterparty is not None:
        body = counterparty_body(party, decision.counterparty.responsible, refs)
        _link(
            ports,
            _party_ref(party),
            OneCRef(entity_set=COUNTERPARTIES, ref=decision.counterparty.ref),
            body,
            {CREATED_FOR_DEAL: str(deal_id)} if deal_id is not None else None,
            settles=settles,
        )
        created_for_deal = deal_id
    elif decision.kind is not CounterpartyDecisionKind.USE_LINKED and decision.counterparty is not None:
        _link(
            ports,
            _party_ref(party),
            OneCRef(entity_set=COUNTERPARTIES, ref=decision.counterparty.ref),
            {"matched": decision.counterparty.ref},
        )
    person = None
    if contact is not None and decision.counterparty is not None:
        person = ensure_contact_person(ports, contact, decision.counterparty, refs, fresh=created)
    return BuyerResult(
        decision=decision, created=created, contact_person=person, created_for_deal=created_for_deal
    )


def claim_name(party: BuyerParty) -> str:
    return counterparty_claim_name(inn=party.inn, kpp=party.kpp, kind=party.kind.value, name=party.name)


def _create_once(
    ports: Ports, party: BuyerParty, refs: OneCRefs, responsible_for_new: Callable[[], str | None]
) -> tuple[CounterpartyDecision, ClaimSettlement | None]:
    """Create the counterparty under a SyncTable claim, so a parties-flow run (or another deal)
    creating the same company at the same moment ends with one counterparty, not two.

    Returns the decision and, when this call created it, the claim's settlement for the link to
    write (`_link`): until then the claim stays held, and a crash before the link leaves it to the
    lease's end and the take-over's lookup, as a crash right after the create always did."""
    name, owner = claim_name(party), f"deals:{uuid.uuid4()}"
    claim = ports.store.links.claim(name, owner)
    if not claim.won:
        if claim.result is None:
            logger.info("counterparty is being created by another worker", extra={"claim": name})
            raise ClaimHeld(f"another worker is creating the 1C counterparty for {party.name!r}; retried")
        return _created_elsewhere(ports, party, claim.result), None
    if claim.taken_over:
        # The previous holder died; it may have created the counterparty before it did.
        found = _search(ports, party)
        again = decide_counterparty(party, None, by_inn=found, by_name=found)
        if again.kind is not CounterpartyDecisionKind.CREATE:
            if again.counterparty is not None:
                ports.store.links.settle_claim(name, owner, again.counterparty.ref)
            else:
                ports.store.links.release_claim(name, owner)
            return again, None
    body = counterparty_body(party, responsible_for_new(), refs)
    try:
        row = ports.onec.create(COUNTERPARTIES, body)
    except Exception as error:
        if nothing_written(error):  # a retry (or the parties flow) may create it at once
            ports.store.links.release_claim(name, owner)
        raise
    decision = CounterpartyDecision(
        kind=CounterpartyDecisionKind.CREATE,
        counterparty=CounterpartyCandidate.model_validate(row),
        reason="created in 1C",
    )
    return decision, ClaimSettlement(name=name, owner=owner, result=str(row["Ref_Key"]))


def _created_elsewhere(ports: Ports, party: BuyerParty, ref: str) -> CounterpartyDecision:
    """Another worker created the counterparty after this one looked: find it again (the normal
    rules decide), or take the one the claim names."""
    found = _search(ports, party)
    decision = decide_counterparty(party, None, by_inn=found, by_name=found)
    if decision.kind is not CounterpartyDecisionKind.CREATE:
        return decision
    try:
        row = ports.onec.get(COUNTERPARTIES, ref, select=CANDIDATE_FIELDS)
    except NotFound:
        raise ClaimHeld(f"the counterparty claimed for {party.name!r} is gone from 1C; retried") from None
    return CounterpartyDecision(
        kind=CounterpartyDecisionKind.USE_MATCHED_BY_INN
        if party.inn
        else CounterpartyDecisionKind.USE_MATCHED_BY_NAME,
        counterparty=CounterpartyCandidate.model_validate(row),
        reason="created by another worker at the same time",
    )


def ensure_contact_person(
    ports: Ports, contact: Contact, owner: CounterpartyCandidate, refs: OneCRefs, *, fresh: bool
) -> str:
    """The contact person of `owner` for the Bitrix24 contact: linked, found by name, or created;
    made the counterparty's main contact when it has none."""
    b24 = B24Ref(entity="CONTACT", id=str(contact.id))
    link = ports.store.links.find_by_b24(b24)
    if link is not None and link.onec.entity_set == CONTACT_PERSONS:
        return link.onec.ref
    body = contact_person_body(contact, owner.ref, refs)
    ref = None if fresh else _existing_person(ports, owner, body)
    settles = None
    if ref is None:
        ref, settles = _create_person_once(ports, contact, owner, body)
    _link(ports, b24, OneCRef(entity_set=CONTACT_PERSONS, ref=ref), body, settles=settles)
    patch = main_contact_patch(owner, ref)
    if patch:
        ports.onec.update(COUNTERPARTIES, owner.ref, patch)
    return ref


def _existing_person(ports: Ports, owner: CounterpartyCandidate, body: dict[str, object]) -> str | None:
    rows = ports.onec.list(
        CONTACT_PERSONS,
        filter=all_of(eq("Owner_Key", guid(owner.ref)), eq("Description", str(body["Description"]))),
        select=["Ref_Key", "DeletionMark"],
    )
    live = [r for r in rows if not r.get("DeletionMark")]
    return str(live[0]["Ref_Key"]) if live else None


def _create_person_once(
    ports: Ports, contact: Contact, owner: CounterpartyCandidate, body: dict[str, object]
) -> tuple[str, ClaimSettlement | None]:
    """Create the contact person under the SyncTable claim the parties flow also takes for this
    contact, so the deal's event and its new contact's event handled at once give one person.
    Returns its ref and, when this call created it, the settlement the link writes (`_create_once`)."""
    name, holder = contact_person_claim_name(owner=owner.ref, contact_id=contact.id), f"deals:{uuid.uuid4()}"
    claim = ports.store.links.claim(name, holder)
    if not claim.won:
        if claim.result is None:
            logger.info("contact person is being created by another worker", extra={"claim": name})
            ports.store.audit.record("deals", f"B24#CONTACT#{contact.id}", "claim_held", {"claim": name})
            raise ClaimHeld(
                f"another worker is creating the 1C contact person for contact {contact.id}; retried"
            )
        try:
            ports.onec.get(CONTACT_PERSONS, claim.result, select=["Ref_Key"])
        except NotFound:
            raise ClaimHeld(
                f"the contact person claimed for contact {contact.id} is gone from 1C; retried"
            ) from None
        return claim.result, None
    if claim.taken_over:
        # The previous holder died; it may have created the contact person before it did.
        found = _existing_person(ports, owner, body)
        if found is not None:
            ports.store.links.settle_claim(name, holder, found)
            return found, None
    try:
        ref = str(ports.onec.create(CONTACT_PERSONS, body)["Ref_Key"])
    except Exception as error:
        if nothing_written(error):  # a retry (or the parties flow) may create it at once
            ports.store.links.release_claim(name, holder)
        raise
    return ref, ClaimSettlement(name=name, owner=holder, result=ref)
