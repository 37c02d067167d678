"""1C:УНФ 1.6 standard OData interface emulator (sandbox only, never deployed)."""

from sandbox.onec.app import create_app
from sandbox.onec.config import ManagerSeed, OneCEmulatorConfig
from sandbox.onec.seed import BITRIX_DEAL_PROPERTY, seed_ref

__all__ = ["BITRIX_DEAL_PROPERTY", "ManagerSeed", "OneCEmulatorConfig", "create_app", "seed_ref"]
