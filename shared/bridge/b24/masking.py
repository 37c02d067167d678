"""Keep secrets (the webhook code, the 1C password, the routes' tokens) out of logs and error texts.

The code is a path segment of every URL the client touches, so any httpx message, redirect target or
repr may carry it. Two nets: a pattern for `/rest/<user id>/<code>` in any text, and the exact
secrets this process holds (registered by the settings when a secret is read, and by the client),
which also catch the bare value in its usual disguises: base64 (a Basic header), URL-encoded and
JSON-escaped.

The filter masks a record's message, its extras however nested (dicts, lists, objects whose
`__str__` tells a secret) and its exception chain (causes and contexts); the handler's final
output is masked again, which catches what a formatter renders itself (a traceback).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from aws_lambda_powertools import Logger

MASK = "***"

_WEBHOOK_PATH = re.compile(r"(/rest/(?:api/)?\d+/)[^/\s?#\"'<>]+")
_AUTH_PARAM = re.compile(r"((?:^|[?&\s\"'])auth=)[^&\s\"']+")
# The per-user tokens of an application's frame and install requests (the «1С» deal tab), as a
# form field (`AUTH_ID=…`), a JSON or repr key (`"AUTH_ID": "…"`) or an `auth[...]` key; they are
# never registered one by one (a fresh token per opening would grow the registry forever).
_TOKEN_FIELD = re.compile(
    r"((?:AUTH_ID|REFRESH_ID|APPLICATION_TOKEN|access_token|refresh_token|application_token|csrf)"
    r"(?:%5D|\])?(?:=|[\"']?\s*:\s*[\"']))[^&\s\"',}]+",
    re.IGNORECASE,
)
_known: set[str] = set()
_known_lock = threading.Lock()
_MIN_SECRET_LENGTH = 6  # shorter strings would mask ordinary words


def disguises(secret: str) -> set[str]:
    """The forms a secret takes on the way out: as is, URL-encoded, base64, JSON-escaped."""
    raw = secret.encode("utf-8")
    forms = {
        secret,
        quote(secret, safe=""),
        quote(secret, safe="/:"),
        base64.b64encode(raw).decode("ascii").rstrip("="),
        base64.urlsafe_b64encode(raw).decode("ascii").rstrip("="),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }
    return {form for form in forms if len(form) >= _MIN_SECRET_LENGTH}


def register_secret(secret: str) -> None:
    """Mask this exact string, and its disguises, everywhere from now on."""
    if len(secret) >= _MIN_SECRET_LENGTH:
        with _known_lock:
            _known.update(disguises(secret))


def webhook_code(webhook_url: str) -> str | None:
    """The secret segment of `https://portal/rest/<user id>/<code>/`, if the URL has one."""
    match = _WEBHOOK_PATH.search(webhook_url)
    if match is None:
        return None
    return match.group(0)[len(match.group(1)) :]


def mask_secret(text: str) -> str:
    masked = _AUTH_PARAM.sub(rf"\g<1>{MASK}", _WEBHOOK_PATH.sub(rf"\g<1>{MASK}", text))
    masked = _TOKEN_FIELD.sub(rf"\g<1>{MASK}", masked)
    with _known_lock:
        secrets = sorted(_known, key=len, reverse=True)
    for secret in secrets:
        masked = masked.replace(secret, MASK)
    return masked


_STANDARD_RECORD_KEYS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_PLAIN = (int, float, bool, type(None))
_MAX_DEPTH = 8


def mask_value(value: Any, depth: int = 0) -> Any:
    """`value` with every secret masked: strings, nested containers, and any other object whose
    text (`str`) carries one (it is then replaced by that masked text)."""
    if isinstance(value, str):
        return mask_secret(value)
    if isinstance(value, _PLAIN):
        return value
    if depth >= _MAX_DEPTH:
        return mask_secret(str(value))
    if isinstance(value, dict):
        return {mask_value(k, depth + 1): mask_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [mask_value(item, depth + 1) for item in value]
        return items if isinstance(value, list | set | frozenset) else tuple(items)
    try:
        text = str(value)
    except Exception:  # a broken __str__ must not break logging
        return f"<{type(value).__name__}>"
    masked = mask_secret(text)
    return masked if masked != text else value


def _mask_exception_chain(error: BaseException) -> None:
    """Mask the args of the exception, its causes and contexts (each once)."""
    seen: set[int] = set()
    current: BaseException | None = error
    pending: list[BaseException] = []
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        masked_args = tuple(mask_value(a) for a in current.args)
        if masked_args != current.args:
            with contextlib.suppress(AttributeError, TypeError):
                current.args = masked_args
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)
        current = pending.pop() if pending else None


class SecretMaskingFilter(logging.Filter):
    """Rewrites each record's message, string extras and exception text with `mask_secret`.

    Install it on a handler (not only a logger): handler filters also see records that child
    loggers propagate, logger filters do not.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_secret(record.getMessage())
        record.args = None
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_RECORD_KEYS:
                setattr(record, key, mask_value(value))
        if record.exc_info and record.exc_info[1] is not None:
            _mask_exception_chain(record.exc_info[1])
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
        if isinstance(item, logging.Handler):
            mask_output(item)
    return masking


def mask_output(handler: logging.Handler) -> None:
    """Mask the handler's final text too: a formatter renders tracebacks (and `__str__` of
    exceptions) after the filters ran. The formatter itself is left in place (Powertools keeps
    state in it)."""
    if getattr(handler, "_bridge_masked_output", False):
        return
    inner: Callable[[logging.LogRecord], str] = handler.format

    def masked_format(record: logging.LogRecord) -> str:
        return mask_secret(inner(record))

    handler.format = masked_format  # type: ignore[method-assign]
    handler._bridge_masked_output = True  # type: ignore[attr-defined]


def masked(value: Any) -> str:
    """`str(value)` with secrets masked (for exceptions from libraries)."""
    return mask_secret(str(value))
