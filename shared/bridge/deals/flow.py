"""Bitrix24 deal → 1C customer order: the flow that runs for ONCRMDEALADD / ONCRMDEALUPDATE.

`sync_deal(deal_id, ports)` re-reads the deal's whole state in one batch, decides with the pure
core (`decisions.order_action`) and then creates, updates, completes or cancels the linked order,
or copies an out-of-stock deal into the materials funnel. Failures: transient errors propagate
(the queue retries, then the DLQ); permanent ones about the deal's data become a timeline comment,
an audit item and a metric, and the event counts as handled so it is not retried.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from bridge.b24.models import Command
from bridge.deals import refs, seen, writeback
from bridge.deals.buyer import BuyerParty, buyer_party, contact_person_for
from bridge.deals.coalesce import COMMENT_KEEP_S, DealBatch, WriteBack, send_now
from bridge.deals.config import DealFlowOptions, OrderConfig
from bridge.deals.counterparty import resolve_buyer
from bridge.deals.decisions import DealLinkState, OrderAction, OrderActionKind, OrderOutcome, TriggerRule
from bridge.deals.mapping import ProductRefs
from bridge.deals.notices import notify_problem
from bridge.deals.orders import close_order, create_order, ensure_shipment, update_order
from bridge.deals.plan import (
    SOURCE,
    DealFacts,
    DealPlan,
    OrderPlan,
    Problem,
    buyer_problem,
    counterparty_manager,
    decide,
    plan_order,
    responsible_rule,
    source_fingerprint,
)
from bridge.deals.products import amount_item_refs, match_products
from bridge.deals.resolved import DealResolved, resolved_config
from bridge.deals.snapshot import DealSnapshot, deal_read_plan, parse_deal_snapshot
from bridge.domain import directory
from bridge.domain.events import QueuedEvent
from bridge.domain.onec_sets import STOCK as STOCK_REGISTER
from bridge.domain.responsible import ResponsibleDecision, ResponsibleSource, decide_responsible
from bridge.errors import BridgeError, ConfigurationError, PermanentError, TransientError
from bridge.notices import timeline_comment
from bridge.observability import logger, metrics
from bridge.onec.odata import all_of, any_of, eq, guid
from bridge.ports import Ports
from bridge.store import ClaimHeld, CursorConflict, Link


def copy_cursor(deal_id: int) -> str:
    return f"deal-materials-copy-{deal_id}"


@dataclass(frozen=True)
class Run:
    """Everything one sync needs, resolved once."""

    ports: Ports
    resolved: DealResolved
    config: OrderConfig
    snapshot: DealSnapshot
    # The operator's `resync`: write the order even when its mapped fields match the fingerprint.
    force: bool = False
    # The worker's coalesced reads and write-backs (None: this run reads and writes for itself).
    batch: DealBatch | None = None

    @property
    def deal_id(self) -> int:
        return self.snapshot.deal.id


def read_snapshot(ports: Ports, deal_id: int) -> DealSnapshot:
    answer = ports.b24.batch(deal_read_plan(deal_id))
    errors = {key: {"error": e.code, "error_description": e.description} for key, e in answer.errors.items()}
    return parse_deal_snapshot(answer.result, errors)


def link_state(link: Link | None, copy_id: int | None = None) -> DealLinkState:
    if link is None:
        return DealLinkState(materials_copy_deal_id=copy_id)
    return DealLinkState(
        order_ref=link.onec.ref,
        fingerprint=link.fingerprint,
        outcome=OrderOutcome(link.extra.get("outcome", OrderOutcome.OPEN.value)),
        materials_copy_deal_id=copy_id,
    )


# --- entry points --------------------------------------------------------------------------------


def sync_deal(deal_id: int, ports: Ports, *, force: bool = False, batch: DealBatch | None = None) -> str:
    """Bring the deal's 1C order in line with the deal; returns a short note of what happened.

    `force` (the operator's `resync`): rewrite the linked order even when the mapped fields' fingerprint
    says nothing changed, e.g. after someone edited the order in 1C by hand. The decision is the same.
    """
    load = resolved_config(ports.store).load
    resolved = load() if batch is None else batch.kept("resolved", load)
    options = DealFlowOptions.from_mapping(ports.mapping.deal)
    config = OrderConfig(refs=resolved.refs, options=options)
    snapshot = read_snapshot(ports, deal_id) if batch is None else batch.read(ports, deal_id)
    run = Run(ports=ports, resolved=resolved, config=config, snapshot=snapshot, force=force, batch=batch)
    link = ports.store.links.find_by_b24(refs.deal_ref(deal_id))
    try:
        facts = _facts(run, link)
        return _execute(run, link, facts, decide(facts, resolved.stage_book, ports.mapping.deal))
    except ConfigurationError:
        raise  # an operator's problem, not the deal's: no comment on every deal
    except PermanentError as error:
        notify_problem(ports, deal_id, "SyncFailed", f"Сделка не синхронизирована с 1С: {error}", {})
        return f"failed: {error}"


# The Bitrix24 events this flow handles (bridge.deps wires them to `handle_deal_event`).
DEAL_EVENTS = ("ONCRMDEALADD", "ONCRMDEALUPDATE")


def handle_deal_event(queued: QueuedEvent, ports: Ports, batch: DealBatch | None = None) -> str | None:
    return sync_deal(queued.id, ports, batch=batch)


def deal_batch(ports: Callable[[], Ports]) -> DealBatch:
    """The worker's per-invocation coalescing of this flow's Bitrix24 calls (bridge.deps wires it
    to the worker as a batch scope and to `handle_deal_event`)."""
    return DealBatch(ports, DEAL_EVENTS)


# --- read, then carry out the plan ----------------------------------------------------------------


def _facts(run: Run, link: Link | None) -> DealFacts:
    """Read what the decision looks at: products only when the order may be written, stock (and
    an earlier copy) only where the trigger rule checks it."""
    rule = TriggerRule(run.resolved.stage_book, run.ports.mapping.deal)
    deal = run.snapshot.deal
    state = link_state(link)
    party = buyer_party(run.snapshot, run.config.options)
    products: dict[int, ProductRefs] = {}
    stock = None
    if party is not None and rule.writes_order(deal, state):
        products = match_products(run.ports, run.snapshot.ordered_rows, run.resolved)
        matched = all(row.product_id in products for row in run.snapshot.ordered_rows)
        if link is None and matched and rule.checks_stock(deal):
            stock = free_stock(run, products)
    if link is None and (stock is not None or rule.semantics(deal) == "S"):
        state = link_state(None, _copy_state(run)[0])
    return DealFacts(snapshot=run.snapshot, link=state, party=party, products=products, free_stock=stock)


def _execute(run: Run, link: Link | None, facts: DealFacts, plan: DealPlan) -> str:
    if plan.audit is not None:
        run.ports.store.audit.record("deals", f"DEAL-{run.deal_id}", plan.audit.kind, plan.audit.detail)
        logger.info("deal event audited", extra={"deal_id": run.deal_id, "kind": plan.audit.kind})
    if plan.problem is not None:
        _report(run, plan.problem)
        return plan.note
    kind = plan.action.kind
    if kind is OrderActionKind.COPY_TO_MATERIALS:
        return _copy_to_materials(run, plan.action)
    if facts.party is not None and kind is OrderActionKind.CREATE:
        return _write_order(run, None, facts.party, facts.products)
    if facts.party is not None and link is not None and kind is OrderActionKind.UPDATE:
        if _only_our_write_back(run, link, facts.products):
            _ensure_writeback(run, link)
            # The same note as the full path's: to the journal it is the same outcome (the log
            # line tells the echo apart).
            return "nothing: the mapped fields are unchanged"
        return _write_order(run, link, facts.party, facts.products)
    if link is not None and plan.action.outcome is not None:
        return _close(run, link, plan.action.outcome)
    if link is not None:
        _ensure_writeback(run, link)
    return plan.note or f"nothing: {plan.action.reason}"


def _source(run: Run, products: Mapping[int, ProductRefs]) -> str:
    return source_fingerprint(
        run.snapshot, products, run.config, run.ports.mapping.managers, amount_item_refs(run.resolved)
    )


def _only_our_write_back(run: Run, link: Link, products: Mapping[int, ProductRefs]) -> bool:
    """The echo of our own write-back, proven without 1C: the deal's newest modification is one
    the link accounts for (our update's finish time, `bridge.deals.seen`) and nothing the order
    is built from changed in Bitrix24 since the order was last written or found unchanged.

    Both must hold: a manager's edit in the same second as our update has a `DATE_MODIFY` the
    link already "saw", and only the source hash tells it apart. Any other event (a manager's
    edit, the sweep, a resync) takes the full path, which re-reads the counterparty in 1C."""
    if run.force or not link.extra.get(SOURCE):
        return False
    if seen.modified_since(run.snapshot.deal.date_modify, link):
        return False
    if link.extra[SOURCE] != _source(run, products):
        return False
    logger.info("deal event is the echo of our write-back; 1C not read", extra={"deal_id": run.deal_id})
    return True


def _report(run: Run, problem: Problem) -> None:
    notify_problem(
        run.ports,
        run.deal_id,
        problem.kind,
        problem.text,
        problem.detail,
        channel=problem.channel,
        log_message=problem.log_message,
    )


def _mapped_responsible(run: Run) -> Callable[[], ResponsibleDecision]:
    @cache
    def decide() -> ResponsibleDecision:
        deal = run.snapshot.deal
        return decide_responsible(
            None,
            deal.assigned_by_id,
            run.snapshot.assigned_user,
            directory.employees(run.ports.onec, shared=run.ports.store.employee_directory),
            run.ports.mapping.managers,
            run.config.refs.default_responsible,
        )

    return decide


def free_stock(run: Run, products: dict[int, ProductRefs]) -> dict[int, Decimal]:
    """Quantity on hand per Bitrix24 product (AccumulationRegister_ЗапасыНаСкладах balance, summed
    over the configured warehouses); reserves are not subtracted (not published in УНФ 1.6 OData)."""
    nomenclature = sorted({r.nomenclature for r in products.values()})
    if not nomenclature:
        return {}
    condition = any_of(*(eq("Номенклатура_Key", guid(n)) for n in nomenclature))
    if run.resolved.stock_warehouses:
        warehouses = any_of(*(eq("СтруктурнаяЕдиница_Key", guid(w)) for w in run.resolved.stock_warehouses))
        condition = all_of(condition, warehouses)
    rows = run.ports.onec.balance(STOCK_REGISTER, condition=condition, dimensions=["Номенклатура"])
    on_hand: dict[str, Decimal] = {}
    for row in rows:
        key = str(row.get("Номенклатура_Key") or "").lower()
        on_hand[key] = on_hand.get(key, Decimal(0)) + Decimal(str(row.get("КоличествоBalance") or 0))
    return {pid: on_hand.get(r.nomenclature.lower(), Decimal(0)) for pid, r in products.items()}


def _copy_state(run: Run) -> tuple[int | None, int | None]:
    cursor = run.ports.store.cursors.get(copy_cursor(run.deal_id))
    if cursor is None:
        return None, None
    copy_id = cursor.value.get("copy")
    return (int(copy_id) if copy_id else 0), cursor.version


def _order_plan(
    run: Run, link: Link | None, party: BuyerParty, products: Mapping[int, ProductRefs]
) -> OrderPlan | Problem:
    """Find or create the buyer in 1C (the one write before the order), then plan the order."""
    mapped = _mapped_responsible(run)
    buyer = resolve_buyer(
        run.ports,
        party,
        contact_person_for(run.snapshot),
        run.config.refs,
        responsible_for_new=lambda: mapped().ref,
        deal_id=run.deal_id,
    )
    problem = buyer_problem(party, buyer)
    if problem is not None:
        return problem
    rule = responsible_rule(run.deal_id, buyer, link.extra if link is not None else {})
    own = counterparty_manager(buyer, rule)
    # The deal's responsible mapped to 1C (e-mail → name → [managers] → the default employee,
    # with a warning) is read only when the counterparty's own manager does not decide.
    responsible = ResponsibleDecision(ref=own, source=ResponsibleSource.COUNTERPARTY) if own else mapped()
    amount_item = amount_item_refs(run.resolved)
    return plan_order(run.snapshot, buyer, rule, responsible, products, run.config, amount_item)


def _write_order(run: Run, link: Link | None, party: BuyerParty, products: Mapping[int, ProductRefs]) -> str:
    """Create the order (no link) or update the linked one, as the order plan says."""
    plan = _order_plan(run, link, party, products)
    if isinstance(plan, Problem):
        _report(run, plan)
        return f"{'not created' if link is None else 'not updated'}: {plan.summary}"
    source = _source(run, products)
    if link is None:
        return _create(run, plan, source)
    return _update(run, link, plan, source)


def _create(run: Run, plan: OrderPlan, source: str) -> str:
    ports = run.ports
    order, created = create_order(ports, plan.draft, run.config)
    order_ref, number = str(order["Ref_Key"]), str(order.get("Number") or "").strip()
    # Before the link: should telling fail, the retry takes the create path again (the order is
    # found by the intent marker) and tells then; each notice is written once.
    _tell(run, plan)
    ports.store.links.link(
        refs.deal_ref(run.deal_id),
        refs.order_ref(order_ref),
        fingerprint=plan.fingerprint,
        extra={
            "outcome": OrderOutcome.OPEN.value,
            "number": number,
            **plan.link_extra,
            **_seen_extra(run),
            SOURCE: source,
        },
    )
    if created:
        metrics.add_metric(name="DealOrdersCreated", unit=MetricUnit.Count, value=1)
    _write_back(run, number, order_ref, created_comment=True)
    verb = "created" if created else "found (created by an earlier attempt)"
    return f"order {number} {verb} for deal {run.deal_id}"


def _tell(run: Run, plan: OrderPlan) -> None:
    for notice in plan.notices:
        _report(run, notice)


def _write_back(
    run: Run,
    number: str,
    order_ref: str,
    *,
    created_comment: bool,
    fields: dict[str, Any] | None = None,
) -> None:
    """One batch: the order number and key on the deal, and the "created" comment.

    The "created" comment goes out once even when two workers (or a retry after a crash) both get
    here: a claim per deal decides who writes it, and is settled once Bitrix24 accepted it.
    """
    deal = run.snapshot.deal
    values = writeback.deal_writeback(number, order_ref, run.ports.mapping.deal) if fields is None else fields
    commands: dict[str, Command] = {}
    if values:
        commands["update"] = Command("crm.deal.update", {"id": deal.id, "fields": values})
    comment_claim = None
    if created_comment:
        comment_claim = _claim_created_comment(run)
    if comment_claim is not None:
        commands["created"] = Command(
            "crm.timeline.comment.add",
            timeline_comment("deal", deal.id, writeback.order_created_text(number)),
        )
    if not commands:
        return
    write = WriteBack(deal_id=deal.id, commands=commands, comment_claim=comment_claim, order_ref=order_ref)
    if run.batch is None:
        send_now(run.ports, write)
    else:
        run.batch.hold(run.ports, write)


def _claim_created_comment(run: Run) -> tuple[str, str] | None:
    """(claim, owner) when this worker is to write the deal's "order created" comment; None when
    it is already written; ClaimHeld (retried) while another worker is writing it."""
    name, owner = f"comment:order-created:deal:{run.deal_id}", f"deals:{uuid.uuid4()}"
    claim = run.ports.store.links.claim(name, owner, keep_s=COMMENT_KEEP_S)
    if claim.won:
        return name, owner
    if claim.result is not None:
        return None
    raise ClaimHeld(f"deal {run.deal_id}: another worker is writing the order's comment; retried")


def _ensure_writeback(run: Run, link: Link) -> None:
    """Re-send the number and key when a previous write-back was lost (the order is linked)."""
    number = link.extra.get("number", "")
    patch = writeback.deal_writeback_patch(
        run.snapshot.deal.user_fields, number, link.onec.ref, run.ports.mapping.deal
    )
    if not patch:
        return
    never_written = all(not run.snapshot.deal.user_fields.get(k) for k in patch)
    _write_back(run, number, link.onec.ref, created_comment=never_written, fields=patch)


def _seen_extra(run: Run) -> dict[str, str]:
    """The link's record of the deal modification this run decided on (`bridge.deals.seen`)."""
    modified = run.snapshot.deal.date_modify
    return {} if modified is None else {seen.SEEN_KEY: seen.seen_text(modified)}


def _note_seen(run: Run, link: Link) -> None:
    """A run that found nothing to change still accounts for the deal's newest modification, so
    the sweep stops asking about it (e.g. the echo of our own write-back)."""
    modified = run.snapshot.deal.date_modify
    if modified is not None and seen.modified_since(modified, link):
        seen.note_seen(run.ports, link.b24, link.onec, modified)


def _note_source(run: Run, link: Link, source: str) -> None:
    """Best effort, like `seen.note_seen`: without it the next echo only costs its 1C read."""
    try:
        run.ports.store.links.note_extra(link.b24, link.onec, SOURCE, source)
    except Exception as error:
        logger.warning(
            "could not record the deal's source hash; its next echo reads 1C",
            extra={"deal_id": run.deal_id, "error": type(error).__name__, "reason": str(error)},
        )


# --- update and close ----------------------------------------------------------------------------


def _update(run: Run, link: Link, plan: OrderPlan, source: str) -> str:
    ports = run.ports
    if not run.force and plan.unchanged(link_state(link)):
        _note_seen(run, link)
        if link.extra.get(SOURCE) != source:
            # Links written before the source hash, or a change that left the order as it was:
            # the next echo of our write-back then skips 1C.
            _note_source(run, link, source)
        _ensure_writeback(run, link)
        return "nothing: the mapped fields are unchanged"
    order = update_order(ports, link.onec.ref, plan.draft)
    number = str(order.get("Number") or link.extra.get("number", "")).strip()
    extra = {**link.extra, "number": number, **plan.link_extra, **_seen_extra(run), SOURCE: source}
    _tell(run, plan)  # before the link, for the same reason as on create
    ports.store.links.link(link.b24, link.onec, fingerprint=plan.fingerprint, extra=extra)
    _ensure_writeback(run, link.model_copy(update={"extra": extra}))
    _refresh_stock_of_rows(run)
    return f"order {number} updated for deal {run.deal_id}"


def _refresh_stock_of_rows(run: Run) -> None:
    """§2.2.11.3.6 "при обращении к товарам в Б24": the deal's products show 1C's stock at once.

    Best effort: the order is already right, and the 5-minute stock schedule is the safety net, so
    a failure here is logged, never raised (raising would redo the whole deal).
    """
    product_ids = sorted({row.product_id for row in run.snapshot.ordered_rows if row.product_id})
    if not product_ids:
        return
    try:
        run.ports.refresh_stock(product_ids, run.ports)
    except BridgeError as error:
        logger.warning(
            "stock refresh after a deal change failed", extra={"deal": run.deal_id, "error": str(error)}
        )


def _close(run: Run, link: Link, outcome: OrderOutcome) -> str:
    """WON → the order completed and its shipment made (and posted, if configured); LOSE → the
    order cancelled. The link says "closed" only once all of it is done, so a won deal whose
    shipment failed is closed again by the queue's retry, the next event or the sweep."""
    order = close_order(run.ports, link.onec.ref, outcome, run.config)
    extra = {**link.extra, "outcome": outcome.value}
    note = f"order {extra.get('number', link.onec.ref)} {outcome.value}"
    if outcome is OrderOutcome.COMPLETED:
        try:
            shipment, created = ensure_shipment(run.ports, order, run.config)
        except BridgeError as error:
            _shipment_failed(run, link, error)
            raise TransientError(f"deal {run.deal_id}: shipment not done, retried: {error}") from error
        extra["shipment"] = shipment
        note += f"; shipment {shipment} {'created' if created else 'already there'}"
    run.ports.store.links.link(link.b24, link.onec, fingerprint=link.fingerprint, extra=extra)
    return note


def _shipment_failed(run: Run, link: Link, error: BridgeError) -> None:
    """1C refused the shipment (or its posting): tell the manager once; a passing outage (1C
    down) is only logged and audited, the retry will most likely just work."""
    number = link.extra.get("number", "")
    detail = {"order": link.onec.ref, "error": str(error)}
    if isinstance(error, TransientError):
        run.ports.store.audit.record("deals", f"DEAL-{run.deal_id}", "ShipmentRetry", detail)
        logger.warning("shipment of a won deal failed; retried", extra={"deal_id": run.deal_id, **detail})
        return
    notify_problem(
        run.ports,
        run.deal_id,
        "ShipmentFailed",
        writeback.shipment_failed_text(number, str(error)),
        detail,
        channel="shipment",
        log_message="shipment of a won deal refused by 1C; retried",
    )


# --- out of stock --------------------------------------------------------------------------------


def _copy_to_materials(run: Run, action: OrderAction) -> str:
    """Copy the deal into the materials funnel (fields, rows, a note linking the original) in one
    batch; a cursor claimed first makes sure a retry never copies twice."""
    ports, deal = run.ports, run.snapshot.deal
    name = copy_cursor(deal.id)
    try:
        claimed = ports.store.cursors.put(name, {"copy": None})
    except CursorConflict:
        return "nothing: the deal is being copied to the materials funnel by another attempt"
    fields = writeback.materials_copy_fields(run.snapshot, action)
    note = f"Копия сделки #{deal.id}: товара нет в наличии."
    fields["COMMENTS"] = f"{fields.get('COMMENTS', '')}\n{note}".strip()
    commands = {
        "copy": Command("crm.deal.add", {"fields": fields}),
        "rows": Command(
            "crm.deal.productrows.set",
            {"id": "$result[copy]", "rows": writeback.materials_copy_rows(run.snapshot)},
        ),
    }
    answer = ports.b24.batch(commands, halt=True)
    if "copy" not in answer.result:
        raise TransientError(f"deal {deal.id}: copy to the materials funnel failed: {answer.errors}")
    copy_id = int(answer.result["copy"])
    ports.store.cursors.put(name, {"copy": copy_id}, expected_version=claimed.version)
    ports.b24.call(
        "crm.timeline.comment.add",
        timeline_comment("deal", deal.id, writeback.out_of_stock_text(action, copy_id)),
    )
    ports.store.audit.record(
        "deals",
        f"DEAL-{deal.id}",
        "CopiedToMaterials",
        {"copy": copy_id, "short": [p.name for p in action.short_products]},
    )
    metrics.add_metric(name="DealCopiedToMaterials", unit=MetricUnit.Count, value=1)
    return f"out of stock: copied to the materials funnel as deal {copy_id}"
