"""Before go-live: open deals matched to customer orders already typed into 1C by hand.

A match is, first, an order whose deal-id key (the additional attribute or the incoming number the
deal flow writes) names the deal; then the one order of the deal's counterparty with the deal's
date and sum. Two orders for one deal, or one order fitting two deals, is ambiguous: a person
decides, nothing is linked. `apply` writes the same SyncTable link the deal flow writes after a
create, so the deal's next event updates that order and never creates a second one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from bridge.deals.config import DealFlowOptions
from bridge.deals.decisions import OrderOutcome
from bridge.deals.mapping import ATTRIBUTES, INCOMING_NUMBER
from bridge.deals.refs import deal_ref
from bridge.deals.resolved import resolved_config
from bridge.domain.onec_sets import COUNTERPARTIES, ORDERS
from bridge.onec.odata import Filter
from bridge.ports import Ports
from bridge.store import B24Ref, OneCRef

# Stored as the link's fingerprint: matches no mapped field set, so the first edit of the deal
# rewrites the order from the deal (the order as typed by hand is brought in line).
LINKED_BY_HAND = "link-existing"

_CENT = Decimal("0.01")


class Verdict(StrEnum):
    MATCHED = "matched"
    AMBIGUOUS = "ambiguous"
    UNMATCHED = "unmatched"


class OpenDeal(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: int
    title: str
    date: str  # yyyy-mm-dd, as the order would carry it
    amount: Decimal
    counterparties: frozenset[str]  # 1C counterparty refs the deal's buyer may be


class TypedOrder(BaseModel):
    model_config = ConfigDict(frozen=True)
    ref: str
    number: str
    date: str
    amount: Decimal
    counterparty: str
    deal_id: int | None = None  # what its deal-id key says, when it has one


class MatchRow(BaseModel):
    model_config = ConfigDict(frozen=True)
    deal_id: int
    title: str
    verdict: Verdict
    by: str = ""  # "attribute" or "counterparty+date+sum"
    orders: tuple[TypedOrder, ...] = ()
    linked: bool = False
    problem: str = ""  # why --apply could not link it

    def as_csv(self) -> dict[str, str]:
        return {
            "deal": str(self.deal_id),
            "title": self.title,
            "verdict": self.verdict.value,
            "by": self.by,
            "orders": " ".join(o.number for o in self.orders),
            "order_refs": " ".join(o.ref for o in self.orders),
            "linked": "yes" if self.linked else "",
            "problem": self.problem,
        }


def match(deals: Iterable[OpenDeal], orders: Iterable[TypedOrder]) -> list[MatchRow]:
    """Each deal's verdict, deals in id order (pure)."""
    deals, orders = sorted(deals, key=lambda d: d.id), list(orders)
    by_key: dict[int, list[TypedOrder]] = defaultdict(list)
    for order in orders:
        if order.deal_id is not None:
            by_key[order.deal_id].append(order)
    rows: dict[int, MatchRow] = {}
    keyed = {o.ref for o in orders if o.deal_id is not None}
    for deal in deals:
        found = by_key.get(deal.id, [])
        if found:
            verdict = Verdict.MATCHED if len(found) == 1 else Verdict.AMBIGUOUS
            rows[deal.id] = MatchRow(
                deal_id=deal.id, title=deal.title, verdict=verdict, by="attribute", orders=tuple(found)
            )
    # An order carrying another deal's key is that deal's, never a candidate by sum.
    free = [o for o in orders if o.ref not in keyed]
    fits: dict[int, list[TypedOrder]] = {}
    claimed: dict[str, int] = defaultdict(int)
    for deal in deals:
        if deal.id in rows:
            continue
        fits[deal.id] = [
            o
            for o in free
            if o.counterparty in deal.counterparties and o.date == deal.date and o.amount == deal.amount
        ]
        for order in fits[deal.id]:
            claimed[order.ref] += 1
    for deal in deals:
        if deal.id in rows:
            continue
        found = fits[deal.id]
        if not found:
            rows[deal.id] = MatchRow(deal_id=deal.id, title=deal.title, verdict=Verdict.UNMATCHED)
            continue
        alone = len(found) == 1 and claimed[found[0].ref] == 1
        rows[deal.id] = MatchRow(
            deal_id=deal.id,
            title=deal.title,
            verdict=Verdict.MATCHED if alone else Verdict.AMBIGUOUS,
            by="counterparty+date+sum",
            orders=tuple(found),
        )
    return [rows[d.id] for d in deals]


# ---- reading both systems ------------------------------------------------------------------------


def _amount(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(_CENT, ROUND_HALF_UP)


def _day(value: Any) -> str:
    return str(value or "")[:10]


def open_deals(
    ports: Ports, counterparty_of: Callable[[Mapping[str, Any]], frozenset[str]]
) -> list[OpenDeal]:
    """Open deals with no 1C order linked yet."""
    select = ["ID", "TITLE", "COMPANY_ID", "CONTACT_ID", "BEGINDATE", "DATE_CREATE", "OPPORTUNITY"]
    deals = []
    for row in ports.b24.list_all("crm.deal.list", {"filter": {"CLOSED": "N"}, "select": select}):
        deal_id = int(row["ID"])
        if ports.store.links.find_by_b24(deal_ref(deal_id)) is not None:
            continue
        deals.append(
            OpenDeal(
                id=deal_id,
                title=str(row.get("TITLE") or ""),
                date=_day(row.get("BEGINDATE") or row.get("DATE_CREATE")),
                amount=_amount(row.get("OPPORTUNITY")),
                counterparties=counterparty_of(row),
            )
        )
    return deals


def buyer_counterparties(ports: Ports) -> Callable[[Mapping[str, Any]], frozenset[str]]:
    """A deal row → the 1C counterparties its buyer may be: the one linked to its company (or
    contact) by the parties flow, and those with its company's ИНН."""
    by_inn: dict[str, set[str]] = defaultdict(set)
    rows = ports.onec.iter_all(COUNTERPARTIES, filter=Filter("IsFolder eq false"), select=["Ref_Key", "ИНН"])
    for row in rows:
        if row.get("ИНН"):
            by_inn[str(row["ИНН"]).strip()].add(str(row["Ref_Key"]).lower())
    inn_of: dict[int, str] = {}
    requisites = {"filter": {"ENTITY_TYPE_ID": 4}, "select": ["ENTITY_ID", "RQ_INN"]}
    for requisite in ports.b24.list_all("crm.requisite.list", requisites):
        if requisite.get("RQ_INN"):
            inn_of[int(requisite["ENTITY_ID"])] = str(requisite["RQ_INN"]).strip()

    def of(deal: Mapping[str, Any]) -> frozenset[str]:
        found: set[str] = set()
        company = int(deal.get("COMPANY_ID") or 0)
        contact = int(deal.get("CONTACT_ID") or 0)
        for entity, entity_id in (("COMPANY", company), ("CONTACT", contact if not company else 0)):
            if entity_id:
                link = ports.store.links.find_by_b24(B24Ref(entity=entity, id=str(entity_id)))
                if link is not None and link.onec.entity_set == COUNTERPARTIES:
                    found.add(link.onec.ref.lower())
        if company and company in inn_of:
            found |= by_inn.get(inn_of[company], set())
        return frozenset(found)

    return of


def typed_orders(ports: Ports) -> list[TypedOrder]:
    """1C customer orders not marked for deletion and linked to no deal, with their deal-id key."""
    options = DealFlowOptions.from_mapping(ports.mapping.deal)
    prop = resolved_config(ports.store).load().refs.deal_id_property
    orders = []
    for row in ports.onec.iter_all(ORDERS, filter=Filter("DeletionMark eq false")):
        ref = str(row["Ref_Key"]).lower()
        if ports.store.links.find_by_onec(OneCRef(entity_set=ORDERS, ref=ref)) is not None:
            continue
        orders.append(
            TypedOrder(
                ref=ref,
                number=str(row.get("Number") or "").strip(),
                date=_day(row.get("Date")),
                amount=_amount(row.get("СуммаДокумента")),
                counterparty=str(row.get("Контрагент_Key") or "").lower(),
                deal_id=_deal_key(row, options, prop),
            )
        )
    return orders


def _deal_key(row: Mapping[str, Any], options: DealFlowOptions, prop: str | None) -> int | None:
    if options.deal_id_storage == "incoming_number":
        text = str(row.get(INCOMING_NUMBER) or "").strip()
        prefix = options.incoming_number_prefix
        value = text[len(prefix) :] if prefix and text.startswith(prefix) else ""
    else:
        values = [
            str(a.get("Значение") or "").strip()
            for a in row.get(ATTRIBUTES) or []
            if prop and str(a.get("Свойство_Key") or "").lower() == str(prop).lower()
        ]
        value = values[0] if values else ""
    return int(value) if value.isdigit() and int(value) > 0 else None


def link(ports: Ports, row: MatchRow) -> None:
    """The link the deal flow writes after creating the order (open, with its number)."""
    (order,) = row.orders
    ports.store.links.link(
        deal_ref(row.deal_id),
        OneCRef(entity_set=ORDERS, ref=order.ref),
        fingerprint=LINKED_BY_HAND,
        extra={"outcome": OrderOutcome.OPEN.value, "number": order.number},
    )
