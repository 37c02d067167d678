"""Stock: 1C `ЗапасыНаСкладах` balances → Bitrix24, every 5 minutes and on demand (§2.2.11.3.6).

Only quantities that differ from the last written ones are sent. With inventory management off
the product's `quantity` is set; with it on Bitrix24 refuses that field, so the change travels as
inventory documents (`S` adjustment receipts for increases, `D` write-offs for decreases) into the
configured store, each added, filled and conducted in one batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Unpack

from bridge.b24.batching import MAX_BATCH
from bridge.b24.errors import B24Error
from bridge.b24.models import Command
from bridge.catalog import lookup, reader
from bridge.catalog.model import MANIFEST_ITEMS
from bridge.catalog.plan import StockWrite, document_groups, stock_writes
from bridge.catalog.progress import Progress, RunOptions, Sink, run_options
from bridge.catalog.report import RunReport
from bridge.catalog.resolved import CatalogResolved, resolved_config
from bridge.catalog.state import ManifestBuffer, load_stock, load_stored
from bridge.catalog.writer import Unit, run_units
from bridge.observability import logger

if TYPE_CHECKING:
    from bridge.ports import Ports

# A document travels as add + rows + conduct in one batch.
ROWS_PER_DOCUMENT = MAX_BATCH - 2


def sync_stock(ports: Ports, resolved: CatalogResolved, **options: Unpack[RunOptions]) -> RunReport:
    """Every synced product: balances read once, compared with the stock manifest."""
    dry_run, sink, should_stop = run_options(options)
    products = {ref: s.b24_id for ref, s in load_stored(ports.store, MANIFEST_ITEMS).items()}
    targets = reader.quantities(ports.onec, resolved.warehouse_refs)
    writes = stock_writes(targets, load_stock(ports.store), products)
    return _push(ports, resolved, writes, RunReport("stock", dry_run=dry_run), sink, should_stop)


def refresh_stock(
    product_ids: Iterable[int | str],
    ports: Ports,
    resolved: CatalogResolved | None = None,
    *,
    dry_run: bool = False,
) -> RunReport:
    """The stock of these Bitrix24 products, now (a deal's product rows changed, or POST /stock/refresh).

    A product is ours when its `xmlId` is the Ref_Key of a 1C item (the natural key the catalog
    run writes); others are ignored. The comparison is with Bitrix24's current value, so a
    quantity edited by hand there is put right too. Without `resolved`, the ids setup stored in
    the configured SyncTable are used.
    """
    if resolved is None:
        resolved = resolved_config(ports.store).load()
    ids = sorted({int(p) for p in product_ids})
    report = RunReport("stock refresh", dry_run=dry_run)
    rows = lookup.products_by_id(ports.b24, resolved.iblock_id, ids)
    candidates = {ref: product_id for product_id, (ref, _) in rows.items() if ref is not None}
    products = {ref: candidates[ref] for ref in reader.existing_items(ports.onec, list(candidates))}
    report.counts["products asked"] = len(ids)
    report.counts["products from 1C"] = len(products)
    if not products:
        return report
    targets = reader.quantities(ports.onec, resolved.warehouse_refs, only=products)
    if resolved.stock_mode == "documents" and resolved.store_id is not None:
        amounts = lookup.store_amounts(ports.b24, resolved.store_id, list(products.values()))
        current = {ref: amounts.get(product_id, Decimal(0)) for ref, product_id in products.items()}
    else:
        current = {ref: rows[product_id][1] for ref, product_id in products.items()}
    writes = stock_writes(targets, current, products)
    changing = {w.ref for w in writes}
    if not dry_run:
        buffer = ManifestBuffer(ports.store)
        for ref in products.keys() - changing:
            buffer.stock(ref, current[ref])
        buffer.flush()
    return _push(ports, resolved, writes, report, None, lambda: False)


def _push(
    ports: Ports,
    resolved: CatalogResolved,
    writes: list[StockWrite],
    report: RunReport,
    sink: Sink | None,
    should_stop: Callable[[], bool],
) -> RunReport:
    if report.dry_run:
        for write in writes:
            report.note("quantities written", f"set stock of product {write.product_id} to {write.quantity}")
        return report
    buffer = ManifestBuffer(ports.store)
    if resolved.stock_mode == "documents":
        units: Iterator[Unit] = _document_units(ports, resolved, writes, report, buffer)
    else:
        units = _quantity_units(writes, report, buffer)
    progress = Progress("catalog stock", len(writes), sink=sink) if writes else None
    outcome = run_units(
        ports.b24, units, after_batch=buffer.flush, progress=progress, should_stop=should_stop
    )
    report.failed += outcome.failed
    report.stopped = outcome.stopped
    buffer.flush()
    logger.info(report.summary(), extra=report.as_dict())
    return report


def _quantity_units(writes: list[StockWrite], report: RunReport, buffer: ManifestBuffer) -> Iterator[Unit]:
    for index, write in enumerate(writes):
        key = f"q{index}"
        fields = {"quantity": float(write.quantity)}

        def done(
            results: Mapping[str, Any],
            errors: Mapping[str, B24Error],
            key: str = key,
            write: StockWrite = write,
        ) -> bool:
            if key not in results:
                return False
            report.note("quantities written")
            buffer.stock(write.ref, write.quantity)
            return True

        yield Unit(
            ((key, Command("catalog.product.update", {"id": write.product_id, "fields": fields})),), done
        )


def _document_units(
    ports: Ports,
    resolved: CatalogResolved,
    writes: list[StockWrite],
    report: RunReport,
    buffer: ManifestBuffer,
) -> Iterator[Unit]:
    if resolved.store_id is None:
        raise ValueError("inventory management is on but setup resolved no Bitrix24 store")
    store_id = resolved.store_id
    unknown = [w.product_id for w in writes if w.previous is None]
    if unknown:
        # Never written by us: the document moves the difference from what the store holds now.
        amounts = lookup.store_amounts(ports.b24, store_id, unknown)
        writes = [
            w
            if w.previous is not None
            else StockWrite(w.ref, w.product_id, w.quantity, amounts.get(w.product_id, Decimal(0)))
            for w in writes
        ]
    for write in writes:
        if write.previous == write.quantity:
            buffer.stock(write.ref, write.quantity)
    for index, (doc_type, rows) in enumerate(document_groups(writes, ROWS_PER_DOCUMENT)):
        doc_key = f"doc{index}"
        doc_id = f"$result[{doc_key}][document][id]"
        title = "1C stock adjustment" if doc_type == "S" else "1C stock write-off"
        commands: list[tuple[str, Command]] = [
            (
                doc_key,
                Command(
                    "catalog.document.add",
                    {"fields": {"docType": doc_type, "title": title, "currency": resolved.currency}},
                ),
            )
        ]
        for row, (write, amount) in enumerate(rows):
            element = {"docId": doc_id, "elementId": write.product_id, "amount": float(amount)}
            element["storeTo" if doc_type == "S" else "storeFrom"] = store_id
            commands.append(
                (f"{doc_key}e{row}", Command("catalog.document.element.add", {"fields": element}))
            )
        conduct_key = f"{doc_key}c"
        commands.append((conduct_key, Command("catalog.document.conduct", {"id": doc_id})))

        def done(
            results: Mapping[str, Any],
            errors: Mapping[str, B24Error],
            conduct_key: str = conduct_key,
            rows: list[tuple[StockWrite, Decimal]] = rows,
            keys: tuple[str, ...] = tuple(key for key, _ in commands),
        ) -> bool:
            # A row that failed while the document was still conducted leaves that product unrecorded
            # only if every row landed do we record the new quantities; otherwise the next run
            # compares with Bitrix24 again (previous unknown → read from the store).
            if results.get(conduct_key) is not True or any(key not in results for key in keys):
                return False
            for write, _ in rows:
                report.note("quantities written")
                buffer.stock(write.ref, write.quantity)
            report.note("documents conducted")
            return True

        yield Unit(tuple(commands), done)
