"""SyncTable adapter: cross-system links, cursors, change-detection manifests and audit records.

Writes that must hold together are one `TransactWriteItems`; "create once" is a conditional
write, never a read-then-write. Reads are strongly consistent because a flow reads the link right
before deciding whether to create something.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from bridge.errors import BridgeError
from bridge.links.claims import (
    CLAIM_SK,
    Claim,
    ClaimHeld,
    claim_attributes,
    claim_from_attributes,
    claim_pk,
)
from bridge.links.errors import CursorConflict, LinkConflict, LinkNotFound, StoreBusy, translate
from bridge.links.items import (
    CONFIG_SK,
    LINK_SK,
    Attributes,
    AuditItem,
    CursorItem,
    LinkItem,
    audit_pk,
    config_pk,
    cursor_pk,
    is_expired,
    key,
    link_pk,
    manifest_pk,
)
from bridge.links.models import AnyRef, AuditEntry, B24Ref, Cursor, Link, OneCRef

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef, WriteRequestTypeDef

_SAME_ONEC = "attribute_not_exists(pk) OR (onec_entity_set = :set AND onec_ref = :ref)"
_SAME_B24 = "attribute_not_exists(pk) OR (b24_entity = :entity AND b24_id = :id)"
_STILL_ONEC = "attribute_exists(pk) AND onec_entity_set = :set AND onec_ref = :ref"
_STILL_B24 = "attribute_exists(pk) AND b24_entity = :entity AND b24_id = :id"
_BATCH_LIMIT = 25
_BATCH_RETRIES = 6
_TRANSACTION_ATTEMPTS = 3
_DAY_S = 86_400


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _b24_values(ref: B24Ref) -> Attributes:
    return {":entity": _s(ref.entity), ":id": _s(ref.id)}


def _onec_values(ref: OneCRef) -> Attributes:
    return {":set": _s(ref.entity_set), ":ref": _s(ref.ref)}


class LinkStore:
    """SyncTable through a boto3 DynamoDB client (real AWS, moto server, or DynamoDB Local)."""

    def __init__(
        self,
        table_name: str,
        dynamodb_client: DynamoDBClient,
        clock: Callable[[], float] = time.time,
        *,
        audit_ttl_days: int = 30,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._table = table_name
        self._db = dynamodb_client
        self._clock = clock
        self._audit_ttl_s = audit_ttl_days * _DAY_S
        self._sleep = sleep

    # ---- links -------------------------------------------------------------------------------

    def link(
        self,
        b24: B24Ref,
        onec: OneCRef,
        *,
        fingerprint: str,
        data_version: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> Link:
        """Write both link items at once; re-linking the same pair refreshes its state.

        Each item is conditional on being absent or already pointing at the same counterpart, so
        of two workers linking one object to different counterparts exactly one succeeds.
        """
        link = Link(
            b24=b24,
            onec=onec,
            fingerprint=fingerprint,
            data_version=data_version,
            synced_at=self._now(),
            extra=dict(extra or {}),
        )
        items: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": LinkItem.from_link(link, "B24").to_attributes(),
                    "ConditionExpression": _SAME_ONEC,
                    "ExpressionAttributeValues": _onec_values(onec),
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": LinkItem.from_link(link, "1C").to_attributes(),
                    "ConditionExpression": _SAME_B24,
                    "ExpressionAttributeValues": _b24_values(b24),
                }
            },
        ]
        self._transact(items, conflict=lambda: self._conflict(link))
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
                "synced_at": self._now(),
            }
        )
        assignments = "SET fingerprint = :fp, synced_at = :at"
        values: Attributes = {":fp": _s(updated.fingerprint), ":at": _s(updated.synced_at.isoformat())}
        if data_version is not None:
            assignments += ", data_version = :dv"
            values[":dv"] = _s(data_version)
        items: list[TransactWriteItemTypeDef] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": key(link_pk(current.b24), LINK_SK),
                    "UpdateExpression": assignments,
                    "ConditionExpression": _STILL_ONEC,
                    "ExpressionAttributeValues": {**values, **_onec_values(current.onec)},
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": key(link_pk(current.onec), LINK_SK),
                    "UpdateExpression": assignments,
                    "ConditionExpression": _STILL_B24,
                    "ExpressionAttributeValues": {**values, **_b24_values(current.b24)},
                }
            },
        ]
        self._transact(items, conflict=lambda: self._changed_underneath(updated))
        return updated

    def unlink(self, ref: AnyRef) -> Link | None:
        """Remove both items of the link `ref` belongs to; returns the removed link, None if none."""
        current = self._find(ref)
        if current is None:
            return None
        items: list[TransactWriteItemTypeDef] = [
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": key(link_pk(current.b24), LINK_SK),
                    "ConditionExpression": _STILL_ONEC,
                    "ExpressionAttributeValues": _onec_values(current.onec),
                }
            },
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": key(link_pk(current.onec), LINK_SK),
                    "ConditionExpression": _STILL_B24,
                    "ExpressionAttributeValues": _b24_values(current.b24),
                }
            },
        ]
        self._transact(items, conflict=lambda: self._changed_underneath(current))
        return current

    # ---- cursors -----------------------------------------------------------------------------

    def get_cursor(self, name: str) -> Cursor | None:
        attributes = self._get(cursor_pk(name), "STATE")
        return None if attributes is None else CursorItem.from_attributes(attributes).to_cursor()

    def put_cursor(
        self, name: str, value: Mapping[str, Any], *, expected_version: int | None = None
    ) -> Cursor:
        """Store a cursor if nobody moved it since `expected_version` (None: it must not exist yet)."""
        item = CursorItem.new(name, value, (expected_version or 0) + 1, self._clock())
        if expected_version is None:
            condition = "attribute_not_exists(pk)"
            values: Attributes | None = None
        else:
            condition = "version = :expected"
            values = {":expected": {"N": str(expected_version)}}
        request: dict[str, Any] = {
            "TableName": self._table,
            "Item": item.to_attributes(),
            "ConditionExpression": condition,
        }
        if values is not None:
            request["ExpressionAttributeValues"] = values

        def conflict() -> BridgeError:
            return CursorConflict(f"cursor {name!r} is no longer at version {expected_version}")

        self._call(lambda: self._db.put_item(**request), conflict=conflict)
        return item.to_cursor()

    # ---- manifests ---------------------------------------------------------------------------

    def get_manifest(self, name: str) -> dict[str, str]:
        """Every `ref → version` of the named manifest (one item per object, read by Query)."""
        return {
            attributes["sk"]["S"]: attributes["value"]["S"] for attributes in self._query(manifest_pk(name))
        }

    def put_manifest_entries(self, name: str, entries: Mapping[str, str], removed: Iterable[str]) -> None:
        """Upsert `entries` and delete `removed`, 25 items per BatchWriteItem."""
        gone = list(dict.fromkeys(removed))
        overlap = set(gone) & entries.keys()
        if overlap:
            raise ValueError(f"refs both updated and removed: {sorted(overlap)[:5]}")
        pk = manifest_pk(name)
        requests: list[WriteRequestTypeDef] = [
            {"PutRequest": {"Item": {**key(pk, ref), "value": _s(value)}}} for ref, value in entries.items()
        ]
        requests += [{"DeleteRequest": {"Key": key(pk, ref)}} for ref in gone]
        for start in range(0, len(requests), _BATCH_LIMIT):
            self._batch_write(requests[start : start + _BATCH_LIMIT])

    # ---- resolved configuration --------------------------------------------------------------

    def get_config(self, flow: str) -> dict[str, Any] | None:
        """What setup resolved for `flow` (ids behind the configured names), or None before setup."""
        attributes = self._get(config_pk(flow), CONFIG_SK)
        if attributes is None:
            return None
        value: dict[str, Any] = json.loads(attributes["value"]["S"])
        return value

    def put_config(self, flow: str, value: Mapping[str, Any]) -> None:
        item: Attributes = {
            **key(config_pk(flow), CONFIG_SK),
            "value": _s(json.dumps(value, ensure_ascii=False, sort_keys=True)),
            "updated_at": {"N": str(int(self._clock()))},
        }
        self._call(lambda: self._db.put_item(TableName=self._table, Item=item))

    # ---- audit -------------------------------------------------------------------------------

    def audit(self, flow: str, subject: str, outcome: str, detail: Mapping[str, Any]) -> AuditEntry:
        now = self._clock()
        moment = datetime.fromtimestamp(now, UTC)
        item = AuditItem(
            day=moment.date().isoformat(),
            at=moment.isoformat(timespec="microseconds"),
            flow=flow,
            subject=subject,
            outcome=outcome,
            detail_json=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
            expires_at=int(now) + self._audit_ttl_s,
        )
        self._call(lambda: self._db.put_item(TableName=self._table, Item=item.to_attributes()))
        return item.to_entry()

    def list_audit(self, day: date) -> list[AuditEntry]:
        """The day's (UTC) audit records, oldest first, without those past their expiry."""
        return [AuditItem.from_attributes(a).to_entry() for a in self._query(audit_pk(day.isoformat()))]

    # ---- claims (create-once across workers, see bridge.links.claims) -------------------------

    def claim(self, name: str, owner: str, *, lease_s: float = 120, keep_s: float = 3600) -> Claim:
        """Take the claim `name` for `owner`, or return whoever holds it (`won=False`).

        Free means: no item, or a lease that ran out before its holder settled it. A settled claim
        is kept `keep_s` (long enough for every racing worker to see the result) and then expires.
        """
        now = self._clock()
        attributes = claim_attributes(name, owner, now + lease_s, now + max(lease_s, keep_s))
        request: dict[str, Any] = {
            "TableName": self._table,
            "Item": attributes,
            "ConditionExpression": (
                "attribute_not_exists(pk) OR expires_at <= :now"
                " OR (attribute_not_exists(#result) AND lease_until <= :now)"
            ),
            "ExpressionAttributeNames": {"#result": "result"},
            "ExpressionAttributeValues": {":now": {"N": f"{now:.3f}"}},
            "ReturnValues": "ALL_OLD",
        }

        def held() -> BridgeError:
            return ClaimHeld(f"claim {name!r} is held")

        try:
            answer = self._call(lambda: self._db.put_item(**request), conflict=held)
        except ClaimHeld:
            current = self._get(claim_pk(name), CLAIM_SK)
            if current is None:  # settled and expired between the two calls: try once more
                return self.claim(name, owner, lease_s=lease_s, keep_s=keep_s)
            return claim_from_attributes(name, current)
        claim = claim_from_attributes(name, attributes, won=True)
        return claim.model_copy(update={"taken_over": bool(answer.get("Attributes"))})

    def settle_claim(self, name: str, owner: str, result: str, *, keep_s: float = 3600) -> None:
        """Record what the holder created; fails (`ClaimHeld`) if the lease was lost meanwhile."""
        expires = self._clock() + keep_s
        self._call(
            lambda: self._db.update_item(
                TableName=self._table,
                Key=key(claim_pk(name), CLAIM_SK),
                UpdateExpression="SET #result = :result, expires_at = :expires",
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#result": "result", "#owner": "owner"},
                ExpressionAttributeValues={
                    ":result": _s(result),
                    ":expires": {"N": str(int(expires))},
                    ":owner": _s(owner),
                },
            ),
            conflict=lambda: ClaimHeld(f"claim {name!r} was taken over before it was settled"),
        )

    def release_claim(self, name: str, owner: str) -> None:
        """Give an unsettled claim back (the holder decided not to create after all)."""
        # Someone else's now, or settled: then there is nothing of ours to give back.
        with contextlib.suppress(ClaimHeld):
            self._call(
                lambda: self._db.delete_item(
                    TableName=self._table,
                    Key=key(claim_pk(name), CLAIM_SK),
                    ConditionExpression="#owner = :owner AND attribute_not_exists(#result)",
                    ExpressionAttributeNames={"#owner": "owner", "#result": "result"},
                    ExpressionAttributeValues={":owner": _s(owner)},
                ),
                conflict=lambda: ClaimHeld(f"claim {name!r} is no longer ours"),
            )

    # ---- internals ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _find(self, ref: AnyRef) -> Link | None:
        attributes = self._get(link_pk(ref), LINK_SK)
        return None if attributes is None else LinkItem.from_attributes(attributes).to_link()

    def _live(self, attributes: Mapping[str, Any] | None) -> Attributes | None:
        if attributes is None or is_expired(attributes, self._clock()):
            return None
        return dict(attributes)

    def _get(self, pk: str, sk: str) -> Attributes | None:
        response = self._call(
            lambda: self._db.get_item(TableName=self._table, Key=key(pk, sk), ConsistentRead=True)
        )
        return self._live(response.get("Item"))

    def _query(self, pk: str) -> Iterator[Attributes]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": _s(pk)},
            "ConsistentRead": True,
        }
        while True:
            page = self._call(lambda: self._db.query(**request))
            for attributes in page.get("Items", []):
                if (live := self._live(attributes)) is not None:
                    yield live
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _batch_write(self, requests: list[WriteRequestTypeDef]) -> None:
        pending = requests
        for attempt in range(_BATCH_RETRIES):
            response = self._call(partial(self._db.batch_write_item, RequestItems={self._table: pending}))
            # DynamoDB hands back unprocessed requests in the shape they were sent.
            pending = cast(
                "list[WriteRequestTypeDef]", response.get("UnprocessedItems", {}).get(self._table, [])
            )
            if not pending:
                return
            self._sleep(min(0.05 * 2**attempt, 2.0))
        raise StoreBusy(f"DynamoDB left {len(pending)} manifest writes unprocessed")

    def _transact(self, items: list[TransactWriteItemTypeDef], conflict: Callable[[], BridgeError]) -> None:
        # A competing transaction on the same items is cancelled with TransactionConflict; one
        # more try then meets the winner's items and turns into a clean conflict or a no-op.
        for attempt in range(1, _TRANSACTION_ATTEMPTS + 1):
            try:
                self._call(lambda: self._db.transact_write_items(TransactItems=items), conflict=conflict)
            except StoreBusy:
                if attempt == _TRANSACTION_ATTEMPTS:
                    raise
                self._sleep(0.05 * attempt)
            else:
                return

    def _call[T](self, operation: Callable[[], T], *, conflict: Callable[[], BridgeError] | None = None) -> T:
        try:
            return operation()
        except (ClientError, BotoCoreError) as error:
            raise translate(error, conflict) from error

    def _conflict(self, requested: Link) -> BridgeError:
        existing = [link for ref in (requested.b24, requested.onec) if (link := self._find(ref)) is not None]
        clashing = [link for link in existing if (link.b24, link.onec) != (requested.b24, requested.onec)]
        return LinkConflict(requested, list({link.model_dump_json(): link for link in clashing}.values()))

    def _changed_underneath(self, link: Link) -> BridgeError:
        for ref in (link.b24, link.onec):
            if self._find(ref) is None:
                return LinkNotFound(f"link {link_pk(ref)} vanished while being changed")
        return self._conflict(link)
