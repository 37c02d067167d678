"""`batch` (documented answers, chunking, references) and `list_all` (by `next`, and fast by ID)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.b24 import php_query
from bridge.b24.batching import encode_command, references
from bridge.b24.client import B24Client
from bridge.b24.errors import AuthError, NotFound, OperationTimeLimit
from bridge.b24.models import Command
from tests.harness.clock import FakeTime

FIXTURES = Path(__file__).parents[1] / "fixtures" / "b24"
WEBHOOK = "https://example.bitrix24.ru/rest/1/8g9l071eismy9q2l/"
PAGE = 50
_REFERENCE = re.compile(r"\$result\[([^\]]*)\]((?:\[[^\]]*\])*)")


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text("utf-8"))


class NoLimit:
    def acquire(self, cost: int = 1) -> None:
        pass


def php_map(entries: dict[str, Any]) -> Any:
    """How PHP's json_encode writes an array: `[]` when empty, a list when keys are 0..n-1."""
    if list(entries) == [str(i) for i in range(len(entries))]:
        return list(entries.values())
    return entries


class FakePortal:
    """A small Bitrix24: list methods over `rows`, and `batch` with `$result[...]` substitution."""

    def __init__(self, rows: int = 120, *, wrapped: bool = False) -> None:
        self.wrapped = wrapped
        self.id_field = "id" if wrapped else "ID"
        self.rows = [self._row(i) for i in range(1, rows + 1)]
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.failing_keys: set[str] = set()

    def _row(self, number: int) -> dict[str, Any]:
        if self.wrapped:
            return {"id": number, "title": f"Item {number}"}
        return {"ID": str(number), "TITLE": f"Deal {number}"}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        method = request.url.path.rsplit("/", 1)[-1].removesuffix(".json")
        params = json.loads(request.content)
        self.requests.append((method, params))
        if method == "batch":
            return httpx.Response(200, json={"result": self._batch(params), "time": {"operating": 0}})
        return httpx.Response(200, json=self._list(params))

    def _list(self, params: dict[str, Any]) -> dict[str, Any]:
        after = int((params.get("filter") or {}).get(f">{self.id_field}", 0) or 0)
        start = int(params.get("start", 0))
        matching = [r for r in self.rows if int(r[self.id_field]) > after]
        offset = max(start, 0)
        page = matching[offset : offset + PAGE]
        body: dict[str, Any] = {
            "result": {"items": page} if self.wrapped else page,
            "time": {"operating": 0.5},
        }
        if start == -1:
            body["total"] = 0
        else:
            body["total"] = len(matching)
            if offset + PAGE < len(matching):
                body["next"] = offset + PAGE
        return body

    def _batch(self, params: dict[str, Any]) -> dict[str, Any]:
        results: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        totals: dict[str, Any] = {}
        times: dict[str, Any] = {}
        for key, command in params["cmd"].items():
            _, _, query = command.partition("?")
            try:
                sub_params = self._substitute(php_query.decode(query), results)
            except (KeyError, IndexError):
                sub_params = None
            if key in self.failing_keys or sub_params is None:
                errors[key] = {"error": "", "error_description": "Not found"}
                if params["halt"]:
                    break
                continue
            answer = self._list(sub_params)
            results[key] = answer["result"]
            totals[key] = answer["total"]
            times[key] = {"operating": 0.5}
        return {
            "result": php_map(results),
            "result_error": php_map(errors),
            "result_total": php_map(totals),
            "result_next": [],
            "result_time": php_map(times),
        }

    def _substitute(self, value: Any, results: dict[str, Any]) -> Any:
        if isinstance(value, dict):
            return {k: self._substitute(v, results) for k, v in value.items()}
        if isinstance(value, list):
            return [self._substitute(v, results) for v in value]
        match = _REFERENCE.fullmatch(value)
        if not match:
            return value
        node: Any = results[match.group(1)]
        for part in re.findall(r"\[([^\]]*)\]", match.group(2)):
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node

    def batch_commands(self) -> list[dict[str, str]]:
        return [params["cmd"] for method, params in self.requests if method == "batch"]


def make_client(portal: Any, fake_time: FakeTime | None = None) -> B24Client:
    fake_time = fake_time or FakeTime()
    return B24Client(
        WEBHOOK,
        limiter=NoLimit(),
        http=httpx.Client(transport=httpx.MockTransport(portal)),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )


def replay(body: Any) -> tuple[B24Client, list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json=body)

    return make_client(answer), sent


# --- documented batch answers ------------------------------------------------------------------


def test_linked_batch_is_sent_as_documented_and_its_answer_merged() -> None:
    client, sent = replay(fixture("batch.response.json"))
    documented = fixture("batch.request.linked.json")

    result = client.batch(
        {
            "get_user": Command("user.current"),
            "get_department": Command("department.get", {"ID": "$result[get_user][UF_DEPARTMENT][0]"}),
        }
    )

    assert sent[0]["halt"] == 0
    assert {key: unquote(value) for key, value in sent[0]["cmd"].items()} == documented["cmd"]
    assert result.ok
    assert result.result["get_user"]["NAME"] == "John"
    assert result.result["get_department"] == [{"ID": "1", "NAME": "DEMO", "SORT": 500}]
    assert result.total == {"get_department": 1}
    assert result.next == {}
    assert result.time["get_department"].duration == pytest.approx(0.006574153900146484)


def test_batch_with_halt_0_reports_every_failure() -> None:
    client, _ = replay(fixture("batch.response.error.halt0.json"))
    result = client.batch({"get_user": ("user.current", {}), "get_department": ("department.get", {"ID": 1})})

    assert result.result == {}
    assert set(result.errors) == {"get_user", "get_department"}
    assert all(isinstance(error, AuthError) for error in result.errors.values())
    assert result.errors["get_department"].method == "department.get"
    with pytest.raises(AuthError):
        result.raise_for_errors()


def test_batch_with_halt_1_leaves_later_commands_absent() -> None:
    client, sent = replay(fixture("batch.response.error.halt1.json"))
    result = client.batch(
        {"get_user": ("user.current", {}), "get_department": ("department.get", {"ID": 1})}, halt=True
    )

    assert sent[0]["halt"] == 1
    assert list(result.errors) == ["get_user"]
    assert result.errors["get_user"].code == "insufficient_scope"
    assert "get_department" not in result.result
    assert result.time == {}


def test_whole_batch_rejected_raises() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json=fixture("error.NO_AUTH_FOUND.json"))

    with pytest.raises(AuthError):
        make_client(answer).batch([("crm.deal.get", {"id": 1})])


def test_command_is_encoded_as_the_docs_show() -> None:
    # batch.md: `crm.deal.list?filter%5B%3EID%5D=10&start=-1` (PHP reads `[` and `%5B` alike) and
    # `department.get?ID=$result[get_user][UF_DEPARTMENT][0]`; no `?` for a command without params
    assert encode_command(Command("crm.deal.list", {"filter": {">ID": 10}, "start": -1})) == (
        "crm.deal.list?filter[%3EID]=10&start=-1"
    )
    assert encode_command(Command("department.get", {"ID": "$result[get_user][UF_DEPARTMENT][0]"})) == (
        "department.get?ID=$result[get_user][UF_DEPARTMENT][0]"
    )
    assert encode_command(Command("user.current")) == "user.current"


# --- chunking ----------------------------------------------------------------------------------


def test_120_commands_go_in_three_calls_and_come_back_merged() -> None:
    portal = FakePortal(rows=200)
    client = make_client(portal)
    commands = [Command("crm.deal.list", {"filter": {">ID": n}, "start": -1}) for n in range(120)]

    result = client.batch(commands)

    assert [len(cmd) for cmd in portal.batch_commands()] == [50, 50, 20]
    assert sorted(result.result, key=int) == [str(n) for n in range(120)]
    assert result.result["0"][0]["ID"] == "1"  # first chunk came back list-shaped
    assert result.result["119"][0]["ID"] == "120"
    assert len(result.time) == 120


def test_dependent_commands_are_kept_in_one_chunk() -> None:
    portal = FakePortal(rows=600)
    client = make_client(portal)
    commands: dict[str, Command] = {f"solo{n}": Command("crm.deal.list", {"start": -1}) for n in range(45)}
    commands["chain0"] = Command("crm.deal.list", {"start": -1})
    for n in range(1, 10):
        commands[f"chain{n}"] = Command(
            "crm.deal.list", {"filter": {">ID": f"$result[chain{n - 1}][49][ID]"}, "start": -1}
        )

    result = client.batch(commands)

    assert [len(cmd) for cmd in portal.batch_commands()] == [45, 10]
    assert result.result["chain9"][0]["ID"] == str(9 * 50 + 1)


def test_reference_that_would_cross_chunks_is_rejected_before_sending() -> None:
    portal = FakePortal()
    client = make_client(portal)
    commands = [Command("crm.deal.list", {"start": -1}) for _ in range(120)]
    commands[60] = Command("crm.deal.list", {"filter": {">ID": "$result[10][49][ID]"}})

    with pytest.raises(ValueError, match="references only within one batch"):
        client.batch(commands)
    assert portal.requests == []


def test_reference_to_a_later_or_unknown_command_is_rejected() -> None:
    client = make_client(FakePortal())
    with pytest.raises(ValueError, match="does not run before it"):
        client.batch({"a": Command("crm.deal.get", {"id": "$result[b][ID]"}), "b": Command("crm.deal.get")})


def test_halt_stops_later_chunks() -> None:
    portal = FakePortal()
    portal.failing_keys = {"3"}
    client = make_client(portal)

    result = client.batch([Command("crm.deal.list", {"start": -1}) for _ in range(80)], halt=True)

    assert len(portal.batch_commands()) == 1
    assert isinstance(result.errors["3"], NotFound)
    assert sorted(result.result, key=int) == ["0", "1", "2"]


def test_batch_timings_feed_the_operating_budget() -> None:
    fake_time = FakeTime()
    answer = fixture("batch.response.json")
    answer["result"]["result_time"]["get_department"]["operating"] = 470.0
    answer["result"]["result_time"]["get_department"]["operating_reset_at"] = fake_time.now + 400
    client = B24Client(
        WEBHOOK,
        limiter=NoLimit(),
        http=httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=answer))),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )
    client.batch({"get_user": Command("user.current"), "get_department": Command("department.get")})

    with pytest.raises(OperationTimeLimit):
        client.call("department.get")


# --- list_all ----------------------------------------------------------------------------------


def test_list_all_follows_next() -> None:
    portal = FakePortal(rows=120)
    rows = list(make_client(portal).list_all("crm.deal.list", {"select": ["ID", "TITLE"]}))

    assert [r["ID"] for r in rows] == [str(n) for n in range(1, 121)]
    assert [params["start"] for _, params in portal.requests] == [0, 50, 100]
    assert all(params["select"] == ["ID", "TITLE"] for _, params in portal.requests)


def test_fast_list_walks_by_id_and_chains_pages_in_one_batch() -> None:
    portal = FakePortal(rows=120)
    rows = list(
        make_client(portal).list_all(
            "crm.deal.list", {"filter": {"STAGE_ID": "NEW"}, "order": {"TITLE": "DESC"}}, fast=True
        )
    )

    assert [r["ID"] for r in rows] == [str(n) for n in range(1, 121)]
    assert len(portal.requests) == 2
    first_method, first = portal.requests[0]
    assert first_method == "crm.deal.list"
    assert first == {"filter": {"STAGE_ID": "NEW"}, "order": {"ID": "ASC"}, "start": -1}
    (chain,) = portal.batch_commands()
    assert len(chain) == PAGE
    p0 = php_query.decode(chain["p0"].partition("?")[2])
    p1 = php_query.decode(chain["p1"].partition("?")[2])
    assert p0["filter"] == {"STAGE_ID": "NEW", ">ID": "50"}
    assert p0["start"] == "-1"
    assert p1["filter"][">ID"] == "$result[p0][49][ID]"


def test_fast_list_stops_on_a_short_page() -> None:
    portal = FakePortal(rows=30)
    rows = list(make_client(portal).list_all("crm.deal.list", fast=True))
    assert len(rows) == 30
    assert len(portal.requests) == 1


def test_fast_list_of_exactly_full_pages_ends_on_an_empty_page() -> None:
    portal = FakePortal(rows=100)
    rows = list(make_client(portal).list_all("crm.deal.list", fast=True))
    assert [r["ID"] for r in rows] == [str(n) for n in range(1, 101)]


def test_fast_list_of_wrapped_rows_references_the_wrapper() -> None:
    portal = FakePortal(rows=120, wrapped=True)
    rows = list(
        make_client(portal).list_all(
            "crm.item.list",
            {"entityTypeId": 2, "filter": {">id": 0}},
            fast=True,
            id_field="id",
            rows_key="items",
        )
    )

    assert [r["id"] for r in rows] == list(range(1, 121))
    (chain,) = portal.batch_commands()
    p1 = php_query.decode(chain["p1"].partition("?")[2])
    assert p1["filter"][">id"] == "$result[p0][items][49][id]"
    assert p1["order"] == {"id": "ASC"}


def test_list_all_unwraps_a_one_key_result_by_itself() -> None:
    portal = FakePortal(rows=70, wrapped=True)
    rows = list(make_client(portal).list_all("crm.item.list", {"entityTypeId": 2}))
    assert len(rows) == 70


def test_fast_list_raises_a_failed_page() -> None:
    portal = FakePortal(rows=200)
    portal.failing_keys = {"p1"}
    with pytest.raises(NotFound):
        list(make_client(portal).list_all("crm.deal.list", fast=True))


_KEYS = st.sampled_from(["p0", "s1", "c2", "x"])
_TEXTS = st.one_of(
    st.text(max_size=8),
    st.builds(
        lambda key, tail: f"$result[{key}]{tail}", _KEYS, st.sampled_from(["", "[element][id]", "[0]"])
    ),
    st.builds(lambda key: f"name $result[{key}][ID] and more", _KEYS),
    st.builds(lambda first, second: f"$result[{first}][ID]-$result[{second}][ID]", _KEYS, _KEYS),
)
_SCALARS = st.one_of(
    _TEXTS, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none(), st.decimals(allow_nan=False)
)
_PARAMS = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=4), _PARAMS, max_size=4))
def test_references_are_every_result_key_the_sent_values_hold(params: dict[str, Any]) -> None:
    # What Bitrix24 resolves is what the command carries once flattened into its query.
    sent = {
        name for _, value in php_query.flatten(params) for name in re.findall(r"\$result\[([^\]]*)\]", value)
    }
    assert references(params) == sent
