"""The catalog flow's settings: the `[catalog]` section of the mapping file (docs/catalog-flow.md).

The 1C price kind and warehouses are shared with the deal flow and live in `[onec]`
(`price_kind`, `warehouses`); everything specific to the catalog is here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class CatalogMapping(BaseModel):
    model_config = ConfigDict(frozen=True)

    # Bitrix24 catalog (iblock) by name; empty = the CRM product catalog (the one without a parent).
    catalog_name: str = ""
    # Bitrix24 price type by name; empty = the base price type (`base` = "Y").
    price_type: str = ""
    currency: str = "RUB"
    # The product property holding 1C `Артикул` (created by setup when missing).
    article_property: str = "Артикул"
    article_property_code: str = "ARTICLE"
    # Where the article goes when the portal (or the emulator) cannot create product properties.
    article_fallback_field: Literal["code", "previewText"] = "code"
    # `ТипНоменклатуры` values that are services; `include_services` decides whether they sync.
    service_kinds: tuple[str, ...] = ("Услуга", "Работа")
    include_services: bool = True
    # Bitrix24 store that receives stock documents when inventory management is on; empty = first.
    store: str = ""
    # Schedules (minutes); the template's ScheduleV2 expressions follow these defaults.
    nomenclature_every_minutes: int = Field(15, ge=1)
    stock_every_minutes: int = Field(5, ge=1)
    # Above this share of changed items one full read of 1C is cheaper than reading them one by one.
    full_read_share: float = Field(0.2, gt=0, le=1)
    # Stop starting new batches this many seconds before the Lambda's own timeout; the next run resumes.
    stop_before_timeout_s: float = Field(30.0, ge=0)
