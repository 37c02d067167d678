"""Ids setup resolved from the configured names, kept in SyncTable (pk `CONFIG#payments`, sk `RESOLVED`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bridge.domain.stages import StageBook
from bridge.store import SyncStore
from bridge.store.resolved import ResolvedConfig

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


def resolved_config(store: SyncStore) -> ResolvedConfig[ResolvedPayments]:
    """The payments flow's resolved ids in SyncTable: written by setup, read by every run."""
    return store.resolved(FLOW, ResolvedPayments)
