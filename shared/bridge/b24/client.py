"""The Bitrix24 inbound-webhook client: one call, batches, and whole lists.

Sync httpx (Lambdas are sync). Every HTTP request first takes a slot from the injected rate limiter
(`ratelimit.SharedBucket` in AWS: one budget for all Lambdas), then goes out as JSON POST to
`{webhook}{method}.json`. Answers become `B24Response` or a typed `B24Error`.

Retries: only what can succeed unchanged a moment later — 503 QUERY_LIMIT_EXCEEDED / OVERLOAD_LIMIT,
other 5xx, timeouts and connection errors — with exponential backoff and jitter. Never 4xx. A 429
OPERATION_TIME_LIMIT blocks one method for up to 10 minutes: waiting is only worth it when the
known reset is close; otherwise it is raised (transient) and the queue retries later. Calls are
paced on `time.operating` (`operating.OperatingBudget`) so that the 429 is not reached at all.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urljoin

import httpx
from aws_lambda_powertools import Logger

from bridge import deadline
from bridge.b24.batching import (
    MAX_BATCH,
    BatchAccumulator,
    Commands,
    encode_command,
    keyed_commands,
    plan_chunks,
)
from bridge.b24.errors import (
    AuthError,
    B24TransientError,
    B24Unavailable,
    OperationTimeLimit,
    ServerError,
    error_from_envelope,
)
from bridge.b24.masking import install_secret_filter, mask_secret, register_secret, webhook_code
from bridge.b24.models import B24Response, BatchResult, CallTime, Command, optional_int
from bridge.b24.operating import OperatingBudget
from bridge.b24.ratelimit import RateLimiter
from bridge.observability import count_call, report_auth_failure
from bridge.observability import logger as default_logger

PAGE_SIZE = 50  # fixed by Bitrix24 for every list method
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 3
USER_AGENT = "unf-b24-bridge/1"


class B24Client:
    def __init__(
        self,
        webhook_url: str,
        *,
        limiter: RateLimiter,
        http: httpx.Client | None = None,
        max_attempts: int = 4,
        timeout_s: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
        backoff_base_s: float = 0.5,
        clock: Callable[[], float] = time.time,
        operating_budget_s: float = 480.0,
        operating_headroom: float = 0.9,
        max_operating_wait_s: float = 30.0,
        rng: random.Random | None = None,
        logger: Logger | logging.Logger | None = None,
        webhook_source: Callable[[bool], str] | None = None,
    ) -> None:
        """`webhook_source(fresh)` returns the webhook URL the secret holds now (`fresh`: re-read
        it at once); the client adopts a changed URL before each call and, after an auth error,
        re-reads it once and retries with the new one (a rotated webhook, no restart)."""
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._base = _with_slash(webhook_url)
        self._source_url = self._base
        self._webhook_source = webhook_source
        code = webhook_code(self._base)
        if code:
            register_secret(code)
        self._limiter = limiter
        self._http = http or httpx.Client(follow_redirects=False)
        self._max_attempts = max_attempts
        self._timeout = httpx.Timeout(timeout_s)
        self._sleep = sleep
        self._backoff_base_s = backoff_base_s
        self._clock = clock
        self.operating = OperatingBudget(operating_budget_s, operating_headroom)
        self._max_operating_wait_s = max_operating_wait_s
        self._rng = rng or random.Random()
        if logger is None:
            install_secret_filter(default_logger)
            logger = default_logger
        self._log = logger

    def __repr__(self) -> str:
        return f"B24Client(webhook={mask_secret(self._base)!r})"

    @property
    def limiter(self) -> RateLimiter:
        return self._limiter

    def close(self) -> None:
        self._http.close()

    # --- single call -------------------------------------------------------------------------

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> B24Response:
        """One method call; raises a typed `B24Error` after the retries it deserves."""
        return self._call(method, dict(params or {}), nested_methods={})

    def _call(self, method: str, params: dict[str, Any], nested_methods: Mapping[str, int]) -> B24Response:
        """`nested_methods`: method → number of its commands inside this batch."""
        rotated = False
        attempt = 0
        while attempt < self._max_attempts:
            attempt += 1
            waiting_since = time.monotonic()
            for name, calls in ({method: 1} | dict(nested_methods)).items():
                self._respect_operating_budget(name, calls)
            self._adopt_webhook(fresh=False)
            self._limiter.acquire()
            count_call(time.monotonic() - waiting_since)
            try:
                return self._answer(method, self._post(method, params))
            except AuthError as error:
                if not rotated and self._adopt_webhook(fresh=True):
                    rotated = True
                    attempt -= 1  # the refused call was made with the old webhook; not a retry
                    self._log.warning(
                        f"Bitrix24 {method} refused the webhook; the secret holds a new one, retrying",
                        extra={"b24_method": method},
                    )
                    continue
                report_auth_failure("Bitrix24", str(error))
                raise
            except B24TransientError as error:
                delay = self._retry_delay(error, attempt)
                if delay is None:
                    raise
                self._log.warning(
                    mask_secret(f"Bitrix24 {method} failed, retrying in {delay:.2f} s: {error}"),
                    extra={"b24_method": method, "attempt": attempt, "retry_in_s": round(delay, 3)},
                )
                self._sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover

    def _adopt_webhook(self, *, fresh: bool) -> bool:
        """Switch to the webhook the secret holds now; True when it differs from the one in use."""
        if self._webhook_source is None:
            return False
        url = _with_slash(self._webhook_source(fresh))
        if url == self._source_url:
            return False
        code = webhook_code(url)
        if code:
            register_secret(code)
        # A redirect may have moved `_base` away from the secret's URL; the new secret wins.
        self._source_url = self._base = url
        return True

    def _retry_delay(self, error: B24TransientError, attempt: int) -> float | None:
        delay = self._plain_retry_delay(error, attempt)
        return delay if delay is None or deadline.may_wait(delay) else None

    def _plain_retry_delay(self, error: B24TransientError, attempt: int) -> float | None:
        if attempt >= self._max_attempts:
            return None
        if isinstance(error, OperationTimeLimit):
            if error.operating_reset_at is None:
                return None
            wait = error.operating_reset_at - self._clock()
            return max(wait, 0.0) if wait <= self._max_operating_wait_s else None
        backoff = self._backoff_base_s * 2.0 ** (attempt - 1)
        return backoff * (0.5 + self._rng.random())

    def _respect_operating_budget(self, method: str, calls: int = 1) -> None:
        now = self._clock()
        until = self.operating.blocked_until(method, now, calls)
        if until is None:
            return
        wait = until - now
        if wait > self._max_operating_wait_s:
            raise OperationTimeLimit(
                "OPERATION_TIME_LIMIT",
                f"not called: operating time is above {self.operating.threshold_s:.0f} s of the "
                f"{self.operating.budget_s:.0f} s budget until {until:.0f}",
                None,
                method,
                operating_reset_at=until,
            )
        self._log.info(
            f"Bitrix24 {method}: operating-time budget nearly spent, waiting {wait:.1f} s for its reset",
            extra={"b24_method": method, "wait_s": round(wait, 3)},
        )
        self._sleep(wait)

    def _post(self, method: str, params: dict[str, Any]) -> httpx.Response:
        url = f"{self._base}{method}.json"
        timeout = self._timeout
        left = deadline.remaining()
        if left is not None:
            cut = deadline.request_timeout(self._timeout.read or 20.0, f"Bitrix24 {method}")
            timeout = httpx.Timeout(cut)
        try:
            for _ in range(_MAX_REDIRECTS + 1):
                response = self._http.post(
                    url,
                    json=params,
                    headers={"Accept": "application/json", "User-Agent": USER_AGENT},
                    timeout=timeout,
                )
                location = response.headers.get("location")
                if response.status_code not in _REDIRECTS or not location:
                    return response
                url = self._follow(url, location, method)
        except httpx.HTTPError as error:
            # `from None`: httpx's own message carries the URL and with it the webhook code.
            raise B24Unavailable(
                type(error).__name__.upper(), f"{type(error).__name__}: {error}", None, method
            ) from None
        raise ServerError("", f"more than {_MAX_REDIRECTS} redirects", None, method)

    def _follow(self, url: str, location: str, method: str) -> str:
        """Re-POST to the new address (portal renamed); keep using its base for later calls."""
        target = urljoin(url, location)
        suffix = f"{method}.json"
        if target.endswith(suffix):
            self._base = target[: -len(suffix)]
            code = webhook_code(self._base)
            if code:
                register_secret(code)
        self._log.warning(
            mask_secret(f"Bitrix24 moved the webhook to {target}; following"), extra={"b24_method": method}
        )
        return target

    def _answer(self, method: str, response: httpx.Response) -> B24Response:
        try:
            payload: Any = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, Mapping):
            raise error_from_envelope(
                {"error": "", "error_description": f"answer is not a JSON object: {response.text[:200]}"},
                status=response.status_code if response.status_code >= 400 else 502,
                method=method,
            )
        call_time = CallTime.parse(payload.get("time"))
        now = self._clock()
        if "error" in payload and (response.status_code >= 400 or "result" not in payload):
            if response.status_code == 429 or str(payload.get("error")).upper() == "OPERATION_TIME_LIMIT":
                reset_at = call_time.operating_reset_at or self.operating.reset_at(method)
                self.operating.exhausted(method, reset_at, now)
                raise error_from_envelope(
                    payload, status=response.status_code, method=method, operating_reset_at=reset_at
                )
            raise error_from_envelope(payload, status=response.status_code, method=method)
        if response.status_code >= 400 or "result" not in payload:
            raise ServerError(
                "", f"unexpected answer without result: {response.text[:200]}", response.status_code, method
            )
        self.operating.record(method, call_time, now)
        return B24Response(
            result=payload["result"],
            total=optional_int(payload.get("total")),
            next=optional_int(payload.get("next")),
            time=call_time,
        )

    # --- batch --------------------------------------------------------------------------------

    def batch(self, commands: Commands, *, halt: bool = False) -> BatchResult:
        """Run commands in as many `batch` calls as needed (≤ 50 commands each), merged by key.

        `$result[key]` references resolve only within one HTTP batch. Chunks are cut in order and
        never between a command and one it references; a referenced group larger than 50 raises
        ValueError before anything is sent. With `halt`, a failing command also stops later chunks.
        """
        items = keyed_commands(commands)
        merged = BatchAccumulator()
        for chunk in plan_chunks(items):
            methods = {key: command.method for key, command in chunk}
            response = self._call(
                "batch",
                {"halt": int(halt), "cmd": {key: encode_command(command) for key, command in chunk}},
                nested_methods=Counter(methods.values()),
            )
            errors_before = len(merged.errors)
            merged.add(response.result, methods)
            now = self._clock()
            for key, call_time in merged.time.items():
                if key in methods:
                    self.operating.record(methods[key], call_time, now)
            for key, error in merged.errors.items():
                if key in methods and isinstance(error, OperationTimeLimit):
                    # A nested command hit the limit: the method is blocked as after a 429 (status).
                    self.operating.exhausted(methods[key], self.operating.reset_at(methods[key]), now)
            if halt and len(merged.errors) > errors_before:
                break
        return BatchResult(
            result=merged.result, errors=merged.errors, total=merged.total, next=merged.next, time=merged.time
        )

    # --- lists --------------------------------------------------------------------------------

    def list_all(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        fast: bool = False,
        id_field: str = "ID",
        rows_key: str | None = None,
        pages_per_batch: int = MAX_BATCH,
    ) -> Iterator[dict[str, Any]]:
        """Every row of a list method, page by page.

        Normal mode follows `next` (works with any `order`). Fast mode (`start=-1`, no COUNT on the
        portal) walks the table by ascending `id_field` with a moving `>id` filter and chains up to
        `pages_per_batch` pages into one batch via `$result[prev][49][id]`; it overrides `order`.
        `rows_key` names the wrapper of wrapped families (`items`, `products`, …); a result that is a
        one-key object is unwrapped without it. For `crm.item.list` pass `id_field="id"`.
        """
        if fast:
            return self._list_fast(method, dict(params or {}), id_field, rows_key, pages_per_batch)
        return self._list_by_next(method, dict(params or {}), rows_key)

    def _list_by_next(
        self, method: str, params: dict[str, Any], rows_key: str | None
    ) -> Iterator[dict[str, Any]]:
        start = optional_int(params.pop("start", 0)) or 0
        while True:
            response = self.call(method, {**params, "start": start})
            _, rows = _rows(response.result, rows_key, method)
            yield from rows
            if response.next is None or response.next <= start or not rows:
                return
            start = response.next

    def _list_fast(
        self, method: str, params: dict[str, Any], id_field: str, rows_key: str | None, pages_per_batch: int
    ) -> Iterator[dict[str, Any]]:
        for name in [k for k in params if k.lower() in ("start", "order")]:
            del params[name]
        user_filter = dict(params.pop("filter", None) or {})
        last_id: Any = user_filter.pop(f">{id_field}", None)

        def page_params(after: Any) -> dict[str, Any]:
            page_filter = dict(user_filter)
            if after is not None:
                page_filter[f">{id_field}"] = after
            return {**params, "filter": page_filter, "order": {id_field: "ASC"}, "start": -1}

        first = self.call(method, page_params(last_id))
        wrapper, rows = _rows(first.result, rows_key, method)
        yield from rows
        if len(rows) < PAGE_SIZE:
            return
        last_id = rows[-1][id_field]
        path = f"[{wrapper}]" if wrapper else ""
        while True:
            commands = {
                f"p{index}": Command(
                    method,
                    page_params(
                        last_id if index == 0 else f"$result[p{index - 1}]{path}[{PAGE_SIZE - 1}][{id_field}]"
                    ),
                )
                for index in range(pages_per_batch)
            }
            answer = self.batch(commands, halt=True)
            for key in commands:
                if key in answer.errors:
                    raise answer.errors[key]
                if key not in answer.result:
                    raise ServerError("", f"batch page {key} missing from the answer", None, method)
                _, rows = _rows(answer.result[key], wrapper, method)
                yield from rows
                if len(rows) < PAGE_SIZE:
                    return
                new_last = rows[-1][id_field]
                if not _id_after(new_last, last_id):
                    raise ServerError(
                        "", f"fast paging by {id_field} did not advance past {last_id}", None, method
                    )
                last_id = new_last


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _rows(result: Any, rows_key: str | None, method: str) -> tuple[str | None, list[dict[str, Any]]]:
    """The page's rows and the wrapper key they were under (None for a bare list)."""
    wrapper = rows_key
    if wrapper is None and isinstance(result, Mapping) and len(result) == 1:
        wrapper = next(iter(result))
    rows = result.get(wrapper) if wrapper is not None and isinstance(result, Mapping) else result
    if rows == {} or rows is None:
        rows = []
    if not isinstance(rows, list):
        hint = f" under {wrapper!r}" if wrapper else "; pass rows_key"
        raise TypeError(f"{method} did not return a list of rows{hint}")
    return wrapper, rows


def _id_after(new: Any, old: Any) -> bool:
    try:
        return int(new) > int(old)
    except (TypeError, ValueError):
        return str(new) > str(old)
