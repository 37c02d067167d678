"""Query options other than `$filter`: `$select`, `$expand`, `$orderby`, `$top`, `$skip`, `$inlinecount`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from sandbox.onec.encode import Selection
from sandbox.onec.errors import path_segment_not_found, query_option_parse_error
from sandbox.onec.model import EntitySet, Prop, ServiceModel, TabularSection

Lookup = Callable[[str, str], dict[str, Any] | None]
# Navigation paths of `$select`/`$expand` longer than this are refused as a parse error: the
# selection is built and encoded by recursion (docs/sandbox-onec.md; GATE-P4 saw depth 4 work).
MAX_PATH_SEGMENTS = 50


def parse_query_string(raw: bytes) -> dict[str, str]:
    """Split on `&`/`=` and percent-decode only: a `+` stays a plus, as on the real server."""
    options: dict[str, str] = {}
    for part in raw.decode("latin-1").split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        options[_decode(name)] = _decode(value)
    return options


def _decode(text: str) -> str:
    return unquote(text, encoding="utf-8", errors="replace")


def split_top_level(text: str, separator: str = ",") -> list[str]:
    parts: list[str] = []
    depth = 0
    quoted = False
    current: list[str] = []
    for char in text:
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        if char == separator and depth == 0 and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_selection(
    model: ServiceModel, entity_set: EntitySet, select: str | None, expand: str | None
) -> Selection:
    for option, text in (("$select", select), ("$expand", expand)):
        if any(item.count("/") >= MAX_PATH_SEGMENTS for item in (text or "").split(",")):
            raise query_option_parse_error(option)
    if not select:
        # $expand alone is accepted but silently not applied (GATE-P4).
        _validate_expand(model, entity_set, expand)
        return Selection()
    expand_paths = _validate_expand(model, entity_set, expand)
    return _build_selection(model, entity_set, [s.strip() for s in select.split(",")], expand_paths)


def _validate_expand(model: ServiceModel, entity_set: EntitySet, expand: str | None) -> list[tuple[str, ...]]:
    paths = []
    for item in (expand or "").split(","):
        item = item.strip()
        if not item:
            continue
        segments = tuple(item.split("/"))
        current = entity_set
        for segment in segments:
            target = _nav_target(model, current, segment)
            if target is None:
                raise path_segment_not_found(segment)
            current = target
        paths.append(segments)
    return paths


def _nav_target(model: ServiceModel, entity_set: EntitySet, nav: str) -> EntitySet | None:
    key_prop = entity_set.prop(f"{nav}_Key")
    if key_prop is None or not key_prop.is_key_ref:
        return None
    return model.entity_set(entity_set.navigation.get(nav) or key_prop.ref_target or "")


def _build_selection(
    model: ServiceModel, entity_set: EntitySet, items: list[str], expand_paths: list[tuple[str, ...]]
) -> Selection:
    selection = Selection() if "*" in items else Selection(fields=set())
    nested: dict[str, list[str]] = {}
    for item in items:
        if not item or item == "*":
            continue
        head, _, tail = item.partition("/")
        prop = entity_set.prop(head)
        if prop is not None:
            if selection.fields is not None:
                selection.fields.add(head)
            continue
        if _nav_target(model, entity_set, head) is None:
            raise path_segment_not_found(head)
        nested.setdefault(head, []).append(tail or "*")
    for nav, sub_items in nested.items():
        if not any(path[0] == nav for path in expand_paths):
            continue  # navigation in $select without $expand: nothing to show
        target = _nav_target(model, entity_set, nav)
        assert target is not None
        sub_expand = [path[1:] for path in expand_paths if path[0] == nav and len(path) > 1]
        selection.expanded[nav] = _build_selection(model, target, sub_items, sub_expand)
    return selection


@dataclass(frozen=True)
class OrderItem:
    prop: Prop
    descending: bool


def parse_orderby(owner: EntitySet | TabularSection, text: str | None) -> list[OrderItem]:
    items: list[OrderItem] = []
    for part in (text or "").split(","):
        words = part.split()
        if not words:
            if text:
                raise query_option_parse_error("$orderby")
            continue
        if len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise query_option_parse_error("$orderby")
        prop = owner.prop(words[0])
        if prop is None or prop.is_collection:
            raise path_segment_not_found(words[0])
        items.append(OrderItem(prop, len(words) == 2 and words[1] == "desc"))
    return items


def _presentation(model: ServiceModel, target: str | None, ref: str, lookup: Lookup) -> str:
    """How 1C auto-orders a reference: by the referenced object's presentation, not by GUID."""
    if not target:
        return ""
    obj = lookup(target, ref)
    if obj is None:
        return ""
    if target.startswith("Document_"):
        return f"{obj.get('Date', '')} {obj.get('Number', '')}"
    return str(obj.get("Description", "")).casefold()


def sort_key_factory(model: ServiceModel, item: OrderItem, lookup: Lookup) -> Callable[[dict[str, Any]], Any]:
    prop = item.prop

    def key(obj: dict[str, Any]) -> Any:
        value = obj.get(prop.name)
        if prop.is_key_ref and isinstance(value, str):
            return _presentation(model, prop.ref_target, value, lookup)
        if isinstance(value, str):
            return value.casefold()
        if isinstance(value, bool):
            return int(value)
        return value if value is not None else 0

    return key


def apply_order(
    model: ServiceModel, objects: list[dict[str, Any]], order: list[OrderItem], lookup: Lookup
) -> list[dict[str, Any]]:
    result = list(objects)
    for item in reversed(order):
        result.sort(key=sort_key_factory(model, item, lookup), reverse=item.descending)
    return result


def parse_count(option: str, text: str | None) -> int | None:
    if text is None or text == "":
        return None
    # isdigit() alone also takes "²" and "٣"; int() refuses a run past 4 300 digits.
    if not (text.isascii() and text.isdigit()) or len(text) > 4000:
        raise query_option_parse_error(option)
    return int(text)
