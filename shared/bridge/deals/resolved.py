"""The deal flow's resolved configuration: ids setup found for the configured names.

Stored in SyncTable (`CONFIG#deals` / `RESOLVED`) by `bridge.deals.setup`; read by the flow and
the sweep, cached per process for a few minutes so a re-run of setup takes effect without a
redeploy. Missing → `ConfigurationError` telling the operator to run setup.
"""

from __future__ import annotations

import time
from datetime import datetime
from decimal import Decimal
from threading import Lock

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.deals.config import OneCRefs
from bridge.domain.stages import StageBook
from bridge.errors import ConfigurationError
from bridge.links.store import LinkStore
from bridge.setup.store import ConfigStore

FLOW = "deals"
CACHE_TTL_S = 300.0
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


_cache: dict[int, tuple[float, DealResolved]] = {}
_lock = Lock()


def save(links: LinkStore, resolved: DealResolved) -> None:
    ConfigStore.beside(links).put(FLOW, resolved.model_dump(mode="json"))
    forget()


def load(links: LinkStore, *, max_age_s: float = CACHE_TTL_S) -> DealResolved:
    now = time.monotonic()
    with _lock:
        cached = _cache.get(id(links))
    if cached is not None and now - cached[0] < max_age_s:
        return cached[1]
    raw = ConfigStore.beside(links).get(FLOW)
    if raw is None:
        raise ConfigurationError(
            "deal flow: no resolved configuration (CONFIG#deals) in SyncTable — run setup: "
            "python -m bridge.cli setup"
        )
    try:
        resolved = DealResolved.model_validate(raw)
    except ValidationError as error:
        raise ConfigurationError(
            f"deal flow: stored configuration is unreadable ({error}); run setup"
        ) from None
    with _lock:
        _cache[id(links)] = (now, resolved)
    return resolved


def forget() -> None:
    with _lock:
        _cache.clear()
