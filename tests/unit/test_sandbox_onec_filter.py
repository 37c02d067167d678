"""The 1C emulator's filter shortcut gives the same rows as its tree walk (sandbox/onec/filter.py).

`Evaluator.predicate` is worked out once per collection read and skips the per-row walk for
`Prop op literal` joined by and/or; whatever it answers must be what `matches` answers."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sandbox.onec.filter import Evaluator, compile_filter
from sandbox.onec.model import EMPTY_GUID, Prop, TabularSection, full_model

MODEL = full_model()
ITEMS = MODEL.sets["Catalog_Номенклатура"]
TEXTS = ("Description", "Артикул", "Code")
FLAGS = ("IsFolder", "DeletionMark", "Недействителен")
REFS = ("Parent_Key", "Поставщик_Key")
NUMBERS = ("ВерхняяГраницаОстатков", "СрокПополнения")
COMPOSITE = "КиЗГИСМGTIN"
GUIDS = [str(uuid.UUID(int=n)) for n in range(1, 4)] + [EMPTY_GUID]

words = st.text(alphabet="абвАБВ ab1-", max_size=6)


def _literal_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


comparisons = st.one_of(
    st.tuples(st.sampled_from(TEXTS), st.sampled_from(("eq", "ne", "gt", "ge", "lt", "le")), words).map(
        lambda t: f"{t[0]} {t[1]} {_literal_text(t[2])}"
    ),
    st.tuples(st.sampled_from(FLAGS), st.sampled_from(("eq", "ne")), st.booleans()).map(
        lambda t: f"{t[0]} {t[1]} {'true' if t[2] else 'false'}"
    ),
    st.tuples(st.sampled_from(REFS), st.sampled_from(("eq", "ne")), st.sampled_from(GUIDS)).map(
        lambda t: f"{t[0]} {t[1]} guid'{t[2]}'"
    ),
    st.tuples(st.sampled_from(NUMBERS), st.sampled_from(("eq", "gt", "le")), st.integers(-3, 3)).map(
        lambda t: f"{t[0]} {t[1]} {t[2]}"
    ),
    # A field of several types compares with its type: the shortcut leaves it to the walk.
    words.map(lambda w: f"{COMPOSITE} eq {_literal_text(w)}"),
    # Shapes the shortcut leaves to the walk: a path through a reference, a function, a negation.
    st.sampled_from(
        (
            "Parent/Description eq 'Крепёж'",
            "substringof('б', Description)",
            "not IsFolder",
            "Description eq Артикул",
        )
    ),
)


@st.composite
def filters(draw: st.DrawFn, depth: int = 2) -> str:
    if depth == 0 or draw(st.booleans()):
        comparison: str = draw(comparisons)
        return comparison
    joiner = draw(st.sampled_from(("and", "or")))
    return f"({draw(filters(depth - 1))}) {joiner} ({draw(filters(depth - 1))})"


@st.composite
def rows(draw: st.DrawFn) -> dict[str, Any]:
    row: dict[str, Any] = {"Ref_Key": draw(st.sampled_from(GUIDS))}
    for name in TEXTS:
        if draw(st.booleans()):
            row[name] = draw(words)
    for name in FLAGS:
        if draw(st.booleans()):
            row[name] = draw(st.booleans())
    for name in REFS:
        if draw(st.booleans()):
            row[name] = draw(st.sampled_from(GUIDS))
    for name in NUMBERS:
        if draw(st.booleans()):
            row[name] = draw(st.one_of(st.integers(-3, 3), st.floats(-3, 3, allow_nan=False)))
    if draw(st.booleans()):
        row[COMPOSITE] = draw(words)
        row[f"{COMPOSITE}_Type"] = draw(st.sampled_from(("Edm.String", "StandardODATA.Undefined")))
    return row


def _parent(set_name: str, ref: str) -> dict[str, Any] | None:
    return {"Ref_Key": ref, "Description": "Крепёж"} if ref == GUIDS[0] else None


@given(filters(), st.lists(rows(), max_size=6))
def test_shortcut_keeps_exactly_the_rows_the_walk_keeps(text: str, objects: list[dict[str, Any]]) -> None:
    node = compile_filter(text, MODEL, ITEMS)
    evaluator = Evaluator(ITEMS, MODEL, _parent)
    accepts = evaluator.predicate(node)
    assert [accepts(obj) for obj in objects] == [evaluator.matches(node, obj) for obj in objects]


def test_a_property_added_after_a_lookup_is_found() -> None:
    section = TabularSection("Строки", "Catalog_X_Строки", [Prop("Ref_Key", "Edm.Guid")])
    assert section.prop("Цена") is None
    section.props.append(Prop("Цена", "Edm.Double"))
    found = section.prop("Цена")
    assert found is not None
    assert found.edm == "Edm.Double"
