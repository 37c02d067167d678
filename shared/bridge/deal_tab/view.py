"""What the «1С» tab shows for one deal, read through the same ports as the flows.

`build` reads (after the request was authenticated, see `security`):
- the deal's product rows, then refreshes their stock from 1C through `ports.refresh_stock` (the
  catalog flow's refresh, the same path as POST /stock/refresh, paced by the shared rate budget),
  so the Bitrix24 catalog and the tab agree; then the per-warehouse balances for the tab;
- the linked 1C order (link store), its state and responsible by name, its receipts;
- the record's journal (`oversight.journal`), newest first;
- when there is no order: why, in words a manager can act on.

The models are plain data; `render` turns them into HTML. Nothing here talks HTTP itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from bridge.catalog import lookup
from bridge.catalog.resolved import resolved_config as catalog_resolved
from bridge.deal_tab import words
from bridge.deals.decisions import TriggerRule
from bridge.deals.models import Deal
from bridge.deals.refs import deal_ref
from bridge.deals.resolved import resolved_config as deal_resolved
from bridge.domain.onec_sets import CARD_OPERATIONS as CARD_SET
from bridge.domain.onec_sets import EMPLOYEES, ORDER_STATES, ORDERS, STOCK, WAREHOUSES
from bridge.domain.records import RecordRef
from bridge.errors import BridgeError
from bridge.observability import logger
from bridge.onec.errors import NotFound
from bridge.onec.odata import Filter, any_of, any_row, cast_ref, eq, guid, normalize_ref, parse_datetime
from bridge.oversight.journal import journal
from bridge.payments.models import PAYMENT_SETS, PaymentDoc, PaymentKind, money
from bridge.payments.onec_reads import payment_fields
from bridge.ports import Ports

JOURNAL_LINES = 12
_METHODS = {
    PaymentKind.BANK: "безналичный",
    PaymentKind.CASH: "наличные",
    PaymentKind.CARD: "платёжная карта",
}
_DOCUMENTS = {
    PaymentKind.BANK: "Поступление на счёт",
    PaymentKind.CASH: "Поступление в кассу",
    PaymentKind.CARD: "Операция по платёжной карте",
}
_OUTCOMES = {"open": "в работе", "completed": "выполнен", "cancelled": "отменён"}


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class OrderView(_View):
    ref: str
    number: str
    date: str
    state: str
    amount: Decimal
    responsible: str
    outcome: str
    web_link: str | None = None


class PaymentView(_View):
    date: str
    document: str
    amount: Decimal
    method: str
    posted: bool
    counted: bool


class WarehouseStock(_View):
    warehouse: str
    quantity: Decimal


class ProductView(_View):
    product_id: int
    name: str
    quantity: Decimal  # in the deal
    in_1c: bool
    stock: tuple[WarehouseStock, ...] = ()

    @property
    def total(self) -> Decimal:
        return sum((s.quantity for s in self.stock), Decimal(0))


class JournalLineView(_View):
    at: str
    text: str


class DealTab(_View):
    deal_id: int
    title: str
    order: OrderView | None
    payments: tuple[PaymentView, ...] = ()
    paid: Decimal = Decimal(0)
    products: tuple[ProductView, ...] = ()
    journal: tuple[JournalLineView, ...] = ()
    no_order: str | None = None
    stock_note: str | None = None  # the refresh from 1C did not complete: why

    @property
    def left_to_pay(self) -> Decimal:
        return max((self.order.amount if self.order else Decimal(0)) - self.paid, Decimal(0))


def shown_date(value: Any) -> str:
    moment = value if isinstance(value, datetime) else parse_datetime(value) if value else None
    return moment.strftime("%d.%m.%Y") if moment else "—"


def qty(value: Any) -> Decimal:
    return money(value).normalize() if value not in (None, "") else Decimal(0)


# --- products and stock ----------------------------------------------------------------------------


def product_rows(ports: Ports, deal_id: int) -> list[Mapping[str, Any]]:
    rows = ports.b24.call("crm.deal.productrows.get", {"id": deal_id}).result
    return [row for row in rows or [] if isinstance(row, Mapping)]


def refresh(ports: Ports, product_ids: Sequence[int]) -> str | None:
    """§2.2.11.3.6 "when opened": the deal's products' stock from 1C into the Bitrix24 catalog now."""
    if not product_ids:
        return None
    try:
        ports.refresh_stock(product_ids, ports)
    except BridgeError as error:
        logger.warning(
            "deal tab: stock refresh failed", extra={"products": list(product_ids), "error": str(error)}
        )
        return f"Остатки в каталоге Битрикс24 не обновлены: {error}. Ниже — остатки, прочитанные из 1С."
    return None


def warehouse_balances(
    ports: Ports, refs: Sequence[str], warehouses: Sequence[str]
) -> dict[str, dict[str, Decimal]]:
    """item ref → warehouse ref → quantity (free balance of `ЗапасыНаСкладах`, configured warehouses)."""
    if not refs:
        return {}
    condition = any_of(*(eq("Номенклатура_Key", guid(r)) for r in refs))
    if warehouses:
        condition = Filter(
            f"({condition}) and ({any_of(*(eq('СтруктурнаяЕдиница_Key', guid(w)) for w in warehouses))})"
        )
    rows = ports.onec.balance(
        STOCK,
        condition=condition,
        dimensions=("Номенклатура", "СтруктурнаяЕдиница"),
        select=("Номенклатура_Key", "СтруктурнаяЕдиница_Key", "КоличествоBalance"),
    )
    found: dict[str, dict[str, Decimal]] = {}
    for row in rows:
        item = normalize_ref(str(row.get("Номенклатура_Key") or ""))
        place = normalize_ref(str(row.get("СтруктурнаяЕдиница_Key") or ""))
        per = found.setdefault(item, {})
        per[place] = per.get(place, Decimal(0)) + qty(row.get("КоличествоBalance"))
    return found


def names(ports: Ports, entity_set: str, refs: Sequence[str]) -> dict[str, str]:
    if not refs:
        return {}
    rows = ports.onec.list(
        entity_set, filter=any_of(*(eq("Ref_Key", guid(r)) for r in refs)), select=("Ref_Key", "Description")
    )
    return {normalize_ref(str(row["Ref_Key"])): str(row.get("Description") or "").strip() for row in rows}


def products(
    ports: Ports, rows: Sequence[Mapping[str, Any]], *, refresh_catalog: bool = True
) -> tuple[tuple[ProductView, ...], str | None]:
    ids = sorted(
        {
            int(r["PRODUCT_ID"])
            for r in rows
            if str(r.get("PRODUCT_ID") or "0").isdigit() and int(r["PRODUCT_ID"])
        }
    )
    note = refresh(ports, ids) if refresh_catalog else None
    resolved = catalog_resolved(ports.store).load()
    refs = {
        pid: ref
        for pid, (ref, _q) in lookup.products_by_id(ports.b24, resolved.iblock_id, ids).items()
        if ref
    }
    balances = warehouse_balances(ports, sorted(set(refs.values())), resolved.warehouse_refs)
    places = names(ports, WAREHOUSES, sorted({w for per in balances.values() for w in per}))
    shown: list[ProductView] = []
    for row in rows:
        pid = int(row["PRODUCT_ID"]) if str(row.get("PRODUCT_ID") or "0").isdigit() else 0
        ref = refs.get(pid)
        per = balances.get(ref, {}) if ref else {}
        stock = tuple(
            WarehouseStock(warehouse=places.get(w, w), quantity=q)
            for w, q in sorted(per.items(), key=lambda i: places.get(i[0], i[0]))
        )
        shown.append(
            ProductView(
                product_id=pid,
                name=str(row.get("PRODUCT_NAME") or f"товар #{pid}"),
                quantity=qty(row.get("QUANTITY")),
                in_1c=ref is not None,
                stock=stock,
            )
        )
    return tuple(shown), note


# --- the order and its payments ----------------------------------------------------------------------


def _one_name(ports: Ports, entity_set: str, ref: Any) -> str:
    if not ref or normalize_ref(str(ref)) == "00000000-0000-0000-0000-000000000000":
        return "—"
    try:
        return str(
            ports.onec.get(entity_set, str(ref), select=("Ref_Key", "Description")).get("Description") or "—"
        )
    except NotFound:
        return "—"


def web_link(base: str | None, ref: str) -> str | None:
    """1C's web client opens a document by its navigation link `e1cib/data/Документ.<name>?ref=<hex>`."""
    if not base:
        return None
    return f"{base.rstrip('/')}/#e1cib/data/Документ.ЗаказПокупателя?ref={ref.replace('-', '')}"


def order(ports: Ports, ref: str, outcome: str, web_base: str | None) -> OrderView | None:
    try:
        row = ports.onec.get(
            ORDERS,
            ref,
            select=("Ref_Key", "Number", "Date", "СуммаДокумента", "СостояниеЗаказа", "Ответственный_Key"),
        )
    except NotFound:
        return None
    return OrderView(
        ref=ref,
        number=str(row.get("Number") or "").strip(),
        date=shown_date(row.get("Date")),
        state=_one_name(ports, ORDER_STATES, row.get("СостояниеЗаказа")),
        amount=money(row.get("СуммаДокумента")),
        responsible=_one_name(ports, EMPLOYEES, row.get("Ответственный_Key")),
        outcome=_OUTCOMES.get(outcome, outcome),
        web_link=web_link(web_base, ref),
    )


def _pays_order(entity_set: str, ref: str) -> Filter:
    if entity_set == CARD_SET:
        return any_row("РасшифровкаПлатежа", Filter(f"d/Заказ_Key eq {guid(ref)}"))
    return any_row("РасшифровкаПлатежа", Filter(f"d/Заказ eq {cast_ref(ref, ORDERS)}"))


def payments(ports: Ports, ref: str) -> tuple[tuple[PaymentView, ...], Decimal]:
    """Every unmarked receipt with a row for the order, posted or not; the paid total counts what
    the payments flow counts (posted, not an excluded operation kind)."""
    excluded = tuple(ports.mapping.payments.excluded_operations)
    docs: list[PaymentDoc] = []
    for entity_set in PAYMENT_SETS:
        rows = ports.onec.list(
            entity_set,
            filter=eq("DeletionMark", False) & _pays_order(entity_set, ref),
            select=payment_fields(entity_set),
        )
        docs += [PaymentDoc.from_onec(entity_set, row) for row in rows]
    docs.sort(key=lambda d: (d.date or datetime.min, d.number))
    views = tuple(
        PaymentView(
            date=shown_date(d.date),
            document=f"{_DOCUMENTS[d.kind]} № {d.number}",
            amount=d.amounts_by_order.get(ref, Decimal(0)),
            method=_METHODS[d.kind],
            posted=d.posted,
            counted=d.counts_for(ref, excluded),
        )
        for d in docs
    )
    paid = sum((v.amount for v in views if v.counted), Decimal(0))
    return views, paid


# --- the journal and why there is no order -------------------------------------------------------------


def journal_lines(ports: Ports, deal_id: int) -> tuple[list[JournalLineView], str | None]:
    """(newest lines, the text of the latest problem told to the manager, if any)."""
    found = journal(RecordRef(kind="deal", key=str(deal_id)), ports)
    lines = [
        JournalLineView(
            at=line.entry.at.strftime("%d.%m.%Y %H:%M UTC"),
            text=words.journal_line(line.entry.flow, line.entry.outcome, line.entry.detail),
        )
        for line in found.lines[:JOURNAL_LINES]
    ]
    problem = next(
        (
            str(line.entry.detail["text"])
            for line in found.lines
            if line.entry.flow == "deals" and line.entry.detail.get("text")
        ),
        None,
    )
    return lines, problem


def why_no_order(
    ports: Ports, deal: Mapping[str, Any], products_shown: Sequence[ProductView], problem: str | None
) -> str:
    unmatched = [p.name for p in products_shown if not p.in_1c]
    try:
        book = deal_resolved(ports.store).load().stage_book
        waiting = not TriggerRule(book, ports.mapping.deal).may_create(Deal.model_validate(dict(deal)))
    except BridgeError:
        waiting = False
    if waiting:
        stages = ", ".join(f"«{t.stage}» ({t.funnel})" for t in ports.mapping.deal.trigger_stages)
        return (
            f"Заказ в 1С создаётся, когда сделка дойдёт до стадии {stages}. Переведите сделку на эту стадию."
        )
    if unmatched:
        return (
            "Заказ в 1С не создан: товары "
            + ", ".join(f"«{n}»" for n in unmatched)
            + " не связаны с номенклатурой 1С. Выберите их из каталога, выгруженного из 1С."
        )
    if problem:
        return problem
    return "Заказа в 1С пока нет: сделка ещё не обработана. Нажмите «Синхронизировать сейчас»."


# --- the whole tab -----------------------------------------------------------------------------------


def build(
    deal_id: int,
    deal: Mapping[str, Any],
    ports: Ports,
    *,
    web_base: str | None = None,
    refresh_catalog: bool = True,
    rows: Sequence[Mapping[str, Any]] | None = None,
) -> DealTab:
    """`refresh_catalog` off (`BRIDGE_DEAL_TAB_STOCK_REFRESH=false`) shows 1C's balances without
    writing them to the catalog: for measuring what the refresh costs, or a portal that must not
    be written from the tab."""
    if rows is None:
        rows = product_rows(ports, deal_id)
    shown_products, note = products(ports, rows, refresh_catalog=refresh_catalog)
    lines, problem = journal_lines(ports, deal_id)
    link = ports.store.links.find_by_b24(deal_ref(deal_id))
    found = order(ports, link.onec.ref, str(link.extra.get("outcome", "open")), web_base) if link else None
    paid_rows: tuple[PaymentView, ...] = ()
    paid = Decimal(0)
    if found is not None:
        paid_rows, paid = payments(ports, found.ref)
    no_order = None
    if found is None:
        no_order = (
            "Заказ, связанный со сделкой, в 1С не найден (удалён?). Нажмите «Синхронизировать сейчас»."
            if link
            else why_no_order(ports, deal, shown_products, problem)
        )
    return DealTab(
        deal_id=deal_id,
        title=str(deal.get("TITLE") or ""),
        order=found,
        payments=paid_rows,
        paid=paid,
        products=shown_products,
        journal=tuple(lines),
        no_order=no_order,
        stock_note=note,
    )


def resync(deal_id: int, ports: Ports) -> tuple[bool, str]:
    """`resync deal <id>` (bridge.repair), in the manager's words: (ok, what happened)."""
    from bridge import repair  # lazy: it loads every flow, which only the button needs

    report = repair.resync(RecordRef(kind="deal", key=str(deal_id)), ports)
    told = None
    if not report.ok:
        _lines, told = journal_lines(ports, deal_id)
    logger.info("deal tab resync", extra={"deal_id": deal_id, **report.as_dict()})
    return report.ok, words.resync_outcome(report.ok, report.notes, report.problem, told)
