"""The 1C emulator's OData endpoints against hostile and malformed input (README §8): every answer
is one the platform gives, a 4xx with its `odata.error` body or one of its own documented 5xx
(malformed JSON, invalid comparison, code -1), never a crash of the emulator."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from sandbox.onec import create_app
from sandbox.onec.state import EmulatorState

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.contract

ROOT = "/unf/odata/standard.odata/"
AUTH = ("odata", "odata")


@pytest.fixture
def base() -> EmulatorState:
    state: EmulatorState = create_app().state.base
    return state


@pytest.fixture
def client(caplog: pytest.LogCaptureFixture, base: EmulatorState) -> Iterator[TestClient]:
    app = create_app()
    app.state.base = base
    with caplog.at_level(logging.ERROR, logger="sandbox.onec"), TestClient(app) as test_client:
        yield test_client
    crashes = [r.getMessage() for r in caplog.records if r.name.startswith("sandbox.onec")]
    assert not crashes, crashes


def url(path: str, **options: str) -> str:
    query = "&".join(f"{name}={quote(value, safe=chr(39) + '(),/:')}" for name, value in options.items())
    return ROOT + quote(path, safe="()',=/") + ("?" + query if query else "")


def odata_error(response: Any) -> tuple[int, str, str]:
    error = response.json()["odata.error"]
    assert error["message"]["lang"] == "ru"
    return response.status_code, error["code"], error["message"]["value"]


# -- the Authorization header ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [b"Basic \xd0\xbe\xd0\xb4", b"Basic \x80", b"\xff\xfe", b"Basic b2RhdGE6b2RhdGE=\xa0"],
    ids=["cyrillic", "high byte", "no scheme", "trailing nbsp"],
)
def test_an_authorization_header_that_is_not_ascii_is_unauthorized(client: TestClient, header: bytes) -> None:
    response = client.get(url("Catalog_Валюты", **{"$format": "json"}), headers={"authorization": header})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="1C:Enterprise"'


# -- JSON bodies nested past the parser ------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
@pytest.mark.parametrize("body", ["[" * 100_000, '{"Description": ' * 100_000], ids=["arrays", "objects"])
def test_json_nested_past_the_parser_is_the_platforms_json_error(
    client: TestClient, base: EmulatorState, method: str, body: str
) -> None:
    ref = next(iter(base.store.table("Catalog_Валюты")))
    path = "Catalog_Валюты" if method == "POST" else f"Catalog_Валюты(guid'{ref}')"

    response = client.request(
        method,
        url(path, **{"$format": "json"}),
        content=body.encode(),
        auth=AUTH,
        headers={"content-type": "application/json"},
    )

    if method == "DELETE":  # a DELETE reads no body
        assert response.status_code == 204
    else:
        assert odata_error(response) == (500, "-1", "Непредвиденный символ при чтении JSON")
    assert base.journal[-1]["body"] == body


# -- $filter nesting ---------------------------------------------------------------------------


def _filter(client: TestClient, text: str, set_name: str = "Catalog_Номенклатура") -> Any:
    return client.get(url(set_name, **{"$format": "json", "$filter": text}), auth=AUTH)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 60 + "IsFolder" + ")" * 60,
        "(" * 300 + "IsFolder" + ")" * 300,
        "not " * 2000 + "IsFolder",
        "-" * 2000 + "1 eq 1",
        " add ".join(["1"] * 1500) + " eq 1",
        "substringof(" * 60 + "'a', Description" + ")" * 60,
    ],
    ids=[
        "60 parentheses",
        "300 parentheses",
        "2000 nots",
        "2000 minus signs",
        "1500 additions",
        "60 nested calls",
    ],
)
def test_a_filter_nested_past_50_levels_is_a_parse_error(client: TestClient, text: str) -> None:
    assert odata_error(_filter(client, text)) == (400, "14", "Ошибка при разборе опции запроса $filter")


def test_a_filter_nested_50_levels_is_still_read(client: TestClient) -> None:
    response = _filter(client, "(" * 49 + "IsFolder" + ")" * 49)

    assert response.status_code == 200, response.text


def test_a_chain_of_a_thousand_conditions_is_read(client: TestClient, base: EmulatorState) -> None:
    refs = list(base.store.table("Catalog_Номенклатура"))
    text = " or ".join(
        f"Ref_Key eq guid'{ref}'" for ref in refs[:3] + ["00000000-0000-0000-0000-000000000001"] * 997
    )

    found = _filter(client, text)
    folders = _filter(client, " and ".join(["IsFolder"] * 1000))

    assert sorted(row["Ref_Key"] for row in found.json()["value"]) == sorted(refs[:3])
    assert {row["IsFolder"] for row in folders.json()["value"]} == {True}


def test_a_number_of_5000_digits_in_a_filter_is_a_parse_error(client: TestClient) -> None:
    response = _filter(client, "Цена gt " + "9" * 5000, "InformationRegister_ЦеныНоменклатуры")

    assert odata_error(response) == (400, "14", "Ошибка при разборе опции запроса $filter")


def test_a_number_of_38_digits_in_a_filter_is_read(client: TestClient) -> None:
    response = _filter(client, "Цена gt " + "9" * 38, "InformationRegister_ЦеныНоменклатуры")

    assert response.json()["value"] == []


# -- $top and $skip -----------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["$top", "$skip"])
@pytest.mark.parametrize(
    "value", ["²", "٣", "9" * 5000], ids=["superscript two", "arabic three", "5000 digits"]
)
def test_a_count_that_is_no_ascii_number_is_a_parse_error(
    client: TestClient, option: str, value: str
) -> None:
    response = client.get(url("Catalog_Валюты", **{"$format": "json", option: value}), auth=AUTH)

    assert odata_error(response) == (400, "14", f"Ошибка при разборе опции запроса {option}")


def test_a_count_of_30_digits_is_read(client: TestClient) -> None:
    response = client.get(
        url("Catalog_Валюты", **{"$format": "json", "$skip": "9" * 30, "$top": "9" * 30}), auth=AUTH
    )

    assert response.json()["value"] == []


# -- numbers a double cannot hold ---------------------------------------------------------------

ORDER = "Document_ЗаказПокупателя"


def _patch_order(client: TestClient, base: EmulatorState, body: str) -> Any:
    ref = next(iter(base.store.table(ORDER)))
    return client.patch(
        url(f"{ORDER}(guid'{ref}')", **{"$format": "json"}),
        content=body.encode(),
        auth=AUTH,
        headers={"content-type": "application/json"},
    )


@pytest.mark.parametrize(
    ("body", "value", "edm"),
    [
        ('{"Курс": "nan"}', "nan", "Edm.Double"),
        ('{"Курс": "-inf"}', "-inf", "Edm.Double"),
        ('{"Курс": 1e400}', "1e400", "Edm.Double"),
        ('{"Курс": 1' + "0" * 400 + "}", "1" + "0" * 400, "Edm.Double"),
        ('{"Кратность": "inf"}', "inf", "Edm.Int64"),
        ('{"Кратность": 1e400}', "1e400", "Edm.Int64"),
        ('{"Кратность": "nan"}', "nan", "Edm.Int64"),
        ('{"Запасы": [{"LineNumber": 1e400}]}', "1e400", "Edm.Int64"),
        ('{"Запасы": [{"LineNumber": "nan"}]}', "nan", "Edm.Int64"),
    ],
    ids=["nan", "-inf", "1e400", "10**400", "int inf", "int 1e400", "int nan", "line 1e400", "line nan"],
)
def test_a_number_a_double_cannot_hold_cannot_be_parsed(
    client: TestClient, base: EmulatorState, body: str, value: str, edm: str
) -> None:
    response = _patch_order(client, base, body)

    message = f"Не удалось разобрать строку '{value}' как значение типа {edm}!"
    assert odata_error(response) == (400, "1", message)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_the_non_json_constants_are_malformed_json(
    client: TestClient, base: EmulatorState, literal: str
) -> None:
    response = _patch_order(client, base, '{"Курс": ' + literal + "}")

    assert odata_error(response) == (500, "-1", "Непредвиденный символ при чтении JSON")


# -- ValueType qualifiers -------------------------------------------------------------------------

PROPERTIES = "ChartOfCharacteristicTypes_ДополнительныеРеквизитыИСведения"


@pytest.mark.parametrize(
    ("digits", "echoed"),
    [('"abc"', "abc"), ("[1]", "[1]"), ('"nan"', "nan"), ("1e400", "1e400"), ("null", "")],
)
@pytest.mark.parametrize("qualifier", ["Digits", "FractionDigits"])
def test_a_value_type_whose_digits_are_no_number_cannot_be_parsed(
    client: TestClient, base: EmulatorState, qualifier: str, digits: str, echoed: str
) -> None:
    ref = next(iter(base.store.table(PROPERTIES)))
    body = '{"ValueType": {"Types": ["Number"], "NumberQualifiers": {"' + qualifier + '": ' + digits + "}}}"

    response = client.patch(
        url(f"{PROPERTIES}(guid'{ref}')", **{"$format": "json"}),
        content=body.encode(),
        auth=AUTH,
        headers={"content-type": "application/json"},
    )

    if digits == "null":  # an empty qualifier is the platform's default
        assert response.json()["ValueType"]["NumberQualifiers"][qualifier] == 0
    else:
        message = f"Не удалось разобрать строку '{echoed}' как значение типа Edm.Int16!"
        assert odata_error(response) == (400, "1", message)


@pytest.mark.parametrize(
    "text",
    ["-(Цена div 0) eq 1", "-(Цена mod 0) lt 0", "not (-(Цена div 0) ne 1)"],
    ids=["div", "mod", "not"],
)
def test_the_minus_of_an_empty_value_is_empty(client: TestClient, text: str) -> None:
    response = _filter(client, text, "InformationRegister_ЦеныНоменклатуры")

    assert response.status_code == 200, response.text
    assert response.json()["value"] == []


# -- $select/$expand paths --------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["$select", "$expand"])
def test_a_navigation_path_past_50_segments_is_a_parse_error(client: TestClient, option: str) -> None:
    path = "/".join(["Parent"] * 1000)
    options = {"$format": "json", "$select": path + "/Description", "$expand": path}

    response = client.get(url("Catalog_Номенклатура", **options), auth=AUTH)

    assert odata_error(response) == (400, "14", "Ошибка при разборе опции запроса $select")
    response = client.get(url("Catalog_Номенклатура", **{"$format": "json", option: path}), auth=AUTH)
    assert odata_error(response) == (400, "14", f"Ошибка при разборе опции запроса {option}")


def test_a_navigation_path_of_50_segments_is_still_read(client: TestClient) -> None:
    path = "/".join(["Parent"] * 49)
    options = {"$format": "json", "$select": path + "/Description", "$expand": path}

    response = client.get(url("Catalog_Номенклатура", **options), auth=AUTH)

    assert response.status_code == 200, response.text
