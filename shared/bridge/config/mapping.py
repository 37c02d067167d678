"""The root of the mapping file (`mapping.default.toml` beside this module): one model per section."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bridge.config.catalog import CatalogMapping
from bridge.config.deal import DealMapping
from bridge.config.onec import OneCMapping
from bridge.config.parties import PartiesMapping
from bridge.config.payments import PaymentsMapping
from bridge.config.phones import PhoneKinds


class Mapping(BaseModel):
    """The customer's decisions (mappings.md), validated at start."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    deal: DealMapping = DealMapping()
    onec: OneCMapping = OneCMapping()
    catalog: CatalogMapping = CatalogMapping()
    payments: PaymentsMapping = PaymentsMapping()
    parties: PartiesMapping = PartiesMapping()
    # Bitrix24 PHONE VALUE_TYPE ⇄ 1C contact-information kind, for every flow.
    phones: PhoneKinds = PhoneKinds()
    # Bitrix24 user id → 1C employee description, used after the e-mail match fails.
    managers: dict[str, str] = Field(default_factory=dict)

    @field_validator("onec", mode="before")
    @classmethod
    def _phone_kinds_moved(cls, value: Any) -> Any:
        # [onec] ignores unknown keys; a phone kind left there would be dropped without a word.
        moved = sorted(set(value) & _MOVED_TO_PHONES) if isinstance(value, dict) else []
        if moved:
            raise ValueError(f"{', '.join(moved)}: phone kinds moved to [phones] (docs/configuration.md)")
        return value


_MOVED_TO_PHONES = frozenset(
    {"counterparty_phone_kind", "contact_work_phone_kind", "contact_mobile_phone_kind"}
)
