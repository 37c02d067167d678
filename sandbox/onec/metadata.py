"""Service document and `$metadata` (EDMX 1.0 / DataServiceVersion 3.0, namespace StandardODATA)."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import quoteattr

from sandbox.onec.model import EntitySet, Prop, ServiceModel, TabularSection, balance_props

STOCK = "AccumulationRegister_ЗапасыНаСкладах"


def service_set_names(model: ServiceModel) -> list[str]:
    names: list[str] = []
    for entity_set in model.sets.values():
        names.append(entity_set.name)
        if entity_set.is_object:
            names.extend(ts.set_name for ts in entity_set.tabular.values())
    return names


def service_document(model: ServiceModel, root: str) -> dict[str, Any]:
    return {"odata.metadata": root, "value": [{"name": n, "url": n} for n in service_set_names(model)]}


def service_document_atom(model: ServiceModel, root: str) -> str:
    collections = "".join(
        f"<collection href={quoteattr(n)}><atom:title>{n}</atom:title></collection>"
        for n in service_set_names(model)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<service xmlns="http://www.w3.org/2007/app" xmlns:atom="http://www.w3.org/2005/Atom" '
        f"xml:base={quoteattr(root + '/')}><workspace><atom:title>Default</atom:title>"
        f"{collections}</workspace></service>"
    )


def _property(prop: Prop, nullable: bool = True) -> str:
    return f'<Property Name={quoteattr(prop.name)} Type="{prop.edm}" Nullable="{str(nullable).lower()}"/>'


class _Edmx:
    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        self.entity_types: list[str] = []
        self.complex_types: list[str] = []
        self.associations: list[str] = []
        self.sets: list[str] = []
        self.functions: list[str] = []

    def navigation(self, type_name: str, props: list[Prop], navigation: dict[str, str]) -> list[str]:
        lines = []
        for prop in props:
            if not prop.is_key_ref:
                continue
            nav = prop.name[: -len("_Key")]
            target = navigation.get(nav)
            if target is None or target not in self.model.sets:
                continue  # the association's far end must be a published type
            association = f"{type_name}_{nav}"
            lines.append(
                f'<NavigationProperty Name={quoteattr(nav)} Relationship="StandardODATA.{association}" '
                'FromRole="Begin" ToRole="End"/>'
            )
            self.associations.append(
                f'<Association Name="{association}"><End Role="Begin" Type="StandardODATA.{type_name}" '
                f'Multiplicity="*"/><End Role="End" Type="StandardODATA.{target}" Multiplicity="0..1"/>'
                "</Association>"
            )
        return lines

    def entity_type(self, name: str, key: list[str], props: list[Prop], navigation: dict[str, str]) -> None:
        open_type = ' OpenType="true"' if any(p.is_type_companion for p in props) else ""
        keys = "".join(f"<PropertyRef Name={quoteattr(k)}/>" for k in key)
        body = "".join(_property(p, p.name not in key) for p in props)
        navs = "".join(self.navigation(name, props, navigation))
        self.entity_types.append(
            f"<EntityType Name={quoteattr(name)}{open_type}><Key>{keys}</Key>{body}{navs}</EntityType>"
        )
        self.sets.append(f'<EntitySet Name={quoteattr(name)} EntityType="StandardODATA.{name}"/>')

    def complex_type(self, name: str, props: list[Prop]) -> None:
        body = "".join(_property(p, p.name not in ("Ref_Key", "LineNumber")) for p in props)
        self.complex_types.append(f"<ComplexType Name={quoteattr(name)}>{body}</ComplexType>")

    def function(self, name: str, binding: str, params: list[tuple[str, str]], returns: str | None) -> None:
        side_effecting = "true" if returns is None else "false"
        return_attr = f' ReturnType="{returns}"' if returns else ""
        parameters = f'<Parameter Name="bindingParameter" Type="StandardODATA.{binding}"/>' + "".join(
            f'<Parameter Name="{n}" Type="{t}"/>' for n, t in params
        )
        self.functions.append(
            f'<FunctionImport Name="{name}" IsBindable="true" '
            f'IsSideEffecting="{side_effecting}"{return_attr}>'
            f"{parameters}</FunctionImport>"
        )

    def add_object(self, entity_set: EntitySet) -> None:
        self.entity_type(entity_set.name, entity_set.key, entity_set.props, entity_set.navigation)
        for section in entity_set.tabular.values():
            self.add_section(section)
        if entity_set.kind == "Document":
            for action in ("Post", "Unpost"):
                self.function(action, entity_set.name, [("PostingModeOperational", "Edm.Boolean")], None)

    def add_section(self, section: TabularSection) -> None:
        self.complex_type(section.row_type, section.props)
        nav = {p.name[:-4]: p.ref_target for p in section.props if p.is_key_ref and p.ref_target}
        self.entity_type(
            section.set_name, ["Ref_Key", "LineNumber"], section.props, {k: v for k, v in nav.items() if v}
        )

    def build(self) -> str:
        for entity_set in self.model.sets.values():
            if entity_set.is_object:
                self.add_object(entity_set)
            elif entity_set.record_set_of:
                self.entity_type(entity_set.name, entity_set.key, entity_set.props, {})
                self.complex_type(f"{entity_set.name}_RowType", entity_set.tabular["RecordSet"].props)
                self.complex_type(f"{entity_set.name}_Balance", balance_props())
                self.function(
                    "Balance",
                    entity_set.name,
                    [("Condition", "Edm.String"), ("Dimensions", "Edm.String"), ("Period", "Edm.DateTime")],
                    f"Collection(StandardODATA.{entity_set.name}_Balance)",
                )
            else:
                self.entity_type(entity_set.name, entity_set.key, entity_set.props, entity_set.navigation)
                if entity_set.periodic:
                    for function in ("SliceLast", "SliceFirst"):
                        self.function(
                            function,
                            entity_set.name,
                            [("Condition", "Edm.String"), ("Period", "Edm.DateTime")],
                            f"Collection(StandardODATA.{entity_set.name})",
                        )
        self.complex_types.append(
            '<ComplexType Name="TypeDescription"><Property Name="Types" Type="Collection(Edm.String)" '
            'Nullable="true"/><Property Name="NumberQualifiers" Type="StandardODATA.NumberQualifiers" '
            'Nullable="true"/><Property Name="StringQualifiers" Type="StandardODATA.StringQualifiers" '
            'Nullable="true"/><Property Name="DateQualifiers" Type="StandardODATA.DateQualifiers" '
            'Nullable="true"/><Property Name="BinaryDataQualifiers" '
            'Type="StandardODATA.BinaryDataQualifiers" Nullable="true"/></ComplexType>'
            '<ComplexType Name="NumberQualifiers"><Property Name="AllowedSign" Type="Edm.String"/>'
            '<Property Name="Digits" Type="Edm.Int16"/><Property Name="FractionDigits" Type="Edm.Int16"/>'
            '</ComplexType><ComplexType Name="StringQualifiers"><Property Name="AllowedLength" '
            'Type="Edm.String"/><Property Name="Length" Type="Edm.Int64"/></ComplexType>'
            '<ComplexType Name="DateQualifiers"><Property Name="DateFractions" Type="Edm.String"/>'
            '</ComplexType><ComplexType Name="BinaryDataQualifiers"><Property Name="AllowedLength" '
            'Type="Edm.String"/><Property Name="Length" Type="Edm.Int64"/></ComplexType>'
        )
        return (
            "<?xml version='1.0' encoding='UTF-8'?>"
            '<edmx:Edmx xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" Version="1.0">'
            '<edmx:DataServices xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" '
            'm:DataServiceVersion="3.0" m:MaxDataServiceVersion="3.0">'
            '<Schema xmlns="http://schemas.microsoft.com/ado/2009/11/edm" Namespace="StandardODATA">'
            + "".join(self.entity_types)
            + "".join(self.complex_types)
            + "".join(self.associations)
            + '<EntityContainer Name="EnterpriseV8" m:IsDefaultEntityContainer="true">'
            + "".join(self.sets)
            + "".join(self.functions)
            + "</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"
        )


def metadata_document(model: ServiceModel) -> str:
    return _Edmx(model).build()
