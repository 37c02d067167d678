"""The deal flow's resolved configuration: ids setup found for the configured names.

Stored in SyncTable (`CONFIG#deals` / `RESOLVED`) by `bridge.deals.setup`; read by the flow and
the sweep through `bridge.store.resolved.ResolvedConfig` (its cache policy and its
`ConfigurationError` when setup has not run).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from bridge.deals.config import OneCRefs
from bridge.domain.stages import StageBook
from bridge.store import SyncStore
from bridge.store.resolved import ResolvedConfig

FLOW = "deals"
NO_VAT = "none"


class AmountItem(BaseModel):
    """The service nomenclature (`onec.deal_amount_item`) that carries a row-less deal's amount."""

    model_config = ConfigDict(frozen=True)
    ref: str
    unit: str | None = None
    vat_rate: str | None = None


class DealResolved(BaseModel):
    model_config = ConfigDict(frozen=True)
    stage_book: StageBook
    refs: OneCRefs
    # user-field code → enumeration value → option id (payment type, method, status)
    enum_options: dict[str, dict[str, int]] = Field(default_factory=dict)
    units: dict[str, str] = Field(default_factory=dict)  # OKEI code ("796") → unit Ref_Key
    vat_rates: dict[str, str] = Field(default_factory=dict)  # "20" / "none" → СтавкиНДС Ref_Key
    stock_warehouses: tuple[str, ...] = ()  # СтруктурныеЕдиницы counted as free stock; () = all
    amount_item: AmountItem | None = None  # None: stored by an older setup, run setup again
    resolved_at: datetime

    def unit_for(self, measure_code: int | None) -> str | None:
        return None if measure_code is None else self.units.get(f"{measure_code:03d}")

    def vat_percent(self, rate_ref: str | None) -> Decimal | None:
        """The percentage of a `Catalog_СтавкиНДС` reference ("Без НДС" = 0); None when unknown."""
        if not rate_ref:
            return None
        wanted = rate_ref.strip().lower()
        for key, ref in self.vat_rates.items():
            if ref.strip().lower() == wanted:
                return Decimal(0) if key == NO_VAT else Decimal(key)
        return None


def resolved_config(store: SyncStore) -> ResolvedConfig[DealResolved]:
    """The deal flow's resolved ids in SyncTable: written by setup, read by the flow and the sweep."""
    return store.resolved(FLOW, DealResolved)
