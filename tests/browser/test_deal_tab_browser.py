"""Issue 14 in a browser: a manager opens the «1С» tab of a paid deal in the (emulated) deal card and
sees the 1C order, its payment and the bolt's stock per warehouse as 1C holds them; pressing
«Синхронизировать сейчас» shows the outcome in place.

Everything is real except the portal's chrome: the local stack runs the app's Lambda behind its HTTP
API; the Bitrix24 emulator's deal card hosts the tab in an iframe whose form POSTs the documented
placement request with a fresh token of the signed-in manager. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.local import LocalStack, LocalStackConfig
from sandbox.world.deal_tab import TabScene, install_app, paid_deal
from tests.harness.deal_stack import fresh

pytestmark = pytest.mark.browser

WAIT_S = 180  # a generous bound for a busy 2-core machine; never asserted on
RESYNC = "Синхронизировать сейчас"
# 4 321,00 / 4321 / 87.5 / 1 250,00 (space, no-break or narrow no-break space between thousands)
NUMBER = re.compile(r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?")


def numbers(text: str) -> set[float]:
    """The figures a person reads in `text`, whatever the thousands and decimal separators."""
    return {float(re.sub(r"[ \u00a0\u202f]", "", n).replace(",", ".")) for n in NUMBER.findall(text)}


@pytest.fixture(scope="module")
def stack(moto_endpoint: str, browser_binaries: tuple[str, str]) -> Iterator[LocalStack]:
    # browser_binaries first: without Chromium the test skips before a stack is started. No
    # prewarm: only the functions this story uses start, so a busy machine is not loaded with
    # every container's init at once (each still cold-starts on first use, as in AWS).
    config = LocalStackConfig.ephemeral(
        moto_url=moto_endpoint, schedules=False, prewarm=False, prefix=f"w{uuid.uuid4().hex[:6]}-"
    )
    with LocalStack(config) as stack:
        yield stack


@pytest.fixture
def scene(stack: LocalStack) -> TabScene:
    fresh(stack)
    return paid_deal(stack, install_app(stack))


def shoot(driver: Any, artifacts: Path, name: str) -> Path:
    """The whole window (the card with the tab's frame in it)."""
    path = artifacts / f"deal-tab-{name}.png"
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


def test_manager_sees_order_payment_and_stock_and_resyncs(
    scene: TabScene, driver: Any, artifacts: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, WAIT_S, poll_frequency=0.5)
    driver.get(scene.card_url())
    tab = wait.until(
        shown.element_to_be_clickable((By.CSS_SELECTOR, "nav button[data-placement='CRM_DEAL_DETAIL_TAB']"))
    )
    assert "1С" in tab.text
    tab.click()
    wait.until(shown.frame_to_be_available_and_switch_to_it((By.CSS_SELECTOR, "section.tab.active iframe")))
    order = wait.until(shown.visibility_of_element_located((By.ID, "order")))
    wait.until(shown.visibility_of_element_located((By.ID, "stock")))

    driver.switch_to.default_content()
    assert shoot(driver, artifacts, "opened").stat().st_size > 0
    driver.switch_to.frame(driver.find_element(By.CSS_SELECTOR, "section.tab.active iframe"))

    order = driver.find_element(By.ID, "order")
    assert scene.order_number in order.text
    payments = driver.find_element(By.ID, "payments").text
    assert scene.payment in numbers(payments), payments
    stock = driver.find_element(By.ID, "stock").text
    for warehouse, quantity in scene.stock.items():
        assert warehouse in stock, stock
        assert quantity in numbers(stock), stock
    assert driver.find_elements(By.ID, "no-order") == []

    button = driver.find_element(By.XPATH, f"//form[@method='post']//button[normalize-space()='{RESYNC}']")
    assert button.find_element(By.XPATH, "ancestor::form//input[@name='csrf']").get_attribute("value")
    button.click()

    def outcome(browser: Any) -> str:
        found = browser.find_elements(By.ID, "resync-outcome")
        try:
            return found[0].text.strip() if found else ""
        except Exception:  # the frame is between documents (the form's POST is loading)
            return ""

    said = wait.until(outcome)
    # The tab is still there after the resync: the outcome is shown in place, beside the order.
    assert scene.order_number in driver.find_element(By.ID, "order").text
    driver.switch_to.default_content()
    shoot(driver, artifacts, "resynced")
    print(f"resync outcome: {said}")
    assert scene.order_number in said, said
