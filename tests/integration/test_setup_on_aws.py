"""Before setup, a deal event waits in the queue (no DLQ, no permanent failure) and `SetupMissing`
is counted; `python -m bridge.cli setup --on-aws` runs the template's SetupFunction on the local
stack (through Lambda's Invoke API) and prints its report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bridge import deps
from bridge.cli import main
from sandbox.local import LocalStack
from sandbox.local.journal import Invocation
from sandbox.world.rest import B24Rest
from tests.harness import deal_stack


@pytest.fixture(scope="module")
def stack(moto_endpoint: str) -> Iterator[LocalStack]:
    yield from deal_stack.start_stack(moto_endpoint, prefix="s")


def _metrics(invocation: Invocation) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for line in invocation.logs:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "_aws" in record:
            found |= record
    return found


def _queue_attributes(stack: LocalStack, logical_id: str) -> dict[str, str]:
    attributes: dict[str, str] = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.queue_urls[logical_id], AttributeNames=["All"]
    )["Attributes"]
    return attributes


def test_a_deal_before_setup_waits_in_the_queue_and_counts_setup_missing(stack: LocalStack) -> None:
    deal_stack.bare(stack)
    rest = B24Rest(stack.b24_webhook_url)
    deal_stack.seed(stack)
    company, contact = rest.company_with_contact("Гамма ООО", "7712345678", "771201001")
    deal_id = rest.deal("Заказ болтов", rest.stage_id("Продажи", "Продажа материала"), company, contact, [])

    def waiting(item: Invocation) -> bool:
        logs = "\n".join(item.logs)
        return (
            item.function == "QueueWorkerFunction"
            and f"DEAL-{deal_id}" in logs
            and "waits in the queue" in logs
        )

    invocation = stack.journal.wait_for(waiting, timeout=60)

    logs = "\n".join(invocation.logs)
    assert "run setup" in logs
    assert "failed permanently" not in logs
    assert sum(_metrics(invocation).get("SetupMissing", [])) >= 1
    assert "EventsFailedPermanently" not in _metrics(invocation)
    # Reported failed, so SQS keeps it (invisible for the setup backoff), not in the DLQ.
    assert invocation.result["batchItemFailures"]
    events = _queue_attributes(stack, "EventsQueue")
    assert int(events["ApproximateNumberOfMessagesNotVisible"]) >= 1
    assert _queue_attributes(stack, "EventsDeadLetterQueue")["ApproximateNumberOfMessages"] == "0"
    assert deal_stack.orders_for(stack, deal_id) == []


def test_setup_on_aws_runs_the_setup_function_and_prints_its_report(
    stack: LocalStack, operator: None, capsys: pytest.CaptureFixture[str]
) -> None:
    deal_stack.bare(stack)
    rest = B24Rest(stack.b24_webhook_url)

    # On a bare system the dry run reports what is missing (exit 1: problems remain).
    assert main(["setup", "--on-aws", "--dry-run"]) in (0, 1)
    dry = capsys.readouterr()
    assert "ran by " + stack.model.functions["SetupFunction"].name in dry.err
    assert "UF_CRM_1C_ORDER_NO" in dry.out
    fields = {f["FIELD_NAME"] for f in rest.call("crm.deal.userfield.list", {})}
    assert "UF_CRM_1C_ORDER_NO" not in fields  # a dry run changes nothing

    assert main(["setup", "--on-aws"]) == 0
    out = capsys.readouterr().out
    assert "ready" in out
    fields = {f["FIELD_NAME"] for f in rest.call("crm.deal.userfield.list", {})}
    assert "UF_CRM_1C_ORDER_NO" in fields
    invoked = [i for i in stack.journal.entries() if i.function == "SetupFunction"]
    assert [i.event for i in invoked[-2:]] == [{"dry_run": True}, {"dry_run": False}]


def test_setup_on_aws_without_the_function_name_says_which_setting(
    stack: LocalStack, operator: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("BRIDGE_SETUP_FUNCTION")
    deps.reset()
    assert main(["setup", "--on-aws"]) == 2
    assert "BRIDGE_SETUP_FUNCTION" in capsys.readouterr().err
