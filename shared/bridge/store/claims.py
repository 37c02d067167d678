"""Claims: "I am creating X" held in SyncTable, so two workers never both create the same object.

Lookup-then-create is a race: the deal flow and the parties flow can both look a brand-new company
(or a new deal's new contact: its contact person) up in 1C, both find nothing, and both create it.
A claim closes the window. Before creating, a worker takes the claim named after what identifies
the object (INN, else kind and name; for a contact person its counterparty and Bitrix24 contact);
only the holder creates, then settles the claim with the created reference. Everyone else either
sees the settled reference (and uses it) or a live lease (and retries later: `ClaimHeld` is
transient, so the queue redelivers). A lease that expired without being settled (its holder
crashed) is taken over; the new holder looks the object up again first, because the crash may
have come after the create.

| item | pk | sk |
|---|---|---|
| claim | `CLAIM#<name>` | `CLAIM` |
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from bridge.errors import TransientError

CLAIM_SK = "CLAIM"


def claim_pk(name: str) -> str:
    return f"CLAIM#{name}"


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def counterparty_claim_name(*, inn: str, kpp: str, kind: str, name: str) -> str:
    """One name per future 1C counterparty: INN(/KPP: a branch is another counterparty), else the
    kind and the normalised name (a private person and a company may share a name)."""
    inn, kpp = inn.strip(), kpp.strip()
    if inn:
        return f"counterparty:inn:{inn}/{kpp}" if kpp else f"counterparty:inn:{inn}"
    return f"counterparty:name:{kind}:{_name_key(name)}"


def contact_person_claim_name(*, owner: str, contact_id: int | str) -> str:
    """One name per future 1C contact person: its counterparty and the Bitrix24 contact it stands
    for. Both flows that create one (the deal flow for the deal's contact, the parties flow for the
    contact itself) know both, so no name needs normalising; the same contact under another
    counterparty is another contact person, as 1C keeps them per owner."""
    return f"contact_person:{owner.strip().casefold()}:contact:{str(contact_id).strip()}"


class ClaimHeld(TransientError):
    """Another worker holds a live lease on the claim; retrying after it settles finds its result."""


class Claim(BaseModel):
    """A claim as read or taken. `won`: this caller holds it and must create, then settle."""

    model_config = ConfigDict(frozen=True)

    name: str
    owner: str
    result: str | None = None
    lease_until: datetime
    won: bool = False
    taken_over: bool = False  # won from a holder whose lease expired unsettled

    @property
    def settled(self) -> bool:
        return self.result is not None


class ClaimSettlement(BaseModel):
    """What the holder of claim `name` created (`result`), to record with the write that links it
    (`LinkStore.link(settles=…)`): one transaction instead of a settle and then a link."""

    model_config = ConfigDict(frozen=True)

    name: str
    owner: str
    result: str
    keep_s: float = 3600


def claim_attributes(name: str, owner: str, lease_until: float, expires_at: float) -> dict[str, Any]:
    return {
        "pk": {"S": claim_pk(name)},
        "sk": {"S": CLAIM_SK},
        "owner": {"S": owner},
        "lease_until": {"N": f"{lease_until:.3f}"},
        "expires_at": {"N": str(int(expires_at))},
    }


def claim_from_attributes(name: str, attributes: Mapping[str, Any], *, won: bool = False) -> Claim:
    result = attributes.get("result")
    return Claim(
        name=name,
        owner=str(attributes["owner"]["S"]),
        result=None if result is None else str(result["S"]),
        lease_until=datetime.fromtimestamp(float(attributes["lease_until"]["N"]), UTC),
        won=won,
    )
