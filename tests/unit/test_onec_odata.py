"""Literals, filters and value parsing in 1C's OData dialect (reference/onec/README.md §4–§6)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.onec import odata
from bridge.onec.odata import (
    EMPTY_DATE,
    EMPTY_REF,
    any_row,
    cast_ref,
    datetime_literal,
    eq,
    gt,
    guid,
    quote_string,
    renumber_rows,
    row_field,
    substringof,
)


def test_guid_literal_is_lowercase_and_validated() -> None:
    assert guid("1FA1A135-D89B-11E6-8343-40167E2531C3") == "guid'1fa1a135-d89b-11e6-8343-40167e2531c3'"
    with pytest.raises(ValueError, match="hexadecimal"):
        guid("Ref_Key eq 1")


def test_empty_date_keeps_four_digit_year() -> None:
    assert datetime_literal(datetime(1, 1, 1)) == f"datetime'{EMPTY_DATE}'"
    assert datetime_literal(date(2030, 1, 1)) == "datetime'2030-01-01T00:00:00'"
    assert odata.format_datetime(datetime(2015, 12, 31, 23, 59, 59, 999)) == "2015-12-31T23:59:59"


def test_zoned_datetimes_are_refused_because_1c_has_no_zone() -> None:
    with pytest.raises(ValueError, match="no zone"):
        datetime_literal(datetime(2024, 5, 1, tzinfo=UTC))


def test_string_literal_doubles_single_quotes() -> None:
    assert quote_string("ООО 'Ромашка'") == "'ООО ''Ромашка'''"


@given(st.text())
def test_quoted_string_has_balanced_quotes(text: str) -> None:
    quoted = quote_string(text)
    inner = quoted[1:-1]
    assert quoted[0] == quoted[-1] == "'"
    assert inner.replace("''", "").count("'") == 0


def test_filter_builder_writes_1c_syntax() -> None:
    ref = "7f4b5034-0331-11e3-b914-5404a6a68c42"
    expression = (eq("Owner_Key", guid(ref)) & eq("Code", "0001")) | ~eq("DeletionMark", True)
    assert str(expression) == (
        f"((Owner_Key eq guid'{ref}') and (Code eq '0001')) or (not (DeletionMark eq true))"
    )


def test_filter_over_tabular_rows_and_composite_fields() -> None:
    prop = "c0e3d8bc-d89a-11e6-8343-40167e2531c3"
    condition = eq(row_field("Свойство_Key"), guid(prop)) & eq(row_field("Значение"), "123")
    assert str(any_row("ДополнительныеРеквизиты", condition)) == (
        f"ДополнительныеРеквизиты/any(d: (d/Свойство_Key eq guid'{prop}') and (d/Значение eq '123'))"
    )
    assert str(eq("Owner", cast_ref(prop, "Catalog_Контрагенты"))) == (
        f"Owner eq cast(guid'{prop}', 'Catalog_Контрагенты')"
    )
    assert str(gt("Цена", 3000)) == "Цена gt 3000"
    assert str(substringof("a'b", "Description")) == "substringof('a''b', Description)"


def test_literals_for_python_values() -> None:
    moment = datetime(2024, 2, 3, 4, 5, 6)
    assert odata.literal(moment) == "datetime'2024-02-03T04:05:06'"
    assert odata.literal(uuid.UUID(EMPTY_REF)) == f"guid'{EMPTY_REF}'"
    assert odata.literal(False) == "false"
    assert odata.literal(1.5) == "1.5"
    with pytest.raises(TypeError):
        odata.literal(object())


def test_wire_values_parse_to_python() -> None:
    assert odata.parse_datetime("2016-12-26T17:08:57") == datetime(2016, 12, 26, 17, 8, 57)
    assert odata.parse_datetime(EMPTY_DATE) is None
    assert odata.parse_int64("1103") == 1103
    assert odata.is_empty_ref(EMPTY_REF)
    assert not odata.is_empty_ref("b1c89da7-cb6a-11e6-aede-5404a6b4b8ed")


def test_rows_are_renumbered_from_one_in_order() -> None:
    rows: list[dict[str, object]] = [
        {"LineNumber": "7", "Количество": 5},
        {"Количество": 31},
        {"LineNumber": "2", "Количество": 1},
    ]
    assert renumber_rows(rows) == [
        {"LineNumber": 1, "Количество": 5},
        {"LineNumber": 2, "Количество": 31},
        {"LineNumber": 3, "Количество": 1},
    ]


def _parsed_ref(text: str) -> str:
    return str(uuid.UUID(text))


@given(st.uuids(), st.sampled_from(["canonical", "upper", "braces", "urn", "hex"]))
def test_every_spelling_of_a_guid_normalizes_to_its_lowercase_canonical_text(
    ref: uuid.UUID, form: str
) -> None:
    text = {
        "canonical": str(ref),
        "upper": str(ref).upper(),
        "braces": "{" + str(ref) + "}",
        "urn": ref.urn,
        "hex": ref.hex,
    }[form]
    assert odata.normalize_ref(text) == str(ref)
    assert odata.normalize_ref(ref) == str(ref)


@given(
    st.one_of(
        st.uuids().map(str),
        st.tuples(st.uuids(), st.sampled_from(["\n", " ", "0", "x"])).map(
            lambda pair: str(pair[0]) + pair[1]
        ),
        st.text(alphabet="0123456789abcdefABCDEF-{}urn: \n", max_size=45),
        st.text(max_size=40),
    )
)
def test_normalize_ref_agrees_with_parsing_on_any_text(text: str) -> None:
    # The canonical-text shortcut must answer exactly what parsing the text as a UUID answers.
    try:
        expected: str | None = _parsed_ref(text)
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(ValueError, match=r"badly formed|invalid literal"):
            odata.normalize_ref(text)
    else:
        assert odata.normalize_ref(text) == expected
