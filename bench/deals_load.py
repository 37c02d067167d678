"""P3, deals under load: `python -m bench.deals_load [--deals N] [--no-rate-limit]`.

The whole local stack (sandbox/local: the real receiver behind the local HTTP API, the FIFO events
queue on moto, the real queue-worker Lambda in its own process, both emulators). N deals, each with
its own new company (INN, KPP), contact and one catalog-linked product row, wait in «Новая» while
outbound events are dropped (their set-up is not the load). Then every deal is moved to «Продажа
материала» in `batch` calls of 50, as a bulk move in the kanban does, and the Bitrix24 emulator
sends one ONCRMDEALUPDATE per deal to the receiver. The Bitrix24 emulator enforces the standard
plan's leaky bucket (50, draining 2/s) unless `--no-rate-limit`: the honest setting, since a real
portal does. The worker's event source mapping runs as template.yaml says (ScalingConfig).

Measured (issue 15, goal 3):
- wall time from the first move to the last order number written back (target ≤ 10 s for 100);
- orders per deal in 1C (target exactly 1 each);
- p50/p95 from the Bitrix24 event (the move's answer) to the write-back call carrying the order
  number, timed by the emulator's journal (each call's `time`);
- Bitrix24 calls per deal (≤ 2; a batch counts once, ours excluded) and 1C calls per deal (≤ 6),
  from the emulators' journals over the whole run, so follow-up events (our own write-back echoes)
  are charged to the deals too;
- worker behaviour from the local stack's invocation journal: invocations, records per batch,
  message groups per batch, the most invocations running at once.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from sandbox.local.journal import Invocation

RESULTS_DIR = Path(__file__).parent / "results"
TARGETS = {"wall_s": 10.0, "b24_per_deal": 2.0, "onec_per_deal": 6.0}
ORDER_FIELD = "UF_CRM_1C_ORDER_NO"
# The write-backs are timed by the emulator's journal (`time` of each call), so the poll only
# decides when to stop; polling every 20 ms cost a fifth of the sandbox process's CPU, which the
# stack under test shares.
POLL_S = 0.25


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered)) - 1))]


def _max_overlap(intervals: list[tuple[float, float]]) -> int:
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = best = 0
    for _, step in edges:
        running += step
        best = max(best, running)
    return best


def _moves_queued_by(receiver: list[Invocation], deals: int, started_epoch: float) -> float | None:
    ordered = sorted(receiver, key=lambda i: i.started_at)
    if len(ordered) < deals:
        return None
    last = ordered[deals - 1]
    return round(last.started_at + last.duration_ms / 1000 - started_epoch, 2)


def _deal_of(record: dict[str, Any]) -> str:
    attributes = record.get("attributes", {})
    return str(attributes.get("MessageGroupId", "?"))


def run(
    deals: int = 100, timeout_s: float = 180.0, *, rate_limit: bool = True, max_concurrency: int | None = None
) -> dict[str, Any]:
    """`max_concurrency`: the worker mapping's MaximumConcurrency instead of template.yaml's (to
    compare settings; the documented figure uses the template's)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
    from sandbox.local import LocalStack, LocalStackConfig
    from sandbox.moto_process import moto_in_own_process
    from sandbox.world.deals import run_setup
    from sandbox.world.rest import B24Rest

    # DynamoDB and SQS are not on the machine that runs Bitrix24 and API Gateway: in this process
    # moto's answers to six functions waited for the emulators' and the local API's interpreter
    # lock, and the moves reached the queue only after 3.6-4.6 s (docs/performance.md, P3).
    with moto_in_own_process() as moto_url:
        config = LocalStackConfig.ephemeral(
            moto_url=moto_url,
            schedules=False,
            prefix=f"b{uuid.uuid4().hex[:6]}-",
            sqs_max_concurrency=max_concurrency,  # None: the template's MaximumConcurrency
        )
        with LocalStack(config) as stack:
            assert stack.b24 is not None
            assert stack.onec is not None
            report = run_setup(stack)
            if not report.ok:
                raise SystemExit("\n".join(report.lines()))
            load_before = os.getloadavg()
            result = _load(stack, B24Rest(stack.b24_webhook_url), deals, timeout_s, rate_limit)
            result["load_average_1m"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
            result["moto"] = "a process of its own (IAM not enforced)"
            worker = [p.source for p in stack.pollers if p.source.function == "QueueWorkerFunction"]
            result["worker"]["max_concurrency"] = worker[0].max_concurrency if worker else None
    if max_concurrency is not None:  # a comparison, not the template's figure
        result["file"] = result["file"].replace(".json", f"_concurrency{max_concurrency}.json")
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / result["file"]).write_text(
        json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return result


def _load(stack: Any, rest: Any, deals: int, timeout_s: float, rate_limit: bool) -> dict[str, Any]:
    from sandbox.world.deals import linked_product, stack_ports

    onec_root = stack.onec.url
    seed = httpx.get(onec_root + "/_sandbox/seed").json()
    bolt = seed["Catalog_Номенклатура"]["Болт М10х50"]
    deal_property = seed["ChartOfCharacteristicTypes_ДополнительныеРеквизитыИСведения"]["ID сделки Битрикс24"]
    product = linked_product(rest, stack_ports(stack).store.links, "Болт М10х50", bolt, "bench")
    waiting = rest.stage_id("Продажи", "Новая")
    trigger = rest.stage_id("Продажи", "Продажа материала")

    # Set-up is not the load: its events (company, contact, deal added in «Новая») are dropped.
    rest.sandbox("/_sandbox/events/pause", "POST", {"drop": True})
    ids: list[int] = []
    for index in range(deals):
        company, contact = rest.company_with_contact(
            f"Нагрузка {index} ООО", f"78{index:08d}", "780101001", contact=("Иван", f"Грузов{index}")
        )
        row = rest.goods_row(product, "Болт М10х50", 2)
        ids.append(rest.deal(f"Нагрузка {index}", waiting, company, contact, [row]))
    rest.sandbox("/_sandbox/events?wait=1")  # nothing in flight before the clock starts
    rest.sandbox("/_sandbox/events/resume", "POST")
    # One deal through the whole path first, uncounted: the measured run sees warm containers,
    # as a stack that has handled any event today would (cold starts are reported in the docs).
    company, contact = rest.company_with_contact("Разогрев ООО", "7800000999", "780101001")
    warm_row = rest.goods_row(product, "Болт М10х50", 1)
    warm = rest.deal("Разогрев", trigger, company, contact, [warm_row])
    warm_deadline = time.perf_counter() + 120
    while time.perf_counter() < warm_deadline:
        if rest.call("crm.deal.get", {"id": warm}).get(ORDER_FIELD):
            break
        time.sleep(0.2)
    _settle(stack, rest, 0)
    b24_from = rest.sandbox("/_sandbox/calls")["cursor"]
    onec_from = httpx.get(onec_root + "/_sandbox/calls").json()["last_seq"]
    journal_from = max((i.seq for i in stack.journal.entries()), default=0)
    if rate_limit:  # the standard plan's leaky bucket (50, draining 2/s), from a full allowance
        rest.sandbox("/_sandbox/rate-limit", "POST", {"enabled": True, "plan": "standard"})

    # The load: every deal to «Продажа материала», 50 per batch call.
    moved_at: dict[int, float] = {}
    own_batches: list[dict[str, str]] = []
    started = time.perf_counter()
    started_epoch = time.time()
    for chunk_at in range(0, len(ids), 50):
        chunk = ids[chunk_at : chunk_at + 50]
        cmd = {f"m{d}": f"crm.deal.update?id={d}&fields[STAGE_ID]={trigger[1]}" for d in chunk}
        own_batches.append(cmd)
        rest.call("batch", {"halt": 0, "cmd": cmd})
        moved_at.update(dict.fromkeys(chunk, time.time()))

    written_at: dict[int, float] = {}
    cursor = b24_from
    deadline = started + timeout_s
    while len(written_at) < len(ids) and time.perf_counter() < deadline:
        page = rest.sandbox(f"/_sandbox/calls?since={cursor}&method=crm.deal.update")
        for call in page["calls"]:
            params = call.get("params") or {}
            if ORDER_FIELD in json.dumps(params.get("fields") or params, ensure_ascii=False):
                deal = int(params.get("id") or params.get("ID") or 0)
                written_at.setdefault(deal, float(call["time"]))
        cursor = page["cursor"]
        time.sleep(POLL_S)
    wall = (max(written_at.values()) - started_epoch) if written_at else float("nan")

    # Let the echoes (our own write-back raises ONCRMDEALUPDATE again) settle before counting.
    # At the client's 2 requests/s an echo costs ~1 s, so allow for all of them.
    _settle(stack, rest, journal_from, limit_s=deals * 1.5 + 30)

    journal = rest.sandbox(f"/_sandbox/calls?since={b24_from}")["calls"]
    own = {
        c["seq"]
        for c in journal
        if c["method"] == "batch" and (c.get("params") or {}).get("cmd") in own_batches
    }
    b24_calls = [c for c in journal if "batch" not in c and c["seq"] not in own]
    sub_calls = [c for c in journal if "batch" in c and c["batch"] not in own]
    onec_calls = httpx.get(onec_root + "/_sandbox/calls", params={"since": onec_from}).json()["calls"]
    orders = _orders_per_deal(onec_root, stack.onec_base_url, deal_property)
    order_counts = Counter(orders.get(str(d), 0) for d in ids)

    invocations = [i for i in stack.journal.entries() if i.seq > journal_from]
    worker = [i for i in invocations if i.trigger == "sqs"]
    receiver = [i for i in invocations if i.trigger == "http"]
    batch_sizes = [len(i.event["Records"]) for i in worker]
    groups = [len({_deal_of(r) for r in i.event["Records"]}) for i in worker]
    latencies = [written_at[d] - moved_at[d] for d in ids if d in written_at]
    return {
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "machine": f"{os.cpu_count()}-core, Python {platform.python_version()}",
        "deals": deals,
        "b24_rate_limit": "standard plan: 50 burst, 2/s" if rate_limit else "off",
        "file": "deals_load.json" if rate_limit else "deals_load_no_rate_limit.json",
        "wall_s": round(wall, 3),
        "written_back": len(written_at),
        "settled_s": round(time.perf_counter() - started, 3),
        "orders_per_deal": {str(k): v for k, v in sorted(order_counts.items())},
        "event_to_order_no_s": {
            "p50": round(statistics.median(latencies), 3) if latencies else None,
            "p95": round(_percentile(latencies, 0.95), 3) if latencies else None,
            "max": round(max(latencies), 3) if latencies else None,
            "timed_by": "the Bitrix24 emulator's journal (time of each call)",
        },
        "b24_calls": len(b24_calls),
        "b24_calls_per_deal": round(len(b24_calls) / deals, 3),
        "b24_refused_503": sum(1 for c in b24_calls if c.get("status") == 503),
        "b24_methods": dict(Counter(c["method"] for c in b24_calls).most_common()),
        "b24_commands_in_batches": dict(Counter(c["method"] for c in sub_calls).most_common()),
        "onec_calls": len(onec_calls),
        "onec_calls_per_deal": round(len(onec_calls) / deals, 3),
        "onec_requests": dict(
            Counter(f"{c['method']} {c['path'].split('(')[0]}" for c in onec_calls).most_common()
        ),
        "worker": {
            "invocations": len(worker),
            "records": sum(batch_sizes),
            "batch_size": {
                "mean": round(statistics.mean(batch_sizes), 2) if batch_sizes else 0,
                "max": max(batch_sizes, default=0),
                "histogram": {str(k): v for k, v in sorted(Counter(batch_sizes).items())},
            },
            "message_groups_per_batch_mean": round(statistics.mean(groups), 2) if groups else 0,
            "max_parallel": _max_overlap(
                [(i.started_at, i.started_at + i.duration_ms / 1000) for i in worker]
            ),
            "duration_ms": {
                "median": round(statistics.median(i.duration_ms for i in worker), 1) if worker else 0,
                "max": round(max((i.duration_ms for i in worker), default=0), 1),
            },
            "errors": sum(1 for i in worker if i.outcome != "ok"),
            # Records returned to the queue, with the worker's own warnings about them.
            "records_retried": sum(len(i.notes.get("kept", [])) for i in worker),
            "retry_reasons": [
                line[:300]
                for i in worker
                if i.notes.get("kept")
                for line in i.logs
                if '"WARNING"' in line or '"ERROR"' in line
            ][:20],
            # seconds after the first move: start, duration, records
            "timeline": [
                [
                    round(i.started_at - started_epoch, 2),
                    round(i.duration_ms / 1000, 2),
                    len(i.event["Records"]),
                ]
                for i in worker
            ],
        },
        "receiver": {
            "invocations": len(receiver),
            "first_last_s": [
                round(min((i.started_at for i in receiver), default=started_epoch) - started_epoch, 2),
                round(max((i.started_at for i in receiver), default=started_epoch) - started_epoch, 2),
            ],
            "max_parallel": _max_overlap(
                [(i.started_at, i.started_at + i.duration_ms / 1000) for i in receiver]
            ),
            "duration_ms_median": round(statistics.median(i.duration_ms for i in receiver), 1)
            if receiver
            else 0,
            # The portal emits every move before any echo, so the first `deals` deliveries are the
            # moves: when the last of them was on the queue, seconds after the first move.
            "moves_queued_by_s": _moves_queued_by(receiver, deals, started_epoch),
        },
        "targets": TARGETS,
    }


def _settle(stack: Any, rest: Any, journal_from: int, limit_s: float = 30.0) -> None:
    """Wait until no event is being delivered, no invocation runs and the events queue is empty."""
    until = time.perf_counter() + limit_s
    quiet = 0
    while time.perf_counter() < until and quiet < 3:
        rest.sandbox("/_sandbox/events?wait=1")
        busy = [i for i in stack.journal.entries() if i.seq > journal_from and not i.done]
        quiet = quiet + 1 if not busy and _queue_depth(stack) == 0 else 0
        time.sleep(0.3)


def _queue_depth(stack: Any) -> int:
    sqs = stack.client("sqs")
    total = 0
    for url in stack.queue_urls.values():
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        if url.endswith("DeadLetterQueue.fifo") or "DeadLetter" in url:
            continue
        total += int(attributes.get("ApproximateNumberOfMessages", 0))
        total += int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0))
    return total


def _orders_per_deal(onec_root: str, base_url: str, deal_property: str) -> dict[str, int]:
    """Every customer order in 1C, counted by the Bitrix24 deal id it carries."""
    answer = httpx.get(
        base_url + "Document_ЗаказПокупателя",
        params={"$format": "json"},
        auth=("odata", "odata"),
        timeout=30,
    )
    answer.raise_for_status()
    counts: Counter[str] = Counter()
    for order in answer.json()["value"]:
        for extra in order.get("ДополнительныеРеквизиты", []):
            if extra.get("Свойство_Key") == deal_property:
                counts[str(extra.get("Значение"))] += 1
    return dict(counts)


def _ratio(value: float, target: float) -> str:
    return f"{value / target:.2f} × target"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deals", type=int, default=100)
    parser.add_argument(
        "--no-rate-limit",
        action="store_true",
        help="the Bitrix24 emulator's leaky bucket off (the client still paces itself)",
    )
    parser.add_argument(
        "--max-concurrency", type=int, default=None, help="override the worker mapping's MaximumConcurrency"
    )
    args = parser.parse_args()
    result = run(args.deals, 300.0, rate_limit=not args.no_rate_limit, max_concurrency=args.max_concurrency)
    n = result["deals"]
    latency, worker = result["event_to_order_no_s"], result["worker"]
    wall_target = TARGETS["wall_s"] * n / 100
    print(
        f"deals_load: {result['written_back']}/{n} order numbers written back in {result['wall_s']:.2f} s "
        f"(target ≤ {wall_target:g} s: {_ratio(result['wall_s'], wall_target)}); Bitrix24 rate limit "
        f"{result['b24_rate_limit']}, load average {result['load_average_1m']}"
    )
    print(f"deals_load: orders per deal {result['orders_per_deal']} (target: every deal exactly 1)")
    print(
        f"deals_load: event → order number on the deal p50 {latency['p50']} s, p95 {latency['p95']} s, "
        f"max {latency['max']} s"
    )
    print(
        f"deals_load: Bitrix24 calls per deal {result['b24_calls_per_deal']} "
        f"(target ≤ 2: {_ratio(result['b24_calls_per_deal'], TARGETS['b24_per_deal'])})"
    )
    print(
        f"deals_load: 1C calls per deal {result['onec_calls_per_deal']} "
        f"(target ≤ 6: {_ratio(result['onec_calls_per_deal'], TARGETS['onec_per_deal'])})"
    )
    print(
        f"deals_load: worker {worker['invocations']} invocations, {worker['records']} records, "
        f"batch size mean {worker['batch_size']['mean']} max {worker['batch_size']['max']}, "
        f"{worker['message_groups_per_batch_mean']} message groups per batch, "
        f"at most {worker['max_parallel']} running at once (MaximumConcurrency "
        f"{worker['max_concurrency']}), median {worker['duration_ms']['median']} ms"
    )
    receiver = result["receiver"]
    print(
        f"deals_load: receiver {receiver['invocations']} invocations, median "
        f"{receiver['duration_ms_median']} ms, every move on the queue after "
        f"{receiver['moves_queued_by_s']} s"
    )
    print(f"written {RESULTS_DIR / result['file']}")


if __name__ == "__main__":
    main()
