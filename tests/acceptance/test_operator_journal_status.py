"""`python -m bridge.cli journal` and `status` on the local stack: one record's sync history, newest
first with the reasons of its failures (one query per record), and the system at a glance."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bridge import deps
from bridge.cli import main
from sandbox.local import LocalStack
from sandbox.world.rest import B24Rest
from tests.harness.deal_stack import dead_letter_url, fresh, fresh_synced_deal
from tests.harness.waiting import eventually

pytestmark = pytest.mark.acceptance


@pytest.fixture
def cli(stack: LocalStack, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> Iterator[Any]:
    """Run a command in-process with the worker's settings, as an operator's shell would have them."""
    for name, value in stack.function_variables("QueueWorkerFunction").items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BRIDGE_SECRET_ID", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        deps.reset()
        capsys.readouterr()
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    yield run
    deps.reset()


def _rows(out: str) -> list[str]:
    """The table's data rows (after the title and the header)."""
    return out.splitlines()[2:]


def test_a_synced_then_failing_deal_shows_both_newest_first_with_the_reason(
    stack: LocalStack, cli: Any
) -> None:
    rest, deal_id, order = fresh_synced_deal(stack)
    unknown = rest.product("Шайба неизвестная", "no-such-nomenclature")
    rows = rest.call("crm.deal.productrows.get", {"id": deal_id})
    keep = ("PRODUCT_ID", "PRODUCT_NAME", "PRICE", "QUANTITY", "MEASURE_CODE")
    rest.call(
        "crm.deal.productrows.set",
        {
            "id": deal_id,
            "rows": [{k: r[k] for k in keep} for r in rows] + [rest.goods_row(unknown, "Шайба", 3)],
        },
    )
    eventually(lambda: any("«Шайба»" in c for c in rest.comments(deal_id)) or None)

    code, out, _ = cli("journal", "deal", str(deal_id))

    assert code == 0
    title, header, *lines = out.splitlines()
    assert title.startswith(f"journal of deal {deal_id}: deal {deal_id}, order {order['Ref_Key']}")
    assert header.split()[:5] == ["at", "(UTC)", "record", "flow", "outcome"]
    stamps = [line[:23] for line in lines]
    assert stamps == sorted(stamps, reverse=True)  # newest first
    failure = next(i for i, line in enumerate(lines) if "UnmatchedProducts" in line)
    assert "нет номенклатуры 1С для товаров «Шайба»" in lines[failure]  # the reason the manager was told
    created = [i for i, line in enumerate(lines) if "b24-events" in line and " done " in line]
    assert created
    assert max(created) > failure  # the earlier successful sync is further down
    assert any(f"order {order['Number'].strip()} created" in lines[i] for i in created)
    assert any("ONCRMDEALADD" in line for line in lines)  # the event that was received


def test_the_order_number_finds_the_same_history_through_the_link(stack: LocalStack, cli: Any) -> None:
    _, deal_id, order = fresh_synced_deal(stack)

    code, by_order, _ = cli("journal", "order", order["Number"].strip())
    _, by_deal, _ = cli("journal", "deal", str(deal_id))

    assert code == 0
    assert f"deal {deal_id}" in by_order.splitlines()[0]
    created = [row for row in _rows(by_order) if f"order {order['Number'].strip()} created" in row]
    assert len(created) == 1
    assert set(_rows(by_order)) <= set(_rows(by_deal))  # later events may have added lines since


def test_a_record_never_seen_says_so_and_a_bad_key_is_refused(stack: LocalStack, cli: Any) -> None:
    code, out, err = cli("journal", "deal", "987654")
    assert code == 0
    assert "no audit items" in out
    assert "not linked" in err

    code, _, err = cli("journal", "counterparty", "12ab")
    assert code == 2
    assert "an ИНН has 10 (organisation) or 12 (person) digits" in err


def test_status_shows_dead_letters_runs_lag_and_the_days_failures_by_reason(
    stack: LocalStack, cli: Any
) -> None:
    fresh(stack)
    rest = B24Rest(stack.b24_webhook_url)
    unknown = rest.product("Гайка неизвестная", "no-such-nomenclature")
    company, contact = rest.company_with_contact("Дельта ООО", "7712345679", "771201001")
    stage = rest.stage_id("Продажи", "Продажа материала")
    deal_id = rest.deal("Гайки", stage, company, contact, [rest.goods_row(unknown, "Гайка", 2)])
    eventually(lambda: any("«Гайка»" in c for c in rest.comments(deal_id)) or None)
    answer = httpx.post(f"{stack.api_url}/_local/invoke/PaymentsPollFunction", content=b"", timeout=120)
    answer.raise_for_status()
    body = {
        "event": "ONCRMDEALUPDATE",
        "entity": "DEAL",
        "id": deal_id,
        "ts": 1,
        "received_at": "2026-11-28T00:00:00Z",
    }
    stack.client("sqs").send_message(
        QueueUrl=dead_letter_url(stack),
        MessageBody=json.dumps(body),
        MessageGroupId=f"DEAL-{deal_id}",
        MessageDeduplicationId=f"status-{deal_id}",
    )

    code, out, _ = cli("status")

    assert code == 1  # a dead letter waits for a person
    lines = out.splitlines()
    assert lines[lines.index("queues") + 1].split() == ["queue", "waiting", "in", "flight", "delayed"]
    dead = next(line.split() for line in lines if line.startswith("dead letters"))
    assert dead[2] == "1"
    payments = next(line for line in lines if line.startswith("payments-poll"))
    assert "every 1 min" in payments
    assert payments.split()[-1] == "ok"
    assert "s ago" in payments
    sweep = next(line for line in lines if line.startswith("deal-sweep"))
    assert sweep.split()[-2:] == ["never", "LATE"]
    assert any(line.startswith("Bitrix24 rate budget:") and "of 50 requests free" in line for line in lines)
    failures = lines[lines.index("failures in the last 24 h") + 2 :]
    unmatched = next(line for line in failures if "UnmatchedProducts" in line)
    assert unmatched.split()[:2] == ["deals", "UnmatchedProducts"]
    assert int(unmatched.split()[2]) >= 1  # each event of the deal met the problem again
    assert "нет номенклатуры 1С для товаров «Гайка»" in unmatched
