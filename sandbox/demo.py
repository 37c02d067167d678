"""`python -m sandbox.demo` (make demo): the integration on the local sandbox, step by step.

Starts the local stack in-process, replays every sample under events/ that is an HTTP request
(sent → HTTP status → queued → worker dispatched → outcome), creates a deal through the Bitrix24
emulator's inbound webhook so the emulator's own outbound event takes the same path, and walks the
seeded data of both emulators through their real APIs. Exit status 0 when every step behaved.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from sandbox.local import LocalStack, LocalStackConfig, emulators
from sandbox.local.invoker import echo_line
from sandbox.local.logs import configure
from sandbox.local.samples import HttpSample, b24_entity, http_samples, signed_now, with_b24_id
from sandbox.template import ROOT

DISPATCH_WAIT_S = 20.0


@dataclass
class Report:
    failures: list[str] = field(default_factory=list)

    def step(self, text: str) -> None:
        print(f"  {text}", flush=True)

    def fail(self, text: str) -> None:
        self.failures.append(text)
        print(f"  ✗ {text}", flush=True)


def _latest_seq(stack: LocalStack) -> int:
    entries = stack.journal.entries()
    return entries[-1].seq if entries else 0


def _carries(run: Any, message_id: str | None) -> bool:
    return message_id is None or any(r.get("messageId") == message_id for r in run.event.get("Records", []))


def _follow_dispatch(
    stack: LocalStack, after_seq: int, report: Report, what: str, message_id: str | None = None
) -> None:
    """Wait for the worker run that picked up what was just queued, and show its outcome.

    With `message_id` (the receiver names it) the run carrying that message, not merely the next
    one: a flow's own writes make the portal send further events that may be dispatched first.
    """
    try:
        run = stack.journal.wait_for(
            lambda i: i.trigger == "sqs" and i.seq > after_seq and _carries(i, message_id),
            timeout=DISPATCH_WAIT_S,
        )
    except TimeoutError:
        report.fail(f"{what}: accepted but no worker run within {DISPATCH_WAIT_S:.0f} s")
        return
    for record in run.event["Records"]:
        attributes = record["attributes"]
        report.step(
            f"queued   → {run.source} message {record['messageId'][:8]} "
            f"(group {attributes.get('MessageGroupId', '-')}, "
            f"receive #{attributes.get('ApproximateReceiveCount')})"
        )
    report.step(f"dispatched → {run.function} ({run.duration_ms:.0f} ms)")
    for line in run.logs:
        echoed = echo_line(line)
        if not echoed.startswith("METRICS"):
            report.step(f"    │ {echoed[:160]}")
        if echoed.startswith(("ERROR", "CRITICAL")):
            # The demo's own events must flow cleanly; an error here is a broken sample or flow.
            report.fail(f"{what}: the worker logged {echoed[:200]}")
    kept = run.notes.get("kept", [])
    if run.outcome != "ok":
        report.fail(f"{what}: worker {run.outcome}: {(run.error or {}).get('errorMessage')}")
    elif kept:
        report.step(
            f"outcome  → {len(kept)} record(s) reported failed; "
            "SQS redelivers them after the visibility timeout"
        )
    else:
        report.step(f"outcome  → ok, {len(run.notes.get('deleted', []))} message(s) done and deleted")


SAMPLE_OBJECTS: dict[str, dict[str, Any]] = {
    "DEAL": {"TITLE": "Образец из events/: сделка {id}"},
    "COMPANY": {"TITLE": "Образец из events/: компания {id}"},
    "CONTACT": {"NAME": "Образец", "LAST_NAME": "из events/ {id}"},
}


def sample_objects(stack: LocalStack, samples: list[HttpSample]) -> dict[tuple[str, int], int]:
    """The sandbox portal's own object for each Bitrix24 id the samples name.

    The samples carry ids of some real portal (deal 7405); on the sandbox those do not exist and
    the flows would refuse them. They are created with the portal's events paused, so only the
    replayed sample travels the path.
    """
    wanted = sorted({found for sample in samples if (found := b24_entity(sample)) is not None})
    if not wanted or stack.b24 is None:
        return {}
    created: dict[tuple[str, int], int] = {}
    with httpx.Client(timeout=30) as client:
        client.post(f"{stack.b24.url}/_sandbox/events/pause", json={"drop": True}).raise_for_status()
        try:
            for entity, sample_id in wanted:
                fields = {k: v.format(id=sample_id) for k, v in SAMPLE_OBJECTS[entity].items()}
                answer = client.post(
                    f"{stack.b24_webhook_url}crm.{entity.lower()}.add", json={"fields": fields}
                )
                answer.raise_for_status()
                created[(entity, sample_id)] = int(answer.json()["result"])
        finally:
            client.post(f"{stack.b24.url}/_sandbox/events/resume").raise_for_status()
    return created


def replay_samples(stack: LocalStack, samples: list[HttpSample], report: Report) -> None:
    print(f"\n1. Replaying {len(samples)} sample request(s) from events/ against {stack.api_url}", flush=True)
    targets = sample_objects(stack, samples)
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        for sample in samples:
            print(f"\n  {sample.name}", flush=True)
            about = b24_entity(sample)
            if about is not None and about in targets:
                sample = with_b24_id(sample, targets[about])
                report.step(
                    f"about    → {about[0].lower()} {about[1]} of the sample's portal = sandbox "
                    f"{about[0].lower()} {targets[about]} (made for this replay)"
                )
            before = _latest_seq(stack)
            report.step(
                f"sent     → {sample.method} {sample.path} "
                f"({len(sample.body)} bytes, {sample.headers.get('content-type', '-')})"
            )
            answer = client.request(
                sample.method,
                sample.path,
                params=sample.query or None,
                headers=sample.headers,
                content=sample.body,
            )
            report.step(f"HTTP {answer.status_code} ← {answer.text[:140]}")
            if answer.status_code >= 500:
                report.fail(f"{sample.name}: HTTP {answer.status_code}")
            elif answer.is_success and sample.path == "/b24/events" and _queued(answer):
                _follow_dispatch(stack, before, report, sample.name, _message_id(answer))
            else:
                report.step(
                    "refused, nothing queued (as intended for this sample)"
                    if answer.status_code >= 400
                    else "not queued"
                )


def _message_id(answer: httpx.Response) -> str | None:
    try:
        body: Any = answer.json()
    except ValueError:
        return None
    found = body.get("message_id") if isinstance(body, dict) else None
    return str(found) if found else None


def _queued(answer: httpx.Response) -> bool:
    """The receiver says whether it queued; a body without that flag is taken as queued."""
    try:
        body: Any = answer.json()
    except ValueError:
        return True
    return not (isinstance(body, dict) and body.get("queued") is False)


def live_deal(stack: LocalStack, report: Report) -> None:
    print("\n2. A deal created through the Bitrix24 inbound webhook flows at once", flush=True)
    before = _latest_seq(stack)
    with httpx.Client(timeout=30) as client:
        answer = client.post(
            f"{stack.b24_webhook_url}crm.deal.add", json={"fields": {"TITLE": "Sandbox demo deal"}}
        )
    body = answer.json()
    if answer.status_code != 200 or "result" not in body:
        report.fail(f"crm.deal.add: HTTP {answer.status_code} {body}")
        return
    report.step(f"crm.deal.add → deal {body['result']}")
    try:
        delivered = stack.journal.wait_for(
            lambda i: i.trigger == "http" and i.seq > before, timeout=DISPATCH_WAIT_S
        )
    except TimeoutError:
        report.fail("the Bitrix24 emulator did not deliver ONCRMDEALADD to the local API")
        return
    report.step(
        f"ONCRMDEALADD delivered → {delivered.source} → {delivered.function}: "
        f"HTTP {delivered.notes.get('status')}"
    )
    if delivered.notes.get("status") == 200:
        _follow_dispatch(stack, delivered.seq, report, "live deal")
    else:
        report.fail(f"live deal: the receiver answered HTTP {delivered.notes.get('status')}")


def walk_b24(stack: LocalStack, report: Report) -> None:
    print(f"\n3. Bitrix24 emulator seed ({stack.b24_webhook_url})", flush=True)
    with httpx.Client(base_url=stack.b24_webhook_url, timeout=30) as client:

        def call(method: str, params: dict[str, Any]) -> Any:
            answer = client.post(method, json=params)
            answer.raise_for_status()
            return answer.json()["result"]

        categories = call("crm.category.list", {"entityTypeId": 2})["categories"]
        for category in categories:
            entity = "DEAL_STAGE" if int(category["id"]) == 0 else f"DEAL_STAGE_{category['id']}"
            stages = call("crm.status.list", {"filter": {"ENTITY_ID": entity}})
            report.step(f"funnel {category['name']!r}: " + " → ".join(s["NAME"] for s in stages))
        for user in call("user.get", {}):
            report.step(
                f"user {user['ID']}: {user.get('NAME', '')} {user.get('LAST_NAME', '')} "
                f"<{user.get('EMAIL', '')}>"
            )


def walk_onec(stack: LocalStack, report: Report) -> None:
    print(f"\n4. 1C OData emulator seed ({stack.onec_base_url})", flush=True)
    with httpx.Client(base_url=stack.onec_base_url, auth=("odata", "odata"), timeout=30) as client:
        for entity_set, label in (
            ("Catalog_Номенклатура", "nomenclature"),
            ("Catalog_Контрагенты", "counterparty"),
        ):
            # 1C reads `+` literally in $filter; spaces must be %20.
            answer = client.get(f"{entity_set}?$format=json&$top=5&$filter={quote('IsFolder eq false')}")
            answer.raise_for_status()
            for row in answer.json()["value"]:
                report.step(f"{label}: {row.get('Description')}  ({row.get('Ref_Key')})")


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    report = Report()
    overrides: dict[str, Any] = {"schedules": False, "prefix": "demo-"}
    config = LocalStackConfig(**overrides) if args.default_ports else LocalStackConfig.ephemeral(**overrides)
    print("Starting the local stack (moto, emulators, local API, SQS pollers)…", flush=True)
    try:
        stack = LocalStack(config).start()
    except Exception as error:
        print(f"✗ the local stack did not start: {error}", file=sys.stderr)
        return 2
    try:
        print(
            f"  local API {stack.api_url} · moto {stack.moto_url}"
            + (f" · Bitrix24 {stack.b24_webhook_url}" if stack.b24 else " · Bitrix24 emulator not available")
            + (f" · 1C {stack.onec_base_url}" if stack.onec else " · 1C emulator not available"),
            flush=True,
        )
        if stack.b24 is not None and stack.onec is not None:
            _guarded(report, "setup", lambda: run_setup_step(stack, report))
        # Signed pushes are signed again now: their recorded timestamps are past the 5-minute window.
        samples = [signed_now(s, emulators.ONEC_PUSH_SECRET) for s in http_samples(ROOT / "events")]
        replay_samples(stack, samples, report)
        if stack.b24 is not None:
            _guarded(report, "live deal", lambda: live_deal(stack, report))
            _guarded(report, "Bitrix24 walk", lambda: walk_b24(stack, report))
        if stack.onec is not None:
            _guarded(report, "1C walk", lambda: walk_onec(stack, report))
        if stack.b24 is not None and stack.onec is not None:
            walk_flows(stack, report)
    finally:
        stack.stop()
    elapsed = time.monotonic() - started
    if report.failures:
        print(
            f"\n✗ demo finished with {len(report.failures)} problem(s) in {elapsed:.0f} s:", file=sys.stderr
        )
        for failure in report.failures:
            print(f"  - {failure}", file=sys.stderr)
        return 1
    print(f"\n✓ demo finished in {elapsed:.0f} s", flush=True)
    return 0


# The flows, in the order a customer meets them: the deal becomes an order, the order is paid,
# the catalog fills, counterparties travel both ways (sandbox/demo_steps/<flow>.py).
FLOW_STEPS = (
    ("deal → 1C order (§2.6.1, §2.6.2)", "sandbox.demo_steps.deals"),
    ("1C payment → deal (§2.6.3–§2.6.6)", "sandbox.demo_steps.payments"),
    ("1C nomenclature and stock → catalog (§2.6.8)", "sandbox.demo_steps.catalog"),
    ("counterparties both ways (§2.6.7)", "sandbox.demo_steps.parties"),
)


def run_setup_step(stack: LocalStack, report: Report) -> None:
    """`make sandbox` leaves a ready world; so does the demo before anything else happens."""
    from sandbox.world.deals import run_setup

    print("\n0. Setup: user fields, stages, the 1C attribute, every flow's ids resolved", flush=True)
    result = run_setup(stack)
    for line in result.lines():
        report.step(line)
    if not result.ok:
        report.fail(f"setup: {len(result.problems)} problem(s) on a fresh sandbox")


def walk_flows(stack: LocalStack, report: Report) -> None:
    for number, (title, module_name) in enumerate(FLOW_STEPS, start=5):
        print(f"\n{number}. {title}", flush=True)
        module = importlib.import_module(module_name)
        _guarded(report, title, lambda module=module: module.run(stack, report.step))


def _guarded(report: Report, what: str, step: Any) -> None:
    # A demo reports every step's failure and goes on; it never hides one behind a traceback.
    try:
        step()
    except Exception as error:
        report.fail(f"{what}: {type(error).__name__}: {error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.demo", description=__doc__)
    parser.add_argument(
        "--default-ports",
        action="store_true",
        help="use the sandbox contract ports (3000, 8000, 8024, 8081) instead of free ones",
    )
    parser.add_argument(
        "--verbose", "-v", action="store_true", help="also show the stack's and functions' log lines"
    )
    args = parser.parse_args(argv)
    configure(logging.INFO if args.verbose else logging.WARNING)
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
