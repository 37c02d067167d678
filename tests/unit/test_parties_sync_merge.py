"""Three-way merge rules: who wins, empty never overwrites, conflicts keep the loser."""

from __future__ import annotations

from bridge.config.parties import PartiesMapping
from bridge.parties.merge import Sameness, merge

OWNERS = PartiesMapping().owner_of
FIELDS = ("inn", "comment", "phones", "name")


def test_a_change_on_one_side_goes_to_the_other() -> None:
    result = merge({"inn": "1"}, {"inn": "2"}, {"inn": "1"}, OWNERS, FIELDS)
    assert (result.to_b24, result.to_onec, result.conflicts) == ({"inn": "2"}, {}, ())


def test_empty_never_overwrites() -> None:
    result = merge({"comment": "x"}, {"comment": ""}, {"comment": "x"}, OWNERS, FIELDS)
    assert result.to_b24 == {}
    assert result.to_onec == {}
    first = merge({}, {"name": "A"}, {"name": ""}, OWNERS, FIELDS)
    assert first.to_b24 == {"name": "A"}
    assert first.to_onec == {}


def test_both_changed_the_owner_wins_and_the_loser_is_kept() -> None:
    base = {"inn": "1", "comment": "old"}
    result = merge(base, {"inn": "2", "comment": "1c"}, {"inn": "3", "comment": "b24"}, OWNERS, FIELDS)
    assert result.merged["inn"] == "2"
    assert result.merged["comment"] == "b24"
    assert result.to_b24 == {"inn": "2"}
    assert result.to_onec == {"comment": "b24"}
    assert {(c.field, c.winner, c.lost) for c in result.conflicts} == {
        ("inn", "1c", "3"),
        ("comment", "b24", "1c"),
    }


def test_same_values_on_both_sides_are_quiet() -> None:
    result = merge({}, {"phones": ("1",)}, {"phones": ("1",)}, OWNERS, FIELDS)
    assert (result.to_b24, result.to_onec, result.conflicts) == ({}, {}, ())


CUT = Sameness(limits={"name": 100})


def test_1c_cut_copy_of_a_long_title_is_the_same_value_and_never_goes_back() -> None:
    full = "А" * 60 + " " + "Б" * 65  # 126 characters
    cut = "А" * 60 + " " + "Б" * 39  # 1C's 100
    first = merge({}, {"name": cut}, {"name": full}, lambda _: "1c", ("name",), CUT)
    assert first.merged == {"name": full}
    assert first.to_b24 == {}
    assert first.to_onec == {}
    assert first.conflicts == ()
    again = merge(first.merged, {"name": cut}, {"name": full}, lambda _: "1c", ("name",), CUT)
    assert (again.to_b24, again.to_onec) == ({}, {})


def test_a_1c_edit_of_a_cut_title_still_travels() -> None:
    full = "А" * 126
    result = merge({"name": full}, {"name": "Новое имя"}, {"name": full}, lambda _: "1c", ("name",), CUT)
    assert result.to_b24 == {"name": "Новое имя"}


BOTH = Sameness(wider={"relation": {"both": ("buyer", "supplier")}})


def test_a_counterparty_that_is_buyer_and_supplier_stays_both_whatever_single_type_bitrix24_shows() -> None:
    first = merge({}, {"relation": "both"}, {"relation": "buyer"}, lambda _: "b24", ("relation",), BOTH)
    assert (first.merged, first.to_onec, first.to_b24) == ({"relation": "both"}, {}, {})
    # The Bitrix24 type moves between the two it stands for: 1C keeps both flags.
    later = merge(
        first.merged, {"relation": "both"}, {"relation": "supplier"}, lambda _: "b24", ("relation",), BOTH
    )
    assert (later.to_onec, later.to_b24) == ({}, {})
    # 1C drops the buyer flag: Bitrix24 follows.
    dropped = merge(
        first.merged, {"relation": "supplier"}, {"relation": "buyer"}, lambda _: "b24", ("relation",), BOTH
    )
    assert dropped.to_b24 == {"relation": "supplier"}
