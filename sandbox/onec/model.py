"""Entity-set model: names, Edm types, lengths and references of the published УНФ 1.6 objects.

Built from `data/unf16.derived-odata-model.json` (the reference's derived model: UNF 1.6.4 dump
compared with RU 3.0) with RU 1.6 adjustments, plus a few hand-written objects the derived model
does not cover (additional-attribute sets, natural persons, contact-person roles).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
EMPTY_DATE = "0001-01-01T00:00:00"
UNDEFINED_TYPE = "StandardODATA.Undefined"

# Local additions of the Ukrainian edition that a RU 1.6 base does not carry.
_UA_ONLY_MARKERS = ("ЕДРПОУ", "Украин", "ITF_", "КОАТУУ", "КВЭД", "ВЭД", "Льгот", "СтатьяДекларации")
_UA_ONLY_NAMES = frozenset(
    {
        "НомерСвидетельства",
        "НеЯвляетсяРезидентом",
        "МобНомерТелефона",
        "Страна_Key",
        "СтраховойНомерПФ",
        "СвойстваПользователяИБ_Base64Data",
        "СвойстваПользователяИБ_Type",
        "СправкаБ_Key",
        "ТранспортнаяУслуга",
        "КатегорияСпециальнойЦены_Key",
        "ИспользуетСпециальныеЦены",
        "КатегорияСпециальныхЦен_Key",
        "БлокировкаИзменяемостиВидаЦен",
    }
)
# RU 1.6 attributes absent from the Ukrainian dump (RU169 module code uses them).
_RU_ADDITIONS: dict[str, list[tuple[str, str, int, str]]] = {
    "Catalog_Контрагенты": [("КПП", "Edm.String", 9, "ИНН"), ("КодПоОКПО", "Edm.String", 10, "КПП")],
}


@dataclass(frozen=True)
class Prop:
    name: str
    edm: str
    max_length: int = 0
    ref_target: str | None = None
    composite: bool = False
    composite_targets: tuple[str, ...] = ()
    # Enumerations travel as Edm.String member names; 1C compares them like references.
    enum: str | None = None

    @property
    def is_collection(self) -> bool:
        return self.edm.startswith("Collection(")

    @property
    def is_key_ref(self) -> bool:
        return self.edm == "Edm.Guid" and self.name.endswith("_Key")

    @property
    def is_type_companion(self) -> bool:
        return self.name.endswith("_Type") and self.edm == "Edm.String"


@dataclass
class TabularSection:
    name: str
    set_name: str
    props: list[Prop]
    _by_name: dict[str, Prop] = field(default_factory=dict, compare=False, repr=False)

    @property
    def row_type(self) -> str:
        return f"{self.set_name}_RowType"

    def prop(self, name: str) -> Prop | None:
        return _find_prop(self.props, self._by_name, name)


def _find_prop(props: list[Prop], by_name: dict[str, Prop], name: str) -> Prop | None:
    """A property by name through an index: filters ask once per row per path segment. The
    lists only grow while the model is built, so a length that differs means a stale index."""
    if len(by_name) != len(props):
        by_name.clear()
        by_name.update((p.name, p) for p in reversed(props))  # the first of a name wins, as before
    return by_name.get(name)


@dataclass
class EntitySet:
    name: str
    kind: str  # Catalog | Document | ChartOfCharacteristicTypes | InformationRegister | AccumulationRegister
    props: list[Prop]
    key: list[str]
    tabular: dict[str, TabularSection] = field(default_factory=dict)
    navigation: dict[str, str] = field(default_factory=dict)
    code_length: int = 0
    number_length: int = 0
    hierarchical: bool = False
    folders: bool = False
    owner: str | None = None
    periodic: bool = False
    record_set_of: str | None = None  # AccumulationRegister_X (record-set entity) -> X_RecordType
    _by_name: dict[str, Prop] = field(default_factory=dict, compare=False, repr=False)

    def prop(self, name: str) -> Prop | None:
        return _find_prop(self.props, self._by_name, name)

    @property
    def is_object(self) -> bool:
        return self.kind in ("Catalog", "Document", "ChartOfCharacteristicTypes")

    @property
    def open_type(self) -> bool:
        return any(p.is_type_companion for p in self.props)

    def nav_for_key(self, key_prop: str) -> str | None:
        if not key_prop.endswith("_Key"):
            return None
        nav = key_prop[: -len("_Key")]
        return nav if nav in self.navigation else None


_LEN_RE = re.compile(r"len=(\d+)")


def _composite_targets(note: str) -> tuple[str, ...]:
    if not note.startswith("composite"):
        return ()
    targets = []
    for part in note.split(":", 1)[1].split(","):
        part = part.strip()
        match = re.match(r"(?:cfg:)?(Catalog|Document)(?:Ref)?\.(\w+)", part)
        if match:
            targets.append(f"{match.group(1)}_{match.group(2)}")
    return tuple(targets)


def _keep(row: list[str]) -> bool:
    name, edm = row[0], row[1]
    if edm == "Edm.Binary?" or name.endswith("_Base64Data"):
        return False  # value storage: not modelled (see docs/sandbox-onec.md)
    if len(row) > 3 and row[3] == "ua164_only":
        note = row[2]
        if name in _UA_ONLY_NAMES or any(m in name or m in note for m in _UA_ONLY_MARKERS):
            return False
    return True


def _props_from_rows(rows: list[list[str]], nav: dict[str, str]) -> list[Prop]:
    names = {r[0] for r in rows if _keep(r)}
    props = []
    for row in rows:
        if not _keep(row):
            continue
        name, edm, note = row[0], row[1], row[2]
        if name.endswith("_Type") and name[: -len("_Type")] not in names:
            continue
        length_match = _LEN_RE.search(note)
        max_length = int(length_match.group(1)) if length_match else 0
        ref_target = None
        if edm == "Edm.Guid" and name.endswith("_Key"):
            ref_target = nav.get(name[: -len("_Key")])
            ref_match = re.match(r"ref (\w+)", note)
            if ref_target is None and ref_match:
                ref_target = ref_match.group(1)
        composite = f"{name}_Type" in names and not name.endswith("_Type")
        enum_match = re.match(r"enum (\w+)", note)
        props.append(
            Prop(
                name,
                edm,
                max_length,
                ref_target,
                composite,
                _composite_targets(note),
                enum_match.group(1) if enum_match else None,
            )
        )
    return props


def _load_derived() -> dict[str, Any]:
    text = resources.files("sandbox.onec").joinpath("data/unf16.derived-odata-model.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _insert_after(props: list[Prop], after: str, new: Prop) -> None:
    index = next((i for i, p in enumerate(props) if p.name == after), len(props) - 1)
    props.insert(index + 1, new)


def _object_set(name: str, spec: dict[str, Any]) -> EntitySet:
    kind = name.split("_", 1)[0]
    nav = {n: t for n, t in spec.get("navigation", [])}
    props = _props_from_rows(spec["properties"], nav)
    for add_name, edm, length, after in _RU_ADDITIONS.get(name, []):
        _insert_after(props, after, Prop(add_name, edm, length))
    tabular: dict[str, TabularSection] = {}
    for ts_name, ts in (spec.get("tabular_sections") or {}).items():
        if not any(p.name == ts_name for p in props):
            continue
        tabular[ts_name] = TabularSection(ts_name, ts["entity_set"], _props_from_rows(ts["properties"], {}))
    owner = None
    owner_prop = next((p for p in props if p.name == "Owner_Key"), None)
    if owner_prop is not None:
        owner = _OWNERS.get(name)
        props[props.index(owner_prop)] = Prop("Owner_Key", "Edm.Guid", ref_target=owner)
        if owner:
            nav["Owner"] = owner
    if "Parent_Key" in {p.name for p in props}:
        nav["Parent"] = name
        props = [Prop(p.name, p.edm, ref_target=name) if p.name == "Parent_Key" else p for p in props]
    for p in props:
        if p.is_key_ref and p.ref_target and p.name[:-4] not in nav:
            nav[p.name[:-4]] = p.ref_target
    kept_navs = {p.name[:-4] for p in props if p.is_key_ref}
    nav = {n: t for n, t in nav.items() if n in kept_navs}
    number_length = 0
    code_length = int(spec.get("code_length") or 0)
    number_prop = next((p for p in spec["properties"] if p[0] == "Number"), None)
    if number_prop:
        match = _LEN_RE.search(number_prop[2])
        number_length = int(match.group(1)) if match else 11
    return EntitySet(
        name=name,
        kind=kind,
        props=props,
        key=["Ref_Key"],
        tabular=tabular,
        navigation=nav,
        code_length=code_length,
        number_length=number_length,
        hierarchical=spec.get("hierarchical") == "true",
        folders=any(p.name == "IsFolder" for p in props),
        owner=owner,
    )


# Single owners in RU 1.6 (README §10.2, §10.6): these catalogs expose `Owner_Key`.
_OWNERS = {
    "Catalog_КонтактныеЛица": "Catalog_Контрагенты",
    "Catalog_ДоговорыКонтрагентов": "Catalog_Контрагенты",
}


def _register_set(name: str, spec: dict[str, Any]) -> EntitySet:
    nav = {n: t for n, t in spec.get("navigation", [])}
    props = _props_from_rows(spec["properties"], nav)
    nav = {p.name[:-4]: p.ref_target for p in props if p.is_key_ref and p.ref_target}
    return EntitySet(
        name=name,
        kind="InformationRegister",
        props=props,
        key=list(spec["key"]),
        navigation={k: v for k, v in nav.items() if v},
        periodic=spec.get("periodicity") not in (None, "Nonperiodical"),
    )


def _stock_register(spec: dict[str, Any]) -> list[EntitySet]:
    name = "AccumulationRegister_ЗапасыНаСкладах"
    rows = [r for r in spec["record_type_properties"] if not r[0].startswith("Recorder")]
    record_props = [
        Prop("Recorder", "Edm.String"),
        *_props_from_rows(rows, {}),
        Prop("Recorder_Type", "Edm.String"),
    ]
    nav = {p.name[:-4]: p.ref_target for p in record_props if p.is_key_ref and p.ref_target}
    record_type = EntitySet(
        name=f"{name}_RecordType",
        kind="AccumulationRegister",
        props=record_props,
        key=["Recorder", "LineNumber", "Recorder_Type"],
        navigation={k: v for k, v in nav.items() if v},
    )
    row_section = TabularSection("RecordSet", name, record_props)
    record_set = EntitySet(
        name=name,
        kind="AccumulationRegister",
        props=[
            Prop("Recorder", "Edm.String"),
            Prop("RecordSet", f"Collection(StandardODATA.{name}_RowType)"),
            Prop("Recorder_Type", "Edm.String"),
        ],
        key=["Recorder", "Recorder_Type"],
        tabular={"RecordSet": row_section},
        record_set_of=record_type.name,
    )
    return [record_set, record_type]


def balance_props() -> list[Prop]:
    return list(_balance_props())


@cache
def _balance_props() -> tuple[Prop, ...]:
    # Every `Balance` request asks for these; parsing the derived model each time cost the
    # emulator ~8 ms per stock check (a tenth of its CPU under the deals load).
    spec = _load_derived()["AccumulationRegister_ЗапасыНаСкладах"]["balance_complex_type"]
    return tuple(_props_from_rows(spec["properties"], {}))


def _std_catalog_props(
    description_length: int, code_length: int = 0, hierarchical: bool = False
) -> list[Prop]:
    props = [
        Prop("Ref_Key", "Edm.Guid"),
        Prop("Predefined", "Edm.Boolean"),
        Prop("PredefinedDataName", "Edm.String"),
        Prop("DataVersion", "Edm.String"),
        Prop("Description", "Edm.String", description_length),
    ]
    if code_length:
        props.append(Prop("Code", "Edm.String", code_length))
    if hierarchical:
        props.append(Prop("Parent_Key", "Edm.Guid"))
    props.append(Prop("DeletionMark", "Edm.Boolean"))
    return props


def _contact_info_section(set_name: str) -> TabularSection:
    rows = _load_derived()["Catalog_Контрагенты"]["tabular_sections"]["КонтактнаяИнформация"]["properties"]
    return TabularSection(
        "КонтактнаяИнформация", f"{set_name}_КонтактнаяИнформация", _props_from_rows(rows, {})
    )


def _hand_written_sets() -> list[EntitySet]:
    sets_name = "Catalog_НаборыДополнительныхРеквизитовИСведений"
    prop_set = "ChartOfCharacteristicTypes_ДополнительныеРеквизитыИСведения"
    section_props = [
        Prop("Ref_Key", "Edm.Guid"),
        Prop("LineNumber", "Edm.Int64"),
        Prop("Свойство_Key", "Edm.Guid", ref_target=prop_set),
        Prop("ПометкаУдаления", "Edm.Boolean"),
    ]
    sets = EntitySet(
        name=sets_name,
        kind="Catalog",
        props=[
            *[
                Prop(p.name, p.edm, p.max_length, sets_name) if p.name == "Parent_Key" else p
                for p in _std_catalog_props(150, hierarchical=True)
            ],
            Prop("IsFolder", "Edm.Boolean"),
            Prop("Используется", "Edm.Boolean"),
            Prop("КоличествоРеквизитов", "Edm.String", 5),
            Prop("КоличествоСведений", "Edm.String", 5),
            Prop(
                "ДополнительныеРеквизиты",
                f"Collection(StandardODATA.{sets_name}_ДополнительныеРеквизиты_RowType)",
            ),
            Prop(
                "ДополнительныеСведения",
                f"Collection(StandardODATA.{sets_name}_ДополнительныеСведения_RowType)",
            ),
        ],
        key=["Ref_Key"],
        tabular={
            "ДополнительныеРеквизиты": TabularSection(
                "ДополнительныеРеквизиты", f"{sets_name}_ДополнительныеРеквизиты", section_props
            ),
            "ДополнительныеСведения": TabularSection(
                "ДополнительныеСведения", f"{sets_name}_ДополнительныеСведения", section_props
            ),
        },
        navigation={"Parent": sets_name},
        hierarchical=True,
        folders=True,
    )
    persons_name = "Catalog_ФизическиеЛица"
    contact = _contact_info_section(persons_name)
    persons = EntitySet(
        name=persons_name,
        kind="Catalog",
        props=[
            *_std_catalog_props(100, code_length=10),
            Prop("ДатаРождения", "Edm.DateTime"),
            Prop("Пол", "Edm.String"),
            Prop("КонтактнаяИнформация", f"Collection(StandardODATA.{contact.row_type})"),
        ],
        key=["Ref_Key"],
        tabular={"КонтактнаяИнформация": contact},
        code_length=10,
    )
    # Referenced by Catalog_КонтактныеЛица_Роли.Роль_Key (derived model) but not described there:
    # a plain catalog with the standard attributes (needs a live check: docs/sandbox-onec.md).
    roles = EntitySet(
        name="Catalog_РолиКонтактныхЛиц",
        kind="Catalog",
        props=_std_catalog_props(100, code_length=9),
        key=["Ref_Key"],
        code_length=9,
    )
    return [sets, persons, roles]


CARD_SET = "Document_ОперацияПоПлатежнымКартам"


def _card_operations_set() -> EntitySet:
    """`Document_ОперацияПоПлатежнымКартам`: a customer's payment by card (fidelity notes §5; the
    derived model does not cover it). Its `РасшифровкаПлатежа` has the bank receipt's columns plus
    `СуммаКомиссии`, but `Заказ` and `СчетНаОплату` are single-typed there: `Заказ_Key`,
    `СчетНаОплату_Key`. `ВидОперации`: `ПоступлениеОплатыОтПокупателя` | `ВозвратОплатыПокупателю`."""
    bank_rows = _load_derived()["Document_ПоступлениеНаСчет"]["tabular_sections"]["РасшифровкаПлатежа"]
    single = {"Заказ": "Document_ЗаказПокупателя", "СчетНаОплату": None}
    rows: list[Prop] = []
    for prop in _props_from_rows(bank_rows["properties"], {}):
        if prop.name in single:
            rows.append(Prop(f"{prop.name}_Key", "Edm.Guid", ref_target=single[prop.name]))
        elif prop.name.removesuffix("_Type") in single:
            continue
        else:
            rows.append(prop)
    _insert_after(rows, "СуммаПлатежа", Prop("СуммаКомиссии", "Edm.Double"))
    section = TabularSection("РасшифровкаПлатежа", f"{CARD_SET}_РасшифровкаПлатежа", rows)
    props = [
        Prop("Ref_Key", "Edm.Guid"),
        Prop("DataVersion", "Edm.String"),
        Prop("Number", "Edm.String", 11),
        Prop("Date", "Edm.DateTime"),
        Prop("DeletionMark", "Edm.Boolean"),
        Prop("Posted", "Edm.Boolean"),
        Prop("ВидОперации", "Edm.String", enum="ВидыОперацийЭквайринга"),
        Prop("Организация_Key", "Edm.Guid", ref_target="Catalog_Организации"),
        Prop("ЭквайринговыйТерминал_Key", "Edm.Guid"),
        Prop("Контрагент_Key", "Edm.Guid", ref_target="Catalog_Контрагенты"),
        Prop("Договор_Key", "Edm.Guid", ref_target="Catalog_ДоговорыКонтрагентов"),
        Prop("ВидПлатежнойКарты", "Edm.String", 50),
        Prop("НомерПлатежнойКарты", "Edm.String", 24),
        Prop("СсылочныйНомер", "Edm.String", 50),
        Prop("ПроцентКомиссии", "Edm.Double"),
        Prop("СуммаДокумента", "Edm.Double"),
        Prop("ВалютаДенежныхСредств_Key", "Edm.Guid", ref_target="Catalog_Валюты"),
        Prop("ДокументОснование", "Edm.String", composite=True),
        Prop("КассаККМ_Key", "Edm.Guid"),
        Prop("ОперацияПоПлатежнымКартамШапка", "Edm.String", composite=True),
        Prop("Комментарий", "Edm.String"),
        Prop("Автор_Key", "Edm.Guid", ref_target="Catalog_Пользователи"),
        Prop("РасшифровкаПлатежа", f"Collection(StandardODATA.{section.row_type})"),
        Prop("ДокументОснование_Type", "Edm.String"),
        Prop("ОперацияПоПлатежнымКартамШапка_Type", "Edm.String"),
    ]
    navigation = {p.name[:-4]: p.ref_target for p in props if p.is_key_ref and p.ref_target}
    return EntitySet(
        name=CARD_SET,
        kind="Document",
        props=props,
        key=["Ref_Key"],
        tabular={"РасшифровкаПлатежа": section},
        navigation={k: v for k, v in navigation.items() if v},
        number_length=11,
    )


@dataclass
class ServiceModel:
    sets: dict[str, EntitySet]
    tabular_sets: dict[str, tuple[EntitySet, TabularSection]]

    def entity_set(self, name: str) -> EntitySet | None:
        return self.sets.get(name)


@cache
def full_model() -> ServiceModel:
    derived = _load_derived()
    sets: list[EntitySet] = []
    for name, spec in derived.items():
        if name.startswith(("Catalog_", "Document_", "ChartOfCharacteristicTypes_")):
            sets.append(_object_set(name, spec))
        elif name.startswith("InformationRegister_"):
            sets.append(_register_set(name, spec))
        elif name == "AccumulationRegister_ЗапасыНаСкладах":
            sets.extend(_stock_register(spec))
    sets.extend(_hand_written_sets())
    sets.append(_card_operations_set())
    by_name = {s.name: s for s in sets}
    tabular_sets = {ts.set_name: (s, ts) for s in sets if s.is_object for ts in s.tabular.values()}
    return ServiceModel(by_name, tabular_sets)


def published_model(published: frozenset[str] | None) -> ServiceModel:
    model = full_model()
    if published is None:
        return model
    sets = {n: s for n, s in model.sets.items() if n in published}
    tabular = {n: v for n, v in model.tabular_sets.items() if v[0].name in sets}
    return ServiceModel(sets, tabular)
