"""Settings the deal flow needs beyond `bridge.config.mapping.Mapping`.

Two kinds, kept apart on purpose:
- `DealFlowOptions`: customer decisions (where the deal id lives in 1C, whether the shipment is
  posted, which requisite preset means which legal form), a view of `[deal]`
  (`bridge.config.deal.DealMapping`) with no defaults of its own (`DealFlowOptions.from_mapping`).
- `OneCRefs`: 1C references (`Ref_Key`s) that setup resolves from the names in `OneCMapping`
  (organization, order states, the "ID сделки Битрикс24" property, the folder for new
  counterparties, contact-information kinds). Ids are resolved, never hard-coded.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from bridge.config.deal import DealMapping
from bridge.domain.counterparty import EMPTY_GUID, CounterpartyKind
from bridge.domain.phones import PhoneKindRefs

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _guid(value: str) -> str:
    normalized = value.strip().lower()
    if not _GUID.match(normalized) or normalized == EMPTY_GUID:
        raise ValueError(f"{value!r} is not a 1C reference (Ref_Key GUID)")
    return normalized


type Guid = Annotated[str, AfterValidator(_guid)]


class DealFlowOptions(BaseModel):
    """The `[deal]` decisions the order writer needs; every default is `DealMapping`'s."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    # "additional_attribute": row of ДополнительныеРеквизиты (mappings.md §1, default);
    # "incoming_number": НомерВходящегоДокумента = "<prefix><deal id>" where attributes are off.
    deal_id_storage: Literal["additional_attribute", "incoming_number"]
    incoming_number_prefix: str = Field(max_length=10)
    post_shipment: bool
    requisite_presets: dict[int, CounterpartyKind]  # Bitrix24 requisite preset id → legal form

    @classmethod
    def from_mapping(cls, deal: DealMapping | None = None) -> DealFlowOptions:
        """The options of `deal`; without one, of the default `[deal]`."""
        deal = deal or DealMapping()
        return cls.model_validate(deal.model_dump(include=set(cls.model_fields)))


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
    options: DealFlowOptions = Field(default_factory=DealFlowOptions.from_mapping)

    @model_validator(mode="after")
    def _deal_id_has_a_home(self) -> OrderConfig:
        if self.options.deal_id_storage == "additional_attribute" and self.refs.deal_id_property is None:
            raise ValueError(
                "refs.deal_id_property: required when the deal id is kept in an additional attribute "
                '(run setup, or set deal_id_storage = "incoming_number")'
            )
        return self
