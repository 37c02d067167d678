"""Bitrix24 deal, product row, company, contact, requisite and user as the deal flow reads them.

One model per wire object, parsed tolerantly (unknown keys ignored, strings coerced, empty
references become None) so the rest of the flow works with plain typed values. Truly bad input (an
id that is not a number, a price that is text) raises `WireDataError` naming the object and field.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from bridge.domain.wire import (
    Amount,
    Count,
    EntityId,
    OptionalAmount,
    OptionalInt,
    RefId,
    Text,
    WireDateTime,
    WireModel,
    YesNo,
)
from bridge.errors import PermanentError

USER_FIELD_PREFIX = "UF_"
REQUISITE_OWNER_COMPANY = 4
REQUISITE_OWNER_CONTACT = 3


class WireDataError(PermanentError):
    """Bitrix24 answered something that cannot be the object it claims to be."""


class WithUserFields(WireModel):
    """Objects whose `UF_*` keys are gathered into `user_fields` (codes differ per portal)."""

    user_fields: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _collect_user_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            found = {k: v for k, v in data.items() if isinstance(k, str) and k.startswith(USER_FIELD_PREFIX)}
            return {**data, "user_fields": found}
        return data


class MultiFieldValue(WireModel):
    """One PHONE / EMAIL entry: {ID, VALUE_TYPE, VALUE, TYPE_ID}."""

    value: Text = Field(alias="VALUE")
    value_type: Text = Field("", alias="VALUE_TYPE")


def _multifield(value: Any) -> Any:
    if value is None or value == "":
        return ()
    if isinstance(value, list):
        return tuple(
            item
            for item in value
            if not (isinstance(item, dict) and not str(item.get("VALUE") or "").strip())
        )
    return value


class Deal(WithUserFields):
    id: EntityId = Field(alias="ID")
    title: Text = Field("", alias="TITLE")
    category_id: Count = Field(0, alias="CATEGORY_ID")
    stage_id: Text = Field("", alias="STAGE_ID")
    stage_semantic_id: Literal["P", "S", "F"] | None = Field(None, alias="STAGE_SEMANTIC_ID")
    company_id: RefId = Field(None, alias="COMPANY_ID")
    contact_id: RefId = Field(None, alias="CONTACT_ID")
    assigned_by_id: RefId = Field(None, alias="ASSIGNED_BY_ID")
    begin_date: WireDateTime = Field(None, alias="BEGINDATE")
    date_create: WireDateTime = Field(None, alias="DATE_CREATE")
    date_modify: WireDateTime = Field(None, alias="DATE_MODIFY")
    comments: Text = Field("", alias="COMMENTS")
    opportunity: Amount = Field(Decimal(0), alias="OPPORTUNITY")
    currency_id: Text = Field("", alias="CURRENCY_ID")

    @field_validator("stage_semantic_id", mode="before")
    @classmethod
    def _semantic(cls, value: Any) -> Any:
        return None if value in (None, "") else value


class ProductRow(WireModel):
    """A row of `crm.deal.productrows.get`: numbers are native here, mixed with strings."""

    id: RefId = Field(None, alias="ID")
    product_id: Count = Field(0, alias="PRODUCT_ID")  # 0 = free-text row, not in the catalog
    product_name: Text = Field("", alias="PRODUCT_NAME")
    price: Amount = Field(Decimal(0), alias="PRICE")  # final unit price, after discount and tax rules
    quantity: Amount = Field(Decimal(1), alias="QUANTITY")
    discount_sum: Amount = Field(Decimal(0), alias="DISCOUNT_SUM")
    tax_rate: OptionalAmount = Field(None, alias="TAX_RATE")
    tax_included: YesNo = Field(False, alias="TAX_INCLUDED")
    measure_code: OptionalInt = Field(None, alias="MEASURE_CODE")
    measure_name: Text = Field("", alias="MEASURE_NAME")
    sort: Count = Field(0, alias="SORT")
    type: Count = Field(1, alias="TYPE")  # 1 product, 4 variation, 7 service
    xml_id: Text = Field("", alias="XML_ID")

    @property
    def is_service(self) -> bool:
        return self.type == 7


class Company(WithUserFields):
    id: EntityId = Field(alias="ID")
    title: Text = Field("", alias="TITLE")
    company_type: Text = Field("", alias="COMPANY_TYPE")
    assigned_by_id: RefId = Field(None, alias="ASSIGNED_BY_ID")
    comments: Text = Field("", alias="COMMENTS")
    phones: tuple[MultiFieldValue, ...] = Field((), alias="PHONE")
    emails: tuple[MultiFieldValue, ...] = Field((), alias="EMAIL")
    _multifields = field_validator("phones", "emails", mode="before")(_multifield)


def joined_name(*parts: str) -> str:
    """The non-empty parts of a person's name, in the order given, one space apart."""
    return " ".join(part.strip() for part in parts if part.strip())


class Contact(WithUserFields):
    id: EntityId = Field(alias="ID")
    phones: tuple[MultiFieldValue, ...] = Field((), alias="PHONE")
    emails: tuple[MultiFieldValue, ...] = Field((), alias="EMAIL")
    name: Text = Field("", alias="NAME")
    last_name: Text = Field("", alias="LAST_NAME")
    second_name: Text = Field("", alias="SECOND_NAME")
    post: Text = Field("", alias="POST")
    type_id: Text = Field("", alias="TYPE_ID")
    company_id: RefId = Field(None, alias="COMPANY_ID")
    assigned_by_id: RefId = Field(None, alias="ASSIGNED_BY_ID")
    comments: Text = Field("", alias="COMMENTS")
    _multifields = field_validator("phones", "emails", mode="before")(_multifield)

    @property
    def full_name(self) -> str:
        """ "Фамилия Имя Отчество", the one name field of a 1C contact person."""
        return joined_name(self.last_name, self.name, self.second_name)


class Requisite(WireModel):
    id: EntityId = Field(alias="ID")
    entity_type_id: Count = Field(0, alias="ENTITY_TYPE_ID")  # 4 company, 3 contact
    entity_id: RefId = Field(None, alias="ENTITY_ID")
    preset_id: RefId = Field(None, alias="PRESET_ID")
    name: Text = Field("", alias="NAME")
    active: YesNo = Field(True, alias="ACTIVE")
    sort: Count = Field(500, alias="SORT")
    inn: Text = Field("", alias="RQ_INN")
    kpp: Text = Field("", alias="RQ_KPP")
    okpo: Text = Field("", alias="RQ_OKPO")
    company_name: Text = Field("", alias="RQ_COMPANY_NAME")
    company_full_name: Text = Field("", alias="RQ_COMPANY_FULL_NAME")
    person_name: Text = Field("", alias="RQ_NAME")
    last_name: Text = Field("", alias="RQ_LAST_NAME")
    first_name: Text = Field("", alias="RQ_FIRST_NAME")
    second_name: Text = Field("", alias="RQ_SECOND_NAME")


def parse_wire[M: BaseModel](model: type[M], data: Any, where: str) -> M:
    """Validate one wire object; the error names the object and the offending fields."""
    if not isinstance(data, dict):
        raise WireDataError(f"{where}: expected an object, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        details = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or '(object)'}: {item['msg']}" for item in error.errors()
        )
        raise WireDataError(f"{where}: {details}") from None
