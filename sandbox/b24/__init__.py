"""Bitrix24 REST emulator (inbound webhook, batch, limits, outbound events, `/_sandbox` controls)."""

from sandbox.b24.app import create_app
from sandbox.b24.config import B24EmulatorConfig, OutgoingWebhook
from sandbox.b24.emulator import Emulator

__all__ = ["B24EmulatorConfig", "Emulator", "OutgoingWebhook", "create_app"]
