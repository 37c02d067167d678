"""Typed failures of the 1C OData interface, parsed from the platform's `odata.error` body.

Classification (the one place that decides retry for 1C):

- 404 or 1C code 9 → `NotFound` (permanent: the object is not there).
- 401/403 → `AccessDenied` (transient: a rotated password or a revoked right is an outage of the
  integration, not bad data; the client re-reads the secret once, then the queue keeps the work
  until a person fixes the credentials or rights, and `AuthFailed` raises an alarm).
- any other 4xx → `BadRequest` (permanent: codes 1, 6, 14 … mean our request is wrong).
- 5xx → `ServerError` (transient). 1C answers 500 / code -1 both for internal hiccups and for
  exceptions raised by configuration code (`ПередЗаписью`/`ПриЗаписи`), and the two can only be
  told apart by the message text, which we never match on. The client retries a 5xx a bounded
  number of times; if it persists it surfaces as transient, the queue redelivers a few times and
  then parks the message in the DLQ with the 1C message for a person. That costs a few wasted
  retries on a genuinely permanent handler error and never loses a recoverable one.
- timeouts and connection failures → `ODataUnavailable` (transient).

Messages carry the URL without credentials; the password is never part of any text.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from bridge.errors import BridgeError, CredentialsRejected, PermanentError, TransientError

_NOT_FOUND_CODE = "9"
_TEXT_SNIPPET = 300
_XML_CODE = re.compile(r"<(?:\w+:)?code>(.*?)</(?:\w+:)?code>", re.DOTALL)
_XML_MESSAGE = re.compile(r"<(?:\w+:)?message[^>]*>(.*?)</(?:\w+:)?message>", re.DOTALL)


class ODataError(BridgeError):
    """A failed call to 1C: HTTP status (0 when no answer came), 1C code, message, masked URL."""

    def __init__(self, status: int, code: str | None, message: str, url_masked: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.url_masked = url_masked
        code_part = f" code {code}" if code is not None else ""
        super().__init__(f"1C OData {status or 'no answer'}{code_part}: {message} ({url_masked})")


class NotFound(ODataError, PermanentError):
    """Entity instance (or entity set) does not exist."""


class BadRequest(ODataError, PermanentError):
    """1C rejected the request itself (parse errors, unknown property, bad literal …)."""


class AccessDenied(ODataError, CredentialsRejected):
    """Authentication failed or the OData user lacks rights."""


class ServerError(ODataError, TransientError):
    """1C failed while serving the request (HTTP 5xx); see the module docs for why transient."""


class UnexpectedResponse(ODataError, PermanentError):
    """A success status with a body that is not the JSON 1C documents (e.g. Atom, HTML)."""


class ODataUnavailable(ODataError, TransientError):
    """No usable answer: timeout, refused or dropped connection."""


def nothing_written(error: BaseException) -> bool:
    """1C answered the write with an error status, so the object was not created. A timeout or a
    dropped connection (`ODataUnavailable`) leaves that open: the write may have landed."""
    return isinstance(error, ODataError) and not isinstance(error, ODataUnavailable)


def mask_url(url: httpx.URL | str) -> str:
    """The URL without user information (`user:password@`), safe for logs and messages."""
    parsed = httpx.URL(str(url))
    if parsed.userinfo:
        parsed = parsed.copy_with(username=None, password=None)
    return str(parsed)


def parse_error_body(body: bytes, content_type: str = "") -> tuple[str | None, str]:
    """(1C code, message) from a JSON `odata.error`, an Atom `m:error`, or plain text."""
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return None, ""
    parsed_json = _json_error(text)
    if parsed_json is not None:
        return parsed_json
    if "xml" in content_type or text.startswith("<"):
        code_match = _XML_CODE.search(text)
        message_match = _XML_MESSAGE.search(text)
        if code_match or message_match:
            code = code_match.group(1).strip() if code_match else None
            message = message_match.group(1).strip() if message_match else ""
            return code or None, message
    return None, text[:_TEXT_SNIPPET]


def _json_error(text: str) -> tuple[str | None, str] | None:
    try:
        data: Any = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    error = data.get("odata.error") or data.get("error")
    if not isinstance(error, dict):
        return None
    raw_code = error.get("code")
    code = str(raw_code) if raw_code not in (None, "") else None
    message = error.get("message")
    if isinstance(message, dict):
        message = message.get("value", "")
    return code, str(message or "")


def error_from_response(response: httpx.Response) -> ODataError:
    """The typed error for a non-success answer."""
    code, message = parse_error_body(response.content, response.headers.get("content-type", ""))
    status = response.status_code
    url = mask_url(response.request.url)
    message = message or response.reason_phrase
    error_class: type[ODataError]
    if status == httpx.codes.NOT_FOUND or code == _NOT_FOUND_CODE:
        error_class = NotFound
    elif status in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
        error_class = AccessDenied
    elif status >= httpx.codes.INTERNAL_SERVER_ERROR:
        error_class = ServerError
    else:
        error_class = BadRequest
    return error_class(status, code, message, url)


def unavailable(error: httpx.TransportError, url: httpx.URL | str) -> ODataUnavailable:
    """Transport failure → transient error; only the exception's class name goes into the text."""
    return ODataUnavailable(0, None, type(error).__name__, mask_url(url))
