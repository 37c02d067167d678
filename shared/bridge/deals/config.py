"""Settings the deal flow needs beyond `bridge.settings.Mapping`.

Two kinds, kept apart on purpose:
- `DealFlowOptions`: customer decisions (where the deal id lives in 1C, whether the shipment is
  posted, which requisite preset means which legal form), read from `DealMapping` in the mapping
  file (`DealFlowOptions.from_mapping`).
- `OneCRefs`: 1C references (`Ref_Key`s) that setup resolves from the names in `OneCMapping`
  (organization, order states, the "ID сделки Битрикс24" property, the folder for new
  counterparties, contact-information kinds). Ids are resolved, never hard-coded.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from bridge.domain.phones import PhoneKindRefs
from bridge.settings import DealMapping

EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _guid(value: str) -> str:
    normalized = value.strip().lower()
    if not _GUID.match(normalized) or normalized == EMPTY_GUID:
        raise ValueError(f"{value!r} is not a 1C reference (Ref_Key GUID)")
    return normalized


type Guid = Annotated[str, AfterValidator(_guid)]


class CounterpartyKind(StrEnum):
    """1C enum `ВидыКонтрагентов` members the bridge creates."""

    LEGAL_ENTITY = "ЮридическоеЛицо"
    SOLE_PROPRIETOR = "ИндивидуальныйПредприниматель"
    PRIVATE_PERSON = "ФизическоеЛицо"


class DealFlowOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    # "additional_attribute": row of ДополнительныеРеквизиты (mappings.md §1, default);
    # "incoming_number": НомерВходящегоДокумента = "<prefix><deal id>" where attributes are off.
    deal_id_storage: Literal["additional_attribute", "incoming_number"] = "additional_attribute"
    incoming_number_prefix: str = Field("B24-", max_length=10)
    post_shipment: bool = False
    # Bitrix24 requisite preset id → legal form (RU portal defaults: 1 Организация, 2 ИП,
    # 3 Физ. лицо, 4 Организация (доп.)).
    requisite_presets: dict[int, CounterpartyKind] = Field(
        default_factory=lambda: {
            1: CounterpartyKind.LEGAL_ENTITY,
            2: CounterpartyKind.SOLE_PROPRIETOR,
            3: CounterpartyKind.PRIVATE_PERSON,
            4: CounterpartyKind.LEGAL_ENTITY,
        }
    )

    @classmethod
    def from_mapping(cls, deal: DealMapping) -> DealFlowOptions:
        return cls(
            deal_id_storage=deal.deal_id_storage,
            incoming_number_prefix=deal.incoming_number_prefix,
            post_shipment=deal.post_shipment,
            requisite_presets={k: CounterpartyKind(v) for k, v in deal.requisite_presets.items()},
        )


class OneCRefs(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    organization: Guid  # Catalog_Организации
    initial_state: Guid  # Catalog_СостоянияЗаказовПокупателей: the state a new order gets
    completed_state: Guid  # predefined "Завершен"
    cancelled_state: Guid
    deal_id_property: Guid | None = None  # ChartOfCharacteristicTypes_ДополнительныеРеквизитыИСведения
    reserve_warehouse: Guid | None = None  # Catalog_СтруктурныеЕдиницы
    price_kind: Guid | None = None  # Catalog_ВидыЦен
    counterparty_folder: Guid | None = None  # Catalog_Контрагенты folder for new ones
    default_responsible: Guid | None = None  # Catalog_Сотрудники
    # Catalog_ВидыКонтактнойИнформации
    counterparty_email_kind: Guid | None = None
    contact_email_kind: Guid | None = None
    phone_kinds: PhoneKindRefs = PhoneKindRefs()  # the table every flow shares

    @model_validator(mode="before")
    @classmethod
    def _drop_superseded_phone_kinds(cls, data: Any) -> Any:
        # Items stored before `[phones]` carry these; the table above replaced them.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in _SUPERSEDED}
        return data


_SUPERSEDED = frozenset({"counterparty_phone_kind", "contact_work_phone_kind", "contact_mobile_phone_kind"})


class OrderConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    refs: OneCRefs
    options: DealFlowOptions = DealFlowOptions()

    @model_validator(mode="after")
    def _deal_id_has_a_home(self) -> OrderConfig:
        if self.options.deal_id_storage == "additional_attribute" and self.refs.deal_id_property is None:
            raise ValueError(
                "refs.deal_id_property: required when the deal id is kept in an additional attribute "
                '(run setup, or set deal_id_storage = "incoming_number")'
            )
        return self
