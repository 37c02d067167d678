"""Property tests: the 1C emulator's OData endpoints against hostile and malformed input (the
example tests of each finding are in test_onec_hostile_input.py). Whatever the path, key, query
options, body or Authorization header, the answer is one the platform gives (README §8): a 2xx, a
401 with the Basic challenge, a 4xx with its `odata.error` body (or the Atom `m:error` code 3 when
JSON was not asked for), or one of the platform's own documented 5xx (code -1 for malformed JSON,
an array sent into a property or an invalid comparison; code 21 for a function on the wrong type;
501 code 0 for what the emulator does not model); and the emulator never crashes (its catch-all
logs a crash: that is checked too)."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, unquote

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sandbox.onec import create_app
from sandbox.onec.errors import INTERNAL_ERROR_TEXT, INVALID_COMPARISON_TEXT
from sandbox.onec.model import EntitySet, full_model
from tests.harness.crashes import ErrorRecords

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.contract

ROOT = "/unf/odata/standard.odata/"
AUTH = ("odata", "odata")
MODEL = full_model()
SETS = sorted(MODEL.sets)
OBJECT_SETS = sorted(n for n, s in MODEL.sets.items() if s.is_object)
TABULAR_SETS = sorted(MODEL.tabular_sets)
# The platform's own 5xx answers the emulator reproduces on purpose (README §8; docs/sandbox-onec.md).
DOCUMENTED_5XX = {
    ("-1", INTERNAL_ERROR_TEXT),
    ("-1", "Непредвиденный символ при чтении JSON"),
    ("-1", INVALID_COMPARISON_TEXT),
}


def _ascii_location(app: Any) -> Any:
    """The test client cannot carry the raw UTF-8 `Location` the emulator sends (like 1C does):
    it is percent-encoded on the way to it."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [
                        (k, quote(v, safe=b":/?&=()'").encode() if k == b"location" else v)
                        for k, v in message["headers"]
                    ],
                }
            await send(message)

        await app(scope, receive, sending)

    return wrapped


@pytest.fixture(scope="module")
def base() -> Iterator[tuple[TestClient, ErrorRecords, dict[str, list[str]]]]:
    app = create_app()
    crashes = ErrorRecords()
    logger = logging.getLogger("sandbox.onec")
    logger.addHandler(crashes)
    refs: dict[str, list[str]] = {}
    for name in OBJECT_SETS:
        refs[name] = list(app.state.base.store.table(name))[:3]
    try:
        with TestClient(_ascii_location(app)) as client:
            yield client, crashes, refs
    finally:
        logger.removeHandler(crashes)


def assert_odata_answer(response: Any, crashes: ErrorRecords) -> None:
    crashed = [record.getMessage() for record in crashes.records]
    crashes.records.clear()
    assert not crashed, crashed
    status = response.status_code
    if status == 404 and response.headers.get("content-type", "").startswith("text/plain"):
        # A path with a control character matches no route: the web server's own 404, as a
        # publication's front end (IIS, Apache) answers such a URL itself, never 1C.
        assert any(ord(ch) < 32 or ch == "\x7f" for ch in unquote(response.request.url.path))
        return
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Basic")
        return
    if status < 400:
        return
    if response.headers.get("content-type", "").startswith("application/xml"):
        assert status == 400
        assert "<m:code>3</m:code>" in response.text
        return
    error = response.json()["odata.error"]
    assert isinstance(error["code"], str)
    assert error["message"]["lang"] == "ru"
    assert isinstance(error["message"]["value"], str)
    if status >= 500:
        documented = (error["code"], error["message"]["value"]) in DOCUMENTED_5XX
        documented = documented or (status == 500 and error["code"] == "21")
        documented = documented or (status == 501 and error["code"] == "0")
        assert documented, response.text


# -- strategies ------------------------------------------------------------------------------

_guid = st.uuids().map(str)
_bad_text = st.text(max_size=10) | st.sampled_from(
    ["'", "''", "(", ")", "%", "%zz", "%FF", "+", "²", "٣", "\x00", "/", ","]
)
_number = st.sampled_from(
    ["0", "-1", "1.5", "1e400", "9" * 30, "9" * 5000, "1L", "2.5M", "nan", "00", "²"]
) | st.integers().map(str)
_literal = (
    _guid.map(lambda g: f"guid'{g}'")
    | _bad_text.map(lambda t: f"guid'{t}'")
    | st.sampled_from(
        [
            "datetime'2024-01-01T00:00:00'",
            "datetime'2024-13-45T99:99'",
            "datetime'x'",
            "datetimeoffset'2024-01-01T00:00'",
            "time'PT1H'",
            "X'00'",
            "binary'00'",
        ]
    )
    | _bad_text.map(lambda t: "'" + t.replace("'", "''") + "'")
    | _number
    | st.sampled_from(
        ["true", "false", "null", "cast(guid'00000000-0000-0000-0000-000000000000','Catalog_Контрагенты')"]
    )
)
_OPERATORS = [
    "eq",
    "ne",
    "gt",
    "ge",
    "lt",
    "le",
    "and",
    "or",
    "not",
    "add",
    "sub",
    "mul",
    "div",
    "mod",
    "in",
    "has",
]
_FUNCTIONS = [
    "substringof",
    "startswith",
    "endswith",
    "tolower",
    "toupper",
    "trim",
    "length",
    "indexof",
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "cast",
    "round",
    "isof",
    "concat",
]


def _props_of(set_name: str) -> list[str]:
    entity = MODEL.sets.get(set_name)
    if entity is None:
        owner_section = MODEL.tabular_sets.get(set_name)
        return [p.name for p in owner_section[1].props] if owner_section else ["Ref_Key"]
    names = [p.name for p in entity.props]
    names += [f"{n[:-4]}/Description" for n in names if n.endswith("_Key")][:5]
    names += [f"{t}/any(d: d/LineNumber gt 1)" for t in entity.tabular][:2]
    return names


_NUMBERS = st.sampled_from(
    ["0", "1", "-1", "1.5", "1e308", "1e400", "9" * 30, "9" * 5000, "1L", "2.5M", "00"]
) | st.integers().map(str)


def _owner_props(set_name: str) -> list[Any]:
    entity = MODEL.sets.get(set_name)
    if entity is not None:
        return [p for p in entity.props if not p.is_collection]
    section = MODEL.tabular_sets.get(set_name)
    return list(section[1].props) if section else []


@st.composite
def typed_filter(draw: st.DrawFn, set_name: str) -> str:
    """Well-typed comparisons (so the check passes and the evaluator runs), combined freely."""
    props = _owner_props(set_name)
    if not props:
        return "true"

    def clause() -> str:
        prop = draw(st.sampled_from(props))
        name = prop.name
        if prop.edm == "Edm.Guid":
            guid: str = draw(_guid.map(lambda g: f"guid'{g}'") | st.just("null"))
            return f"{name} {draw(st.sampled_from(['eq', 'ne']))} {guid}"
        if prop.edm == "Edm.DateTime":
            op = draw(st.sampled_from(["eq", "gt", "le", "ne"]))
            if draw(st.booleans()):
                part = draw(st.sampled_from(["year", "month", "day", "hour", "minute", "second"]))
                return f"{part}({name}) {op} {draw(_NUMBERS)}"
            moment = draw(st.sampled_from(["2024-01-01T00:00:00", "9999-12-31T23:59:59", "0001-01-01T00:00"]))
            return f"{name} {op} datetime'{moment}'"
        if prop.edm == "Edm.Boolean":
            flag: str = draw(st.sampled_from([name, f"not {name}", f"{name} eq true", f"{name} ne null"]))
            return flag
        if prop.edm in ("Edm.Double", "Edm.Int16", "Edm.Int32", "Edm.Int64"):
            arith = draw(st.sampled_from(["add", "sub", "mul", "div", "mod", "+", "-"]))
            left = draw(
                st.sampled_from(
                    [
                        name,
                        f"-{name}",
                        f"-({name} div 0)",
                        f"({name} {arith} {draw(_NUMBERS)})",
                        f"-(-{name})",
                    ]
                )
            )
            return f"{left} {draw(st.sampled_from(['eq', 'ne', 'gt', 'lt', 'ge', 'le']))} {draw(_NUMBERS)}"
        text = "'" + draw(_bad_text).replace("'", "''") + "'"
        if draw(st.booleans()):
            function = draw(st.sampled_from(["substringof", "startswith", "endswith", "indexof"]))
            args = (text, name) if function == "substringof" else (name, text)
            call = f"{function}({args[0]}, {args[1]})"
            return call if function != "indexof" else f"{call} ge {draw(_NUMBERS)}"
        wrapped = draw(st.sampled_from([name, f"tolower({name})", f"trim({name})", f"length({name})"]))
        literal = draw(_NUMBERS) if wrapped.startswith("length") else text
        return f"{wrapped} {draw(st.sampled_from(['eq', 'ne', 'gt', 'le']))} {literal}"

    parts = [clause() for _ in range(draw(st.integers(1, 4)))]
    text = ""
    for part in parts:
        joiner = draw(st.sampled_from([" and ", " or ", " and not ", " or ("])) if text else ""
        text += (
            joiner + (f"({part})" if draw(st.booleans()) else part) + (")" if joiner.endswith("(") else "")
        )
    return text


@st.composite
def filter_text(draw: st.DrawFn, set_name: str) -> str:
    props = _props_of(set_name)
    atom = st.sampled_from(props) | _literal
    comparison = st.builds(lambda a, op, b: f"{a} {op} {b}", atom, st.sampled_from(_OPERATORS), atom)
    call = st.builds(
        lambda f, args: f"{f}({', '.join(args)})", st.sampled_from(_FUNCTIONS), st.lists(atom, max_size=3)
    )
    clause = comparison | call | atom
    clauses = draw(st.lists(clause, min_size=1, max_size=4))
    text = f" {draw(st.sampled_from(['and', 'or', 'and not', '+', '']))} ".join(clauses)
    if draw(st.integers(0, 2)):
        text = draw(typed_filter(set_name))
    shape = draw(st.sampled_from(["plain", "plain", "parens", "nots", "negations", "chain", "soup"]))
    if shape == "parens":
        depth = draw(st.integers(1, 400))
        text = "(" * depth + text + ")" * draw(st.sampled_from([depth, depth - 1, depth + 1]))
    elif shape == "nots":
        text = "not " * draw(st.integers(1, 2000)) + text
    elif shape == "negations":
        text = "-" * draw(st.integers(1, 2000)) + "1 eq 1"
    elif shape == "chain":
        joiner = draw(st.sampled_from([" and ", " or ", " add ", " mul "]))
        text = joiner.join([text] * draw(st.integers(2, 1500)))
    elif shape == "soup":
        soup = (
            st.sampled_from([*props, *_OPERATORS, *_FUNCTIONS, "(", ")", ",", "/", ":", "-", "any", "all"])
            | _literal
            | _bad_text
        )
        text = " ".join(draw(st.lists(soup, min_size=1, max_size=12)))
    return text


def _list_of_names(set_name: str) -> st.SearchStrategy[str]:
    names = (
        st.sampled_from(_props_of(set_name))
        | _bad_text
        | st.sampled_from(["*", "", " ", "Ref_Key desc", "Ref_Key asc extra", "Контрагент/Контрагент"])
    )
    return st.lists(names, max_size=4).map(",".join) | st.builds(
        lambda n, k: "/".join([n] * k),
        st.sampled_from(["Parent", "Owner", "Контрагент"]),
        st.integers(1, 300),
    )


def _encode_option(value: str, plus: bool) -> str:
    encoded = quote(value, safe="'(),/:$*")
    return encoded.replace("%20", "+") if plus else encoded


@st.composite
def query_options(draw: st.DrawFn, set_name: str) -> str:
    options: dict[str, str] = {}
    if draw(st.integers(0, 3)) == 0:
        options["$filter"] = draw(filter_text(set_name) | _bad_text)
    for name in ("$select", "$orderby", "$expand"):
        if draw(st.integers(0, 2)) == 0:
            options[name] = draw(_list_of_names(set_name))
    for name in ("$top", "$skip"):
        if draw(st.integers(0, 2)) == 0:
            options[name] = draw(_number | _bad_text)
    if draw(st.integers(0, 3)) == 0:
        options["$inlinecount"] = draw(st.sampled_from(["allpages", "none", "", "x"]) | _bad_text)
    options["$format"] = (
        "json"
        if draw(st.integers(0, 9))
        else draw(st.sampled_from(["json;odata=nometadata", "atom", "JSON"]) | _bad_text)
    )
    if draw(st.integers(0, 5)) == 0:
        options["Condition"] = draw(filter_text(set_name))
    plus = draw(st.integers(0, 4)) == 0
    parts = [f"{quote(k, safe='$')}={_encode_option(v, plus)}" for k, v in options.items()]
    if draw(st.integers(0, 6)) == 0:
        parts.append(draw(st.sampled_from(["%", "%zz", "=", "&", "$filter", "%FF%FE=1", "$top=1&$top=2"])))
    return "&".join(parts)


_key_text = (
    _guid.map(lambda g: f"guid'{g}'")
    | _bad_text.map(lambda t: f"guid'{t}'")
    | _literal
    | _bad_text
    | st.builds(lambda g, n: f"Ref_Key=guid'{g}',LineNumber={n}", _guid, _number)
    | st.builds(
        lambda n, v: f"{n}={v}",
        st.sampled_from(["Period", "ВидЦен_Key", "Номенклатура_Key", "Ref_Key", "x", "1a", ""]),
        _literal,
    )
    | st.sampled_from(
        ["", "(", ")", "((guid'x'))", "guid'", "'", "a=b=c", ",", "Period=datetime'2024-01-01T00:00:00',"]
    )
)


@st.composite
def resource_path(draw: st.DrawFn, refs: dict[str, list[str]]) -> tuple[str, str]:
    set_name = draw(
        st.sampled_from(OBJECT_SETS)
        | st.sampled_from(SETS)
        | st.sampled_from(TABULAR_SETS)
        | st.sampled_from(["", "$metadata", "Catalog_Нет", "$count"])
    )
    shape = draw(st.sampled_from(["set", "set", "key", "known", "nav", "function", "count", "deep"]))
    path = set_name
    if shape == "key":
        path += f"({draw(_key_text)})"
    elif shape == "known" and refs.get(set_name):
        path += f"(guid'{draw(st.sampled_from(refs[set_name]))}')"
        path += draw(
            st.sampled_from(
                ["", "/Контрагент", "/Parent", "/Owner", "/Post", "/Unpost", "/$count", "/x", "/"]
            )
        )
    elif shape == "nav":
        path += f"({draw(_key_text)})/{draw(_bad_text | st.sampled_from(['Контрагент', 'Parent']))}"
    elif shape == "function":
        function = draw(
            st.sampled_from(
                ["SliceLast", "SliceFirst", "Balance", "Turnovers", "BalanceAndTurnovers", "Post", "x"]
            )
        )
        args = draw(
            st.lists(
                st.builds(
                    lambda n, v: f"{n}={v}",
                    st.sampled_from(["Period", "Condition", "Dimensions", "StartPeriod", "x"]),
                    _literal | _bad_text | st.just("'Номенклатура,Склад'"),
                ),
                max_size=3,
            )
        )
        path += f"/{function}" + (f"({','.join(args)})" if draw(st.booleans()) else "")
    elif shape == "count":
        path += "/$count"
    elif shape == "deep":
        path += "/" + "/".join(draw(st.lists(_bad_text, max_size=4)))
    return set_name, path


def _url(path: str, query: str) -> str:
    url = ROOT + quote(path, safe="/()',=:$") + ("?" + query if query else "")
    assume(len(url) < 60_000)  # the test client's own limit (httpx)
    return url


_COLLECTIONS = [n for n in SETS if not n.startswith("AccumulationRegister_ЗапасыНаСкладах")] + TABULAR_SETS


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_any_filter_gets_an_odata_answer(
    base: tuple[TestClient, ErrorRecords, dict[str, list[str]]], data: st.DataObject
) -> None:
    client, crashes, _ = base
    set_name = data.draw(st.sampled_from(_COLLECTIONS), label="set")
    text = data.draw(filter_text(set_name) | _bad_text, label="filter")
    plus = data.draw(st.integers(0, 4)) == 0
    response = client.get(_url(set_name, f"$format=json&$filter={_encode_option(text, plus)}"), auth=AUTH)
    assert_odata_answer(response, crashes)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_query_options_get_an_odata_answer(
    base: tuple[TestClient, ErrorRecords, dict[str, list[str]]], data: st.DataObject
) -> None:
    client, crashes, refs = base
    set_name = data.draw(st.sampled_from(_COLLECTIONS), label="set")
    query = data.draw(query_options(set_name), label="query")
    known = refs.get(set_name)
    if known and data.draw(st.booleans()):
        set_name += f"(guid'{data.draw(st.sampled_from(known))}')"
    response = client.get(_url(set_name, query), auth=AUTH)
    assert_odata_answer(response, crashes)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_resource_path_gets_an_odata_answer(
    base: tuple[TestClient, ErrorRecords, dict[str, list[str]]], data: st.DataObject
) -> None:
    client, crashes, refs = base
    _, path = data.draw(resource_path(refs), label="path")
    query = (
        "$format=json"
        if data.draw(st.integers(0, 3))
        else data.draw(query_options(path.split("(")[0].split("/")[0]))
    )
    response = client.request(
        data.draw(st.sampled_from(["GET", "GET", "POST"])), _url(path, query), auth=AUTH
    )
    assert_odata_answer(response, crashes)


_json_scalar = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63, max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _bad_text
    | _guid
    | _number
    | st.sampled_from(
        [
            "2024-01-01T00:00:00",
            "2024-02-30T25:61:61",
            "0001-01-01T00:00:00",
            "true",
            "Edm.String",
            "StandardODATA.Catalog_Контрагенты",
            "nan",
            "inf",
            "1e400",
        ]
    )
)
_QUALIFIER_KEYS = st.sampled_from(
    [
        "Types",
        "NumberQualifiers",
        "StringQualifiers",
        "DateQualifiers",
        "BinaryDataQualifiers",
        "Digits",
        "FractionDigits",
        "Length",
        "AllowedLength",
        "AllowedSign",
        "DateFractions",
        "LineNumber",
    ]
)
_json_value: st.SearchStrategy[Any] = st.recursive(
    _json_scalar,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(_bad_text | _QUALIFIER_KEYS, children, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def write_body(draw: st.DrawFn, set_name: str) -> bytes:
    entity: EntitySet | None = MODEL.sets.get(set_name)
    props = [p.name for p in entity.props] if entity else ["Description"]
    body: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(props) | _bad_text, max_size=5)):
        if entity is not None and name in entity.tabular:
            section = entity.tabular[name]
            row_props = [p.name for p in section.props]
            rows = draw(
                st.lists(
                    st.dictionaries(st.sampled_from([*row_props, "LineNumber"]), _json_value, max_size=4)
                    | _json_value,
                    max_size=3,
                )
            )
            body[name] = draw(st.just(rows) | _json_value)
        else:
            body[name] = draw(_json_value)
    text = json.dumps(body, ensure_ascii=False)
    shape = draw(st.sampled_from(["object", "object", "object", "other", "broken"]))
    if shape == "other":
        text = json.dumps(draw(_json_value), ensure_ascii=False)
    elif shape == "broken":
        text = draw(
            st.sampled_from(
                [
                    "{",
                    '{"Description": ',
                    "[" * 100_000,
                    '{"a":' * 50_000,
                    "NaN",
                    '{"Description": NaN}',
                    '{"Цена": 1e400}',
                    '{"Количество": Infinity}',
                    "\ufeff{}",
                    "",
                    "null",
                ]
            )
            | st.text(max_size=20)
        )
    return text.encode("utf-8", errors="surrogatepass")


@settings(max_examples=250, deadline=None)
@given(data=st.data())
def test_any_write_gets_an_odata_answer(
    base: tuple[TestClient, ErrorRecords, dict[str, list[str]]], data: st.DataObject
) -> None:
    client, crashes, refs = base
    method = data.draw(st.sampled_from(["POST", "PATCH", "PUT", "MERGE", "DELETE"]), label="method")
    set_name = data.draw(
        st.sampled_from(OBJECT_SETS) | st.sampled_from(SETS) | st.sampled_from(TABULAR_SETS), label="set"
    )
    path = set_name
    if method != "POST" or data.draw(st.integers(0, 4)) == 0:
        known = refs.get(set_name)
        key = data.draw(
            st.sampled_from(known).map(lambda r: f"guid'{r}'") if known else _key_text, label="key"
        )
        path += f"({key})"
    body = data.draw(write_body(set_name), label="body")
    response = client.request(
        method,
        _url(path, "$format=json"),
        content=body,
        auth=AUTH,
        headers={"content-type": "application/json"},
    )
    assert_odata_answer(response, crashes)


@settings(max_examples=60, deadline=None)
@given(header=st.binary(max_size=40) | st.builds(lambda b: b"Basic " + b, st.binary(max_size=40)))
def test_any_authorization_header_gets_an_odata_answer(
    base: tuple[TestClient, ErrorRecords, dict[str, list[str]]], header: bytes
) -> None:
    client, crashes, _ = base
    response = client.get(_url("Catalog_Валюты", "$format=json"), headers={"authorization": header})
    assert_odata_answer(response, crashes)
