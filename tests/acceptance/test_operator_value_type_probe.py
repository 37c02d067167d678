"""`check --allow-writes` settles "ValueType on POST" (docs/sandbox-onec.md) on the local stack:
for each plausible answer of a real base (the 1C emulator switched through `/_sandbox/answers`),
the probe creates a throwaway additional attribute, reads back what 1C stored, deletes it, records
the answer in SyncTable and prints it; the 1C client then sends the form that base keeps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bridge.domain import onec_sets
from bridge.onec.client import VALUE_TYPE_PROBE, ODataClient
from bridge.onec.errors import BadRequest
from bridge.setup.onec_names import string_value_type
from bridge.store import SyncStore
from sandbox.local import LocalStack, emulators
from tests.harness.deal_stack import fresh
from tests.harness.operator import operator

pytestmark = pytest.mark.acceptance


@pytest.fixture
def base(stack: LocalStack) -> Iterator[Any]:
    """A freshly set-up stack whose 1C base answers ValueType on POST the given way."""
    fresh(stack)
    assert stack.onec is not None
    url = stack.onec.url

    def answering(value_type: str) -> None:
        httpx.post(f"{url}/_sandbox/answers", json={"value_type": value_type}).raise_for_status()
        httpx.delete(f"{url}/_sandbox/calls").raise_for_status()

    yield answering
    httpx.post(f"{url}/_sandbox/answers", json={"value_type": "as_sent"}).raise_for_status()


def _store(stack: LocalStack) -> SyncStore:
    return SyncStore(stack.model.tables["SyncTable"].name, stack.client("dynamodb"))


def _client(stack: LocalStack, store: SyncStore | None) -> ODataClient:
    return ODataClient(
        stack.onec_base_url,
        emulators.ONEC_USER,
        emulators.ONEC_PASSWORD,
        max_attempts=1,
        answers=None if store is None else store.probes.answer,
    )


def _note(stdout: str) -> str:
    prefix = f"probe {VALUE_TYPE_PROBE}: "
    return next(line.removeprefix(prefix) for line in stdout.splitlines() if line.startswith(prefix))


def _probe_writes(stack: LocalStack) -> list[tuple[str, str]]:
    assert stack.onec is not None
    calls = httpx.get(f"{stack.onec.url}/_sandbox/calls").json()["calls"]
    return [
        (c["method"], c["path"].split("(")[0].rsplit("/", 1)[-1])
        for c in calls
        if c["method"] != "GET" and onec_sets.PROPERTIES in c["path"]
    ]


def _leftovers(stack: LocalStack) -> list[Any]:
    return _client(stack, None).list(onec_sets.PROPERTIES, filter="startswith(Description, 'bridge check')")


def _create_attribute(client: ODataClient, name: str) -> dict[str, Any]:
    created = client.create(
        onec_sets.PROPERTIES, {"Description": name, "Заголовок": name, "ValueType": string_value_type()}
    )
    stored: dict[str, Any] = client.get(onec_sets.PROPERTIES, created["Ref_Key"])["ValueType"]
    client.delete(onec_sets.PROPERTIES, created["Ref_Key"])
    return stored


def test_a_base_keeping_the_short_form_is_recorded_and_nothing_is_left(stack: LocalStack, base: Any) -> None:
    base("as_sent")

    done = operator(stack, "check", "--allow-writes")

    assert _note(done.stdout) == "short (short: kept as sent)"
    assert not [line for line in done.stdout.splitlines() if VALUE_TYPE_PROBE in line and "PROBLEM" in line]
    assert _store(stack).probes.answer(VALUE_TYPE_PROBE) == "short"
    assert _probe_writes(stack) == [("POST", onec_sets.PROPERTIES), ("DELETE", onec_sets.PROPERTIES)]
    assert _leftovers(stack) == []
    stored = _create_attribute(_client(stack, _store(stack)), "ID сделки (проба)")
    assert stored["StringQualifiers"]["Length"] == "150"


def test_a_base_wanting_every_qualifier_gets_the_full_form_from_the_client(
    stack: LocalStack, base: Any
) -> None:
    base("full_only")
    with pytest.raises(BadRequest):  # what setup sends today is refused by such a base
        _create_attribute(_client(stack, None), "ID сделки (до check)")
    base("full_only")  # the journal of 1C calls starts again

    done = operator(stack, "check", "--allow-writes")

    note = _note(done.stdout)
    assert note.startswith("full (short: refused: ")
    assert note.endswith("; full: kept as sent)")
    assert _store(stack).probes.answer(VALUE_TYPE_PROBE) == "full"
    assert _probe_writes(stack) == [
        ("POST", onec_sets.PROPERTIES),  # short: refused, nothing to delete
        ("POST", onec_sets.PROPERTIES),
        ("DELETE", onec_sets.PROPERTIES),
    ]
    assert _leftovers(stack) == []
    stored = _create_attribute(_client(stack, _store(stack)), "ID сделки (после check)")
    assert stored["Types"] == ["String"]
    assert stored["StringQualifiers"] == {"AllowedLength": "Variable", "Length": "150"}


@pytest.mark.parametrize(("value_type", "answer"), [("drops_qualifiers", "ignored"), ("refused", "refused")])
def test_a_base_not_keeping_the_type_is_a_problem_naming_the_way_out(
    stack: LocalStack, base: Any, value_type: str, answer: str
) -> None:
    base(value_type)

    done = operator(stack, "check", "--allow-writes")

    assert done.returncode == 1
    assert _note(done.stdout).startswith(f"{answer} (short: ")
    problem = next(line for line in done.stdout.splitlines() if "does not keep the ValueType" in line)
    assert f"({answer})" in problem
    assert "create them in 1C by hand as strings of length 150" in done.stdout
    assert _store(stack).probes.answer(VALUE_TYPE_PROBE) == answer
    assert _leftovers(stack) == []
    deletes = [w for w in _probe_writes(stack) if w[0] == "DELETE"]
    assert len(deletes) == (2 if answer == "ignored" else 0)  # every attribute created was deleted


def test_without_allow_writes_the_probe_is_skipped_and_writes_nothing(stack: LocalStack, base: Any) -> None:
    base("full_only")

    done = operator(stack, "check")

    assert _note(done.stdout).startswith("skipped, it writes (run with --allow-writes; nothing recorded)")
    assert _probe_writes(stack) == []
    assert _store(stack).probes.answer(VALUE_TYPE_PROBE) is None


def test_with_the_chart_unpublished_the_probe_writes_nothing_and_records_nothing(
    stack: LocalStack, base: Any
) -> None:
    base("as_sent")
    assert stack.onec is not None
    httpx.post(
        f"{stack.onec.url}/_sandbox/publication", json={"unpublish": [onec_sets.PROPERTIES]}
    ).raise_for_status()

    done = operator(stack, "check", "--allow-writes")

    assert _note(done.stdout) == f"skipped, {onec_sets.PROPERTIES} is not published"
    assert _probe_writes(stack) == []
    assert _store(stack).probes.answer(VALUE_TYPE_PROBE) is None
