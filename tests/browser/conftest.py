"""Headless Chromium for the browser tests, or a skip that says how to get it.

Chromium and chromedriver are Debian packages (`make browser` installs them). Where they are absent
the tests skip with that instruction, except when BRIDGE_REQUIRE_BROWSER=1 (CI sets it through
`.ci/run`): there a missing browser is a failure, so the test cannot silently stop running.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
HOW = "install them with `make browser` (apt-get install -y chromium chromium-driver)"


def _found() -> tuple[str | None, str | None]:
    browser = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    return browser, shutil.which("chromedriver")


@pytest.fixture(scope="session")
def browser_binaries() -> tuple[str, str]:
    browser, driver = _found()
    if browser and driver:
        return browser, driver
    missing = " and ".join(n for n, p in (("chromium", browser), ("chromedriver", driver)) if not p)
    reason = f"{missing} not found on PATH: {HOW}"
    if os.environ.get("BRIDGE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"BRIDGE_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def driver(browser_binaries: tuple[str, str]) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, chromedriver = browser_binaries
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1400",
        "--lang=ru-RU",
    ):
        options.add_argument(argument)
    chrome = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    # A busy 2-core machine: page loads get minutes, not the driver's defaults.
    chrome.set_page_load_timeout(180)
    try:
        yield chrome
    finally:
        chrome.quit()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
