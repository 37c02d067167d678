"""`mapping push` refuses a bad mapping naming each key, and the functions' mapping follows the
parameter within its TTL (the parameter read is replaced here; tests/integration/test_mapping_push.py
runs the same against moto on the local stack)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bridge import aws, settings
from bridge.cli import main
from bridge.errors import ConfigurationError

DEFAULT = settings.packaged_mapping_text()


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in list(os.environ):
        if key.startswith("BRIDGE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("BRIDGE_TABLE_NAME", "t")
    monkeypatch.setenv("BRIDGE_MAPPING_PARAMETER", "/bridge/mapping")
    settings.reset_caches()
    yield
    settings.reset_caches()


def test_every_problem_names_its_key() -> None:
    text = DEFAULT.replace('create_order_on = "trigger_stages"', 'create_order_on = "often"')
    text = text.replace('currency = "RUB"', "currency = [1]", 1)
    problems = settings.mapping_problems(text)
    assert [p.split(":")[0] for p in problems] == ["deal.create_order_on", "catalog.currency"]


def test_bad_toml_names_the_line() -> None:
    (problem,) = settings.mapping_problems(DEFAULT + "\n[deal\n")
    assert "not valid TOML" in problem
    assert "line" in problem


def test_the_packaged_default_has_no_problem() -> None:
    assert settings.mapping_problems(DEFAULT) == []


@hsettings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gets_problems_or_none_never_a_crash(text: str) -> None:
    problems = settings.mapping_problems(text)
    assert all(isinstance(p, str) and p for p in problems)


@hsettings(max_examples=40, deadline=None)
@given(st.text(max_size=3000))
def test_parameter_encoding_gives_the_text_back(text: str) -> None:
    assert settings.decode_mapping_parameter(settings.encode_mapping_parameter(text)) == text


def test_push_of_a_bad_file_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    written: list[str] = []

    def write(name: str, value: str, endpoint: str | None) -> int:
        written.append(value)
        return 1

    monkeypatch.setattr(aws, "write_parameter", write)
    path = tmp_path / "m.toml"
    path.write_text(DEFAULT.replace('price_kind = "Оптовая"', "price_kind = 5"), "utf-8")

    assert main(["mapping", "push", str(path)]) == 1

    assert written == []
    out = capsys.readouterr().out
    assert f"{path}: onec.price_kind:" in out
    assert "parameter /bridge/mapping unchanged" in out


def test_push_without_a_parameter_name_says_which_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("BRIDGE_MAPPING_PARAMETER")
    settings.reset_caches()
    path = tmp_path / "m.toml"
    path.write_text(DEFAULT, "utf-8")
    assert main(["mapping", "push", str(path)]) == 2
    assert "BRIDGE_MAPPING_PARAMETER" in capsys.readouterr().err


def test_the_mapping_follows_the_parameter_after_its_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_MAPPING_MAX_AGE_S", "60")
    settings.reset_caches()
    now = [1000.0]
    monkeypatch.setattr(settings, "clock", lambda: now[0])
    stored: dict[str, str | None] = {"value": "# placeholder: nothing pushed"}
    monkeypatch.setattr(aws, "read_parameter", lambda name, endpoint: stored["value"])

    first = settings.mapping()
    assert first.deal.create_order_on == "trigger_stages"  # the packaged default
    stored["value"] = settings.encode_mapping_parameter(
        DEFAULT.replace('create_order_on = "trigger_stages"', 'create_order_on = "deal_created"')
    )
    now[0] += 59
    assert settings.mapping() is first  # within the TTL the held mapping serves
    now[0] += 1
    assert settings.mapping().deal.create_order_on == "deal_created"
    assert settings.effective_mapping().source == "parameter /bridge/mapping"


def test_a_broken_parameter_is_named() -> None:
    with pytest.raises(ConfigurationError, match="BRIDGE_MAPPING_PARAMETER"):
        settings.decode_mapping_parameter("gzip+base64:not-base64!")
