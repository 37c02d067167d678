"""Turning many commands into `batch` HTTP calls of at most 50, and merging their answers.

`$result[key]…` back-references are resolved by Bitrix24 inside one HTTP batch only. Chunks are cut
in the caller's order, and a cut is placed only where no later command refers to an earlier one
across it; a group of commands tied by references is therefore always sent together. When such a
group cannot fit into 50 commands, `plan_chunks` raises instead of sending a reference Bitrix24
could not resolve.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from bridge.b24 import php_query
from bridge.b24.errors import B24Error, error_from_envelope
from bridge.b24.models import CallTime, Command, optional_int

MAX_BATCH = 50

type CommandLike = Command | tuple[str, Mapping[str, Any]]
type Commands = Mapping[str, CommandLike] | Sequence[CommandLike]

_REFERENCE = re.compile(r"\$result\[([^\]]*)\]")


def as_command(value: CommandLike) -> Command:
    if isinstance(value, Command):
        return value
    method, params = value
    return Command(method, params)


def keyed_commands(commands: Commands) -> list[tuple[str, Command]]:
    """Commands with their keys in order; positional commands are keyed "0", "1", …"""
    if isinstance(commands, Mapping):
        return [(str(key), as_command(value)) for key, value in commands.items()]
    return [(str(index), as_command(value)) for index, value in enumerate(commands)]


def encode_command(command: Command) -> str:
    """`method?query` with the params in PHP bracket syntax, as `cmd` values are documented."""
    query = php_query.encode_compact(command.params)
    return f"{command.method}?{query}" if query else command.method


def references(params: Mapping[str, Any]) -> set[str]:
    """Command keys named by `$result[...]` anywhere in the parameter values."""
    found: set[str] = set()
    _collect_references(params, found)
    return found


def _collect_references(value: Any, found: set[str]) -> None:
    # Every command of every batch is read here before it is sent: a plain walk, text and
    # numbers told apart first, costs a third of a generator chain over each scalar's text.
    if isinstance(value, str):
        if "$result[" in value:
            found.update(_REFERENCE.findall(value))
    elif isinstance(value, int | float):
        return
    elif isinstance(value, Mapping):
        for item in value.values():
            _collect_references(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect_references(item, found)
    else:
        _collect_references(php_query.scalar_text(value), found)


def plan_chunks(
    items: Sequence[tuple[str, Command]], size: int = MAX_BATCH
) -> list[list[tuple[str, Command]]]:
    position = {key: index for index, (key, _) in enumerate(items)}
    if len(position) != len(items):
        raise ValueError("batch command keys must be unique")
    # earliest[i]: the lowest index command i depends on (itself when it refers to nothing)
    earliest: list[int] = []
    for index, (key, command) in enumerate(items):
        lowest = index
        for name in references(command.params):
            target = position.get(name)
            if target is None or target >= index:
                raise ValueError(
                    f"batch command {key!r} refers to $result[{name}], which does not run before it"
                )
            lowest = min(lowest, target)
        earliest.append(lowest)
    # A cut before index j is legal when no command at or after j reaches back before j.
    reach_back = [len(items)] * (len(items) + 1)
    for index in range(len(items) - 1, -1, -1):
        reach_back[index] = min(reach_back[index + 1], earliest[index])
    chunks: list[list[tuple[str, Command]]] = []
    start = 0
    while start < len(items):
        end = min(start + size, len(items))
        while end > start and end < len(items) and reach_back[end] < end:
            end -= 1
        if end == start:
            raise ValueError(
                f"commands from {items[start][0]!r} on are tied by $result references into a group of more "
                f"than {size}; Bitrix24 resolves references only within one batch call"
            )
        chunks.append(list(items[start:end]))
        start = end
    return chunks


def section(raw: Any) -> dict[str, Any]:
    """A `result_*` map: PHP sends `[]` when empty and a list when the keys are 0..n-1."""
    if isinstance(raw, Mapping):
        return {str(key): value for key, value in raw.items()}
    if isinstance(raw, list):
        return {str(index): value for index, value in enumerate(raw)}
    return {}


class BatchAccumulator:
    """Collects the sections of several chunk answers into one `BatchResult`'s fields."""

    def __init__(self) -> None:
        self.result: dict[str, Any] = {}
        self.errors: dict[str, B24Error] = {}
        self.total: dict[str, int] = {}
        self.next: dict[str, int] = {}
        self.time: dict[str, CallTime] = {}

    def add(self, batch_result: Any, methods: Mapping[str, str]) -> None:
        body = batch_result if isinstance(batch_result, Mapping) else {}
        self.result.update(section(body.get("result")))
        for key, envelope in section(body.get("result_error")).items():
            payload = envelope if isinstance(envelope, Mapping) else {"error": envelope}
            self.errors[key] = error_from_envelope(payload, status=None, method=methods.get(key, "batch"))
        for target, name in ((self.total, "result_total"), (self.next, "result_next")):
            for key, value in section(body.get(name)).items():
                number = optional_int(value)
                if number is not None:
                    target[key] = number
        for key, value in section(body.get("result_time")).items():
            self.time[key] = CallTime.parse(value)
