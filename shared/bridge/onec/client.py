"""Synchronous client for the 1C:Enterprise standard OData interface (reference/onec/README.md).

Wire rules it follows: `$format=json` on every request; the query string is built here, never by
httpx, because httpx writes spaces as `+` and 1C reads `+` in `$filter` as addition; entity-set
and field names are percent-encoded UTF-8 while `'`, `(`, `)`, `,`, `=` stay literal as 1C
clients send them; Basic auth with the login and password encoded as UTF-8 (cp1251 fails).

Retry: 5xx answers, timeouts and connection failures are retried with exponential backoff up to
`max_attempts`, then raised as transient errors; 4xx are never retried. `create` is the exception:
a timed-out or gateway-failed POST may already have created the object, so it is resent only when
the request surely never left (connection refused, connect/pool timeout); higher layers look the
object up before creating again (architecture §3.3).

Entities are returned as plain dicts with `odata.metadata` and `…@navigationLinkUrl` removed;
values keep their wire form (Int64 as text, dates without zone) — see `bridge.onec.odata`.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from types import TracebackType
from typing import Any, Self, TypedDict, Unpack
from urllib.parse import quote

import httpx

from bridge import deadline
from bridge.observability import logger, report_auth_failure
from bridge.onec.errors import (
    AccessDenied,
    NotFound,
    ODataError,
    ServerError,
    UnexpectedResponse,
    error_from_response,
    mask_url,
    unavailable,
)
from bridge.onec.odata import (
    Filter,
    datetime_literal,
    full_value_type,
    guid,
    literal,
    parse_int64,
    quote_string,
)

type Entity = dict[str, Any]
type Entities = list[Entity]
type Key = str | uuid.UUID | Mapping[str, Any]
type FilterArg = Filter | str | None
type Names = str | Sequence[str] | None
type Options = list[tuple[str, str]]


class Query(TypedDict, total=False):
    """The OData query options of a collection read (`$filter`, `$select`, …)."""

    filter: FilterArg
    select: Names
    orderby: str | None
    top: int | None
    skip: int | None
    expand: Names


# Characters 1C clients send literally; everything else (Cyrillic, spaces, `+`, `&`, `#`) is
# percent-encoded. `/` stays literal in the query for `Товары/any(d: d/Цена gt 1)` and paths.
_PATH_SAFE = "'(),=:*!$@;"
_QUERY_SAFE = "'(),/:*!$@;"
_MAX_BACKOFF_S = 8.0
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_OK = (httpx.codes.OK,)
_CREATED = (httpx.codes.CREATED, httpx.codes.OK)
_NO_CONTENT = (httpx.codes.NO_CONTENT, httpx.codes.OK)
_ACTION_DONE = (httpx.codes.OK, httpx.codes.NO_CONTENT, httpx.codes.CREATED)

# Live-check answers `check` records (bridge.store.probes) and this client follows.
COUNT_PROBE = "onec.count"  # "text" | "json": how `<Set>/$count` answers
CONDITION_PROBE = "onec.condition"  # "query" | "doubled" | "nested": the Condition form the parser takes
CONDITION_FORMS = ("query", "doubled", "nested")
# "short" | "full" | "ignored" | "refused": what a POSTed ValueType becomes (`check --allow-writes`).
VALUE_TYPE_PROBE = "onec.value_type_post"
type AnswerLookup = Callable[[str], str | None]


def basic_auth_header(user: str, password: str) -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def encode_path(text: str) -> str:
    return quote(text, safe=_PATH_SAFE)


def build_query(options: Sequence[tuple[str, str]], *, json_format: bool = True) -> str:
    """`$format=json` first, then the options; spaces as %20, never `+`."""
    pairs = [("$format", "json"), *options] if json_format else list(options)
    return "&".join(f"{quote(k, safe='$')}={quote(v, safe=_QUERY_SAFE)}" for k, v in pairs)


def key_segment(key: Key) -> str:
    """`(guid'…')` for a reference, `(Dim_Key=guid'…',Code='x')` for a register record."""
    if isinstance(key, Mapping):
        return "(" + ",".join(f"{name}={literal(value)}" for name, value in key.items()) + ")"
    return f"({guid(key)})"


def _names(value: Names) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return ",".join(value)


def _clean(entity: Mapping[str, Any]) -> Entity:
    return {
        name: value
        for name, value in entity.items()
        if name != "odata.metadata" and not name.endswith("@navigationLinkUrl")
    }


def condition_argument(condition: str, form: str) -> str:
    """`Condition='…'` for the parentheses: quotes inside doubled (OData escaping) or left as
    they are ("nested", the form some 1C samples show)."""
    inner = condition.replace("'", "''") if form == "doubled" else condition
    return f"Condition='{inner}'"


def filter_none(parts: Sequence[str]) -> list[str]:
    return [p for p in parts if p]


def _count_from(response: httpx.Response, where: str, form: str | None = None) -> int:
    """The number in a `$count` answer; `form` is the recorded answer ("text": a bare number is
    all a publication sends, "json": a JSON document), None reads every plausible form."""
    text = response.text.strip()
    value: Any = text
    if form != "text" and text[:1] in ("{", '"'):
        try:
            value = json.loads(text)
        except ValueError:
            value = text
    if isinstance(value, dict):
        value = value.get("value", value.get("odata.count"))
    try:
        return parse_int64(value)
    except (TypeError, ValueError):
        message = f"$count answered {text[:40]!r}"
        raise UnexpectedResponse(response.status_code, None, message, where) from None


class ODataClient:
    """One 1C publication (`…/odata/standard.odata/`). Thread-safe as far as httpx.Client is."""

    def __init__(
        self,
        base_url: str,
        user: str,
        password: str,
        *,
        http: httpx.Client | None = None,
        timeout_s: float = 30,
        max_attempts: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        backoff_base_s: float = 0.5,
        page_size: int = 500,
        credentials_source: Callable[[bool], tuple[str, str, str]] | None = None,
        answers: AnswerLookup | None = None,
    ) -> None:
        """`credentials_source(fresh)` returns (base URL, login, password) as the secret holds
        them now (`fresh`: re-read at once); the client adopts changed values before each request
        and, after a 401/403, re-reads them once and resends with the new ones."""
        if max_attempts < 1 or page_size < 1:
            raise ValueError("max_attempts and page_size must be at least 1")
        self._credentials_source = credentials_source
        self._held = (base_url, user, password)
        self._use(base_url, user, password)
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=timeout_s)
        self._timeout_s = timeout_s
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._backoff_base_s = backoff_base_s
        self._page_size = page_size
        self._answers = answers
        self._followed: dict[str, str | None] = {}

    def _use(self, base_url: str, user: str, password: str) -> None:
        # Credentials travel only in the Authorization header; userinfo in the URL is dropped so
        # httpx cannot build a second, conflicting auth from it.
        root = mask_url(base_url)
        self._base_url = root if root.endswith("/") else root + "/"
        self._headers = {
            "Authorization": basic_auth_header(user, password),
            "Accept": "application/json",
        }

    def _adopt_credentials(self, *, fresh: bool) -> bool:
        """Switch to what the secret holds now; True when it differs from what is in use."""
        if self._credentials_source is None:
            return False
        current = self._credentials_source(fresh)
        if current == self._held:
            return False
        self._held = current
        self._use(*current)
        return True

    def __repr__(self) -> str:
        return f"ODataClient({mask_url(self._base_url)!r})"

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # ---- reads -------------------------------------------------------------------------------

    def get(self, entity_set: str, ref: Key, *, select: Names = None, expand: Names = None) -> Entity:
        path = encode_path(entity_set) + encode_path(key_segment(ref))
        return _clean(self._json("GET", path, self._options(select=select, expand=expand)))

    def list(self, entity_set: str, **query: Unpack[Query]) -> Entities:
        return self._values(self._json("GET", encode_path(entity_set), self._options(**query)))

    def iter_all(
        self,
        entity_set: str,
        *,
        filter: FilterArg = None,
        select: Names = None,
        orderby: str = "Ref_Key",
        expand: Names = None,
        page_size: int | None = None,
    ) -> Iterator[Entity]:
        """Every matching entity, page by page with `$top`/`$skip`.

        A stable `$orderby` is what keeps `$skip` pages free of gaps and duplicates; keyset paging
        (`Ref_Key gt guid'…'`) is not an option because 1C answers 500 to ordering comparisons on
        references. Registers have no `Ref_Key`: pass their key fields as `orderby`.
        """
        query = Query(filter=filter, select=select, orderby=orderby, expand=expand)
        size = page_size or self._page_size
        skip = 0
        while True:
            page = self.list(entity_set, **(query | Query(top=size, skip=skip)))
            yield from page
            if len(page) < size:
                return
            skip += size

    def count(self, entity_set: str, *, filter: FilterArg = None) -> int:
        """Number of matching entities: `GET <Set>/$count[?$filter=…]`.

        The developer guide says 1C answers the bare number as text/plain; a JSON answer (a
        number, a string, or an object with `value`/`odata.count`) is read too, since what a
        publication does with `$count` and `$format` together is not confirmed live
        (docs/sandbox-onec.md).
        """
        path = f"{encode_path(entity_set)}/$count"
        response = self._send("GET", path, self._options(filter=filter), expected=_OK, json_format=False)
        return _count_from(response, self._masked(path), self.answer(COUNT_PROBE))

    def read_raw(
        self, path: str = "", options: Sequence[tuple[str, str]] = (), *, json_format: bool = True
    ) -> httpx.Response:
        """A GET of `path` (already encoded) under the publication, answered as it came: the
        operator's `check` reads the service document, the `Date` header and the open wire
        questions with it (bridge.checks). A non-200 answer raises like any read."""
        return self._send("GET", path, options, expected=_OK, json_format=json_format)

    def slice_last(
        self,
        register: str,
        *,
        period: datetime | date | None = None,
        condition: FilterArg = None,
        filter: FilterArg = None,
        select: Names = None,
    ) -> Entities:
        """`InformationRegister_X/SliceLast(Period=datetime'…')?Condition=…`."""
        return self._virtual_table(
            register, "SliceLast", self._virtual_table_arguments(period=period), condition, filter, select
        )

    def balance(
        self,
        register: str,
        *,
        period: datetime | date | None = None,
        condition: FilterArg = None,
        dimensions: Sequence[str] | None = None,
        filter: FilterArg = None,
        select: Names = None,
    ) -> Entities:
        """`AccumulationRegister_X/Balance(Period=…,Dimensions='A,B')?Condition=…`."""
        arguments = self._virtual_table_arguments(period=period, dimensions=dimensions)
        return self._virtual_table(register, "Balance", arguments, condition, filter, select)

    def _virtual_table(
        self,
        register: str,
        function: str,
        arguments: str,
        condition: FilterArg,
        filter: FilterArg,
        select: Names,
    ) -> Entities:
        # Condition goes as a query parameter, the developer guide's form (fidelity-notes §3):
        # no quoting inside a quoted literal, and IIS refuses ?, + and backslash in a path-embedded
        # one. A base whose parser `check` found to take only a parenthesised form gets that one.
        options = self._options(filter=filter, select=select)
        if condition is not None:
            form = self.answer(CONDITION_PROBE)
            if form in ("doubled", "nested"):
                arguments = ",".join(filter_none([arguments, condition_argument(str(condition), form)]))
            else:
                options.append(("Condition", str(condition)))
        path = f"{encode_path(register)}/{function}({encode_path(arguments)})"
        return self._values(self._json("GET", path, options))

    # ---- writes ------------------------------------------------------------------------------

    def create(self, entity_set: str, body: Mapping[str, Any]) -> Entity:
        """POST a new object; 1C answers 201 with the full object (register records: 200)."""
        value_type = body.get("ValueType")
        if isinstance(value_type, Mapping) and self.answer(VALUE_TYPE_PROBE) == "full":
            # This base refuses a partial ValueType (recorded by `check --allow-writes`).
            body = {**body, "ValueType": full_value_type(value_type)}
        response = self._send(
            "POST", encode_path(entity_set), [], body=body, expected=_CREATED, resend_if_unsure=False
        )
        return _clean(self._decode(response))

    def update(self, entity_set: str, ref: Key, body: Mapping[str, Any]) -> Entity:
        """PATCH the given fields (a tabular section is replaced whole); 1C returns the full object."""
        path = encode_path(entity_set) + encode_path(key_segment(ref))
        response = self._send("PATCH", path, [], body=body, expected=_OK)
        return _clean(self._decode(response))

    def delete(self, entity_set: str, ref: Key, *, missing_ok: bool = False) -> None:
        """DELETE; `missing_ok` also covers a retried DELETE whose first attempt did land."""
        path = encode_path(entity_set) + encode_path(key_segment(ref))
        try:
            self._send("DELETE", path, [], expected=_NO_CONTENT)
        except NotFound:
            if not missing_ok:
                raise

    def post_document(self, entity_set: str, ref: str | uuid.UUID, *, operational: bool = False) -> None:
        self._document_action(entity_set, ref, "Post", operational)

    def unpost_document(self, entity_set: str, ref: str | uuid.UUID, *, operational: bool = False) -> None:
        self._document_action(entity_set, ref, "Unpost", operational)

    # ---- internals ---------------------------------------------------------------------------

    def _document_action(self, entity_set: str, ref: str | uuid.UUID, action: str, operational: bool) -> None:
        # Posting is a state change, not an insert: resending after an uncertain failure is safe.
        path = f"{encode_path(entity_set)}{encode_path(key_segment(ref))}/{action}"
        options = [("PostingModeOperational", "true" if operational else "false")]
        self._send("POST", path, options, expected=_ACTION_DONE)

    @staticmethod
    def _virtual_table_arguments(
        *,
        period: datetime | date | None,
        dimensions: Sequence[str] | None = None,
    ) -> str:
        arguments: list[str] = []
        if period is not None:
            arguments.append(f"Period={datetime_literal(period)}")
        if dimensions:
            arguments.append(f"Dimensions={quote_string(','.join(dimensions))}")
        return ",".join(arguments)

    @staticmethod
    def _options(**query: Unpack[Query]) -> Options:
        options: Options = []
        if (condition := query.get("filter")) is not None:
            options.append(("$filter", str(condition)))
        if (names := _names(query.get("select"))) is not None:
            options.append(("$select", names))
        if (expanded := _names(query.get("expand"))) is not None:
            options.append(("$expand", expanded))
        if (orderby := query.get("orderby")) is not None:
            options.append(("$orderby", orderby))
        if (top := query.get("top")) is not None:
            options.append(("$top", str(top)))
        if skip := query.get("skip"):
            options.append(("$skip", str(skip)))
        return options

    def answer(self, probe: str) -> str | None:
        """The recorded live-check answer for `probe` (looked up once), None when there is none
        or the lookup fails: then every plausible answer is tolerated."""
        if probe not in self._followed:
            recorded: str | None = None
            if self._answers is not None:
                try:
                    recorded = self._answers(probe)
                except Exception:  # a store outage must not stop a read that works without it
                    logger.warning(
                        "live-check answer unavailable; tolerating every form", extra={"probe": probe}
                    )
            self._followed[probe] = recorded
        return self._followed[probe]

    def forget_answers(self) -> None:
        """Look the recorded answers up again on next use (after `check` recorded new ones)."""
        self._followed.clear()

    def _masked(self, path: str) -> str:
        return mask_url(self._base_url + path)

    def _json(self, method: str, path: str, options: Sequence[tuple[str, str]]) -> Entity:
        return self._decode(self._send(method, path, options, expected=_OK))

    def _values(self, data: Entity) -> Entities:
        values = data.get("value")
        if not isinstance(values, list):
            raise UnexpectedResponse(200, None, "collection answer without a value array", "")
        return [_clean(item) for item in values]

    @staticmethod
    def _decode(response: httpx.Response) -> Entity:
        try:
            data = response.json()
        except ValueError:
            raise UnexpectedResponse(
                response.status_code, None, "answer is not JSON", mask_url(response.request.url)
            ) from None
        if not isinstance(data, dict):
            raise UnexpectedResponse(
                response.status_code, None, "answer is not a JSON object", mask_url(response.request.url)
            )
        return data

    def _send(
        self,
        method: str,
        path: str,
        options: Sequence[tuple[str, str]],
        *,
        expected: Sequence[int],
        body: Mapping[str, Any] | None = None,
        resend_if_unsure: bool = True,
        json_format: bool = True,
    ) -> httpx.Response:
        query = build_query(options, json_format=json_format)
        content: bytes | None = None
        if body is not None:
            content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self._adopt_credentials(fresh=False)
        rotated = False
        attempt = 0
        while True:
            attempt += 1
            url = f"{self._base_url}{path}?{query}" if query else f"{self._base_url}{path}"
            headers = dict(self._headers)
            if content is not None:
                headers["Content-Type"] = "application/json; charset=utf-8"
            error: ODataError
            timeout = deadline.request_timeout(self._timeout_s, f"1C {method} {mask_url(url)}")
            try:
                response = self._http.request(
                    method, httpx.URL(url), headers=headers, content=content, timeout=timeout
                )
            except httpx.TransportError as exc:
                error = unavailable(exc, url)
                retryable = resend_if_unsure or isinstance(exc, _NOT_SENT)
            else:
                if response.status_code in expected:
                    return response
                error = error_from_response(response)
                retryable = isinstance(error, ServerError) and resend_if_unsure
                if isinstance(error, AccessDenied):
                    # 1C refused before doing anything, so resending is safe even for a create.
                    if not rotated and self._adopt_credentials(fresh=True):
                        rotated = True
                        attempt -= 1
                        logger.warning(
                            "1C refused the login; the secret holds a new one, resending",
                            extra={"method": method, "url": error.url_masked, "status": error.status},
                        )
                        continue
                    report_auth_failure("1C", str(error))
                    raise error
            if not retryable or attempt >= self._max_attempts:
                raise error
            delay = min(self._backoff_base_s * 2 ** (attempt - 1), _MAX_BACKOFF_S)
            if not deadline.may_wait(delay):
                raise error  # no time left for another attempt in this invocation
            logger.warning(
                "1C OData call failed; retrying",
                extra={
                    "method": method,
                    "url": error.url_masked,
                    "status": error.status,
                    "onec_code": error.code,
                    "attempt": attempt,
                    "delay_s": delay,
                },
            )
            self._sleep(delay)
