"""JSON representation of stored objects (README §4): Int64 as strings, refs with navigation links."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from sandbox.onec.model import EntitySet, Prop, TabularSection


def data_version(counter: int) -> str:
    return base64.b64encode(counter.to_bytes(8, "big")).decode("ascii")


def encode_value(prop: Prop, value: Any) -> Any:
    if prop.name == "DataVersion" and isinstance(value, int):
        return data_version(value)
    if prop.edm == "Edm.Int64":
        return str(int(value or 0))
    if prop.edm in ("Edm.Int16", "Edm.Int32"):
        return int(value or 0)
    if prop.edm == "Edm.Double":
        number = float(value or 0)
        return int(number) if number.is_integer() else number
    return value


def encode_row(section: TabularSection, row: dict[str, Any], owner_ref: str | None) -> dict[str, Any]:
    encoded: dict[str, Any] = {}
    for prop in section.props:
        if prop.name == "Ref_Key":
            if owner_ref is not None:
                encoded["Ref_Key"] = owner_ref
            continue
        encoded[prop.name] = encode_value(prop, row.get(prop.name))
    return encoded


def entity_url(set_name: str, ref: str) -> str:
    return f"{set_name}(guid'{ref}')"


@dataclass(frozen=True, slots=True)
class _Layout:
    """What one selection encodes of one entity set: its properties in metadata order, and the
    navigation links written beside them."""

    entity_set: EntitySet
    props: tuple[Prop, ...]
    links: tuple[str, ...]


@dataclass
class Selection:
    """What `$select`/`$expand` ask for at one level: None fields means every property."""

    fields: set[str] | None = None
    expanded: dict[str, Selection] = field(default_factory=dict)
    # Worked out once per entity set, not once per object: a collection read encodes thousands
    # of objects with one selection, and the whole set's properties (80 on the nomenclature) are
    # otherwise walked twice per object for the few that `$select` names.
    _layouts: dict[int, _Layout] = field(default_factory=dict, compare=False, repr=False)

    def wants(self, name: str) -> bool:
        return self.fields is None or name in self.fields

    def layout(self, entity_set: EntitySet) -> _Layout:
        found = self._layouts.get(id(entity_set))
        if found is not None and found.entity_set is entity_set:
            return found
        props = tuple(p for p in entity_set.props if self.wants(p.name))
        links = tuple(
            link for p in props if (link := entity_set.nav_for_key(p.name)) and link not in self.expanded
        )
        found = self._layouts[id(entity_set)] = _Layout(entity_set, props, links)
        return found


ALL = Selection()


def encode_object(
    entity_set: EntitySet,
    obj: dict[str, Any],
    selection: Selection = ALL,
    lookup: Any = None,
) -> dict[str, Any]:
    """`lookup(set_name, ref)` resolves expanded navigation properties."""
    encoded: dict[str, Any] = {}
    ref: str | None = obj.get("Ref_Key")
    layout = selection.layout(entity_set)
    for prop in layout.props:
        value = obj.get(prop.name)
        if prop.is_collection:
            section = entity_set.tabular.get(prop.name)
            rows = value or []
            encoded[prop.name] = [encode_row(section, r, ref) for r in rows] if section else []
        else:
            encoded[prop.name] = encode_value(prop, value)
    for nav, sub in selection.expanded.items():
        key_prop = entity_set.prop(f"{nav}_Key")
        if key_prop is None or lookup is None:
            continue
        target_set, target = lookup(
            entity_set.navigation.get(nav, key_prop.ref_target), obj.get(key_prop.name)
        )
        found = target is not None and target_set is not None
        encoded[nav] = encode_object(target_set, target, sub, lookup) if found else None
    if ref is not None and entity_set.is_object:
        url = entity_url(entity_set.name, ref)
        for link in layout.links:
            encoded[f"{link}@navigationLinkUrl"] = f"{url}/{link}"
    return encoded


def encode_record(props: list[Prop], record: dict[str, Any], selection: Selection = ALL) -> dict[str, Any]:
    return {p.name: encode_value(p, record.get(p.name)) for p in props if selection.wants(p.name)}
