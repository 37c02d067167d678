"""The webhook code never reaches a log line, whichever logger writes it."""

from __future__ import annotations

import io
import json
import logging

from aws_lambda_powertools import Logger

from bridge.b24.masking import install_secret_filter, mask_secret, register_secret, webhook_code

CODE = "q2l8g9l071eismy9"
WEBHOOK = f"https://example.bitrix24.ru/rest/17/{CODE}/"


def test_webhook_urls_lose_their_code_in_any_text() -> None:
    text = (
        f"POST {WEBHOOK}crm.deal.get.json failed; v3 https://x.bitrix24.ru/rest/api/3/abcdefgh12345678/tasks"
    )
    masked = mask_secret(text)
    assert CODE not in masked
    assert "abcdefgh12345678" not in masked
    assert "https://example.bitrix24.ru/rest/17/***/crm.deal.get.json" in masked


def test_registered_code_is_masked_even_without_its_url() -> None:
    register_secret("Zx81kk03mmqq55aa")
    assert mask_secret("token Zx81kk03mmqq55aa leaked") == "token *** leaked"


def test_oauth_auth_parameter_is_masked() -> None:
    assert mask_secret("https://p.bitrix24.ru/rest/crm.deal.get?auth=abc123def&id=1") == (
        "https://p.bitrix24.ru/rest/crm.deal.get?auth=***&id=1"
    )


def test_webhook_code_is_read_from_the_url() -> None:
    assert webhook_code(WEBHOOK) == CODE
    assert webhook_code("https://example.bitrix24.ru/") is None


def test_stdlib_logger_filter_masks_message_args_extras_and_exceptions() -> None:
    stream = io.StringIO()
    log = logging.getLogger("test.b24.masking.stdlib")
    log.propagate = False
    log.handlers = [logging.StreamHandler(stream)]
    log.handlers[0].setFormatter(logging.Formatter("%(message)s|%(url)s"))
    install_secret_filter(log)

    log.warning("calling %s", f"{WEBHOOK}crm.deal.get.json", extra={"url": WEBHOOK})
    try:
        raise RuntimeError(f"boom at {WEBHOOK}")
    except RuntimeError:
        log.exception("failed", extra={"url": "-"})

    output = stream.getvalue()
    assert CODE not in output
    assert (
        "calling https://example.bitrix24.ru/rest/17/***/crm.deal.get.json|https://example.bitrix24.ru/rest/17/***/"
        in output
    )
    assert "RuntimeError: boom at https://example.bitrix24.ru/rest/17/***/" in output


def test_powertools_logger_gets_a_filter_on_its_handler() -> None:
    stream = io.StringIO()
    powertools = Logger(service="b24-masking-test", logger_handler=logging.StreamHandler(stream))
    install_secret_filter(powertools)
    install_secret_filter(powertools)  # idempotent: one filter, not two

    powertools.info(f"moved to {WEBHOOK}", webhook=WEBHOOK)

    line = json.loads(stream.getvalue().splitlines()[-1])
    assert CODE not in stream.getvalue()
    assert line["message"] == "moved to https://example.bitrix24.ru/rest/17/***/"
    assert line["webhook"] == "https://example.bitrix24.ru/rest/17/***/"
    assert len(powertools.registered_handler.filters) == 1
