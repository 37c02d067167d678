"""Property tests: the Bitrix24 emulator's REST endpoints against hostile and malformed input
(the example tests of each finding are in test_b24_hostile_input.py). Every answer is a portal
answer, never a crash. Whatever arrives (a form with bracket names of any depth, bad
percent-encoding, JSON of the wrong shape, a batch whose commands reference missing results),
the emulator answers 200 with the success envelope or a 4xx with the error envelope of README
§1.4 (`{"error": …, "error_description": …}`), and no method crashes (the dispatcher turns a crash
into 500 INTERNAL_SERVER_ERROR and logs it: both are checked)."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.b24.php_query import encode
from sandbox.b24 import create_app
from sandbox.b24.emulator import Emulator
from sandbox.b24.registry import METHODS
from tests.harness.crashes import ErrorRecords

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.contract

WEBHOOK = "/rest/1/sandbox"
FORM = {"content-type": "application/x-www-form-urlencoded"}
JSON_TYPE = {"content-type": "application/json"}

# Every registered method (the brief's sample and the rest), in the cases clients send.
_METHOD_NAMES = sorted(METHODS)
_method = st.sampled_from(_METHOD_NAMES) | st.sampled_from(_METHOD_NAMES).map(str.upper)
# Top-level names the methods read, in both cases the docs use, and any other text.
_PARAM_NAMES = (
    "fields",
    "FIELDS",
    "filter",
    "FILTER",
    "order",
    "select",
    "id",
    "ID",
    "start",
    "params",
    "cmd",
    "halt",
    "entityTypeId",
    "event",
    "handler",
    "auth_type",
    "event_type",
    "TEMPLATE_ID",
    "DOCUMENT_ID",
    "IBLOCK_TYPE_ID",
    "IBLOCK_ID",
    "ELEMENT_CODE",
    "rows",
    "type",
    "values",
    "USER_ID",
    "MESSAGE",
    "limit",
)
# Field names the handlers look at (legacy UPPER_SNAKE and camelCase), and any other text.
_FIELD_NAMES = (
    "BEGINDATE",
    "BIRTHDATE",
    "DATE_CREATE",
    "UF_CRM_SEEN",
    "IS_PRIMARY",
    "VALUE_TYPE",
    "DELETE",
    "TYPE",
    "MULTIPLE",
    "LIST",
    "SETTINGS",
    "USER_TYPE_ID",
    "FIELD_NAME",
    "TITLE",
    "OPPORTUNITY",
    "CURRENCY_ID",
    "CATEGORY_ID",
    "STAGE_ID",
    "ASSIGNED_BY_ID",
    "COMPANY_ID",
    "CONTACT_ID",
    "CONTACT_IDS",
    "BEGINDATE",
    "CLOSEDATE",
    "PHONE",
    "EMAIL",
    "UF_CRM_1",
    "ENTITY_TYPE_ID",
    "ENTITY_ID",
    "PRESET_ID",
    "TYPE_ID",
    "SORT",
    "NAME",
    "VALUE",
    "PRODUCT_ID",
    "PRICE",
    "QUANTITY",
    "DISCOUNT_TYPE_ID",
    "iblockId",
    "name",
    "code",
    "xmlId",
    "iblockSectionId",
    "productId",
    "catalogGroupId",
    "price",
    "currency",
    "quantityFrom",
    "quantityTo",
    "purchasingPrice",
    "quantity",
    "weight",
    "property1",
    "title",
    "stageId",
    "categoryId",
    "opportunity",
    "ID",
    ">ID",
    "@ID",
    "!=STAGE_ID",
    "%TITLE",
    "product",
    "prices",
)

_text = st.text(max_size=12)
_number_text = st.sampled_from(
    [
        "0",
        "-1",
        "1",
        "01",
        "1.5",
        "1e400",
        "-1e400",
        "nan",
        "inf",
        "-inf",
        "Infinity",
        "9" * 40,
        "9" * 5000,
        "²",
        "٣",
        " 7 ",
    ]
)
_scalar_text = _text | _number_text | st.sampled_from(["Y", "N", "DEAL_1", "$result[x]", "$result[0][ID]"])
_name = st.sampled_from(_PARAM_NAMES) | st.text(max_size=8)
_field = st.sampled_from(_FIELD_NAMES) | st.text(max_size=8)


@st.composite
def _bracket_name(draw: st.DrawFn) -> str:
    """`fields[a][b][]`, now and then nested past PHP's 64 levels or left unclosed."""
    depth = draw(st.integers(0, 4) | st.just(70))
    segments = [draw(_field | st.sampled_from(["", "0", "1", "VALUE"])) for _ in range(depth)]
    name = draw(_name) + "".join(f"[{s}]" for s in segments)
    return name + draw(st.sampled_from(["", "", "[", "]", "[x"]))


_BAD_ESCAPES = ("%", "%zz", "%E0%A4", "%FF", "%C0%80", "%00", "+", "%2", "%%", "&&", "=", "%5B", "%5D")


@st.composite
def form_body(draw: st.DrawFn) -> bytes:
    """A form body: bracket names, values of any text, some escaped, some raw, some broken."""
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(_bracket_name())
        value = draw(_scalar_text)
        encode = draw(st.sampled_from(["raw", "quoted", "compact"]))
        if encode == "quoted":
            name, value = quote(name, safe=""), quote(value, safe="")
        elif encode == "compact":
            name, value = quote(name, safe="[]"), quote(value, safe="")
        part = f"{name}={value}"
        if draw(st.booleans()):
            part += draw(st.sampled_from(_BAD_ESCAPES))
        parts.append(part)
    return "&".join(parts).encode("utf-8", errors="surrogatepass") + draw(st.binary(max_size=4))


_json_scalar = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63, max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _scalar_text
)
_json_value: st.SearchStrategy[Any] = st.recursive(
    _json_scalar,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_field, children, max_size=3),
    max_leaves=10,
)
_json_params = st.dictionaries(_name, _json_value, max_size=5)


def _raw_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", errors="surrogatepass")


# Text a client may send as "JSON": cut short, the non-standard constants, numbers past a
# double's range, nesting deeper than any parser takes, bytes that are not UTF-8.
_broken_json = st.sampled_from(
    [
        b"{",
        b'{"fields": ',
        b"[1, 2",
        b'{"fields": {"TITLE": "x", "OPPORTUNITY": NaN}}',
        b'{"fields": {"iblockId": 23, "name": "x", "weight": Infinity}}',
        b'{"fields": {"iblockId": 23, "name": "x", "weight": 1e400}}',
        b'{"fields": {"TITLE": "x", "OPPORTUNITY": -1e400, "ASSIGNED_BY_ID": 1e400}}',
        b'{"id": 1e400}',
        b'{"fields": {"productId": 1, "catalogGroupId": 1, "price": 1e400, "currency": "RUB"}}',
        b"[" * 100_000,
        b'{"fields": ' * 50_000,
        b'{"fields": {"TITLE": ' + b"[" * 3000 + b"]" * 3000 + b"}}",
        b"\xff\xfe{}",
        b'{"fields": {"TITLE": "\xc3\x28"}}',
        b"null",
        b'"text"',
        b"12",
        b"[]",
    ]
) | st.binary(max_size=30)


@pytest.fixture(scope="module")
def portal() -> Iterator[tuple[TestClient, Emulator, ErrorRecords]]:
    app = create_app()
    emulator: Emulator = app.state.emulator
    # Events fuzzed handlers would receive are dropped: nothing leaves the process.
    emulator.bus.pause(drop=True)
    crashes = ErrorRecords()
    logger = logging.getLogger("sandbox.b24")
    logger.addHandler(crashes)
    try:
        with TestClient(app) as client:
            emulator.bus.pause(drop=True)
            yield client, emulator, crashes
    finally:
        logger.removeHandler(crashes)


def assert_portal_answer(response: Any, crashes: ErrorRecords) -> dict[str, Any]:
    """A success envelope or a 4xx error envelope (README §1.3/§1.4); nothing crashed."""
    crashed = [record.getMessage() for record in crashes.records]
    crashes.records.clear()
    assert not crashed, crashed
    assert response.status_code < 500, response.text[:500]
    body = response.json()
    assert isinstance(body, dict)
    if response.status_code == 200:
        assert {"result", "time"} <= set(body), body
    else:
        assert 400 <= response.status_code < 500
        assert set(body) == {"error", "error_description"}, body
        assert isinstance(body["error"], str | int)
        assert isinstance(body["error_description"], str)
    return body


def _no_crashed_command(body: dict[str, Any]) -> None:
    result = body.get("result")
    errors = result.get("result_error") if isinstance(result, dict) else None
    if isinstance(errors, dict):
        errors = list(errors.values())
    for error in errors or []:
        assert error.get("error") != "INTERNAL_SERVER_ERROR", error


@settings(max_examples=120, deadline=None)
@given(method=_method, body=form_body(), query=form_body(), verb=st.sampled_from(["POST", "GET"]))
def test_any_form_body_or_query_gets_a_portal_answer(
    portal: tuple[TestClient, Emulator, ErrorRecords], method: str, body: bytes, query: bytes, verb: str
) -> None:
    client, _, crashes = portal
    # Structure and broken escapes kept; bytes a URL cannot carry raw are escaped.
    url = f"{WEBHOOK}/{method}.json?" + quote(query, safe="=&[]%+$")
    response = client.request(verb, url, content=body if verb == "POST" else None, headers=FORM)
    _no_crashed_command(assert_portal_answer(response, crashes))


@settings(max_examples=120, deadline=None)
@given(method=_method, params=_json_params)
def test_any_json_parameters_get_a_portal_answer(
    portal: tuple[TestClient, Emulator, ErrorRecords], method: str, params: dict[str, Any]
) -> None:
    client, _, crashes = portal
    response = client.post(f"{WEBHOOK}/{method}", content=_raw_json(params), headers=JSON_TYPE)
    _no_crashed_command(assert_portal_answer(response, crashes))


@settings(max_examples=60, deadline=None)
@given(method=_method, body=_broken_json | _json_value.map(_raw_json))
def test_a_body_that_is_not_a_json_object_gets_a_portal_answer(
    portal: tuple[TestClient, Emulator, ErrorRecords], method: str, body: bytes
) -> None:
    client, _, crashes = portal
    response = client.post(f"{WEBHOOK}/{method}.json", content=body, headers=JSON_TYPE)
    assert_portal_answer(response, crashes)


@settings(max_examples=40, deadline=None)
@given(method=_method, parts=st.lists(st.tuples(_bracket_name(), _scalar_text), max_size=5))
def test_any_multipart_form_gets_a_portal_answer(
    portal: tuple[TestClient, Emulator, ErrorRecords], method: str, parts: list[tuple[str, str]]
) -> None:
    client, _, crashes = portal
    files = [(name, (None, value.encode("utf-8", errors="surrogatepass"))) for name, value in parts]
    response = client.post(f"{WEBHOOK}/{method}", files=files or [("x", (None, b""))])
    assert_portal_answer(response, crashes)


# -- batch ------------------------------------------------------------------------------------

_reference = st.builds(
    lambda key, path: f"$result[{key}]" + "".join(f"[{p}]" for p in path),
    st.sampled_from(["0", "1", "a", "missing", ""]) | st.text(max_size=4),
    st.lists(
        st.sampled_from(["0", "ID", "id", "element", "items", "49", "x", "", "²", "9" * 30]), max_size=4
    ),
)


@st.composite
def batch_command(draw: st.DrawFn) -> str:
    """`method?query` with back-references to keys that may not exist, or any text."""
    name = draw(_method | st.sampled_from(["batch", "", "?", "crm.deal.get?", " crm.deal.list "]))
    pairs: list[str] = []
    for _ in range(draw(st.integers(0, 4))):
        value = draw(_reference | _scalar_text)
        pairs.append(f"{draw(_bracket_name())}={draw(st.sampled_from([value, quote(value, safe='')]))}")
    marked: bool = bool(pairs) or draw(st.booleans())
    separator = "?" if marked else ""
    command = name + separator + "&".join(pairs)
    return draw(st.just(command) | st.text(max_size=20))


_commands = (
    st.lists(batch_command(), max_size=6)
    | st.dictionaries(
        st.sampled_from(["0", "1", "a", "b", "missing"]) | st.text(max_size=4), batch_command(), max_size=6
    )
    | batch_command()
    | _json_value
)


@settings(max_examples=120, deadline=None)
@given(
    cmd=_commands,
    halt=st.sampled_from([0, 1, "0", "1", True, "Y", None, [], {}]),
    encoding=st.sampled_from(["json", "form"]),
)
def test_any_batch_gets_a_portal_answer(
    portal: tuple[TestClient, Emulator, ErrorRecords], cmd: Any, halt: Any, encoding: str
) -> None:
    client, _, crashes = portal
    if encoding == "json":
        response = client.post(
            f"{WEBHOOK}/batch", content=_raw_json({"cmd": cmd, "halt": halt}), headers=JSON_TYPE
        )
    else:
        form = encode({"cmd": cmd if isinstance(cmd, dict | list) else [cmd], "halt": halt})
        response = client.post(
            f"{WEBHOOK}/batch", content=form.encode("utf-8", errors="surrogatepass"), headers=FORM
        )
    answer = assert_portal_answer(response, crashes)
    _no_crashed_command(answer)
    if response.status_code == 200:
        sections = {"result", "result_error", "result_total", "result_next", "result_time"}
        assert set(answer["result"]) == sections


# -- a valid call with one hostile value ----------------------------------------------------

# Values a portal gets from careless or hostile clients, in JSON and (as text) in forms.
_hostile_value = (
    _json_value
    | _number_text
    | st.sampled_from(
        [
            [],
            {},
            [None],
            {"0": {}},
            -(2**70),
            2**64,
            1e308,
            -1e-308,
            "",
            " ",
            "0000-00-00",
            "31.02.2024",
            "99.99.9999",
            "0001-01-01T00:00:00+14:00",
            "2024-01-01T00:00:00Z",
            "Y",
            "N",
            "enumeration",
            "datetime",
            "double",
            "crm_multifield",
        ]
    )
)


def _valid_calls(rest_ids: dict[str, int]) -> list[tuple[str, dict[str, Any]]]:
    """One request per method of the brief's sample that the emulator answers 200."""
    deal, product, company, contact = (
        rest_ids["deal"],
        rest_ids["product"],
        rest_ids["company"],
        rest_ids["contact"],
    )
    return [
        (
            "crm.deal.add",
            {"fields": {"TITLE": "x", "OPPORTUNITY": 10, "CURRENCY_ID": "RUB", "COMPANY_ID": company}},
        ),
        ("crm.deal.update", {"id": deal, "fields": {"TITLE": "y", "STAGE_ID": "NEW", "ASSIGNED_BY_ID": 1}}),
        ("crm.deal.get", {"id": deal}),
        (
            "crm.deal.list",
            {
                "filter": {">ID": 0, "STAGE_ID": "NEW"},
                "select": ["ID", "TITLE"],
                "order": {"ID": "ASC"},
                "start": 0,
            },
        ),
        (
            "crm.deal.productrows.set",
            {"id": deal, "rows": [{"PRODUCT_ID": product, "PRICE": 5, "QUANTITY": 2}]},
        ),
        ("crm.deal.contact.items.set", {"id": deal, "items": [{"CONTACT_ID": contact, "IS_PRIMARY": "Y"}]}),
        ("crm.item.add", {"entityTypeId": 2, "fields": {"title": "x", "opportunity": 5, "categoryId": 0}}),
        ("crm.item.update", {"entityTypeId": 2, "id": deal, "fields": {"title": "z", "stageId": "NEW"}}),
        ("crm.item.get", {"entityTypeId": 2, "id": deal}),
        (
            "crm.item.list",
            {"entityTypeId": 2, "filter": {">id": 0}, "select": ["id"], "order": {"id": "DESC"}},
        ),
        ("crm.company.add", {"fields": {"TITLE": "c", "PHONE": [{"VALUE": "+7 900", "VALUE_TYPE": "WORK"}]}}),
        (
            "crm.contact.add",
            {
                "fields": {
                    "NAME": "n",
                    "EMAIL": [{"VALUE": "a@b.c", "VALUE_TYPE": "WORK"}],
                    "COMPANY_ID": company,
                }
            },
        ),
        ("crm.timeline.comment.add", {"fields": {"ENTITY_ID": deal, "ENTITY_TYPE": "deal", "COMMENT": "c"}}),
        (
            "catalog.product.add",
            {"fields": {"iblockId": 23, "name": "p", "weight": 1, "purchasingPrice": 2, "quantity": 1}},
        ),
        ("catalog.product.update", {"id": product, "fields": {"name": "q", "width": 3, "property1": 1}}),
        (
            "catalog.product.list",
            {
                "filter": {"iblockId": 23, ">id": 0},
                "select": ["id", "iblockId", "name"],
                "order": {"id": "asc"},
            },
        ),
        ("catalog.section.add", {"fields": {"iblockId": 23, "name": "s", "sort": 10}}),
        (
            "catalog.price.add",
            {
                "fields": {
                    "productId": product,
                    "catalogGroupId": 1,
                    "price": 1.5,
                    "currency": "RUB",
                    "quantityFrom": 1000,
                }
            },
        ),
        (
            "catalog.price.modify",
            {
                "fields": {
                    "product": {
                        "id": product,
                        "prices": [{"catalogGroupId": 1, "price": 3, "currency": "RUB"}],
                    }
                }
            },
        ),
        ("catalog.price.list", {"filter": {"productId": product}, "select": ["id", "price"], "start": 0}),
        (
            "event.bind",
            {
                "event": "ONCRMDEALADD",
                "handler": "https://handler.invalid/x",
                "event_type": "offline",
                "auth_type": 1,
            },
        ),
        ("event.offline.get", {"clear": 0, "limit": 5}),
        (
            "bizproc.workflow.start",
            {"TEMPLATE_ID": 1, "DOCUMENT_ID": ["crm", "CCrmDocumentDeal", f"DEAL_{deal}"], "PARAMETERS": {}},
        ),
        ("im.notify.system.add", {"USER_ID": 1, "MESSAGE": "m"}),
        ("user.get", {"FILTER": {"ACTIVE": True}, "sort": "ID", "order": "ASC"}),
        ("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}}),
        ("crm.category.get", {"entityTypeId": 2, "id": 0}),
        ("crm.category.add", {"entityTypeId": 2, "fields": {"name": "f", "sort": 10}}),
        (
            "crm.deal.userfield.add",
            {
                "fields": {
                    "FIELD_NAME": "K",
                    "USER_TYPE_ID": "enumeration",
                    "SORT": 1,
                    "LIST": [{"VALUE": "a", "SORT": 1}],
                }
            },
        ),
        (
            "crm.contact.company.add",
            {"id": contact, "fields": {"COMPANY_ID": company, "SORT": 10, "IS_PRIMARY": "Y"}},
        ),
        ("crm.contact.company.items.set", {"id": contact, "items": [{"COMPANY_ID": company, "SORT": 10}]}),
        (
            "crm.requisite.add",
            {
                "fields": {
                    "ENTITY_TYPE_ID": 4,
                    "ENTITY_ID": company,
                    "PRESET_ID": 1,
                    "NAME": "r",
                    "RQ_INN": "7700000000",
                }
            },
        ),
        (
            "crm.company.update",
            {
                "id": company,
                "fields": {
                    "TITLE": "t",
                    "PHONE": [{"VALUE": "+7", "VALUE_TYPE": "WORK"}],
                    "EMAIL": [{"ID": 1, "DELETE": "Y"}],
                },
            },
        ),
        (
            "crm.contact.update",
            {"id": contact, "fields": {"BIRTHDATE": "2000-01-01", "EMAIL": [{"VALUE": "x@y.z"}]}},
        ),
        (
            "crm.deal.update",
            {
                "id": deal,
                "fields": {
                    "BEGINDATE": "01.02.2024",
                    "CLOSEDATE": "2024-03-01T10:00:00+03:00",
                    "UF_CRM_1": "x",
                },
            },
        ),
        ("crm.duplicate.findbycomm", {"type": "PHONE", "values": ["+7 900"], "entity_type": "CONTACT"}),
        ("crm.timeline.comment.list", {"filter": {"ENTITY_ID": deal, "ENTITY_TYPE": "deal"}}),
        ("user.search", {"FILTER": {"NAME": "a"}}),
        ("lists.add", {"IBLOCK_TYPE_ID": "lists", "IBLOCK_CODE": "pay", "FIELDS": {"NAME": "p", "SORT": 10}}),
        (
            "lists.element.add",
            {
                "IBLOCK_TYPE_ID": "lists",
                "IBLOCK_ID": 1,
                "ELEMENT_CODE": "e1",
                "FIELDS": {"NAME": "n", "PROPERTY_1": "v"},
            },
        ),
        ("event.unbind", {"event": "ONCRMDEALADD", "handler": "https://handler.invalid/x", "auth_type": 1}),
        (
            "batch",
            {
                "halt": 0,
                "cmd": {"a": "crm.deal.list?filter[>ID]=0", "b": "crm.deal.get?id=$result[a][0][ID]"},
            },
        ),
        ("catalog.product.get", {"id": product}),
        ("catalog.section.list", {"filter": {"iblockId": 23}, "order": {"sort": "asc"}}),
        ("crm.deal.productrows.get", {"id": deal}),
    ]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replaced(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replaced(copy[head], rest, new)
    return copy


@pytest.fixture(scope="module")
def known_ids(portal: tuple[TestClient, Emulator, ErrorRecords]) -> dict[str, int]:
    client = portal[0]

    def add(method: str, params: dict[str, Any]) -> Any:
        answer = client.post(f"{WEBHOOK}/{method}", json=params)
        assert answer.status_code == 200, answer.text
        return answer.json()["result"]

    company = add("crm.company.add", {"fields": {"TITLE": "Альфа"}})
    return {
        "company": company,
        "contact": add("crm.contact.add", {"fields": {"NAME": "Елена", "COMPANY_ID": company}}),
        "deal": add("crm.deal.add", {"fields": {"TITLE": "Сделка", "COMPANY_ID": company}}),
        "product": add("catalog.product.add", {"fields": {"iblockId": 23, "name": "Болт"}})["element"]["id"],
    }


@settings(max_examples=250, deadline=None)
@given(data=st.data(), encoding=st.sampled_from(["json", "form"]))
def test_a_valid_call_with_one_hostile_value_gets_a_portal_answer(
    portal: tuple[TestClient, Emulator, ErrorRecords],
    known_ids: dict[str, int],
    data: st.DataObject,
    encoding: str,
) -> None:
    client, _, crashes = portal
    method, params = data.draw(st.sampled_from(_valid_calls(known_ids)), label="call")
    if data.draw(st.integers(0, 3)):
        path = data.draw(st.sampled_from(_paths(params)), label="path")
        params = _replaced(params, path, data.draw(_hostile_value, label="value"))
    else:  # a key the call did not have, anywhere in it
        holders = [p for p in [(), *_paths(params)] if isinstance(_at(params, p), dict)]
        holder = data.draw(st.sampled_from(holders), label="holder")
        key = data.draw(_field | _name, label="key")
        params = _replaced(
            params, holder, {**_at(params, holder), key: data.draw(_hostile_value, label="value")}
        )
    if encoding == "json":
        response = client.post(f"{WEBHOOK}/{method}", content=_raw_json(params), headers=JSON_TYPE)
    else:
        response = client.post(
            f"{WEBHOOK}/{method}",
            content=encode(params).encode("utf-8", errors="surrogatepass"),
            headers=FORM,
        )
    assert_portal_answer(response, crashes)
