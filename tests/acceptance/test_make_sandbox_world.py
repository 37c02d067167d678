"""`make sandbox` leaves a ready world (docs/sandbox.md, issue 10 item 13).

The sandbox is started exactly as `make sandbox` starts it (`python -m sandbox`, schedules and all),
only on free ports. With no manual step in between, a manager's path through the inbound webhook:
a new company with an INN, a deal assigned to user 1 (the webhook owner), moved to «Продажа
материала» — ends as one 1C customer order with a responsible employee, the deal's comment and
date, and the order number back on the deal.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.local import emulators
from sandbox.world.onec import get, seed
from sandbox.world.rest import B24Rest
from tests.harness.onec import EMPTY_GUID, orders_for
from tests.harness.sandbox_process import log_tail, running_sandbox
from tests.harness.waiting import eventually

pytestmark = pytest.mark.acceptance

FLOW_TIMEOUT_S = 120.0


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_sandbox(tmp_path_factory.mktemp("sandbox")) as ready:  # schedules and all
        yield ready


def _onec_root(sandbox: dict[str, Any]) -> str:
    return str(sandbox["onec_base_url"]).split(emulators.ODATA_PATH)[0]


def test_setup_has_run_before_the_sandbox_says_ready(sandbox: dict[str, Any]) -> None:
    setup = sandbox["setup"]
    assert setup is not None, log_tail(sandbox["log"])
    assert setup["ok"], setup["lines"]
    assert setup["lines"][-1] == "setup: ready"


def test_a_webhook_deal_of_user_1_with_a_new_company_becomes_one_order(sandbox: dict[str, Any]) -> None:
    rest = B24Rest(sandbox["b24_webhook_url"])
    bolt = seed(_onec_root(sandbox))["Catalog_Номенклатура"]["Болт М10х50"]
    product = rest.product("Болт М10х50", bolt)
    company, contact = rest.company_with_contact("Омега-Проект ООО", "7714000123", "771401001", assigned=1)
    deal_id = rest.deal(
        "Болты для Омеги",
        rest.stage_id("Продажи", "Новая"),
        company,
        contact,
        [
            {
                "PRODUCT_ID": product,
                "PRODUCT_NAME": "Болт М10х50",
                "PRICE": 15,
                "QUANTITY": 20,
                "MEASURE_CODE": 796,
            }
        ],
        comments="Доставка до 10:00, въезд со двора",
        assigned=1,
        begindate="2024-09-02T00:00:00+03:00",
    )
    category, stage = rest.stage_id("Продажи", "Продажа материала")
    rest.call("crm.deal.update", {"id": deal_id, "fields": {"CATEGORY_ID": category, "STAGE_ID": stage}})

    deal = eventually(
        lambda: (d := rest.call("crm.deal.get", {"id": deal_id})).get("UF_CRM_1C_ORDER_NO") and d,
        FLOW_TIMEOUT_S,
        f"deal {deal_id} shows its 1C order number",
    )

    orders = orders_for(sandbox["onec_base_url"], _onec_root(sandbox), deal_id)
    assert len(orders) == 1
    (order,) = orders
    assert order["Number"] == deal["UF_CRM_1C_ORDER_NO"]
    assert deal["UF_CRM_1C_ORDER_REF"] == order["Ref_Key"]
    assert order["Комментарий"] == "Доставка до 10:00, въезд со двора"
    assert order["Date"].startswith("2024-09-02")
    assert [(row["Номенклатура_Key"], row["Количество"]) for row in order["Запасы"]] == [(bolt, 20)]
    counterparty = get(sandbox["onec_base_url"], f"Catalog_Контрагенты(guid'{order['Контрагент_Key']}')")
    assert counterparty["ИНН"] == "7714000123"
    # User 1 has no 1C employee of their own: the order still names one (the configured default).
    assert order["Ответственный_Key"] not in (None, "", EMPTY_GUID), order
