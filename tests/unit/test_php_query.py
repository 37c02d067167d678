"""PHP bracket notation round-trips the shapes Bitrix24 sends and expects."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bridge.b24.php_query import QueryRejected, decode, encode, encode_compact, flatten

_key = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ_>%=!@", min_size=1, max_size=8)
_scalar = st.text(max_size=12)
_tree: st.SearchStrategy[Any] = st.recursive(
    _scalar,
    lambda children: (
        st.lists(children, min_size=1, max_size=3) | st.dictionaries(_key, children, min_size=1, max_size=3)
    ),
    max_leaves=12,
)


def test_documented_filter_is_encoded_as_bitrix_shows_it() -> None:
    # batch.md shows `crm.deal.list?filter%5B%3EID%5D=10&start=-1`
    assert encode({"filter": {">ID": 10}, "start": -1}) == "filter%5B%3EID%5D=10&start=-1"


def test_spaces_are_percent_encoded_never_plus() -> None:
    assert encode({"fields": {"TITLE": "a b"}}) == "fields%5BTITLE%5D=a%20b"
    assert encode_compact({"fields": {"TITLE": "a b"}}) == "fields[TITLE]=a%20b"


def test_compact_form_keeps_brackets_and_reads_as_the_documented_one() -> None:
    # PHP decodes a name before it reads its brackets, so both spellings name the same field.
    written = encode_compact({"filter": {">ID": 10}, "start": -1})

    assert written == "filter[%3EID]=10&start=-1"
    documented = decode("filter%5B%3EID%5D=10&start=-1")
    assert decode(written) == documented == {"filter": {">ID": "10"}, "start": "-1"}


def test_a_back_reference_is_written_as_the_docs_write_it() -> None:
    # batch.md: `department.get?ID=$result[get_user][UF_DEPARTMENT][0]`
    written = encode_compact({"fields": {"productId": "$result[c1][element][id]", "name": "$result[x] & co"}})

    assert written == "fields[productId]=$result[c1][element][id]&fields[name]=%24result%5Bx%5D%20%26%20co"
    assert encode({"id": "$result[c1][element][id]"}) == "id=%24result%5Bc1%5D%5Belement%5D%5Bid%5D"


def test_event_form_body_decodes_to_nested_fields() -> None:
    body = (
        "event=ONCRMDEALUPDATE&event_handler_id=201&data%5BFIELDS%5D%5BID%5D=759&ts=1736405807"
        "&auth%5Bapplication_token%5D=abc&auth[domain]=x.bitrix24.com"
    )
    assert decode(body) == {
        "event": "ONCRMDEALUPDATE",
        "event_handler_id": "201",
        "data": {"FIELDS": {"ID": "759"}},
        "ts": "1736405807",
        "auth": {"application_token": "abc", "domain": "x.bitrix24.com"},
    }


def test_empty_brackets_append_like_php() -> None:
    assert decode("select[]=ID&select[]=TITLE") == {"select": ["ID", "TITLE"]}


@given(st.dictionaries(_key, _tree, min_size=1, max_size=4))
def test_encode_then_decode_gives_the_same_tree(tree: dict[str, Any]) -> None:
    assert decode(encode(tree)) == tree
    assert decode(encode_compact(tree)) == tree


def test_an_all_digit_root_key_stays_a_key() -> None:
    assert decode("0=x") == {"0": "x"}
    assert decode("0=x&1=y") == {"0": "x", "1": "y"}


def test_only_php_integers_are_indexes() -> None:
    # PHP reads "05", "０" (full-width) and "²" (superscript) as text keys, never as list positions.
    assert decode("a[%EF%BC%90]=1") == {"a": {"０": "1"}}
    assert decode("a[%C2%B2]=1") == {"a": {"²": "1"}}
    assert decode("a[05]=1") == {"a": {"05": "1"}}
    assert decode("a[0]=x&a[1]=y") == {"a": ["x", "y"]}


def test_a_4301_digit_index_is_a_text_key() -> None:
    digits = "7" * 4301
    assert decode(f"a[{digits}]=1&a[]=2") == {"a": {digits: "1", "0": "2"}}


def test_appends_continue_after_the_largest_index_like_php() -> None:
    assert decode("a[]=x&a[5]=y&a[]=z&a[2]=w") == {"a": {"0": "x", "5": "y", "6": "z", "2": "w"}}
    assert decode("&".join(f"a[]={i}" for i in range(13_000))) == {"a": [str(i) for i in range(13_000)]}


def test_names_nested_past_the_limit_are_refused() -> None:
    assert decode("a" + "[b]" * 64 + "=1")["a"]["b"]
    with pytest.raises(QueryRejected, match="nested deeper than 64 levels"):
        decode("a" + "[b]" * 1000 + "=1")
    with pytest.raises(QueryRejected, match="nested deeper than 3 levels"):
        decode("a[b][c][d][e]=1", max_depth=3)


def test_the_field_count_is_capped_before_parsing() -> None:
    with pytest.raises(QueryRejected, match="more than 10 fields"):
        decode("&".join(["a[]="] * 11), max_fields=10)
    assert decode("&".join(["a[]="] * 10), max_fields=10) == {"a": [""] * 10}


@given(
    st.dictionaries(
        st.text(max_size=8),
        st.text(max_size=12) | st.from_regex(r"[A-Za-z0-9_.~-]{0,12}", fullmatch=True),
        min_size=1,
        max_size=4,
    )
)
def test_encoding_percent_encodes_exactly_as_urllib_does(flat: dict[str, str]) -> None:
    """The shortcuts for names and values that need no escape write what `quote` writes: PHP's
    form with nothing kept, the compact one with the brackets of names kept (back-references:
    the test below)."""
    pairs = flatten(flat)

    assert encode(flat) == "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    assume(not any(value.startswith("$result[") for value in flat.values()))
    assert encode_compact(flat) == "&".join(f"{quote(k, safe='[]')}={quote(v, safe='')}" for k, v in pairs)


@given(
    st.lists(st.from_regex(r"[A-Za-z0-9_.~-]{0,6}", fullmatch=True), min_size=1, max_size=4),
    st.sampled_from(["", " ", "&", "=", "%", "#", "+"]),
)
def test_only_a_whole_back_reference_travels_unescaped(keys: list[str], tail: str) -> None:
    reference = "$result" + "".join(f"[{key}]" for key in keys)
    value = reference + tail

    written = encode_compact({"id": value})

    assert written == ("id=" + (reference if not tail else quote(value, safe="")))
    assert decode(written) == {"id": value}
