"""One typed configuration: runtime settings from the environment, secrets, and the mapping file.

- Runtime settings (`BRIDGE_*` environment variables; SAM sets them in template.yaml).
- Secrets, one Secrets Manager secret per reader so each function reads only what it needs
  (least privilege): the credentials of both systems (`BRIDGE_SECRET_ID`: Bitrix24 webhook URL,
  1C OData URL, login and password), the receiver's application token
  (`BRIDGE_RECEIVER_SECRET_ID`), the 1C push route's secret (`BRIDGE_PUSH_SECRET_ID`) and the
  stock refresh route's token (`BRIDGE_REFRESH_SECRET_ID`). Without an id, the values come from
  `BRIDGE_B24_WEBHOOK_URL`, `BRIDGE_B24_APPLICATION_TOKEN`, `BRIDGE_ONEC_BASE_URL`,
  `BRIDGE_ONEC_USER`, `BRIDGE_ONEC_PASSWORD`, `BRIDGE_ONEC_PUSH_SECRET`,
  `BRIDGE_STOCK_REFRESH_TOKEN` (local stack, tests). Each secret is re-read after
  `BRIDGE_SECRET_MAX_AGE_S` and at once when the other side rejects the credentials
  (`refresh_credentials()`), so a rotation reaches warm containers without a restart.
  Accessors: `credentials()`, `receiver_secret()`, `push_secret()`, `refresh_secret()`.
- The mapping (names of funnels and stages, user-field codes, price kind, warehouses, the 1C folder
  for new counterparties, the manager map): a TOML file, `BRIDGE_MAPPING_FILE`, defaulting to the
  packaged `config/mapping.default.toml`. In AWS the customer's mapping lives in the Parameter
  Store parameter `BRIDGE_MAPPING_PARAMETER` (written by `python -m bridge.cli mapping push`); a
  parameter holding no keys (the template's placeholder) means the file default. A warm container
  re-reads it after `BRIDGE_MAPPING_MAX_AGE_S`, so a pushed mapping applies without a redeploy.

Everything is validated on first use; a bad or missing value raises `ConfigurationError` whose
message names the setting. Nothing is read at import time.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import threading
import time
import tomllib
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, SecretStr, ValidationError

from bridge import aws
from bridge.b24.masking import register_secret, webhook_code
from bridge.errors import ConfigurationError
from bridge.observability import logger

if TYPE_CHECKING:
    from bridge.config.mapping import Mapping

ENV_PREFIX = "BRIDGE_"


class RateLimit(BaseModel):
    """Bitrix24's leaky bucket for the plan (standard 50 burst / 2 per s; enterprise 250 / 5)."""

    model_config = ConfigDict(frozen=True)
    burst: int = Field(50, ge=1)
    per_second: float = Field(2.0, gt=0)
    # Operating-time budget per method (seconds of server time per 10 minutes).
    operating_budget_s: float = Field(480.0, gt=0)
    # Stop calling a method while its reported `time.operating` is above this share of the budget.
    operating_headroom: float = Field(0.9, gt=0, le=1)


class RuntimeSettings(BaseModel):
    """Where things are: table, queue, endpoints of the AWS services (local stack overrides them).

    Read from `BRIDGE_<FIELD>` (any case) by `from_env`, not by pydantic-settings: that package
    and what it loads (asyncio, dotenv, its CLI parser) were a third of every function's import
    time (docs/performance.md, P5). A nested model's variable holds JSON, as pydantic-settings read it.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    table_name: str = Field(min_length=1)
    queue_url: str | None = None
    aws_endpoint_url: str | None = None  # moto server in the local stack; None in AWS
    secret_id: str | None = None  # Secrets Manager secret holding `Credentials` as JSON
    # One secret per HTTP route, so a route's function cannot read the systems' credentials.
    receiver_secret_id: str | None = None  # {"b24_application_token": …}
    push_secret_id: str | None = None  # {"onec_push_secret": …}
    refresh_secret_id: str | None = None  # {"stock_refresh_token": …}
    app_secret_id: str | None = None  # {"deal_tab_key": …}: the «1С» deal tab's CSRF key
    # The «1С» deal tab (docs/deal-tab.md): the portal a placement request must come from, as it
    # names itself in `DOMAIN` and `member_id` (unset: every placement request is refused); the
    # base URL of 1C's web client for "open in 1C" links (unset: no link); where this API is
    # published, for the placement handler (unset: the install request's own host).
    b24_portal_domain: str | None = None
    b24_member_id: str | None = None
    onec_web_client_url: str | None = None
    app_base_url: str | None = None
    # Off: the tab shows 1C's balances without writing them to the catalog (bench, or a portal
    # that must not be written from the tab).
    deal_tab_stock_refresh: bool = True
    # A warm container re-reads each secret after this long (a rotation reaches it without a
    # restart); a 401/403 from the other side re-reads at once.
    secret_max_age_s: float = Field(300.0, ge=0)
    mapping_file: Path | None = None
    # Parameter Store parameter holding the customer's mapping (template.yaml MappingParameter);
    # re-read after this long, so a pushed mapping reaches warm containers without a redeploy.
    mapping_parameter: str | None = None
    mapping_max_age_s: float = Field(60.0, ge=0)
    # `setup --on-aws`: the SetupFunction's name (stack output SetupFunctionName) and, on the
    # local stack only, where its Lambda Invoke API answers.
    setup_function: str | None = None
    lambda_endpoint_url: str | None = None
    b24_rate_limit: RateLimit = RateLimit()
    http_timeout_s: float = Field(20.0, gt=0)
    max_attempts: int = Field(4, ge=1, le=10)
    idempotency_ttl_s: int = Field(3600, ge=60)
    audit_ttl_days: int = Field(30, ge=1)

    @classmethod
    def from_env(cls, environ: MutableMapping[str, str] = os.environ) -> RuntimeSettings:
        values: dict[str, Any] = {}
        wanted = {ENV_PREFIX + name.upper(): name for name in cls.model_fields}
        for key, value in environ.items():
            name = wanted.get(key.upper())
            if name is None:
                continue
            values[name] = value
            if name in _JSON_FIELDS:
                try:
                    values[name] = json.loads(value)
                except ValueError:
                    raise ConfigurationError(f"bad setting: {key}: must be JSON") from None
        return cls.model_validate(values)


_JSON_FIELDS = frozenset({"b24_rate_limit"})  # nested models travel as JSON in one variable


def _webhook_shape(value: SecretStr) -> SecretStr:
    url = value.get_secret_value()
    if not url.startswith(("http://", "https://")) or "/rest/" not in url:
        raise ValueError("must look like https://<portal>/rest/<user id>/<code>/")
    if not url.endswith("/"):
        return SecretStr(url + "/")
    return value


def _not_blank(value: SecretStr) -> SecretStr:
    if not value.get_secret_value().strip():
        raise ValueError("must not be empty")
    return value


type WebhookUrl = Annotated[SecretStr, AfterValidator(_webhook_shape)]
type Token = Annotated[SecretStr, AfterValidator(_not_blank)]


class Secrets(BaseModel):
    """Credentials of both systems. `repr` and `str` never show the secret parts."""

    model_config = ConfigDict(frozen=True)

    b24_webhook_url: WebhookUrl
    b24_application_token: Token
    onec_base_url: HttpUrl
    onec_user: str = Field(min_length=1)
    onec_password: SecretStr
    # Shared secrets of our own HTTP routes; absent means every request to that route is refused.
    onec_push_secret: SecretStr | None = None  # POST /1c/events (a 1C-side extension)
    stock_refresh_token: SecretStr | None = None  # POST /stock/refresh


class Credentials(BaseModel):
    """What the flows need to call both systems (`BRIDGE_SECRET_ID`)."""

    model_config = ConfigDict(frozen=True)

    b24_webhook_url: WebhookUrl
    onec_base_url: HttpUrl
    onec_user: str = Field(min_length=1)
    onec_password: SecretStr


class ReceiverSecret(BaseModel):
    """The only secret of the webhook receiver (`BRIDGE_RECEIVER_SECRET_ID`)."""

    model_config = ConfigDict(frozen=True)
    b24_application_token: Token


class PushSecret(BaseModel):
    """POST /1c/events (`BRIDGE_PUSH_SECRET_ID`); absent means every push is refused."""

    model_config = ConfigDict(frozen=True)
    onec_push_secret: SecretStr | None = None


class RefreshSecret(BaseModel):
    """POST /stock/refresh (`BRIDGE_REFRESH_SECRET_ID`); absent means every request is refused."""

    model_config = ConfigDict(frozen=True)
    stock_refresh_token: SecretStr | None = None


class AppSecret(BaseModel):
    """The «1С» deal tab (`BRIDGE_APP_SECRET_ID`): the key its CSRF tokens are signed with."""

    model_config = ConfigDict(frozen=True)
    deal_tab_key: Token


def _describe(error: ValidationError, prefix: str) -> str:
    return "; ".join(_problems(error, prefix))


def _problems(error: ValidationError, prefix: str) -> list[str]:
    lines = []
    for item in error.errors():
        name = (
            prefix + "_".join(str(p) for p in item["loc"]).upper()
            if prefix
            else ".".join(str(p) for p in item["loc"])
        )
        lines.append(f"{name}: {item['msg']}")
    return lines


@cache
def runtime_settings() -> RuntimeSettings:
    try:
        return RuntimeSettings.from_env()
    except ValidationError as error:
        raise ConfigurationError(f"bad setting: {_describe(error, ENV_PREFIX)}") from None


# Monotonic seconds; tests move it to age a cached secret.
clock: Callable[[], float] = time.monotonic
_RETRY_READ_S = 30.0  # after a failed re-read, the next attempt


class _SecretSlot[M: BaseModel]:
    """One secret, validated into `model`, re-read after `secret_max_age_s` or on demand."""

    def __init__(self, model: type[M], id_setting: str) -> None:
        self._model = model
        self._id_setting = id_setting
        self._value: M | None = None
        self._read_at = 0.0
        self._forced_at = float("-inf")
        self._lock = threading.Lock()

    def get(self) -> M:
        with self._lock:
            max_age = runtime_settings().secret_max_age_s
            if self._value is None:
                self._load()
            elif clock() - self._read_at >= max_age:
                try:
                    self._load()
                except ConfigurationError:
                    raise  # a broken secret must be seen, not papered over
                except Exception as error:
                    # Secrets Manager unreachable or throttled: the value held is still the best
                    # guess; try again shortly instead of failing every call meanwhile.
                    logger.warning(
                        "secret could not be re-read; using the one held",
                        extra={"secret": self._id_setting, "error": type(error).__name__},
                    )
                    self._read_at = clock() - max_age + _RETRY_READ_S
            assert self._value is not None
            return self._value

    def refresh(self) -> M:
        """Read the secret again now (the other side just refused what we hold). Threads refused
        at the same moment share one read: whoever waited for the lock while another thread
        re-read takes that fresh value. A later refusal always reads again, since a rotation may
        be written into the secret only after the other side already refuses the old value."""
        asked_at = clock()
        with self._lock:
            if self._value is None or self._forced_at < asked_at:
                self._load()
                self._forced_at = clock()
            assert self._value is not None
            return self._value

    def clear(self) -> None:
        with self._lock:
            self._value = None
            self._forced_at = float("-inf")

    def _load(self) -> None:
        secret_id: str | None = getattr(runtime_settings(), self._id_setting)
        if secret_id:
            data = _read_secret_json(secret_id)
            source, prefix = f"secret {secret_id}: ", ""
        else:
            data = _values_from_env(self._model)
            source, prefix = "", ENV_PREFIX
        try:
            self._value = self._model.model_validate(data)
        except ValidationError as error:
            raise ConfigurationError(f"bad setting: {source}{_describe(error, prefix)}") from None
        _register_for_masking(self._value)
        self._read_at = clock()


def _register_for_masking(value: BaseModel) -> None:
    """Every secret just read is masked in logs from now on, with its usual disguises."""
    for field_value in value.__dict__.values():
        if isinstance(field_value, SecretStr):
            text = field_value.get_secret_value()
            register_secret(text)
            code = webhook_code(text)
            if code:
                register_secret(code)
    if isinstance(value, Credentials):
        # The 1C Basic header is base64("login:password").
        register_secret(f"{value.onec_user}:{value.onec_password.get_secret_value()}")


def _values_from_env(model: type[BaseModel]) -> dict[str, Any]:
    found = {name: os.environ.get(ENV_PREFIX + name.upper()) for name in model.model_fields}
    return {name: value for name, value in found.items() if value is not None}


def _read_secret_json(secret_id: str) -> dict[str, Any]:
    """Secrets Manager (bridge.aws); always fetched, because the slot decides freshness."""
    raw = aws.read_secret(secret_id, runtime_settings().aws_endpoint_url)
    try:
        data = json.loads(raw) if isinstance(raw, str) else json.loads(bytes(raw or b"").decode())
    except (ValueError, TypeError):
        raise ConfigurationError(f"secret {secret_id}: not a JSON object") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"secret {secret_id}: not a JSON object")
    return data


_credentials = _SecretSlot(Credentials, "secret_id")
_receiver = _SecretSlot(ReceiverSecret, "receiver_secret_id")
_push = _SecretSlot(PushSecret, "push_secret_id")
_refresh = _SecretSlot(RefreshSecret, "refresh_secret_id")
_app = _SecretSlot(AppSecret, "app_secret_id")


def credentials() -> Credentials:
    """Bitrix24 webhook and 1C login, at most `secret_max_age_s` old."""
    return _credentials.get()


def refresh_credentials() -> Credentials:
    """Re-read the credentials now: Bitrix24 or 1C answered 401/403 to the ones held."""
    return _credentials.refresh()


def receiver_secret() -> SecretStr:
    """The application token Bitrix24 sends with each outbound event (POST /b24/events)."""
    return _receiver.get().b24_application_token


def push_secret() -> SecretStr | None:
    """The shared secret of POST /1c/events; None when not configured."""
    return _push.get().onec_push_secret


def refresh_secret() -> SecretStr | None:
    """The shared token of POST /stock/refresh; None when not configured."""
    return _refresh.get().stock_refresh_token


def deal_tab_key() -> SecretStr:
    """The key of the deal tab's CSRF tokens (HMAC); a missing key is a ConfigurationError."""
    return _app.get().deal_tab_key


def secrets() -> Secrets:
    """Every secret in one object (all four must be readable). Prefer the accessor of the one
    secret a caller needs: in AWS each function may read only its own."""
    creds = credentials()
    return Secrets(
        b24_webhook_url=creds.b24_webhook_url,
        b24_application_token=receiver_secret(),
        onec_base_url=creds.onec_base_url,
        onec_user=creds.onec_user,
        onec_password=creds.onec_password,
        onec_push_secret=push_secret(),
        stock_refresh_token=refresh_secret(),
    )


def packaged_mapping_text() -> str:
    return resources.files("bridge.config").joinpath("mapping.default.toml").read_text("utf-8")


def _file_mapping_text(path: Path | None) -> tuple[str, str]:
    """(text, where) of the mapping file, or of the packaged default when `path` is None."""
    if path is None:
        return packaged_mapping_text(), "the packaged default mapping"
    try:
        return path.read_text("utf-8"), str(path)
    except OSError as error:
        reason = error.strerror
        raise ConfigurationError(f"{ENV_PREFIX}MAPPING_FILE: cannot read {path}: {reason}") from None


def mapping_problems(text: str) -> list[str]:
    """Every problem of a mapping file, each naming its key (`deal.trigger_stages.0.stage: …`) or,
    for bad TOML, the line; empty when the mapping is valid."""
    from bridge.config.mapping import Mapping  # lazy: the receiver never reads the mapping

    try:
        Mapping.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        return [f"not valid TOML: {error}"]
    except ValidationError as error:
        return _problems(error, "")
    return []


def parse_mapping(text: str, where: str, setting: str = "MAPPING_FILE") -> Mapping:
    from bridge.config.mapping import Mapping  # lazy: the receiver never reads the mapping

    try:
        return Mapping.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"{ENV_PREFIX}{setting} ({where}): not valid TOML: {error}") from None
    except ValidationError as error:
        raise ConfigurationError(f"{ENV_PREFIX}{setting} ({where}): {_describe(error, '')}") from None


def load_mapping(path: Path | None) -> Mapping:
    text, where = _file_mapping_text(path)
    return parse_mapping(text, where)


# An Advanced-tier parameter holds 8 KB (Standard: 4 KB); a longer mapping (the packaged one is
# just over 8 KB, mostly comments) is stored gzip-compressed, base64-encoded, behind this prefix.
PARAMETER_LIMIT = 8192
_PACKED = "gzip+base64:"


def encode_mapping_parameter(text: str) -> str:
    """The parameter value for a mapping file: as is when it fits, else compressed."""
    if len(text.encode("utf-8")) <= PARAMETER_LIMIT and not text.startswith(_PACKED):
        return text
    packed = _PACKED + base64.b64encode(gzip.compress(text.encode("utf-8"), mtime=0)).decode("ascii")
    if len(packed) > PARAMETER_LIMIT:
        raise ConfigurationError(
            f"mapping: {len(packed)} bytes even compressed; a parameter holds {PARAMETER_LIMIT}"
        )
    return packed


def decode_mapping_parameter(value: str) -> str:
    if not value.startswith(_PACKED):
        return value
    try:
        return gzip.decompress(base64.b64decode(value[len(_PACKED) :])).decode("utf-8")
    except (ValueError, OSError, EOFError):
        raise ConfigurationError(f"{ENV_PREFIX}MAPPING_PARAMETER: not a readable {_PACKED} value") from None


def _holds_keys(text: str) -> bool:
    try:
        return bool(tomllib.loads(text))
    except tomllib.TOMLDecodeError:
        return True  # a broken value must be seen (parse_mapping names it), not replaced


@dataclass(frozen=True)
class EffectiveMapping:
    """The mapping the flows use, its TOML text and where it came from."""

    mapping: Mapping
    text: str
    source: str


def read_effective_mapping() -> EffectiveMapping:
    """Read the mapping now: the parameter when it holds one, else the file (or packaged) default."""
    runtime = runtime_settings()
    name = runtime.mapping_parameter
    if name:
        value = aws.read_parameter(name, runtime.aws_endpoint_url)
        if value is not None:
            text = decode_mapping_parameter(value)
            if _holds_keys(text):
                where = f"parameter {name}"
                return EffectiveMapping(
                    mapping=parse_mapping(text, where, "MAPPING_PARAMETER"), text=text, source=where
                )
    text, where = _file_mapping_text(runtime.mapping_file)
    if name:
        where += f" (nothing pushed to parameter {name} yet)"
    return EffectiveMapping(mapping=parse_mapping(text, where), text=text, source=where)


class _MappingSlot:
    """The effective mapping, re-read from the parameter after `mapping_max_age_s`. The same
    `Mapping` object is handed out until the text changes, so what is built on it (`deps`) is kept."""

    def __init__(self) -> None:
        self._value: EffectiveMapping | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()

    def get(self) -> EffectiveMapping:
        with self._lock:
            runtime = runtime_settings()
            if self._value is None:
                self._value = read_effective_mapping()
                self._read_at = clock()
            elif runtime.mapping_parameter and clock() - self._read_at >= runtime.mapping_max_age_s:
                self._reload(runtime.mapping_max_age_s)
            return self._value

    def _reload(self, max_age: float) -> None:
        assert self._value is not None
        try:
            fresh = read_effective_mapping()
        except ConfigurationError:
            raise  # a broken mapping must be seen, not papered over
        except Exception as error:
            # Parameter Store unreachable or throttled: the mapping held is still the best guess.
            logger.warning(
                "mapping could not be re-read; using the one held", extra={"error": type(error).__name__}
            )
            self._read_at = clock() - max_age + _RETRY_READ_S
            return
        if fresh.text != self._value.text:
            logger.info("mapping changed", extra={"source": fresh.source})
            self._value = fresh
        self._read_at = clock()

    def clear(self) -> None:
        with self._lock:
            self._value = None


_mapping = _MappingSlot()


def mapping() -> Mapping:
    """The effective mapping, at most `mapping_max_age_s` old when it comes from the parameter."""
    return _mapping.get().mapping


def effective_mapping() -> EffectiveMapping:
    return _mapping.get()


def reset_caches() -> None:
    """For tests and the local stack, after the environment changed."""
    runtime_settings.cache_clear()
    for slot in (_credentials, _receiver, _push, _refresh, _app):
        slot.clear()
    _mapping.clear()
