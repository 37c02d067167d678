"""The fingerprint that stops sync echoes: same meaning → same hash, any change → new hash."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.domain.fingerprint import fingerprint

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
    | st.dates()
)
_values: st.SearchStrategy[Any] = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)
_mapped = st.dictionaries(st.text(min_size=1, max_size=8), _values, min_size=1, max_size=8)


@given(_mapped, st.randoms(use_true_random=False))
def test_key_order_does_not_matter(mapped: dict[str, Any], rng: Any) -> None:
    keys = list(mapped)
    rng.shuffle(keys)
    assert fingerprint({k: mapped[k] for k in keys}) == fingerprint(mapped)


@given(_mapped, st.data())
def test_changing_one_value_changes_the_hash(mapped: dict[str, Any], data: st.DataObject) -> None:
    field = data.draw(st.sampled_from(sorted(mapped)))
    new_value = data.draw(st.text(min_size=1, max_size=10).map(lambda text: "changed:" + text))
    assert fingerprint({**mapped, field: new_value}) != fingerprint(mapped)


@given(_mapped, st.text(min_size=1, max_size=8))
def test_adding_a_field_changes_the_hash(mapped: dict[str, Any], field: str) -> None:
    if field in mapped:
        return
    assert fingerprint({**mapped, field: None}) != fingerprint(mapped)


def test_numbers_compare_by_value() -> None:
    assert fingerprint({"sum": 5}) == fingerprint({"sum": 5.0}) == fingerprint({"sum": Decimal("5.00")})
    assert fingerprint({"price": 0.1}) == fingerprint({"price": Decimal("0.10")})
    assert fingerprint({"qty": -0.0}) == fingerprint({"qty": 0})
    assert fingerprint({"sum": 5}) != fingerprint({"sum": 5.01})


def test_types_that_mean_different_things_stay_different() -> None:
    assert fingerprint({"id": 5}) != fingerprint({"id": "5"})
    assert fingerprint({"comment": None}) != fingerprint({"comment": ""})
    assert fingerprint({"flag": True}) != fingerprint({"flag": 1})


def test_guids_and_instants_normalize() -> None:
    ref = "B1C89DA7-CB6A-11E6-AEDE-5404A6B4B8ED"
    assert fingerprint({"ref": uuid.UUID(ref)}) == fingerprint({"ref": ref.lower()})
    moscow = timezone(timedelta(hours=3))
    assert fingerprint({"at": datetime(2025, 1, 1, 15, tzinfo=moscow)}) == fingerprint(
        {"at": datetime(2025, 1, 1, 12, tzinfo=UTC)}
    )
    assert fingerprint({"day": date(2025, 1, 1)}) != fingerprint({"day": "2025-01-01"})


def test_row_order_matters_but_set_order_does_not() -> None:
    rows = [{"LineNumber": 1, "qty": 2}, {"LineNumber": 2, "qty": 3}]
    assert fingerprint({"rows": rows}) != fingerprint({"rows": rows[::-1]})
    assert fingerprint({"tags": {"a", "b", "c"}}) == fingerprint({"tags": {"c", "b", "a"}})


def test_canonical_form_is_pinned() -> None:
    # Stored fingerprints must stay comparable across deployments: the canonical form is frozen.
    canonical = '{"OPPORTUNITY":"n:1500","TITLE":"s:Сделка"}'
    assert (
        fingerprint({"TITLE": "Сделка", "OPPORTUNITY": 1500.0})
        == hashlib.sha256(canonical.encode()).hexdigest()
    )


def test_unsupported_values_are_refused() -> None:
    with pytest.raises(TypeError):
        fingerprint({"x": object()})
    with pytest.raises(ValueError, match="NaN"):
        fingerprint({"x": float("nan")})
