"""Settings of the 1C:УНФ OData emulator (all optional; defaults give the documented sandbox)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ManagerSeed:
    """A manager present both as a 1C user/employee and (by e-mail) as a Bitrix24 user."""

    full_name: str
    email: str


DEFAULT_MANAGERS: tuple[ManagerSeed, ...] = (
    # The Bitrix24 sandbox's managers (sandbox/b24/seed.py): the same people, matched by e-mail.
    ManagerSeed("Иванова Мария Петровна", "m.ivanova@sandbox.example"),
    ManagerSeed("Кузнецов Сергей Андреевич", "s.kuznetsov@sandbox.example"),
    ManagerSeed("Соколова Ольга Викторовна", "o.sokolova@sandbox.example"),
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
