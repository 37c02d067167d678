"""Links between Bitrix24 and 1C objects, and the claims that make "create once" hold across workers.

Writes that must hold together are one `TransactWriteItems`; "create once" is a conditional
write, never a read-then-write.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, cast

from bridge.errors import BridgeError
from bridge.store.claims import (
    CLAIM_SK,
    Claim,
    ClaimHeld,
    ClaimSettlement,
    claim_attributes,
    claim_from_attributes,
    claim_pk,
)
from bridge.store.errors import LinkConflict, LinkNotFound
from bridge.store.items import LINK_SK, Attributes, LinkItem, key, link_pk
from bridge.store.models import AnyRef, B24Ref, Link, OneCRef
from bridge.store.table import Condition, Table, text

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

_SAME_ONEC = "attribute_not_exists(pk) OR (onec_entity_set = :set AND onec_ref = :ref)"
_SAME_B24 = "attribute_not_exists(pk) OR (b24_entity = :entity AND b24_id = :id)"
_STILL_ONEC = "attribute_exists(pk) AND onec_entity_set = :set AND onec_ref = :ref"
_STILL_B24 = "attribute_exists(pk) AND b24_entity = :entity AND b24_id = :id"


def _b24_values(ref: B24Ref) -> Attributes:
    return {":entity": text(ref.entity), ":id": text(ref.id)}


def _onec_values(ref: OneCRef) -> Attributes:
    return {":set": text(ref.entity_set), ":ref": text(ref.ref)}


class LinkStore:
    """Both items of each link (one per side), plus claims (see `bridge.store.claims`)."""

    def __init__(self, table: Table) -> None:
        self._table = table

    # ---- links -------------------------------------------------------------------------------

    def link(
        self,
        b24: B24Ref,
        onec: OneCRef,
        *,
        fingerprint: str,
        data_version: str | None = None,
        extra: Mapping[str, str] | None = None,
        settles: ClaimSettlement | None = None,
    ) -> Link:
        """Write both link items at once; re-linking the same pair refreshes its state.

        Each item is conditional on being absent or already pointing at the same counterpart, so
        of two workers linking one object to different counterparts exactly one succeeds.
        `settles`: the claim under which the linked object was just created is settled in the
        same transaction (one request less per created object). Nothing is written when either
        fails: `LinkConflict` leaves the claim to the caller to settle alone, `ClaimHeld` (the
        lease was lost) is the same answer `settle_claim` gives.
        """
        link = Link(
            b24=b24,
            onec=onec,
            fingerprint=fingerprint,
            data_version=data_version,
            synced_at=self._table.now(),
            extra=dict(extra or {}),
        )
        items = self._both_sides(link, "Put", still=False)
        if settles is not None:
            update = self._table.update_request(claim_pk(settles.name), CLAIM_SK, *self._settlement(settles))
            items.append(cast("TransactWriteItemTypeDef", {"Update": update}))
        self._table.transact(items, conflict=lambda: self._conflict(link, settles))
        return link

    def find_by_b24(self, b24: B24Ref) -> Link | None:
        return self._find(b24)

    def find_by_onec(self, onec: OneCRef) -> Link | None:
        return self._find(onec)

    def update_sync_state(self, ref: AnyRef, *, fingerprint: str, data_version: str | None = None) -> Link:
        """Record what was last written, on both items; `data_version=None` keeps the stored one."""
        current = self._find(ref)
        if current is None:
            raise LinkNotFound(f"no link for {link_pk(ref)}")
        updated = current.model_copy(
            update={
                "fingerprint": fingerprint,
                "data_version": data_version if data_version is not None else current.data_version,
                "synced_at": self._table.now(),
            }
        )
        assignments = "SET fingerprint = :fp, synced_at = :at"
        values: Attributes = {":fp": text(updated.fingerprint), ":at": text(updated.synced_at.isoformat())}
        if data_version is not None:
            assignments += ", data_version = :dv"
            values[":dv"] = text(data_version)
        items = self._both_sides(current, "Update", still=True, expression=assignments, values=values)
        self._table.transact(items, conflict=lambda: self._changed_underneath(updated))
        return updated

    def note_extra(self, b24: B24Ref, onec: OneCRef, name: str, value: str) -> None:
        """Set one `extra` entry on both items of the link b24 ⇄ onec and nothing else; no read
        first, the caller knows the pair (`LinkNotFound` when they are no longer linked)."""
        items = self._pair_items(
            b24,
            onec,
            "Update",
            still=True,
            put=None,
            expression="SET #extra.#name = :value",
            values={":value": text(value)},
            names={"#extra": "extra", "#name": name},
        )
        self._table.transact(items, conflict=lambda: self._pair_changed(b24, onec))

    def unlink(self, ref: AnyRef) -> Link | None:
        """Remove both items of the link `ref` belongs to; returns the removed link, None if none."""
        current = self._find(ref)
        if current is None:
            return None
        items = self._both_sides(current, "Delete", still=True)
        self._table.transact(items, conflict=lambda: self._changed_underneath(current))
        return current

    # ---- claims (create-once across workers) -------------------------------------------------

    def claim(self, name: str, owner: str, *, lease_s: float = 120, keep_s: float = 3600) -> Claim:
        """Take the claim `name` for `owner`, or return whoever holds it (`won=False`).

        Free means: no item, or a lease that ran out before its holder settled it. A settled claim
        is kept `keep_s` (long enough for every racing worker to see the result) and then expires.
        """
        now = self._table.clock()
        attributes = claim_attributes(name, owner, now + lease_s, now + max(lease_s, keep_s))
        try:
            replaced = self._table.put(
                attributes,
                Condition(
                    "attribute_not_exists(pk) OR expires_at <= :now"
                    " OR (attribute_not_exists(#result) AND lease_until <= :now)",
                    {":now": {"N": f"{now:.3f}"}},
                    {"#result": "result"},
                ),
                conflict=lambda: ClaimHeld(f"claim {name!r} is held"),
                old=True,
            )
        except ClaimHeld:
            current = self._table.get(claim_pk(name), CLAIM_SK)
            if current is None:  # settled and expired between the two calls: try once more
                return self.claim(name, owner, lease_s=lease_s, keep_s=keep_s)
            return claim_from_attributes(name, current)
        claim = claim_from_attributes(name, attributes, won=True)
        return claim.model_copy(update={"taken_over": bool(replaced)})

    def settle_claim(self, name: str, owner: str, result: str, *, keep_s: float = 3600) -> None:
        """Record what the holder created; fails (`ClaimHeld`) if the lease was lost meanwhile."""
        settlement = ClaimSettlement(name=name, owner=owner, result=result, keep_s=keep_s)
        self._table.update(
            claim_pk(name), CLAIM_SK, *self._settlement(settlement), conflict=lambda: _lost(name)
        )

    def _settlement(self, settles: ClaimSettlement) -> tuple[str, Condition]:
        """The claim item's update that records `settles.result`, if its owner is still ours."""
        expires = self._table.clock() + settles.keep_s
        return "SET #result = :result, expires_at = :expires", Condition(
            "#owner = :owner",
            {
                ":result": text(settles.result),
                ":expires": {"N": str(int(expires))},
                ":owner": text(settles.owner),
            },
            {"#result": "result", "#owner": "owner"},
        )

    def release_claim(self, name: str, owner: str) -> None:
        """Give an unsettled claim back (the holder decided not to create after all)."""
        # Someone else's now, or settled: then there is nothing of ours to give back.
        with contextlib.suppress(ClaimHeld):
            self._table.delete(
                claim_pk(name),
                CLAIM_SK,
                Condition(
                    "#owner = :owner AND attribute_not_exists(#result)",
                    {":owner": text(owner)},
                    {"#owner": "owner", "#result": "result"},
                ),
                conflict=lambda: ClaimHeld(f"claim {name!r} is no longer ours"),
            )

    # ---- internals ---------------------------------------------------------------------------

    def _both_sides(
        self,
        link: Link,
        operation: Literal["Put", "Update", "Delete"],
        *,
        still: bool,
        expression: str = "",
        values: Attributes | None = None,
    ) -> list[TransactWriteItemTypeDef]:
        put = link if operation == "Put" else None
        return self._pair_items(
            link.b24, link.onec, operation, still=still, put=put, expression=expression, values=values
        )

    def _pair_items(
        self,
        b24: B24Ref,
        onec: OneCRef,
        operation: Literal["Put", "Update", "Delete"],
        *,
        still: bool,
        put: Link | None,
        expression: str = "",
        values: Attributes | None = None,
        names: Mapping[str, str] | None = None,
    ) -> list[TransactWriteItemTypeDef]:
        """`operation` on each of the pair's two items, each conditional on pointing at the other
        side (`still`: the item must exist; otherwise it may also be absent); `put` is the link a
        Put writes."""
        sides = (
            (b24, "B24", _STILL_ONEC if still else _SAME_ONEC, _onec_values(onec)),
            (onec, "1C", _STILL_B24 if still else _SAME_B24, _b24_values(b24)),
        )
        items: list[TransactWriteItemTypeDef] = []
        for ref, side, condition, counterpart in sides:
            request: dict[str, Any] = {
                "TableName": self._table.name,
                "ConditionExpression": condition,
                "ExpressionAttributeValues": {**(values or {}), **counterpart},
            }
            if put is not None:
                request["Item"] = LinkItem.from_link(put, "B24" if side == "B24" else "1C").to_attributes()
            else:
                request["Key"] = key(link_pk(ref), LINK_SK)
            if expression:
                request["UpdateExpression"] = expression
            if names:
                request["ExpressionAttributeNames"] = dict(names)
            items.append(cast("TransactWriteItemTypeDef", {operation: request}))
        return items

    def _find(self, ref: AnyRef) -> Link | None:
        attributes = self._table.get(link_pk(ref), LINK_SK)
        return None if attributes is None else LinkItem.from_attributes(attributes).to_link()

    def _conflict(self, requested: Link, settles: ClaimSettlement | None = None) -> BridgeError:
        existing = [link for ref in (requested.b24, requested.onec) if (link := self._find(ref)) is not None]
        clashing = [link for link in existing if (link.b24, link.onec) != (requested.b24, requested.onec)]
        if not clashing and settles is not None:
            return _lost(settles.name)  # the links were free: the claim's condition failed
        return LinkConflict(requested, list({link.model_dump_json(): link for link in clashing}.values()))

    def _changed_underneath(self, link: Link) -> BridgeError:
        for ref in (link.b24, link.onec):
            if self._find(ref) is None:
                return LinkNotFound(f"link {link_pk(ref)} vanished while being changed")
        return self._conflict(link)

    def _pair_changed(self, b24: B24Ref, onec: OneCRef) -> BridgeError:
        return LinkNotFound(f"{link_pk(b24)} and {link_pk(onec)} are no longer linked to each other")


def _lost(name: str) -> ClaimHeld:
    return ClaimHeld(f"claim {name!r} was taken over before it was settled")
