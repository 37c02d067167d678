"""`/_sandbox/…`: inspection and control endpoints that a real 1C base does not have."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.controls import control
from sandbox.onec.actions import STOCK_DIMENSIONS, stock_record
from sandbox.onec.filter import normalize_datetime
from sandbox.onec.model import EMPTY_GUID
from sandbox.onec.state import EmulatorState, Fault

ADJUSTMENT_TYPE = "StandardODATA.Document_ИнвентаризацияЗапасов"


def _state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.base
    return state


async def _json(request: Request) -> Any:
    raw = await request.body()
    return json.loads(raw.decode("utf-8")) if raw else {}


def _ok(data: Any = None, status: int = 200) -> JSONResponse:
    return JSONResponse({"ok": True} if data is None else data, status_code=status)


async def reset(request: Request) -> Response:
    state = _state(request)
    state.reset()
    with state.lock:
        state.journal.clear()
        state.faults.clear()
        state.answers.clear()
    state.publish(state.config.published)
    return _ok()


async def publication(request: Request) -> Response:
    """`{"unpublish": [names]}` drops sets from the published composition (`{"all": true}` publishes
    every set again), as an administrator unticking objects in the publication dialog would."""
    state = _state(request)
    data = await _json(request)
    with state.lock:
        if data.get("all"):
            state.publish(None)
        else:
            current = frozenset(state.model.sets)
            state.publish(current - frozenset(str(n) for n in data.get("unpublish", [])))
        return _ok({"published": sorted(state.model.sets)})


async def answers(request: Request) -> Response:
    """Switch open wire questions to one plausible answer: `count` "text" | "json";
    `condition_forms` a list of "query", "doubled", "nested" (the Condition forms the parser takes)."""
    state = _state(request)
    data = await _json(request)
    with state.lock:
        state.answers.update(data)
        return _ok(dict(state.answers))


async def snapshot(request: Request) -> Response:
    state = _state(request)
    if request.method == "GET":
        with state.lock:
            return _ok({"store": state.store.snapshot(), "seed_refs": state.seed_refs})
    data = await _json(request)
    with state.lock:
        state.store.restore(data.get("store", {}))
        state.seed_refs = data.get("seed_refs", state.seed_refs)
    return _ok()


def _cleared(state: EmulatorState, items: list[Any]) -> Response:
    with state.lock:
        items.clear()
    return Response(status_code=204)


async def calls(request: Request) -> Response:
    state = _state(request)
    if request.method == "DELETE":
        return _cleared(state, state.journal)
    since = int(request.query_params.get("since", "0") or 0)
    method = request.query_params.get("method")
    prefix = request.query_params.get("path_prefix", "")
    with state.lock:
        entries = [
            e
            for e in state.journal
            if e["seq"] > since
            and (not method or e["method"] == method.upper())
            and e["path"].startswith(prefix)
        ]
        last = state.journal_seq
    return _ok({"calls": entries, "last_seq": last})


async def faults(request: Request) -> Response:
    state = _state(request)
    if request.method == "DELETE":
        return _cleared(state, state.faults)
    if request.method == "POST":
        data = await _json(request)
        kind = data.get("kind", "error")
        if kind not in ("error", "hang", "slow"):
            return JSONResponse({"error": "kind must be error, hang or slow"}, status_code=400)
        fault = Fault(
            kind=kind,
            remaining=int(data.get("count", 1)),
            path_prefix=str(data.get("path_prefix", "")),
            method=data.get("method"),
            seconds=float(data.get("seconds", 0)),
            status=int(data.get("status", 500)),
        )
        with state.lock:
            state.faults.append(fault)
        return _ok(fault.describe(), status=201)
    with state.lock:
        return _ok({"faults": [f.describe() for f in state.faults if f.remaining > 0]})


async def seed_refs(request: Request) -> Response:
    return _ok(_state(request).seed_refs)


def _stock_balance(state: EmulatorState, key: dict[str, str]) -> float:
    total = 0.0
    for record in state.store.stock_records:
        if all(record.get(d) == v for d, v in key.items()):
            sign = 1.0 if record["RecordType"] == "Receipt" else -1.0
            total += sign * float(record["Количество"])
    return total


async def _records(request: Request) -> list[Any]:
    """A body of one record or {"records": [...]}."""
    data = await _json(request)
    records = data.get("records")
    return records if isinstance(records, list) else [data]


async def stock(request: Request) -> Response:
    """Set the balance of an item in a warehouse (an adjusting movement), or append raw movements."""
    state = _state(request)
    items = await _records(request)
    created = []
    with state.lock:
        for item in items:
            key = {d: str(item.get(d, EMPTY_GUID)).lower() for d in STOCK_DIMENSIONS if d in item}
            if "Организация_Key" not in key and "Organization" not in item:
                organization = next(iter(state.seed_refs.get("Catalog_Организации", {}).values()), EMPTY_GUID)
                key["Организация_Key"] = organization
            if "RecordType" in item:
                delta = float(item.get("Количество", 0)) * (1 if item["RecordType"] == "Receipt" else -1)
            else:
                delta = float(item.get("Количество", 0)) - _stock_balance(state, key)
            if delta == 0:
                continue
            period = normalize_datetime(item.get("Period") or state.now())
            record = stock_record(
                str(uuid.uuid4()),
                item.get("Recorder_Type", ADJUSTMENT_TYPE),
                period,
                1,
                "Receipt" if delta > 0 else "Expense",
                Количество=abs(delta),
                **key,
            )
            state.store.stock_records.append(record)
            created.append(record)
    return _ok({"records": created}, status=201)


async def prices(request: Request) -> Response:
    """Upsert prices: {Номенклатура_Key, Цена[, ВидЦен_Key=Оптовая, Period]} or {"records": [...]}."""
    state = _state(request)
    items = await _records(request)
    written = []
    with state.lock:
        wholesale = state.seed_refs.get("Catalog_ВидыЦен", {}).get("Оптовая", EMPTY_GUID)
        records = state.store.records("InformationRegister_ЦеныНоменклатуры")
        for item in items:
            record = {
                "Period": normalize_datetime(item.get("Period") or state.now()[:10] + "T00:00:00"),
                "ВидЦен_Key": str(item.get("ВидЦен_Key", wholesale)).lower(),
                "Номенклатура_Key": str(item["Номенклатура_Key"]).lower(),
                "Характеристика_Key": str(item.get("Характеристика_Key", EMPTY_GUID)).lower(),
                "Цена": float(item["Цена"]),
                "Актуальность": bool(item.get("Актуальность", True)),
                "ЕдиницаИзмерения": str(item.get("ЕдиницаИзмерения", "")),
                "ЕдиницаИзмерения_Type": str(item.get("ЕдиницаИзмерения_Type", "StandardODATA.Undefined")),
                "ВключаяХарактеристики": False,
                "Автор_Key": EMPTY_GUID,
            }
            key = ("Period", "ВидЦен_Key", "Номенклатура_Key", "Характеристика_Key")
            records[:] = [r for r in records if tuple(r[k] for k in key) != tuple(record[k] for k in key)]
            records.append(record)
            written.append(record)
    return _ok({"records": written}, status=201)


async def credentials(request: Request) -> Response:
    """Change the publication's login (a password rotation); the old one is refused from now on."""
    state = _state(request)
    body = await _json(request)
    with state.lock:
        state.config = dataclasses.replace(
            state.config,
            username=str(body.get("username", state.config.username)),
            password=str(body.get("password", state.config.password)),
        )
    return _ok({"username": state.config.username})


routes = [
    control("/reset", reset, methods=["POST"]),
    control("/credentials", credentials, methods=["POST"]),
    control("/snapshot", snapshot, methods=["GET", "POST"]),
    control("/calls", calls, methods=["GET", "DELETE"]),
    control("/faults", faults, methods=["GET", "POST", "DELETE"]),
    control("/seed", seed_refs, methods=["GET"]),
    control("/stock", stock, methods=["POST"]),
    control("/prices", prices, methods=["POST"]),
    control("/publication", publication, methods=["POST"]),
    control("/answers", answers, methods=["POST"]),
]
