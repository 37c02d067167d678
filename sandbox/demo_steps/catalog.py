"""Demo step: 1C nomenclature → Bitrix24 catalog and stock, through the real functions.

Runs CatalogSyncFunction and StockSyncFunction on the local stack, lists what Bitrix24 now shows
(section path, article, price, quantity), changes a price and a balance in 1C, runs again and
shows that exactly those two writes reached Bitrix24.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from sandbox.local import LocalStack
from sandbox.world import catalog


def run(stack: LocalStack, say: Callable[[str], None]) -> None:
    assert stack.b24 is not None
    assert stack.onec is not None
    b24, onec = stack.b24.url, stack.onec.url

    def invoke(function: str) -> dict[str, Any]:
        answer = httpx.post(f"{stack.api_url}/_local/invoke/{function}", json={}, timeout=300)
        result: dict[str, Any] = answer.json()
        say(f"  {function}: {result.get('counts', result)}")
        return result

    say("catalog: first nomenclature + stock run (1C → Bitrix24)")
    invoke("CatalogSyncFunction")
    invoke("StockSyncFunction")
    for line in catalog.product_lines(b24):
        say(f"  {line}")
    say("catalog: in 1C the bolt's price becomes 13.75 and its main-warehouse balance 1800")
    catalog.change_bolt(onec)
    since = catalog.cursor(b24)
    invoke("CatalogSyncFunction")
    invoke("StockSyncFunction")
    writes = catalog.writes_since(b24, since)
    for call in writes:
        say(f"  Bitrix24 write: {call['method']} {call['params']}")
    say(f"catalog: {len(writes)} write(s) for 2 changes; a run with nothing changed writes nothing")
