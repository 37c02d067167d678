"""Settings of the 1C:УНФ OData emulator (all optional; defaults give the documented sandbox)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ManagerSeed:
    """A manager present both as a 1C user/employee and (by e-mail) as a Bitrix24 user."""

    full_name: str
    email: str


DEFAULT_MANAGERS: tuple[ManagerSeed, ...] = (
    ManagerSeed("Иванов Иван Иванович", "manager1@example.com"),
    ManagerSeed("Петрова Мария Сергеевна", "manager2@example.com"),
    ManagerSeed("Сидоров Пётр Алексеевич", "manager3@example.com"),
)


@dataclass(frozen=True)
class OneCEmulatorConfig:
    host: str = "127.0.0.1"
    port: int = 8081
    base_path: str = "/unf/odata/standard.odata"
    username: str = "odata"
    password: str = "odata"
    # None publishes every set the emulator knows; otherwise only these names (others answer 404
    # like an object missing from the publication's composition).
    published: frozenset[str] | None = None
    seed: bool = True
    managers: tuple[ManagerSeed, ...] = DEFAULT_MANAGERS
    # Server "local time" of ДатаИзменения etc.; None = the machine clock.
    fixed_now: str | None = None
    journal_limit: int = 10_000
