"""§2.6.2: editing a deal (comment, product rows) updates the same 1C order — never a second one."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.local import LocalStack
from tests.harness.deal_stack import fresh_synced_deal, orders_for
from tests.harness.waiting import eventually

pytestmark = pytest.mark.acceptance


def test_comment_and_rows_edited_update_the_same_order(stack: LocalStack) -> None:
    rest, deal_id, first = fresh_synced_deal(stack, comments="Первый вариант")
    rows = rest.call("crm.deal.productrows.get", {"id": deal_id})
    keep = ("PRODUCT_ID", "PRODUCT_NAME", "PRICE", "QUANTITY", "MEASURE_CODE")
    new_rows = [{k: r[k] for k in keep} for r in rows] + [{**{k: rows[0][k] for k in keep}, "QUANTITY": 7}]
    # Two changes in quick succession (often within one second of Bitrix24's event `ts`).
    rest.call("crm.deal.update", {"id": deal_id, "fields": {"COMMENTS": "Второй вариант"}})
    rest.call("crm.deal.productrows.set", {"id": deal_id, "rows": new_rows})

    def updated() -> dict[str, Any] | None:
        found = orders_for(stack, deal_id)
        ok = len(found) == 1 and found[0]["Комментарий"] == "Второй вариант" and len(found[0]["Запасы"]) == 2
        return found[0] if ok else None

    order = eventually(updated)
    assert order["Ref_Key"] == first["Ref_Key"]
    assert [r["Количество"] for r in order["Запасы"]] == [10, 7]
