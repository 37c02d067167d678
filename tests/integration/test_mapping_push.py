"""`python -m bridge.cli mapping push|show` on the local stack: the customer's mapping lives in the
template's Parameter Store parameter, and a pushed mapping changes what the running functions do
within their cache TTL, without a restart or a redeploy."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge import settings
from bridge.cli import main
from sandbox.local import LocalStack
from sandbox.local.journal import Invocation
from sandbox.world.rest import B24Rest
from tests.harness import deal_stack

TTL_S = 1.0  # BRIDGE_MAPPING_MAX_AGE_S of the stack's functions


@pytest.fixture(scope="module")
def stack(moto_endpoint: str) -> Iterator[LocalStack]:
    yield from deal_stack.start_stack(
        moto_endpoint, prefix="m", extra_env={"BRIDGE_MAPPING_MAX_AGE_S": str(TTL_S)}
    )


def _worker_said(stack: LocalStack, deal_id: int, text: str) -> Invocation:
    def matches(item: Invocation) -> bool:
        logs = "\n".join(item.logs)
        return item.function == "QueueWorkerFunction" and f"DEAL-{deal_id}" in logs and text in logs

    return stack.journal.wait_for(matches, timeout=60)


def test_show_before_any_push_is_the_packaged_default(
    stack: LocalStack, operator: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["mapping", "show"]) == 0
    out = capsys.readouterr().out
    first, rest = out.split("\n", 1)
    assert "the packaged default mapping" in first
    assert f"nothing pushed to parameter {stack.parameter_name('MappingParameter')}" in first
    assert rest.strip() == settings.packaged_mapping_text().strip()


def test_a_bad_mapping_is_refused_naming_each_key_and_nothing_is_written(
    stack: LocalStack, operator: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = settings.packaged_mapping_text().replace(
        'create_order_on = "trigger_stages"', 'create_order_on = "sometimes"'
    )
    bad = bad.replace('price_kind = "Оптовая"', "price_kind = 42")
    path = tmp_path / "bad.toml"
    path.write_text(bad, "utf-8")
    before = stack.client("ssm").get_parameter(Name=stack.parameter_name("MappingParameter"))["Parameter"]

    assert main(["mapping", "push", str(path)]) == 1

    out = capsys.readouterr().out
    assert "deal.create_order_on" in out
    assert "onec.price_kind" in out
    assert "not pushed: 2 problem(s)" in out
    after = stack.client("ssm").get_parameter(Name=stack.parameter_name("MappingParameter"))["Parameter"]
    assert after["Version"] == before["Version"]


def test_a_pushed_mapping_changes_the_deal_flow_within_the_ttl(
    stack: LocalStack, operator: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deal_stack.fresh(stack)
    rest = B24Rest(stack.b24_webhook_url)
    deal_stack.seed(stack)
    company, contact = rest.company_with_contact("Гамма ООО", "7712345678", "771201001")
    # "Новая" comes before the trigger stage: with the packaged mapping no order is made.
    deal_id = rest.deal("Заказ болтов", rest.stage_id("Продажи", "Новая"), company, contact, [])
    _worker_said(stack, deal_id, "is not a trigger stage")
    assert deal_stack.orders_for(stack, deal_id) == []

    # The customer wants an order for every new deal (§2.6.1 read literally).
    mapping = settings.packaged_mapping_text().replace(
        'create_order_on = "trigger_stages"', 'create_order_on = "deal_created"'
    )
    path = tmp_path / "customer.toml"
    path.write_text(mapping, "utf-8")
    assert main(["mapping", "push", str(path)]) == 0
    assert f"to parameter {stack.parameter_name('MappingParameter')}" in capsys.readouterr().out
    assert main(["mapping", "show"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith(f"# effective mapping, from parameter {stack.parameter_name('MappingParameter')}")
    assert 'create_order_on = "deal_created"' in shown

    time.sleep(TTL_S)  # the functions' cache TTL, no more: the same warm containers re-read it
    rest.call("crm.deal.update", {"id": deal_id, "fields": {"TITLE": "Заказ болтов, срочно"}})

    order = deal_stack.settled_order(stack, deal_id, rows=0)
    assert order["Ref_Key"]
