"""The one phone-kind table every flow reads (bridge.domain.phones)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bridge.config.mapping import Mapping
from bridge.config.phones import PhoneKinds
from bridge.domain.phones import PhoneKindRefs
from bridge.setup.phone_kinds import resolve

WORK, MOBILE, COUNTERPARTY = "aaaa", "bbbb", "cccc"
REFS = PhoneKindRefs(counterparty={"WORK": COUNTERPARTY}, person={"WORK": WORK, "MOBILE": MOBILE})


def test_a_mobile_phone_goes_to_the_mobile_kind_and_comes_back_mobile() -> None:
    assert REFS.kind_for("person", "mobile") == MOBILE
    assert REFS.type_for("person", MOBILE) == "MOBILE"


def test_an_unlisted_type_or_kind_falls_back_to_the_default_type() -> None:
    assert REFS.kind_for("person", "HOME") == WORK
    assert REFS.kind_for("counterparty", "MOBILE") == COUNTERPARTY
    assert REFS.type_for("person", "ffff") == "WORK"
    assert REFS.type_for("person", None) == "WORK"


def test_the_default_mapping_has_one_table_for_every_flow() -> None:
    phones = Mapping().phones
    assert phones.person == {"WORK": "Рабочий телефон", "MOBILE": "Мобильный телефон"}
    assert phones.counterparty == {"WORK": "Телефон"}


def test_resolve_keeps_the_kinds_found() -> None:
    names = {"Рабочий телефон": "W", "Мобильный телефон": "M", "Телефон": "C"}
    refs = resolve(PhoneKinds(), lambda name, _: names.get(name))
    assert refs.person == {"WORK": "w", "MOBILE": "m"}
    assert refs.counterparty == {"WORK": "c"}


@pytest.mark.parametrize(
    "table",
    [{"person": {"CELL": "x", "WORK": "y"}}, {"counterparty": {"MOBILE": "x"}}],
)
def test_a_wrong_table_is_refused_at_start(table: dict[str, dict[str, str]]) -> None:
    with pytest.raises(ValidationError):
        PhoneKinds.model_validate(table)


def test_a_phone_kind_left_in_the_old_onec_section_is_refused_not_ignored() -> None:
    with pytest.raises(ValidationError, match=r"moved to \[phones\]"):
        Mapping.model_validate({"onec": {"contact_mobile_phone_kind": "Мобильный"}})
