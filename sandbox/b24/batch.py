"""`batch`: up to 50 `method?query` commands, `$result[...]` back-references, `halt` (README §2)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from bridge.b24.php_query import QueryRejected, unflatten
from sandbox.b24 import errors, numbers, transport
from sandbox.b24.registry import Call, Result, method

MAX_COMMANDS = 50
_REFERENCE = re.compile(r"\$result\[([^\]]*)\]((?:\[[^\]]*\])*)")


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "y", "yes")


def _lookup(results: Mapping[str, Any], key: str, path: str) -> str:
    node: Any = results.get(key)
    for part in re.findall(r"\[([^\]]*)\]", path):
        index = numbers.digits(part)
        if isinstance(node, list) and index is not None and index < len(node):
            node = node[index]
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return ""
    if node is None or node is False:
        return ""
    if node is True:
        return "1"
    if isinstance(node, list | dict):
        return ""
    return str(node)


def _substitute(text: str, results: Mapping[str, Any]) -> str:
    return _REFERENCE.sub(lambda m: _lookup(results, m.group(1), m.group(2)), text)


def parse_command(command: str, results: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Split `method?query`, URL-decode the query, then resolve back-references in keys and values."""
    name, _, query = str(command).partition("?")
    pairs = [
        (_substitute(k, results), _substitute(v, results))
        for k, v in parse_qsl(query, keep_blank_values=True)
    ]
    return name.strip(), unflatten(pairs)


def _section(values: dict[str, Any], positional: bool) -> Any:
    """PHP arrays: empty → `[]`; 0..n-1 keys of a list `cmd` → a JSON list."""
    if not values:
        return []
    if positional and list(values) == [str(i) for i in range(len(values))]:
        return list(values.values())
    return values


@method("batch")
def batch(call: Call) -> Result:
    commands = call.param("cmd")
    positional = isinstance(commands, list)
    if positional:
        commands = {str(i): c for i, c in enumerate(commands)}
    if not isinstance(commands, Mapping):
        commands = {}
    if len(commands) > MAX_COMMANDS:
        raise errors.batch_too_long()
    halt = _truthy(call.param("halt", 0))
    results: dict[str, Any] = {}
    failures: dict[str, Any] = {}
    totals: dict[str, Any] = {}
    nexts: dict[str, Any] = {}
    times: dict[str, Any] = {}
    for key, command in commands.items():
        try:
            name, params = parse_command(str(command), results)
        except QueryRejected as exc:
            # Refused like the same parameters sent on their own (transport.read_params).
            error = transport.invalid_request(f"Request {exc}")
            name = str(command).partition("?")[0].strip()
            call.sub_calls.append(
                {"method": name.lower(), "params": {}, "status": error.status, "batch_key": str(key)}
                | {"error": error.code}
            )
            failures[str(key)] = error.body()
            if halt:
                break
            continue
        outcome = call.dispatcher.run(name, params, call.events, in_batch=True, auth=call.auth)
        call.sub_calls.append(
            {"method": name.lower(), "params": params, "status": outcome.status, "batch_key": str(key)}
            | ({"error": outcome.error.code} if outcome.error else {})
        )
        if outcome.error is not None:
            failures[str(key)] = outcome.error.body()
            if halt:
                break
            continue
        assert outcome.result is not None
        results[str(key)] = outcome.result.result
        if outcome.result.total is not None:
            totals[str(key)] = outcome.result.total
        if outcome.result.next is not None:
            nexts[str(key)] = outcome.result.next
        times[str(key)] = outcome.time
    return Result(
        {
            "result": _section(results, positional),
            "result_error": _section(failures, positional),
            "result_total": _section(totals, positional),
            "result_next": _section(nexts, positional),
            "result_time": _section(times, positional),
        }
    )
