"""The emulators' `/_sandbox/…` controls answer a request they cannot read with 400 and its reason."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from sandbox.b24 import create_app as create_b24
from sandbox.onec import create_app as create_onec

pytestmark = pytest.mark.contract

B24_CONTROLS = [
    "reset", "credentials", "snapshot", "events/pause", "events/resume", "faults", "rate-limit",
    "outgoing-webhook", "inventory", "webhook-scopes", "answers",
]  # fmt: skip
ONEC_CONTROLS = ["reset", "credentials", "snapshot", "faults", "stock", "prices", "publication", "answers"]
# The keys the controls read, so that drawn bodies reach past the first lookup.
KEYS = [
    "webhook_code", "count", "status", "method", "error", "handler", "events", "scopes", "enabled",
    "drop", "kind", "seconds", "path_prefix", "records", "Номенклатура_Key", "Цена", "Количество",
    "RecordType", "Period", "unpublish", "all", "username", "password", "tables", "store",
]  # fmt: skip

_json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    max_leaves=10,
)
bodies = st.binary(max_size=40) | _json_value.map(lambda value: json.dumps(value).encode())


@pytest.fixture(scope="module")
def emulators() -> dict[str, TestClient]:
    return {"b24": TestClient(create_b24()), "onec": TestClient(create_onec())}


def assert_readable_answer(answer: Any) -> None:
    assert answer.status_code < 500, answer.text
    if answer.status_code == 400:
        assert "cannot read this request" in answer.json()["error"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(control=st.sampled_from(B24_CONTROLS), body=bodies)
def test_a_bitrix24_control_never_answers_5xx(
    emulators: dict[str, TestClient], control: str, body: bytes
) -> None:
    answer = emulators["b24"].post(f"/_sandbox/{control}", content=body)

    assert_readable_answer(answer)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(control=st.sampled_from(ONEC_CONTROLS), body=bodies)
def test_a_1c_control_never_answers_5xx(emulators: dict[str, TestClient], control: str, body: bytes) -> None:
    answer = emulators["onec"].post(f"/_sandbox/{control}", content=body)

    assert_readable_answer(answer)


def test_a_rotation_without_its_code_is_refused_and_the_old_code_still_works() -> None:
    client = TestClient(create_b24())
    before = client.post("/rest/1/sandbox/profile.json")
    assert before.status_code == 200

    answer = client.post("/_sandbox/credentials", json={})

    assert answer.status_code == 400
    assert "webhook_code" in answer.json()["error"]
    assert client.post("/rest/1/sandbox/profile.json").status_code == 200


def test_the_journal_read_with_a_since_that_is_no_number_is_refused() -> None:
    answer = TestClient(create_onec()).get("/_sandbox/calls", params={"since": "abc"})

    assert answer.status_code == 400
    assert "ValueError" in answer.json()["error"]
