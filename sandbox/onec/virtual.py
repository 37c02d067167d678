"""Virtual tables: `SliceLast`/`SliceFirst` of periodic registers, `Balance` of the stock register."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sandbox.onec.actions import STOCK_DIMENSIONS
from sandbox.onec.errors import ODataError, path_segment_not_found, query_option_parse_error
from sandbox.onec.filter import Evaluator, compile_filter, normalize_datetime
from sandbox.onec.model import EntitySet, Prop, ServiceModel, TabularSection, balance_props
from sandbox.onec.storage import Store

# Parameters of the virtual-table functions (metadata: SliceLast/SliceFirst, Balance, Turnovers).
_PARAMETERS = ("Period", "Condition", "Dimensions", "StartPeriod", "EndPeriod")
_PARAMETER_RE = re.compile(r"(?:^|,)\s*(" + "|".join(_PARAMETERS) + r")\s*=")


def condition_form(text: str, options: Mapping[str, str] | None) -> str | None:
    """Which of fidelity-notes §3's forms a request used: "query" (`?Condition=`), "doubled"
    (`Condition='…guid''x''…'` in the parentheses) or "nested" (`Condition='…guid'x'…'`)."""
    if (options or {}).get("Condition") is not None:
        return "query"
    match = re.search(r"(?:^|,)\s*Condition\s*=", text)
    if match is None:
        return None
    rest = text[match.end() :].strip()
    inner = rest[1:-1] if len(rest) >= 2 and rest[0] == rest[-1] == "'" else rest
    return "doubled" if "''" in inner else "nested"


def parse_function_args(
    text: str, options: Mapping[str, str] | None = None, accepted_forms: Sequence[str] | None = None
) -> dict[str, str]:
    """Raw literal per parameter name, from `(Period=datetime'…',Condition='…')` and from the
    query string (`?Condition=…`, the developer guide's form, fidelity-notes §3).

    Parameters are split at `,Name=` of a known parameter, not at every top-level comma: inside a
    Condition whose quotes are nested unescaped (`'A eq 'x''`) quote counting cannot tell where
    the literal ends, so a comma inside such a literal would otherwise split it.
    """
    # A base whose parser takes only some forms (`/_sandbox/answers` condition_forms) refuses the
    # others the way 1C refuses a malformed parameter.
    form = condition_form(text, options)
    if accepted_forms is not None and form is not None and form not in accepted_forms:
        raise query_option_parse_error("Condition")
    args: dict[str, str] = {}
    if text.strip():
        matches = list(_PARAMETER_RE.finditer(text))
        if not matches or text[: matches[0].start()].strip():
            raise query_option_parse_error("параметров функции")
        for index, match in enumerate(matches):
            end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
            args[match.group(1)] = text[match.end() : end].strip()
    query_condition = (options or {}).get("Condition")
    if query_condition is not None:
        if "Condition" in args:
            raise query_option_parse_error("Condition")
        # Plain filter text there; quoted the OData way so all forms leave here alike.
        args["Condition"] = "'" + query_condition.replace("'", "''") + "'"
    return args


def condition_arg(args: Mapping[str, str]) -> str | None:
    """The Condition as filter text, in any of the three forms fidelity-notes §3 lists."""
    text = string_arg(args.get("Condition"))
    if text is None:
        return None
    # Doubled quotes (`guid''…''`) are OData escaping; the nested form (`guid'…'`) has none.
    return text.replace("''", "'") if "''" in text else text


def string_arg(raw: str | None) -> str | None:
    """The text of a quoted parameter, quotes inside it left as sent."""
    if raw is None:
        return None
    if len(raw) < 2 or raw[0] != "'" or raw[-1] != "'":
        raise query_option_parse_error("параметров функции")
    return raw[1:-1]


def period_arg(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not raw.startswith("datetime'") or not raw.endswith("'"):
        raise query_option_parse_error("параметров функции")
    try:
        return normalize_datetime(raw[len("datetime'") : -1])
    except ValueError:
        raise query_option_parse_error("параметров функции") from None


def _condition(model: ServiceModel, owner: EntitySet | TabularSection, store: Store, text: str | None) -> Any:
    if not text:
        return lambda record: True
    node = compile_filter(text, model, owner, option="Condition")
    return Evaluator(owner, model, store.get).predicate(node)


def slice_records(
    model: ServiceModel, store: Store, register: EntitySet, args: dict[str, str], last: bool
) -> list[dict[str, Any]]:
    period = period_arg(args.get("Period"))
    condition = _condition(model, register, store, condition_arg(args))
    dimensions = [k for k in register.key if k != "Period"]
    chosen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for record in store.records(register.name):
        if period is not None and record["Period"] > period:
            continue
        if not condition(record):
            continue
        key = tuple(record.get(d) for d in dimensions)
        best = chosen.get(key)
        if best is None or (record["Period"] > best["Period"] if last else record["Period"] < best["Period"]):
            chosen[key] = record
    return list(chosen.values())


def _balance_section() -> TabularSection:
    return TabularSection("Balance", "AccumulationRegister_ЗапасыНаСкладах_Balance", balance_props())


def balance_rows(
    model: ServiceModel, store: Store, record_type: EntitySet, args: dict[str, str]
) -> tuple[list[Prop], list[dict[str, Any]]]:
    period = period_arg(args.get("Period"))
    dimensions_text = string_arg(args.get("Dimensions"))
    dimensions = list(STOCK_DIMENSIONS)
    if dimensions_text:
        dimensions = []
        for name in (n.strip() for n in dimensions_text.split(",")):
            key = name if name.endswith("_Key") else f"{name}_Key"
            if key not in STOCK_DIMENSIONS:
                raise path_segment_not_found(name)
            dimensions.append(key)
    condition = _condition(model, record_type, store, condition_arg(args))
    totals: dict[tuple[Any, ...], float] = {}
    for record in store.stock_records:
        # Balance at a date excludes movements of that very moment (the platform's "на начало").
        if not record.get("Active", True) or (period is not None and record["Period"] >= period):
            continue
        if not condition(record):
            continue
        group = tuple(record[d] for d in dimensions)
        sign = 1.0 if record["RecordType"] == "Receipt" else -1.0
        totals[group] = totals.get(group, 0.0) + sign * float(record["Количество"])
    props = [p for p in balance_props() if p.name in dimensions or p.name == "КоличествоBalance"]
    rows = [
        {**dict(zip(dimensions, key, strict=True)), "КоличествоBalance": round(total, 3)}
        for key, total in totals.items()
        if round(total, 3) != 0
    ]
    return props, rows


def balance_section() -> TabularSection:
    return _balance_section()


def unsupported_function(name: str) -> ODataError:
    return ODataError(501, "0", f"Функция {name} не поддерживается эмулятором")
