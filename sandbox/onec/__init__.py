"""1C:УНФ 1.6 standard OData interface emulator (sandbox only, never deployed)."""

from .app import create_app
from .config import ManagerSeed, OneCEmulatorConfig
from .seed import BITRIX_DEAL_PROPERTY, seed_ref

__all__ = ["BITRIX_DEAL_PROPERTY", "ManagerSeed", "OneCEmulatorConfig", "create_app", "seed_ref"]
