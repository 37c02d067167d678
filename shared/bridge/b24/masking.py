"""Keep the webhook code (the only credential of an inbound webhook) out of logs and error texts.

The code is a path segment of every URL the client touches, so any httpx message, redirect target or
repr may carry it. Two nets: a pattern for `/rest/<user id>/<code>` in any text, and the exact codes
of the webhooks this process uses (registered by the client), which also catch the bare code.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from aws_lambda_powertools import Logger

MASK = "***"

_WEBHOOK_PATH = re.compile(r"(/rest/(?:api/)?\d+/)[^/\s?#\"'<>]+")
_AUTH_PARAM = re.compile(r"((?:^|[?&\s\"'])auth=)[^&\s\"']+")
_known: set[str] = set()
_known_lock = threading.Lock()
_MIN_SECRET_LENGTH = 6  # shorter strings would mask ordinary words


def register_secret(secret: str) -> None:
    """Mask this exact string everywhere from now on (the webhook code)."""
    if len(secret) >= _MIN_SECRET_LENGTH:
        with _known_lock:
            _known.add(secret)


def webhook_code(webhook_url: str) -> str | None:
    """The secret segment of `https://portal/rest/<user id>/<code>/`, if the URL has one."""
    match = _WEBHOOK_PATH.search(webhook_url)
    if match is None:
        return None
    return match.group(0)[len(match.group(1)) :]


def mask_secret(text: str) -> str:
    masked = _AUTH_PARAM.sub(rf"\g<1>{MASK}", _WEBHOOK_PATH.sub(rf"\g<1>{MASK}", text))
    with _known_lock:
        secrets = sorted(_known, key=len, reverse=True)
    for secret in secrets:
        masked = masked.replace(secret, MASK)
    return masked


_STANDARD_RECORD_KEYS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class SecretMaskingFilter(logging.Filter):
    """Rewrites each record's message, string extras and exception text with `mask_secret`.

    Install it on a handler (not only a logger): handler filters also see records that child
    loggers propagate, logger filters do not.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_secret(record.getMessage())
        record.args = None
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_RECORD_KEYS and isinstance(value, str):
                setattr(record, key, mask_secret(value))
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            masked_args = tuple(mask_secret(a) if isinstance(a, str) else a for a in error.args)
            if masked_args != error.args:
                error.args = masked_args
        if record.exc_text:
            record.exc_text = mask_secret(record.exc_text)
        return True


def install_secret_filter(target: Logger | logging.Logger | logging.Handler) -> SecretMaskingFilter:
    """Attach one masking filter to a Powertools Logger's handler, a stdlib logger and its handlers,
    or a handler."""
    masking = SecretMaskingFilter()
    handlers: list[logging.Handler | logging.Logger]
    if isinstance(target, Logger):
        handlers = [target.registered_handler]
    elif isinstance(target, logging.Logger):
        handlers = [target, *target.handlers]
    else:
        handlers = [target]
    for item in handlers:
        if not any(isinstance(f, SecretMaskingFilter) for f in item.filters):
            item.addFilter(masking)
    return masking


def masked(value: Any) -> str:
    """`str(value)` with secrets masked (for exceptions from libraries)."""
    return mask_secret(str(value))
