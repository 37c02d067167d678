"""Secrets stay out of log lines however they travel: nested extras, chained causes, objects whose
`__str__` tells them, their base64 / URL-encoded / JSON-escaped forms, and library loggers."""

from __future__ import annotations

import base64
import io
import json
import logging
from typing import Any
from urllib.parse import quote

import pytest
from aws_lambda_powertools import Logger

from bridge.b24.masking import install_secret_filter, mask_value, register_secret
from bridge.observability import LibraryDebugFilter, protect_logging

SECRET = "pa$$/wörd+Kx81-zz"  # characters that change under every encoding
register_secret(SECRET)
FORMS = (
    SECRET,
    quote(SECRET, safe=""),
    base64.b64encode(SECRET.encode()).decode().rstrip("="),
    json.dumps(SECRET)[1:-1],
)


class Leaky:
    def __str__(self) -> str:
        return f"Leaky(password={SECRET})"


class LeakyError(Exception):
    def __str__(self) -> str:
        return f"refused with {SECRET}"


def stdlib_logger(name: str) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    log = logging.getLogger(name)
    log.propagate = False
    log.setLevel(logging.DEBUG)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s %(detail)s"))
    log.handlers = [handler]
    install_secret_filter(log)
    return log, stream


def assert_clean(text: str) -> None:
    assert text.strip()
    for form in FORMS:
        assert form not in text, form


def test_every_disguise_of_a_registered_secret_is_masked() -> None:
    assert_clean(mask_value(" | ".join(FORMS)) + " x")


def test_nested_extras_lists_dicts_and_objects_are_masked() -> None:
    log, stream = stdlib_logger("test.masking.nested")
    log.info("call", extra={"detail": {"params": [{"password": SECRET}, (SECRET,)], "who": Leaky()}})
    assert_clean(stream.getvalue())
    assert "***" in stream.getvalue()


def test_message_arguments_of_any_shape_are_masked() -> None:
    log, stream = stdlib_logger("test.masking.args")
    log.warning("answer %s from %r", {"token": [SECRET]}, Leaky(), extra={"detail": ""})
    assert_clean(stream.getvalue())


def test_chained_causes_and_custom_str_exceptions_are_masked_in_tracebacks() -> None:
    log, stream = stdlib_logger("test.masking.chain")
    try:
        try:
            raise LeakyError("inner")
        except LeakyError as inner:
            raise RuntimeError(f"login {quote(SECRET, safe='')} refused") from inner
    except RuntimeError:
        log.exception("failed", extra={"detail": ""})
    text = stream.getvalue()
    assert "LeakyError" in text  # the chain is still shown …
    assert_clean(text)  # … without the secret


def test_powertools_json_output_is_masked_including_the_exception_field() -> None:
    stream = io.StringIO()
    log = Logger(service="masking-test", logger_handler=logging.StreamHandler(stream))
    install_secret_filter(log)
    try:
        raise LeakyError("x") from ValueError(SECRET)
    except LeakyError:
        log.exception("failed", extra={"attempts": [{"auth": SECRET}]})
    log.append_keys(request={"body": SECRET})  # Powertools keeps state in its formatter: still works
    log.info("next")
    assert_clean(stream.getvalue())
    assert len(stream.getvalue().splitlines()) >= 2


@pytest.mark.parametrize("name", ["botocore.parsers", "httpcore.http11", "urllib3.connectionpool", "httpx"])
def test_library_debug_records_are_dropped_even_when_their_logger_is_at_debug(name: str) -> None:
    record = logging.LogRecord(name, logging.DEBUG, __file__, 1, "Response body: %s", (SECRET,), None)
    assert LibraryDebugFilter().filter(record) is False
    own = logging.LogRecord("bridge.flow", logging.DEBUG, __file__, 1, "ours", None, None)
    assert LibraryDebugFilter().filter(own) is True


def test_protect_logging_quiets_httpx_and_masks_what_reaches_the_root_handler() -> None:
    root = logging.Logger("test-root")
    stream = io.StringIO()
    root.addHandler(logging.StreamHandler(stream))
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    protect_logging(root)
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
    record = logging.LogRecord(
        "httpx",
        logging.WARNING,
        __file__,
        1,
        "HTTP Request: POST %s",
        (f"https://p/rest/1/{SECRET}/x",),
        None,
    )
    root.handlers[0].handle(record)
    assert_clean(stream.getvalue())


def _extra(value: Any) -> Any:
    return mask_value(value)


def test_values_without_secrets_keep_their_type() -> None:
    assert _extra({"n": 1, "ok": True, "items": [1, 2]}) == {"n": 1, "ok": True, "items": [1, 2]}
    assert _extra((1, "a")) == (1, "a")
