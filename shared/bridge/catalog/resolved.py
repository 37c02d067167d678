"""Ids the setup step resolved from names, stored in SyncTable (pk `CONFIG#catalog`, sk `RESOLVED`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from bridge.links.store import LinkStore

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


class ResolvedStore:
    """The catalog's resolved ids beside the links in SyncTable; written by setup."""

    def __init__(self, links: LinkStore) -> None:
        self._links = links

    def load(self) -> CatalogResolved | None:
        raw = self._links.get_config(FLOW)
        return None if raw is None else CatalogResolved.model_validate(raw)

    def save(self, resolved: CatalogResolved) -> None:
        self._links.put_config(FLOW, resolved.model_dump(mode="json"))
