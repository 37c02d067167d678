"""A bad or missing setting stops start-up with a message naming the setting."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge import settings
from bridge.errors import ConfigurationError

GOOD_SECRETS = {
    "BRIDGE_B24_WEBHOOK_URL": "https://portal.bitrix24.ru/rest/1/abcdefgh12345678",
    "BRIDGE_B24_APPLICATION_TOKEN": "t0ken",
    "BRIDGE_ONEC_BASE_URL": "http://1c.local/unf/odata/standard.odata/",
    "BRIDGE_ONEC_USER": "odata",
    "BRIDGE_ONEC_PASSWORD": "secret-password",
}


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in list(os.environ):
        if key.startswith("BRIDGE_"):
            monkeypatch.delenv(key)
    settings.reset_caches()
    yield
    settings.reset_caches()


def test_missing_table_name_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="BRIDGE_TABLE_NAME"):
        settings.runtime_settings()


def test_invalid_number_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_TABLE_NAME", "t")
    monkeypatch.setenv("BRIDGE_MAX_ATTEMPTS", "zero")
    with pytest.raises(ConfigurationError, match="BRIDGE_MAX_ATTEMPTS"):
        settings.runtime_settings()


def test_rate_limit_plan_from_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_TABLE_NAME", "t")
    monkeypatch.setenv("BRIDGE_B24_RATE_LIMIT", '{"burst": 250, "per_second": 5}')
    assert settings.runtime_settings().b24_rate_limit.burst == 250
    assert settings.runtime_settings().b24_rate_limit.per_second == 5


def test_rate_limit_that_is_not_json_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_TABLE_NAME", "t")
    monkeypatch.setenv("BRIDGE_B24_RATE_LIMIT", "burst=250")
    with pytest.raises(ConfigurationError, match="BRIDGE_B24_RATE_LIMIT: must be JSON"):
        settings.runtime_settings()


def test_setting_names_are_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("bridge_table_name", "lower")
    assert settings.runtime_settings().table_name == "lower"


def test_secrets_from_environment_are_hidden_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_TABLE_NAME", "t")
    for key, value in GOOD_SECRETS.items():
        monkeypatch.setenv(key, value)
    loaded = settings.secrets()
    assert loaded.b24_webhook_url.get_secret_value().endswith("/abcdefgh12345678/")
    assert "abcdefgh12345678" not in repr(loaded)
    assert "secret-password" not in repr(loaded)


def test_missing_secret_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_TABLE_NAME", "t")
    for key, value in GOOD_SECRETS.items():
        if key != "BRIDGE_ONEC_PASSWORD":
            monkeypatch.setenv(key, value)
    with pytest.raises(ConfigurationError, match="BRIDGE_ONEC_PASSWORD"):
        settings.secrets()


def test_webhook_url_without_rest_path_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_TABLE_NAME", "t")
    for key, value in GOOD_SECRETS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("BRIDGE_B24_WEBHOOK_URL", "https://portal.bitrix24.ru/")
    with pytest.raises(ConfigurationError, match="BRIDGE_B24_WEBHOOK_URL"):
        settings.secrets()


def test_default_mapping_names_the_spec_stages() -> None:
    mapping = settings.load_mapping(None)
    assert [(s.funnel, s.stage) for s in mapping.deal.trigger_stages] == [
        ("Продажи", "Продажа материала"),
        ("Заказ материала", "first"),
    ]
    assert mapping.deal.feedback_stage == "Получение обратной связи"


def test_mapping_file_with_unknown_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mapping.toml"
    path.write_text('[deal]\ncreate_order_on = "sometimes"\n', encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"deal\.create_order_on"):
        settings.load_mapping(path)


def test_unreadable_mapping_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="BRIDGE_MAPPING_FILE"):
        settings.load_mapping(tmp_path / "absent.toml")
