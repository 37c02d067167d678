"""Each function's DynamoDB permissions from template.yaml, enforced on the local stack's moto.

AWS refuses a DynamoDB request its caller's policy does not allow: an action no statement names,
or a partition key outside the statement's `dynamodb:LeadingKeys`. moto checks no IAM, so a flow
reading an item family its function may not touch works in the sandbox and fails in AWS (catalog
setup's manifest read did, until 2026-12-04). The local stack gives every function its own access
key; `DynamoDBPolicies` maps the key to the function's grants on each table and answers a request
outside them with the AccessDeniedException DynamoDB sends. Requests signed with any other key
(tests, the CLI with the operator's rights) are not checked.

Only what the template's inline statements say is modelled: `Allow` statements whose resource is a
table's `Arn`, their actions, and `ForAllValues:StringLike` on `dynamodb:LeadingKeys` (a request
naming no partition key, such as DescribeTable, passes that condition, as in IAM).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

ACCESS_KEY_PREFIX = "LOCALFN"
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")
_EQUALS = re.compile(r"([#\w]+)\s*=\s*(:\w+)")


@dataclass(frozen=True)
class Grant:
    actions: frozenset[str]  # DynamoDB operation names: "Query", "BatchWriteItem", …
    leading_keys: tuple[str, ...] | None  # None: any partition key


class MalformedRequest(ValueError):
    """A body the check cannot read. DynamoDB refuses such a request before it looks at a policy,
    so it is answered as DynamoDB answers it, and never passed on unchecked."""


def access_key(logical_id: str) -> str:
    """The access key the local stack gives a function (letters and digits, as AWS's are)."""
    return ACCESS_KEY_PREFIX + re.sub(r"[^A-Za-z0-9]", "", logical_id).upper()


def table_grants(function: Mapping[str, Any], table_ids: Mapping[str, str]) -> dict[str, list[Grant]]:
    """Physical table name → the function's grants on it; `table_ids` maps logical id → name."""
    grants: dict[str, list[Grant]] = {}
    for policy in function.get("Properties", {}).get("Policies", []):
        if not isinstance(policy, Mapping):
            continue  # a managed policy by name: no DynamoDB grant the sandbox knows of
        for statement in policy.get("Statement", []):
            if statement.get("Effect") != "Allow":
                continue
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            operations = frozenset(a.split(":", 1)[1] for a in actions if a.startswith("dynamodb:"))
            condition = statement.get("Condition", {}).get("ForAllValues:StringLike", {})
            keys = condition.get("dynamodb:LeadingKeys")
            for table in _tables(statement.get("Resource"), table_ids):
                grants.setdefault(table, []).append(Grant(operations, tuple(keys) if keys else None))
    return grants


def _tables(resource: Any, table_ids: Mapping[str, str]) -> Iterator[str]:
    for item in resource if isinstance(resource, list) else [resource]:
        if isinstance(item, Mapping) and "Fn::GetAtt" in item:
            logical_id, attribute = item["Fn::GetAtt"]
            if attribute == "Arn" and logical_id in table_ids:
                yield table_ids[logical_id]


def partition_keys(
    operation: str, body: Mapping[str, Any], hash_keys: Mapping[str, str]
) -> list[tuple[str, str]]:
    """(table, partition key value) for every item the request names; `hash_keys`: table → key name."""
    found: list[tuple[str, str]] = []

    def add(table: str, item: Mapping[str, Any] | None) -> None:
        name = hash_keys.get(table)
        if name and item and name in item:
            found.append((table, str(next(iter(item[name].values())))))

    table = str(body.get("TableName", ""))
    if operation in {"GetItem", "DeleteItem", "UpdateItem", "ConditionCheckItem"}:
        add(table, body.get("Key"))
    elif operation == "PutItem":
        add(table, body.get("Item"))
    elif operation == "Query":
        names = body.get("ExpressionAttributeNames", {})
        values = body.get("ExpressionAttributeValues", {})
        for name, placeholder in _EQUALS.findall(str(body.get("KeyConditionExpression", ""))):
            if names.get(name, name) == hash_keys.get(table) and placeholder in values:
                add(table, {hash_keys[table]: values[placeholder]})
    elif operation == "BatchWriteItem":
        for name, requests in body.get("RequestItems", {}).items():
            for request in requests:
                add(
                    name,
                    request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key"),
                )
    elif operation == "BatchGetItem":
        for name, wanted in body.get("RequestItems", {}).items():
            for item_key in wanted.get("Keys", []):
                add(name, item_key)
    return found


class DynamoDBPolicies:
    """Access key → grants per table; `denial` says why a request is refused, None when allowed."""

    def __init__(self, grants: Mapping[str, Mapping[str, list[Grant]]], hash_keys: Mapping[str, str]) -> None:
        self._grants = grants
        self._hash_keys = hash_keys

    def joined(self, other: DynamoDBPolicies) -> DynamoDBPolicies:
        grants = {key: dict(tables) for key, tables in self._grants.items()}
        for key, tables in other._grants.items():
            grants.setdefault(key, {}).update(tables)
        return DynamoDBPolicies(grants, {**self._hash_keys, **other._hash_keys})

    def denial(self, environ: Mapping[str, Any], body: bytes) -> str | None:
        found = _CREDENTIAL.search(str(environ.get("HTTP_AUTHORIZATION", "")))
        if found is None or found.group(1) not in self._grants:
            return None
        grants = self._grants[found.group(1)]
        operation = str(environ.get("HTTP_X_AMZ_TARGET", "")).rpartition(".")[2]
        try:
            request = json.loads(body or b"{}")
            if not isinstance(request, dict):
                raise MalformedRequest("the request body is not a JSON object")
            needed = _needed(operation, request, self._hash_keys)
        except MalformedRequest:
            raise
        except (ValueError, TypeError, AttributeError, StopIteration) as error:
            # ValueError covers JSON and UTF-8 errors; the others, a member of the wrong shape.
            raise MalformedRequest(f"the request body cannot be read: {type(error).__name__}") from error
        for (action, table), values in needed.items():
            if table in self._hash_keys and not any(
                _allows(g, action, values) for g in grants.get(table, [])
            ):
                shown = ", ".join(sorted(set(values))[:3]) or "no key"
                return (
                    f"User: {found.group(1)} is not authorized to perform: dynamodb:{action} on table "
                    f"{table} for partition key(s) {shown} because no identity-based policy allows it"
                )
        return None


# A transaction is authorised item by item, by the action of each entry: IAM has no
# TransactWriteItems or TransactGetItems action of its own.
_ENTRY_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def _needed(
    operation: str, request: Mapping[str, Any], hash_keys: Mapping[str, str]
) -> dict[tuple[str, str], list[str]]:
    """(IAM action, table) → the partition keys the request names for it."""
    needed: dict[tuple[str, str], list[str]] = {}
    if operation in {"TransactWriteItems", "TransactGetItems"}:
        # Each entry is shaped as the single-item request of its action (TableName, Key or Item).
        for entry in request.get("TransactItems", []):
            for kind, item in entry.items():
                action = _ENTRY_ACTIONS.get(kind, kind)
                values = needed.setdefault((action, str(item.get("TableName", ""))), [])
                values += [value for _, value in partition_keys(action, item, hash_keys)]
        return needed
    keys = partition_keys(operation, request, hash_keys)
    for table, value in keys:
        needed.setdefault((operation, table), []).append(value)
    if not keys:
        needed[(operation, str(request.get("TableName", "")))] = []
    return needed


def _allows(grant: Grant, operation: str, values: list[str]) -> bool:
    if operation not in grant.actions:
        return False
    if grant.leading_keys is None:
        return True
    return all(any(fnmatchcase(value, pattern) for pattern in grant.leading_keys) for value in values)


def denied_response(message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """What DynamoDB answers a request IAM refuses."""
    return _error_response("AccessDeniedException", message)


def malformed_response(message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """What DynamoDB answers a body it cannot deserialise."""
    return _error_response("SerializationException", message)


def _error_response(kind: str, message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    body = json.dumps({"__type": f"com.amazon.coral.service#{kind}", "Message": message})
    return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.0")], body.encode()
