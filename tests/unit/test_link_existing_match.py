"""The pure matching of `link-existing`: the deal-id key first, then counterparty + date + sum."""

from __future__ import annotations

from decimal import Decimal

from bridge.deals.existing import MatchRow, OpenDeal, TypedOrder, Verdict, match


def deal(deal_id: int, amount: str = "100.00", counterparty: str = "c1") -> OpenDeal:
    return OpenDeal(
        id=deal_id,
        title=f"d{deal_id}",
        date="2024-09-02",
        amount=Decimal(amount),
        counterparties=frozenset({counterparty}),
    )


def order(
    ref: str, amount: str = "100.00", counterparty: str = "c1", deal_id: int | None = None
) -> TypedOrder:
    return TypedOrder(
        ref=ref,
        number=ref.upper(),
        date="2024-09-02",
        amount=Decimal(amount),
        counterparty=counterparty,
        deal_id=deal_id,
    )


def verdicts(rows: list[MatchRow]) -> dict[int, tuple[Verdict, str, tuple[str, ...]]]:
    return {r.deal_id: (r.verdict, r.by, tuple(o.ref for o in r.orders)) for r in rows}


def test_the_key_wins_over_a_sum_that_fits_another_deal() -> None:
    rows = match([deal(1), deal(2)], [order("a", deal_id=1), order("b")])
    assert verdicts(rows) == {
        1: (Verdict.MATCHED, "attribute", ("a",)),
        2: (Verdict.MATCHED, "counterparty+date+sum", ("b",)),
    }


def test_one_order_fitting_two_deals_is_ambiguous_for_both() -> None:
    rows = match([deal(1), deal(2)], [order("a")])
    assert [r.verdict for r in rows] == [Verdict.AMBIGUOUS, Verdict.AMBIGUOUS]


def test_two_orders_with_one_deals_key_are_ambiguous() -> None:
    rows = match([deal(1)], [order("a", deal_id=1), order("b", deal_id=1)])
    assert verdicts(rows) == {1: (Verdict.AMBIGUOUS, "attribute", ("a", "b"))}


def test_another_counterparty_or_sum_or_anothers_key_does_not_match() -> None:
    rows = match(
        [deal(1)], [order("a", counterparty="c2"), order("b", amount="100.01"), order("c", deal_id=7)]
    )
    assert verdicts(rows) == {1: (Verdict.UNMATCHED, "", ())}
