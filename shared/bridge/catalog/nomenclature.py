"""The nomenclature run: 1C folders → sections, items → products with prices (§2.2.11.3.1–5).

Change detection (architecture §4): the cheap 1C manifest (Ref_Key, DataVersion, DeletionMark) is
diffed against what SyncTable remembers; only new and changed objects are read in full, and only
those whose mapped fields changed are written. Prices have their own diff because a price change
does not touch the item's DataVersion. Every write goes through `batch`; the manifests are updated
after each batch, and anything not yet recorded is looked up by `xmlId` before being created —
unless the catalog holds no product at all (one cheap read says so, or setup found it so just
before: `_before_first_load`), the common first load.

Throughput (docs/performance.md, P1): sections go in the fewest batches their nesting allows
(children refer to a parent created in the same batch by `$result[…]`); when they fit, they travel
in the first product batch, whose products name a new section the same way. The 1C reads run side
by side (a first load reads every item beside the manifest and the folders), and the catalog probe
goes out while they run; a first load into an empty catalog sends its first batch with a few items
read on their own, before the full item read ends (`HEAD_ITEMS`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from typing import Any, Unpack

from bridge.b24.batching import MAX_BATCH
from bridge.b24.errors import B24Error
from bridge.b24.models import Command
from bridge.catalog import lookup, reader
from bridge.catalog.model import (
    MANIFEST_ITEMS,
    MANIFEST_SECTIONS,
    Folder,
    Headline,
    Item,
    Stored,
    StoredPrice,
    item_fingerprint,
    product_fields,
    section_fields,
    section_fingerprint,
)
from bridge.catalog.plan import WritePlan, decide, folder_levels, manifest_diff, price_writes, synced_items
from bridge.catalog.progress import Progress, RunOptions, Sink, run_options
from bridge.catalog.report import RunReport
from bridge.catalog.resolved import EMPTY_FACT_FRESH_S, CatalogResolved, empty_at_setup
from bridge.catalog.state import ManifestBuffer, load_prices, load_stored
from bridge.catalog.write_behind import WriteBehind
from bridge.catalog.writer import Unit, run_units
from bridge.config.catalog import CatalogMapping
from bridge.observability import logger
from bridge.onec.client import ODataClient
from bridge.ports import Ports

# Product batches sent before the first answer is back. Each batch holds whole units (a product and
# its price), so batches never refer to each other; a portal takes seconds per batch of 50 writes
# and the request bucket allows one every 0.5 s, hence several in flight.
BATCHES_IN_FLIGHT = 4
# Sections that ride in the first product batch: at most this many, so some products fit beside
# them; a bigger tree goes first in batches of its own.
SECTIONS_WITH_PRODUCTS = MAX_BATCH - 10
# Items the first batch of a first load takes from a small 1C read of its own, so it need not
# wait for the full item read (several pages): once the request bucket binds, a load
# ends (requests − burst) ÷ 2 s after its first request, so every second before it counts.
HEAD_ITEMS = 24


def _missing(errors: Mapping[str, B24Error]) -> bool:
    return any("not found" in str(error).lower() for error in errors.values())


def _new_id(result: Any, wrapper: str) -> int | None:
    if isinstance(result, Mapping) and isinstance(result.get(wrapper), Mapping):
        return int(result[wrapper]["id"])
    return None


def sync_nomenclature(ports: Ports, resolved: CatalogResolved, **options: Unpack[RunOptions]) -> RunReport:
    dry_run, sink, should_stop = run_options(options)
    settings: CatalogMapping = ports.mapping.catalog
    report = RunReport("nomenclature", dry_run=dry_run)
    buffer = ManifestBuffer(ports.store)
    stored_items = load_stored(ports.store, MANIFEST_ITEMS)
    first_load = not stored_items
    # Reads that do not depend on Bitrix24 start now, side by side. Stock is only needed for
    # products created with their quantity, which on a first load is every product; so is every
    # item's full read, which then need not wait for the manifest.
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="catalog-prefetch") as pool:
        # Submitted in the order the first batch needs them: the 1C server answers side by side,
        # so a small read that starts first also ends first, and the full item read last.
        folders = pool.submit(reader.folders, ports.onec)
        prices = pool.submit(reader.prices, ports.onec, resolved.price_kind_ref)
        quantities = (
            pool.submit(reader.quantities, ports.onec, resolved.warehouse_refs)
            if first_load and resolved.stock_mode == "quantity"
            else None
        )
        # On a first load, what Bitrix24 already holds is asked for at once too (one request).
        probing = first_load and not dry_run
        head = pool.submit(_read_head, ports.onec, prices, quantities) if probing else None
        prefetch = _Prefetch(
            probe=pool.submit(_before_first_load, ports, resolved.iblock_id) if probing else None,
            prices=prices,
            quantities=quantities,
            items=pool.submit(reader.all_items, ports.onec) if first_load else None,
            # Only this run writes these two manifests. The head start may record its prices
            # before or after this read lands; either way they are for products settled already,
            # which the price plan leaves out.
            stored_sections=pool.submit(load_stored, ports.store, MANIFEST_SECTIONS),
            stored_prices=pool.submit(load_prices, ports.store),
        )
        # A first load's full read already holds every headline field of every item: the cheap
        # manifest read would only repeat it (and compete with it for the 1C server).
        headlines = None if prefetch.items is not None else reader.headlines(ports.onec)
        sections = _sync_sections(ports, resolved, folders.result(), prefetch, report, buffer, should_stop)
        run = _Run(ports, resolved, report, buffer, sink, should_stop)
        settled: set[str] = set()
        # Into an empty catalog only: what exists would first be looked up by xmlId.
        empty = prefetch.probe is not None and not prefetch.probe.result().has_products
        # Every product batch is recorded behind the sending, the head start's too: the section
        # ids its answer brings are in memory as soon as it is settled, before its record is
        # written, and the next batches need nothing else from it.
        with WriteBehind(buffer) as recorder:
            if not report.stopped and head is not None and empty:
                settled, sections = _send_head(run, recorder, head.result(), sections, settings)
            if not report.stopped:
                current = synced_items(
                    headlines
                    if headlines is not None
                    else _headlines(prefetch.items.result() if prefetch.items else []),
                    include_services=settings.include_services,
                    service_kinds=settings.service_kinds,
                )
                _sync_products(run, recorder, current, stored_items, sections, prefetch, settled)
        buffer.flush()
    if not report.stopped:
        _delete(ports, sections.gone, "catalog.section.delete", "section", report, buffer, should_stop)
    logger.info(report.summary(), extra=report.as_dict())
    return report


def _before_first_load(ports: Ports, iblock_id: int) -> lookup.Probe:
    """What Bitrix24 holds before a first load: setup's fresh empty-catalog finding, used once, or
    one probe request. Every creation waits for this answer, so the finding is marked used first."""
    fact = empty_at_setup(ports.store)
    found = fact.find()
    if found is not None and not found.used:
        fact.save(found.model_copy(update={"used": True}))
        age = ports.store.table.clock() - found.checked_at
        if 0 <= age <= EMPTY_FACT_FRESH_S:
            logger.info("setup found the catalog empty: the first load creates without a probe")
            return lookup.Probe(sections={}, has_products=False)
        logger.info("setup's empty-catalog finding is too old: probing", extra={"age_s": round(age)})
    return lookup.probe(ports.b24, iblock_id)


def _headlines(items: list[Item]) -> list[Headline]:
    """The cheap manifest's rows of the items a full read returned (that read leaves folders out).

    `deleted` also holds Недействителен; `synced_items` reads neither mark."""
    return [
        Headline(item.ref, item.data_version, item.deleted, is_folder=False, kind=item.kind) for item in items
    ]


# ---- sections --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Sections:
    ids: dict[str, int]  # 1C folder ref → section id; filled in as pending sections are created
    gone: list[tuple[str, int]]
    # Section writes left for the first product batch, and the refs of the sections they create.
    pending: list[Unit] = field(default_factory=list)
    pending_refs: set[str] = field(default_factory=set)


def _sync_sections(
    ports: Ports,
    resolved: CatalogResolved,
    folders: list[Folder],
    prefetch: _Prefetch,
    report: RunReport,
    buffer: ManifestBuffer,
    should_stop: Callable[[], bool],
) -> _Sections:
    stored = prefetch.stored_sections.result()
    diff = manifest_diff({f.ref: f.data_version for f in folders}, stored)
    wanted = set(diff.new) | set(diff.changed)
    fingerprints = {f.ref: section_fingerprint(f) for f in folders}
    found: dict[str, int] = {}
    if diff.new and not report.dry_run:
        probed = prefetch.probe.result().sections if prefetch.probe is not None else None
        found = probed if probed is not None else lookup.sections_by_xml_id(ports.b24, resolved.iblock_id)
    plan = decide([f for f in folders if f.ref in wanted], stored, diff.gone, fingerprints, found)
    section_ids = {ref: s.b24_id for ref, s in stored.items() if ref not in diff.gone}
    section_ids |= {obj.ref: b24_id for obj, b24_id in plan.update}
    if not report.dry_run:
        for folder, b24_id in plan.touch:
            buffer.section(folder.ref, Stored(b24_id, folder.data_version, fingerprints[folder.ref]))
    writing = {f.ref: None for f in plan.create} | {f.ref: b24_id for f, b24_id in plan.update}
    # Parents before children; a child whose parent is created in the same batch names it by
    # `$result[…]`, so a tree of up to 50 groups is one request whatever its depth.
    ordered = [folder for level in folder_levels(folders) for folder in level if folder.ref in writing]
    if ordered and len(ordered) <= SECTIONS_WITH_PRODUCTS and not report.dry_run:
        created = {folder.ref for folder in ordered if writing[folder.ref] is None}
        units = [
            _section_unit(
                folder, writing[folder.ref], resolved, section_ids, created, fingerprints, report, buffer
            )
            for folder in ordered
        ]
        buffer.flush()
        return _Sections(section_ids, plan.delete, units, created)
    for start in range(0, len(ordered), MAX_BATCH):
        chunk = ordered[start : start + MAX_BATCH]
        in_chunk = {folder.ref for folder in chunk if writing[folder.ref] is None}
        units = [
            _section_unit(
                folder, writing[folder.ref], resolved, section_ids, in_chunk, fingerprints, report, buffer
            )
            for folder in chunk
        ]
        if report.dry_run:
            continue
        outcome = run_units(ports.b24, units, after_batch=buffer.flush, should_stop=should_stop)
        report.failed += outcome.failed
        if outcome.stopped or should_stop():
            report.stopped = outcome.stopped or start + MAX_BATCH < len(ordered)
            break
    if not report.dry_run:
        buffer.flush()
    return _Sections(section_ids, plan.delete)


def _section_unit(
    folder: Folder,
    b24_id: int | None,
    resolved: CatalogResolved,
    section_ids: dict[str, int],
    created_in_batch: set[str],
    fingerprints: Mapping[str, str],
    report: RunReport,
    buffer: ManifestBuffer,
) -> Unit:
    parent_id = section_ids.get(folder.parent) if folder.parent else None
    fields = section_fields(folder, resolved, parent_id)
    key = _section_key(folder.ref)
    where = f"under section {parent_id}" if parent_id else "at the top level"
    if parent_id is None and folder.parent in created_in_batch:
        fields["iblockSectionId"] = f"$result[{_section_key(folder.parent)}][section][id]"
        where = "under a section created in the same batch"
    if b24_id is None:
        report.note("sections created", f"create section {folder.name!r} {where}")
        command = Command("catalog.section.add", {"fields": fields})
    else:
        report.note("sections updated", f"update section {b24_id} {folder.name!r} {where}")
        command = Command("catalog.section.update", {"id": b24_id, "fields": fields})

    def done(results: Mapping[str, Any], errors: Mapping[str, B24Error]) -> bool:
        new_id = _new_id(results.get(key), "section")
        if new_id is None:
            if _missing(errors):
                buffer.remove(MANIFEST_SECTIONS, folder.ref)  # removed by hand: recreated next run
            return False
        section_ids[folder.ref] = new_id
        if folder.parent in created_in_batch and folder.parent not in section_ids:
            # Its parent failed in this batch, so it was not created under it: recorded as never
            # written, the next run reads it again and moves it under the parent it creates.
            logger.warning("section created outside its failed parent", extra={"section": new_id})
            buffer.section(folder.ref, Stored(new_id, "", ""))
            return True
        buffer.section(folder.ref, Stored(new_id, folder.data_version, fingerprints[folder.ref]))
        return True

    return Unit(((key, command),), done)


def _section_key(ref: str) -> str:
    return "s" + ref.replace("-", "")


# ---- products and prices ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Run:
    """What every step of one products run shares."""

    ports: Ports
    resolved: CatalogResolved
    report: RunReport
    buffer: ManifestBuffer
    sink: Sink | None
    should_stop: Callable[[], bool]


@dataclass(frozen=True, slots=True)
class _NewProducts:
    """What a created product is written with: its section, price, quantity and fingerprint."""

    section_ids: Mapping[str, int]
    targets: Mapping[str, Decimal]
    quantities: Mapping[str, Decimal]
    fingerprints: Mapping[str, str]  # of the products it updates (a created one is hashed as built)
    # Sections created by the batch being built: a product names them by `$result[…]`. Emptied
    # once that batch is answered (a section that failed then leaves its products at the top).
    pending_sections: set[str] = field(default_factory=set)

    def section(self, parent: str | None) -> int | str | None:
        if not parent:
            return None
        if parent not in self.section_ids and parent in self.pending_sections:
            return f"$result[{_section_key(parent)}][section][id]"
        return self.section_ids.get(parent)


@dataclass(frozen=True, slots=True)
class _Prefetch:
    probe: Future[lookup.Probe] | None
    prices: Future[dict[str, Decimal]]
    quantities: Future[dict[str, Decimal]] | None
    items: Future[list[Item]] | None  # every item in full (a first load)
    stored_sections: Future[dict[str, Stored]]
    stored_prices: Future[dict[str, StoredPrice]]


def _products_exist(ports: Ports, iblock_id: int) -> bool:
    """Whether the catalog holds any product: one list call instead of a lookup per 50 new items."""
    answer = ports.b24.call(
        "catalog.product.list",
        {"select": ["id", "iblockId"], "filter": {"iblockId": iblock_id}, "start": -1},
    )
    rows = answer.result.get("products") if isinstance(answer.result, Mapping) else answer.result
    return bool(rows)


def _sync_products(
    run: _Run,
    recorder: WriteBehind,
    current: Mapping[str, str],
    stored: Mapping[str, Stored],
    sections: _Sections,
    prefetch: _Prefetch,
    settled: set[str],
) -> None:
    ports, resolved, report, buffer = run.ports, run.resolved, run.report, run.buffer
    section_ids = sections.ids
    diff = manifest_diff(current, stored)
    if prefetch.items is not None:
        # Items the head start created are settled (recorded or counted failed): not written twice.
        wanted = (set(diff.new) | set(diff.changed)) - settled
        items = [item for item in prefetch.items.result() if item.ref in wanted]
    else:
        items = reader.items(
            ports.onec,
            [*diff.new, *diff.changed],
            total=len(current),
            full_read_share=ports.mapping.catalog.full_read_share,
        )
    found: dict[str, int] = {}
    if diff.new and not report.dry_run:
        exist = prefetch.probe.result().has_products if prefetch.probe is not None else None
        if exist if exist is not None else _products_exist(ports, resolved.iblock_id):
            found = lookup.products_by_xml_id(ports.b24, resolved.iblock_id, list(diff.new))
        else:
            logger.info("catalog holds no product: new items are created without an xmlId lookup")
    # Only what Bitrix24 already holds is compared now. A product to create is hashed as its
    # command is built, while earlier batches are out, not before the first of them leaves.
    fingerprints = {
        item.ref: item_fingerprint(item, resolved)
        for item in items
        if item.ref in stored or item.ref in found
    }
    plan = decide(items, stored, diff.gone, fingerprints, found)
    targets = prefetch.prices.result()
    stored_prices = prefetch.stored_prices.result()
    adopted = {obj.ref: b24_id for obj, b24_id in plan.update if obj.ref not in stored}
    if adopted and not report.dry_run:
        existing = lookup.price_ids(ports.b24, resolved.price_type_id, list(adopted.values()))
        for ref, product_id in adopted.items():
            if product_id in existing:
                price_id, price = existing[product_id]
                stored_prices[ref] = StoredPrice(price_id, price)
                buffer.price(ref, stored_prices[ref])  # what Bitrix24 holds now, written or not
            else:
                stored_prices.pop(ref, None)
    quantities: Mapping[str, Decimal] = {}
    if plan.create and resolved.stock_mode == "quantity":
        if prefetch.quantities is not None:
            quantities = prefetch.quantities.result()
        else:
            quantities = reader.quantities(ports.onec, resolved.warehouse_refs)
    if not report.dry_run:
        for item, b24_id in plan.touch:
            buffer.item(item.ref, Stored(b24_id, item.data_version, fingerprints[item.ref]))
    products = {ref: s.b24_id for ref, s in stored.items() if ref not in diff.gone}
    products |= {obj.ref: b24_id for obj, b24_id in plan.update}
    prices = price_writes(targets, stored_prices, products)
    # The head start's products are part of the load the operator watches: counted, already done.
    total = len(settled) + plan.writes + len(prices)
    progress = Progress("catalog products", total, sink=run.sink) if total else None
    if report.dry_run:
        _describe(plan, prices, section_ids, report)
        return
    if progress is not None and settled:
        progress.advance(len(settled))
    new = _NewProducts(section_ids, targets, quantities, fingerprints, set(sections.pending_refs))
    taken = 0
    if sections.pending:
        # The first batch carries the sections and the products that fit beside them, and is
        # answered before the next is built: later products name those sections by their ids.
        first, size = list(sections.pending), sum(len(unit.commands) for unit in sections.pending)
        for unit in _product_units(run, plan, new, prices, adopted):
            if size + len(unit.commands) > MAX_BATCH:
                break
            first.append(unit)
            size += len(unit.commands)
            taken += 1
        outcome = run_units(ports.b24, first, after_batch=recorder.after_batch, should_stop=run.should_stop)
        if progress is not None:
            progress.advance(taken)
        new.pending_sections.clear()
        report.failed += outcome.failed
        if run.should_stop():
            report.stopped = taken < plan.writes + len(prices)
            return
    # Built anew from the start (building has no side effects), the first `taken` skipped.
    units: Iterator[Unit] = islice(_product_units(run, plan, new, prices, adopted), taken, None)
    outcome = run_units(
        ports.b24,
        units,
        after_batch=recorder.after_batch,
        progress=progress,
        should_stop=run.should_stop,
        in_flight=BATCHES_IN_FLIGHT,
    )
    report.failed += outcome.failed
    report.stopped = outcome.stopped


@dataclass(frozen=True, slots=True)
class _Head:
    """The first few items of a first load, with their prices and stock."""

    items: list[Item]
    prices: dict[str, Decimal]
    quantities: dict[str, Decimal]


def _read_head(
    onec: ODataClient, prices: Future[dict[str, Decimal]], quantities: Future[dict[str, Decimal]] | None
) -> _Head:
    # The price and stock reads are one request each and end well before the full item read
    # (several pages); reads filtered by these few refs cost the 1C side more than the full ones.
    items = reader.first_items(onec, HEAD_ITEMS)
    return _Head(items, prices.result(), quantities.result() if quantities is not None else {})


def _send_head(
    run: _Run, recorder: WriteBehind, head: _Head, sections: _Sections, settings: CatalogMapping
) -> tuple[set[str], _Sections]:
    """The first batch of a first load into an empty catalog, sent before the full 1C reads end:
    the pending sections and the head items that fit beside them. Returns the refs it settled and
    the sections left to send (none)."""
    synced = synced_items(
        _headlines(head.items),
        include_services=settings.include_services,
        service_kinds=settings.service_kinds,
    )
    items = [item for item in head.items if item.ref in synced]
    new = _NewProducts(sections.ids, head.prices, head.quantities, {}, set(sections.pending_refs))
    batch, size, taken = list(sections.pending), sum(len(u.commands) for u in sections.pending), set()
    for index, item in enumerate(items):
        unit = _create_unit(run, new, item, f"h{index}")
        if size + len(unit.commands) > MAX_BATCH:
            break
        batch.append(unit)
        size += len(unit.commands)
        taken.add(item.ref)
    if batch:
        outcome = run_units(
            run.ports.b24, batch, after_batch=recorder.after_batch, should_stop=run.should_stop
        )
        run.report.failed += outcome.failed
        logger.info("first batch sent before the full 1C reads", extra={"products": len(taken)})
    if run.should_stop():
        run.report.stopped = True
    return taken, _Sections(sections.ids, sections.gone)


def _describe(
    plan: WritePlan[Item], prices: list[Any], section_ids: Mapping[str, int], report: RunReport
) -> None:
    for item in plan.create:
        where = section_ids.get(item.parent or "", "a new section" if item.parent else "the top level")
        report.note("products created", f"create product {item.name!r} [{item.article}] in {where}")
    for item, b24_id in plan.update:
        report.note("products updated", f"update product {b24_id} {item.name!r}")
    for write in prices:
        report.note("prices written", f"set price of product {write.product_id} to {write.price}")
    for ref, b24_id in plan.delete:
        report.note("products deleted", f"delete product {b24_id} (1C item {ref} is gone)")


def _product_units(
    run: _Run, plan: WritePlan[Item], new: _NewProducts, prices: list[Any], adopted: Mapping[str, int]
) -> Iterator[Unit]:
    resolved, report, buffer = run.resolved, run.report, run.buffer
    for index, item in enumerate(plan.create):
        yield _create_unit(run, new, item, f"c{index}")
    for index, (item, b24_id) in enumerate(plan.update):
        key = f"u{index}"
        fields = product_fields(item, resolved, None)
        fields["iblockSectionId"] = new.section(item.parent)
        yield Unit(
            ((key, Command("catalog.product.update", {"id": b24_id, "fields": fields})),),
            _updated(item, b24_id, new.fingerprints[item.ref], item.ref in adopted, key, report, buffer),
        )
    for index, write in enumerate(prices):
        key = f"p{index}"
        values = {"price": float(write.price), "currency": resolved.currency}
        if write.price_id is None:
            fields = {"productId": write.product_id, "catalogGroupId": resolved.price_type_id, **values}
            command = Command("catalog.price.add", {"fields": fields})
        else:
            command = Command("catalog.price.update", {"id": write.price_id, "fields": values})
        yield Unit(((key, command),), _priced(write.ref, write.price_id, write.price, key, report, buffer))
    for index, (ref, b24_id) in enumerate(plan.delete):
        key = f"d{index}"
        yield Unit(
            ((key, Command("catalog.product.delete", {"id": b24_id})),),
            _deleted(ref, b24_id, key, report, buffer),
        )


def _create_unit(run: _Run, new: _NewProducts, item: Item, key: str) -> Unit:
    resolved, report, buffer = run.resolved, run.report, run.buffer
    fp = item_fingerprint(item, resolved)
    fields = product_fields(item, resolved, None)
    fields["iblockSectionId"] = new.section(item.parent)
    quantity = new.quantities.get(item.ref, Decimal(0)) if resolved.stock_mode == "quantity" else None
    if quantity is not None:
        fields["quantity"] = float(quantity)
    commands = [(key, Command("catalog.product.add", {"fields": fields}))]
    price = new.targets.get(item.ref)
    price_key = key + "p"
    if price is not None:
        price_fields = {
            "productId": f"$result[{key}][element][id]",
            "catalogGroupId": resolved.price_type_id,
            "price": float(price),
            "currency": resolved.currency,
        }
        commands.append((price_key, Command("catalog.price.add", {"fields": price_fields})))

    def done(results: Mapping[str, Any], errors: Mapping[str, B24Error]) -> bool:
        product_id = _new_id(results.get(key), "element")
        if product_id is None:
            return False
        report.note("products created")
        homeless = item.parent in new.pending_sections and item.parent not in new.section_ids
        if homeless:  # its new section failed in this batch: recorded as never written, so the
            # next run reads the item again and moves the product into the section it creates
            logger.warning("product created outside its failed section", extra={"product": product_id})
        buffer.item(
            item.ref, Stored(product_id, "", "") if homeless else Stored(product_id, item.data_version, fp)
        )
        price_id = _new_id(results.get(price_key), "price")
        if price is not None and price_id is not None:
            report.note("prices written")
            buffer.price(item.ref, StoredPrice(price_id, price))
        if quantity is not None:
            buffer.stock(item.ref, quantity)
        return price is None or price_id is not None

    return Unit(tuple(commands), done)


def _updated(
    item: Item,
    b24_id: int,
    fp: str,
    adopted: bool,
    key: str,
    report: RunReport,
    buffer: ManifestBuffer,
) -> Callable[[Mapping[str, Any], Mapping[str, B24Error]], bool]:
    def done(results: Mapping[str, Any], errors: Mapping[str, B24Error]) -> bool:
        if key not in results:
            if _missing(errors):
                buffer.forget_item(item.ref)  # deleted by hand in Bitrix24: recreated next run
            return False
        report.note("products adopted" if adopted else "products updated")
        buffer.item(item.ref, Stored(b24_id, item.data_version, fp))
        return True

    return done


def _priced(
    ref: str, price_id: int | None, price: Decimal, key: str, report: RunReport, buffer: ManifestBuffer
) -> Callable[[Mapping[str, Any], Mapping[str, B24Error]], bool]:
    def done(results: Mapping[str, Any], errors: Mapping[str, B24Error]) -> bool:
        new_id = _new_id(results.get(key), "price") or price_id
        if key not in results:
            return False
        report.note("prices written")
        buffer.price(ref, StoredPrice(new_id, price))
        return True

    return done


def _deleted(
    ref: str, b24_id: int, key: str, report: RunReport, buffer: ManifestBuffer
) -> Callable[[Mapping[str, Any], Mapping[str, B24Error]], bool]:
    def done(results: Mapping[str, Any], errors: Mapping[str, B24Error]) -> bool:
        if key not in results and not _missing(errors):
            return False
        report.note("products deleted")
        buffer.forget_item(ref)
        return True

    return done


def _delete(
    ports: Ports,
    gone: list[tuple[str, int]],
    method: str,
    label: str,
    report: RunReport,
    buffer: ManifestBuffer,
    should_stop: Callable[[], bool],
) -> None:
    if not gone:
        return
    if report.dry_run:
        for ref, b24_id in gone:
            report.note(f"{label}s deleted", f"delete {label} {b24_id} (1C folder {ref} is gone)")
        return

    def unit(index: int, ref: str, b24_id: int) -> Unit:
        key = f"x{index}"

        def done(results: Mapping[str, Any], errors: Mapping[str, B24Error]) -> bool:
            if key not in results and not _missing(errors):
                return False
            report.note(f"{label}s deleted")
            buffer.remove(MANIFEST_SECTIONS, ref)
            return True

        return Unit(((key, Command(method, {"id": b24_id})),), done)

    # Deepest first is unknown for vanished folders; a parent deleted before its child makes the
    # child's delete answer "not found", which counts as done.
    units = [unit(index, ref, b24_id) for index, (ref, b24_id) in enumerate(reversed(gone))]
    outcome = run_units(ports.b24, units, after_batch=buffer.flush, should_stop=should_stop)
    report.failed += outcome.failed
    report.stopped = outcome.stopped
