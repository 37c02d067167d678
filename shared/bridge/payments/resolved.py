"""Ids setup resolved from the configured names, kept in SyncTable (pk `CONFIG#payments`, sk `RESOLVED`).

The flow reads them through `ResolvedSource`, so tests can hand in a fixed value.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.domain.stages import StageBook
from bridge.errors import ConfigurationError
from bridge.links.store import LinkStore
from bridge.setup.store import ConfigStore, config_pk

FLOW = "payments"
ENUM_FIELDS = ("pay_type", "pay_status", "pay_method")


class ResolvedPayments(BaseModel):
    model_config = ConfigDict(frozen=True)
    # field key (pay_type / pay_status / pay_method) → option key (prepayment, paid, cash…) → option ID
    enum_ids: dict[str, dict[str, str]]
    stages: StageBook
    # CATEGORY_ID → STATUS_ID of the feedback stage ("Получение обратной связи") in that funnel
    feedback_stage: dict[int, str] = Field(default_factory=dict)
    # CATEGORY_ID → order state Ref_Key → STATUS_ID
    state_stage: dict[int, dict[str, str]] = Field(default_factory=dict)
    state_names: dict[str, str] = Field(default_factory=dict)  # state Ref_Key → Description
    # Ref_Keys of the `[payments] closed_states`: an older order in one of them is no longer watched.
    closed_states: list[str] = Field(default_factory=list)
    # The payment registry list setup made or found: its id and logical value → `PROPERTY_<id>`.
    registry_list_id: str = ""
    registry_list_fields: dict[str, str] = Field(default_factory=dict)


class ResolvedSource(Protocol):
    def load(self) -> ResolvedPayments: ...


class StaticResolved:
    """A fixed value (tests, or a caller that resolved it another way)."""

    def __init__(self, value: ResolvedPayments) -> None:
        self._value = value

    def load(self) -> ResolvedPayments:
        return self._value


class SyncTableResolved:
    """The resolved ids in the link store's table, through the setup framework's `ConfigStore`."""

    def __init__(self, store: ConfigStore) -> None:
        self._store = store

    @classmethod
    def beside(cls, links: LinkStore) -> SyncTableResolved:
        return cls(ConfigStore.beside(links))

    def load(self) -> ResolvedPayments:
        raw = self._store.get(FLOW)
        if raw is None:
            raise ConfigurationError(
                f"{config_pk(FLOW)} is missing in SyncTable: run `python -m bridge.cli setup`"
            )
        try:
            return ResolvedPayments.model_validate(raw)
        except ValidationError as error:
            raise ConfigurationError(f"{config_pk(FLOW)} is unreadable, run setup again: {error}") from None

    def save(self, value: ResolvedPayments) -> None:
        self._store.put(FLOW, value.model_dump(mode="json"))
