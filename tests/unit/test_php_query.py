"""PHP bracket notation round-trips the shapes Bitrix24 sends and expects."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bridge.b24.php_query import decode, encode

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
