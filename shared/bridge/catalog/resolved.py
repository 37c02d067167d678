"""Ids the setup step resolved from names, stored in SyncTable (pk `CONFIG#catalog`, sk `RESOLVED`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from bridge.store import SyncStore
from bridge.store.resolved import ResolvedConfig

FLOW = "catalog"

type StockMode = Literal["quantity", "documents"]


class CatalogResolved(BaseModel):
    """Everything a run needs that setup found by name, so runs never resolve names themselves."""

    model_config = ConfigDict(frozen=True)

    iblock_id: int
    price_type_id: int
    currency: str
    # `propertyN` of the article, or None when the article lives in `article_field`.
    article_property_id: int | None
    article_field: str
    stock_mode: StockMode
    store_id: int | None  # Bitrix24 store for inventory documents
    price_kind_ref: str  # Catalog_ВидыЦен Ref_Key
    warehouse_refs: tuple[str, ...]  # Catalog_СтруктурныеЕдиницы Ref_Keys; empty = all

    @property
    def article_key(self) -> str:
        if self.article_property_id is not None:
            return f"property{self.article_property_id}"
        return self.article_field


def resolved_config(store: SyncStore) -> ResolvedConfig[CatalogResolved]:
    """The catalog's resolved ids in SyncTable: written by setup, read by every run."""
    return store.resolved(FLOW, CatalogResolved)


# How long setup's "the catalog is empty" holds for a first load: setup runs as the deploy step
# right before it. Later, a person may have added products by hand, so the load asks Bitrix24.
EMPTY_FACT_FRESH_S = 3600.0


class EmptyAtSetup(BaseModel):
    """Setup's finding that the catalog held no product and no section with an `xmlId`.

    A first load that finds it fresh and unused skips its probe request; it marks it used before
    writing anything, so a load that dies half-way asks Bitrix24 next time instead of trusting it.
    """

    model_config = ConfigDict(frozen=True)

    checked_at: float  # the store's clock (seconds)
    used: bool = False


def empty_at_setup(store: SyncStore) -> ResolvedConfig[EmptyAtSetup]:
    """Setup's empty-catalog finding in SyncTable (pk `CONFIG#catalog-empty`)."""
    return store.resolved(f"{FLOW}-empty", EmptyAtSetup)
