"""Request handling under the service root: routing of resource paths to reads, writes and functions."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox import json_body
from sandbox.onec import actions, virtual
from sandbox.onec.atom import atom_not_supported
from sandbox.onec.encode import Selection, encode_object, encode_record, encode_row
from sandbox.onec.errors import (
    ODataError,
    entity_not_found,
    entity_set_not_found,
    internal_error,
    method_forbidden,
    method_not_found,
    path_segment_not_found,
    query_option_parse_error,
    tabular_rows_direct,
    unexpected_json_character,
)
from sandbox.onec.filter import Evaluator, compile_filter
from sandbox.onec.metadata import metadata_document, service_document, service_document_atom
from sandbox.onec.model import EntitySet, Prop, TabularSection
from sandbox.onec.query import apply_order, parse_count, parse_orderby, parse_selection
from sandbox.onec.resources import ResourcePath, Segment, parse_key, parse_path
from sandbox.onec.state import EmulatorState
from sandbox.onec.values import value_type_on_post
from sandbox.onec.writes import create_record, register_key, update_record

JSON_TYPE = "application/json;odata=minimalmetadata;streaming=true;IEEE754Compatible=false"
XML_TYPE = "application/xml;charset=utf-8"
ATOM_TYPE = "application/atom+xml;type=feed;charset=utf-8"


def json_response(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status_code=status, media_type=JSON_TYPE)


class ODataRequest:
    def __init__(
        self, state: EmulatorState, request: Request, path: str, options: dict[str, str], body: bytes
    ) -> None:
        self.state = state
        self.request = request
        self.path = path
        self.options = options
        self.raw_body = body
        self.model = state.model
        self.store = state.store
        self.root = f"{str(request.base_url).rstrip('/')}{state.config.base_path}"

    # ------------------------------------------------------------ helpers

    def wants_json(self) -> bool:
        requested = self.options.get("$format", "").lower()
        if requested.startswith("json"):
            return True
        if requested:
            return False
        return "application/json" in self.request.headers.get("accept", "")

    def lookup(self, set_name: str, ref: str) -> dict[str, Any] | None:
        return self.store.get(set_name, ref) if isinstance(ref, str) else None

    def expand_lookup(self, set_name: str | None, ref: Any) -> tuple[EntitySet | None, dict[str, Any] | None]:
        target_set = self.model.entity_set(set_name or "")
        if target_set is None or not isinstance(ref, str):
            return None, None
        return target_set, self.store.get(target_set.name, ref)

    def body_json(self) -> dict[str, Any]:
        try:
            data = json_body.loads(self.raw_body.decode("utf-8") or "{}")
        except (UnicodeDecodeError, ValueError, RecursionError):
            # Nested deeper than Python's parser goes: the platform's JSON-reading error too.
            raise unexpected_json_character() from None
        if not isinstance(data, dict):
            raise internal_error()
        return data

    def element(self, set_name: str, encoded: dict[str, Any], status: int = 200) -> Response:
        return json_response(
            {"odata.metadata": f"{self.root}/$metadata#{set_name}/@Element", **encoded}, status
        )

    def collection(self, type_name: str, values: list[dict[str, Any]], count: int | None) -> Response:
        body: dict[str, Any] = {"odata.metadata": f"{self.root}/$metadata#{type_name}"}
        if count is not None:
            body["odata.count"] = str(count)
        body["value"] = values
        return json_response(body)

    def filtered(
        self, owner: EntitySet | TabularSection, items: list[dict[str, Any]], rows: bool = False
    ) -> tuple[list[dict[str, Any]], int | None]:
        text = self.options.get("$filter")
        if text:
            node = compile_filter(text, self.model, owner)
            accepts = Evaluator(owner, self.model, self.lookup).predicate(node)
            items = [item for item in items if accepts(item)]
        inline = self.options.get("$inlinecount")
        if inline not in (None, "", "allpages", "none"):
            raise query_option_parse_error("$inlinecount")
        count = len(items) if inline == "allpages" else None
        items = apply_order(
            self.model, items, parse_orderby(owner, self.options.get("$orderby")), self.lookup
        )
        skip = parse_count("$skip", self.options.get("$skip")) or 0
        top = parse_count("$top", self.options.get("$top"))
        items = items[skip:]
        if top is not None:
            items = items[:top]
        return items, count

    def flat_selection(self, props: list[Prop]) -> Selection:
        select = self.options.get("$select")
        if not select:
            return Selection()
        names = {p.name for p in props}
        fields: set[str] = set()
        for item in (s.strip() for s in select.split(",")):
            if item == "*":
                return Selection()
            if item not in names:
                raise path_segment_not_found(item)
            fields.add(item)
        return Selection(fields=fields)

    # ------------------------------------------------------------ dispatch

    def handle(self) -> Response:
        method = self.request.method
        if self.path.strip("/") == "":
            if method != "GET":
                raise method_forbidden()
            if self.wants_json():
                return json_response(service_document(self.model, self.root))
            return Response(service_document_atom(self.model, self.root), media_type=XML_TYPE)
        resource = parse_path(self.path)
        head = resource.head
        if head.name == "$metadata":
            return Response(metadata_document(self.model), media_type=XML_TYPE)
        # `$count` answers text/plain whatever $format says (developer guide; fidelity-notes).
        bodiless = method == "DELETE" or any(
            s.name in ("Post", "Unpost", "$count") for s in resource.segments[1:]
        )
        if not self.wants_json() and not bodiless:
            return atom_not_supported()
        entity_set = self.model.entity_set(head.name)
        if entity_set is not None:
            if entity_set.is_object:
                return self.handle_object_set(method, entity_set, resource)
            if entity_set.kind == "InformationRegister":
                return self.handle_info_register(method, entity_set, resource)
            return self.handle_stock(method, entity_set, resource)
        tabular = self.model.tabular_sets.get(head.name)
        if tabular is not None:
            return self.handle_tabular_set(method, *tabular, resource)
        raise entity_set_not_found(head.name)

    # ------------------------------------------------------------ catalogs and documents

    def get_object(self, entity_set: EntitySet, segment: Segment) -> dict[str, Any]:
        key = parse_key(segment.args or "")
        if isinstance(key, dict):
            key = key.get("Ref_Key")
        if not isinstance(key, str):
            raise entity_not_found()
        obj = self.store.get(entity_set.name, key)
        if obj is None:
            raise entity_not_found()
        return obj

    def handle_object_set(self, method: str, entity_set: EntitySet, resource: ResourcePath) -> Response:
        head, rest = resource.head, resource.segments[1:]
        if head.args is None:
            if rest:
                if rest[0].name == "$count" and method == "GET":
                    items, _ = self.filtered(entity_set, list(self.store.table(entity_set.name).values()))
                    if self.state.answers.get("count") == "json":
                        return json_response({"value": len(items)})
                    return Response(str(len(items)), media_type="text/plain")
                raise path_segment_not_found(rest[0].name)
            if method == "GET":
                return self.list_objects(entity_set)
            if method == "POST":
                body = self.body_json()
                if "ValueType" in body:
                    body["ValueType"] = value_type_on_post(
                        self.state.answers.get("value_type"), body["ValueType"]
                    )
                created = self.state.writer.create(entity_set, body)
                response = self.element(entity_set.name, encode_object(entity_set, created), status=201)
                location = f"{self.root}/{entity_set.name}(guid'{created['Ref_Key']}')"
                # Raw UTF-8, not percent-encoded, like the real publication (GATE-M2).
                response.raw_headers.append((b"location", location.encode("utf-8")))
                return response
            raise method_forbidden()
        obj = self.get_object(entity_set, head)
        if rest:
            return self.object_subresource(method, entity_set, obj, rest[0])
        if method == "GET":
            selection = parse_selection(
                self.model, entity_set, self.options.get("$select"), self.options.get("$expand")
            )
            return self.element(
                entity_set.name, encode_object(entity_set, obj, selection, self.expand_lookup)
            )
        if method in ("PATCH", "MERGE", "PUT"):
            updated = self.state.writer.update(entity_set, obj, self.body_json())
            return self.element(entity_set.name, encode_object(entity_set, updated))
        if method == "DELETE":
            self.store.delete(entity_set.name, obj["Ref_Key"])
            actions.remove_movements(self.store, obj["Ref_Key"])
            return Response(status_code=204)
        raise method_forbidden()

    def list_objects(self, entity_set: EntitySet) -> Response:
        selection = parse_selection(
            self.model, entity_set, self.options.get("$select"), self.options.get("$expand")
        )
        items, count = self.filtered(entity_set, list(self.store.table(entity_set.name).values()))
        values = [encode_object(entity_set, o, selection, self.expand_lookup) for o in items]
        return self.collection(entity_set.name, values, count)

    def object_subresource(
        self, method: str, entity_set: EntitySet, obj: dict[str, Any], segment: Segment
    ) -> Response:
        if segment.name in ("Post", "Unpost"):
            if method != "POST":
                raise method_forbidden()
            if entity_set.kind != "Document":
                raise method_not_found()
            action = actions.post if segment.name == "Post" else actions.unpost
            action(self.state.writer, entity_set, obj)
            # Status/body of a successful Post are unrecorded (README §13.2): 200 with no body here.
            return Response(status_code=200)
        if method != "GET":
            raise method_forbidden()
        key_prop = entity_set.prop(f"{segment.name}_Key")
        target_name = entity_set.navigation.get(segment.name)
        target_set = self.model.entity_set(target_name or "")
        if key_prop is None or target_set is None:
            raise path_segment_not_found(segment.name)
        target = self.store.get(target_set.name, obj.get(key_prop.name, ""))
        if target is None:
            raise entity_not_found()
        return self.element(target_set.name, encode_object(target_set, target))

    def handle_tabular_set(
        self, method: str, owner: EntitySet, section: TabularSection, resource: ResourcePath
    ) -> Response:
        if method == "POST":
            raise tabular_rows_direct()
        if method != "GET":
            raise method_forbidden()
        rows = [
            {**row, "Ref_Key": obj["Ref_Key"]}
            for obj in self.store.table(owner.name).values()
            for row in obj.get(section.name, [])
        ]
        head = resource.head
        if head.args is not None:
            key = parse_key(head.args)
            if not isinstance(key, dict):
                raise entity_not_found()
            match = [
                r
                for r in rows
                if r["Ref_Key"] == key.get("Ref_Key") and str(r["LineNumber"]) == str(key.get("LineNumber"))
            ]
            if not match:
                raise entity_not_found()
            return self.element(section.set_name, encode_row(section, match[0], match[0]["Ref_Key"]))
        items, count = self.filtered(section, rows)
        selection = self.flat_selection(section.props)
        values = [
            {k: v for k, v in encode_row(section, r, r["Ref_Key"]).items() if selection.wants(k)}
            for r in items
        ]
        return self.collection(section.set_name, values, count)

    # ------------------------------------------------------------ registers

    def find_record(self, register: EntitySet, segment: Segment) -> dict[str, Any]:
        key = parse_key(segment.args or "")
        if not isinstance(key, dict):
            raise entity_not_found()
        for record in self.store.records(register.name):
            if all(str(record.get(k)).lower() == str(v).lower() for k, v in key.items()):
                return record
        raise entity_not_found()

    def handle_info_register(self, method: str, register: EntitySet, resource: ResourcePath) -> Response:
        head, rest = resource.head, resource.segments[1:]
        if rest:
            function = rest[0]
            if function.name in ("SliceLast", "SliceFirst") and method == "GET":
                if not register.periodic:
                    raise method_not_found()
                args = virtual.parse_function_args(
                    function.args or "", self.options, self.state.answers.get("condition_forms")
                )
                records = virtual.slice_records(
                    self.model, self.store, register, args, function.name == "SliceLast"
                )
                return self.register_list(register, records)
            raise path_segment_not_found(function.name)
        if head.args is None:
            if method == "GET":
                return self.register_list(register, self.store.records(register.name))
            if method == "POST":
                record = create_record(self.store, register, self.body_json())
                # GATE-P9 saw 200 (not 201) for an independent register record.
                return self.element(register.name, encode_record(register.props, record))
            raise method_forbidden()
        record = self.find_record(register, head)
        if method == "GET":
            return self.element(register.name, encode_record(register.props, record))
        if method in ("PATCH", "MERGE", "PUT"):
            update_record(register, record, self.body_json())
            return self.element(register.name, encode_record(register.props, record))
        if method == "DELETE":
            records = self.store.records(register.name)
            records[:] = [r for r in records if register_key(register, r) != register_key(register, record)]
            return Response(status_code=204)
        raise method_forbidden()

    def register_list(self, register: EntitySet, records: list[dict[str, Any]]) -> Response:
        selection = self.flat_selection(register.props)
        items, count = self.filtered(register, list(records))
        return self.collection(
            register.name, [encode_record(register.props, r, selection) for r in items], count
        )

    def handle_stock(self, method: str, register: EntitySet, resource: ResourcePath) -> Response:
        head, rest = resource.head, resource.segments[1:]
        if method != "GET":
            raise method_forbidden()
        record_type = self.model.entity_set("AccumulationRegister_ЗапасыНаСкладах_RecordType") or register
        if rest:
            function = rest[0]
            if register.record_set_of is None:
                raise method_not_found()
            if function.name == "Balance":
                args = virtual.parse_function_args(
                    function.args or "", self.options, self.state.answers.get("condition_forms")
                )
                props, rows = virtual.balance_rows(self.model, self.store, record_type, args)
                section = TabularSection("Balance", f"{register.name}_Balance", props)
                items, count = self.filtered(section, rows)
                selection = self.flat_selection(props)
                values = [encode_record(props, r, selection) for r in items]
                return self.collection(f"{register.name}_Balance", values, count)
            if function.name in ("Turnovers", "BalanceAndTurnovers"):
                raise virtual.unsupported_function(function.name)
            raise method_not_found()
        if head.args is not None:
            raise path_segment_not_found(head.name)
        if register.record_set_of is None:
            items, count = self.filtered(register, list(self.store.stock_records))
            selection = self.flat_selection(register.props)
            return self.collection(
                register.name, [encode_record(register.props, r, selection) for r in items], count
            )
        sets: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for record in self.store.stock_records:
            sets.setdefault((record["Recorder"], record["Recorder_Type"]), []).append(record)
        section = register.tabular["RecordSet"]
        values = [
            {
                "Recorder": recorder,
                "RecordSet": [encode_record(section.props, r) for r in records],
                "Recorder_Type": recorder_type,
            }
            for (recorder, recorder_type), records in sets.items()
        ]
        return self.collection(
            register.name, values, len(values) if self.options.get("$inlinecount") else None
        )


Handler = Callable[[ODataRequest], Response]
__all__ = ["ODataError", "ODataRequest", "json_response"]
