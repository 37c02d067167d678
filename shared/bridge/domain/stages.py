"""Funnels and stages by name, resolved once from the portal.

People configure funnels and stages by the names they see ("Продажи" / "Продажа материала");
Bitrix24 speaks CATEGORY_ID and STATUS_ID ("C10:PREPAYMENT_INVOIC" — truncated, so never built by
string concatenation). `StageBook` is built from `crm.category.list` and `crm.status.list` answers
and answers every name ↔ id question the decisions need, with a `ConfigurationError` naming the
funnel or stage that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from bridge.config.deal import DealMapping, StageRef
from bridge.domain.text import name_key
from bridge.errors import ConfigurationError

type Semantics = Literal["P", "S", "F"]
FIRST_STAGE = "first"
_STAGE_ENTITY = "DEAL_STAGE"


class Stage(BaseModel):
    model_config = ConfigDict(frozen=True)
    status_id: str
    name: str
    category_id: int
    semantics: Semantics  # P in progress, S success (WON), F failure (LOSE, APOLOGY)
    sort: int


class Funnel(BaseModel):
    model_config = ConfigDict(frozen=True)
    category_id: int
    name: str
    stages: tuple[Stage, ...] = ()  # by sort order

    def first_working_stage(self) -> Stage | None:
        return next((s for s in self.stages if s.semantics == "P"), None)


def _category_of(entity_id: str) -> int | None:
    if entity_id == _STAGE_ENTITY:
        return 0
    prefix = _STAGE_ENTITY + "_"
    if entity_id.startswith(prefix) and entity_id[len(prefix) :].isdigit():
        return int(entity_id[len(prefix) :])
    return None


def _semantics(row: Mapping[str, Any]) -> Semantics:
    value = row.get("SEMANTICS")
    if value == "S":
        return "S"
    if value == "F":
        return "F"
    return "P"


class StageBook(BaseModel):
    model_config = ConfigDict(frozen=True)
    funnels: tuple[Funnel, ...]

    @classmethod
    def from_b24(cls, categories: Any, statuses: Iterable[Mapping[str, Any]]) -> StageBook:
        """`categories`: the `crm.category.list` result ({"categories": [...]} or the list);
        `statuses`: rows of `crm.status.list` for DEAL_STAGE and DEAL_STAGE_<id> (other entities ignored)."""
        rows = categories.get("categories", []) if isinstance(categories, Mapping) else categories
        stages_by_category: dict[int, list[Stage]] = {}
        for row in statuses:
            category_id = _category_of(str(row.get("ENTITY_ID") or ""))
            if category_id is None:
                continue
            stages_by_category.setdefault(category_id, []).append(
                Stage(
                    status_id=str(row["STATUS_ID"]),
                    name=str(row.get("NAME") or ""),
                    category_id=category_id,
                    semantics=_semantics(row),
                    sort=int(row.get("SORT") or 0),
                )
            )
        funnels = tuple(
            Funnel(
                category_id=int(row["id"]),
                name=str(row.get("name") or ""),
                stages=tuple(sorted(stages_by_category.get(int(row["id"]), []), key=lambda s: s.sort)),
            )
            for row in rows
        )
        return cls(funnels=funnels)

    def funnel(self, name: str) -> Funnel:
        found = [f for f in self.funnels if name_key(f.name) == name_key(name)]
        if len(found) != 1:
            known = ", ".join(repr(f.name) for f in self.funnels)
            problem = "is ambiguous" if found else "does not exist"
            raise ConfigurationError(f"deal funnel {name!r} {problem} in Bitrix24 (funnels: {known})")
        return found[0]

    def funnel_by_id(self, category_id: int) -> Funnel | None:
        return next((f for f in self.funnels if f.category_id == category_id), None)

    def stage(self, status_id: str) -> Stage | None:
        return next((s for f in self.funnels for s in f.stages if s.status_id == status_id), None)

    def resolve(self, ref: StageRef) -> Stage:
        funnel = self.funnel(ref.funnel)
        if name_key(ref.stage) == FIRST_STAGE:
            first = funnel.first_working_stage()
            if first is None:
                raise ConfigurationError(f"deal funnel {ref.funnel!r} has no working stage")
            return first
        found = [s for s in funnel.stages if name_key(s.name) == name_key(ref.stage)]
        if len(found) != 1:
            known = ", ".join(repr(s.name) for s in funnel.stages)
            problem = "is ambiguous" if found else "does not exist"
            raise ConfigurationError(
                f"stage {ref.stage!r} {problem} in funnel {ref.funnel!r} (stages: {known})"
            )
        return found[0]

    def no_exchange_after_order(self, category_id: int, mapping: DealMapping) -> bool:
        """§2.2.8: once its order exists, a deal in this funnel works in Bitrix24 alone — its edits
        do not update the order and 1C order states do not move it; only "won" reaches 1C.
        The funnels are `deal.no_exchange_after_order_funnels` (names)."""
        funnel = self.funnel_by_id(category_id)
        if funnel is None:
            return False
        wanted = name_key(funnel.name)
        return any(name_key(name) == wanted for name in mapping.no_exchange_after_order_funnels)

    def trigger_stages(self, mapping: DealMapping) -> tuple[Stage, ...]:
        """Resolve the configured trigger stages; call at setup to fail early on a typo."""
        return tuple(self.resolve(ref) for ref in mapping.trigger_stages)
