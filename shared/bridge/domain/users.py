"""A Bitrix24 user as the flows see it: who is responsible for a deal or a counterparty."""

from __future__ import annotations

from pydantic import Field

from bridge.domain.wire import EntityId, Text, WireModel


class B24User(WireModel):
    id: EntityId = Field(alias="ID")
    email: Text = Field("", alias="EMAIL")
    name: Text = Field("", alias="NAME")
    last_name: Text = Field("", alias="LAST_NAME")
    second_name: Text = Field("", alias="SECOND_NAME")

    @property
    def display_name(self) -> str:
        return " ".join(p.strip() for p in (self.name, self.last_name) if p.strip()) or f"#{self.id}"
