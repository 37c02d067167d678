"""One typed configuration: runtime settings from the environment, secrets, and the mapping file.

- Runtime settings (`BRIDGE_*` environment variables; SAM sets them in template.yaml).
- Secrets (Bitrix24 inbound webhook URL and outbound application token, 1C OData URL and
  credentials): from Secrets Manager through Powertools Parameters when `BRIDGE_SECRET_ID` is set
  (AWS), else from `BRIDGE_B24_WEBHOOK_URL`, `BRIDGE_B24_APPLICATION_TOKEN`, `BRIDGE_ONEC_BASE_URL`,
  `BRIDGE_ONEC_USER`, `BRIDGE_ONEC_PASSWORD` (local stack, tests).
- The mapping (names of funnels and stages, user-field codes, price kind, warehouses, the 1C folder
  for new counterparties, the manager map): a TOML file, `BRIDGE_MAPPING_FILE`, defaulting to the
  packaged `config/mapping.default.toml`.

Everything is validated on first use; a bad or missing value raises `ConfigurationError` whose
message names the setting. Nothing is read at import time.
"""

from __future__ import annotations

import json
import os
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bridge.catalog.config import CatalogMapping
from bridge.domain.phones import PhoneKinds
from bridge.errors import ConfigurationError
from bridge.parties.config import PartiesMapping
from bridge.payments.config import PaymentsMapping

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


class RuntimeSettings(BaseSettings):
    """Where things are: table, queue, endpoints of the AWS services (local stack overrides them)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    table_name: str = Field(min_length=1)
    queue_url: str | None = None
    aws_endpoint_url: str | None = None  # moto server in the local stack; None in AWS
    secret_id: str | None = None  # Secrets Manager secret holding `Secrets` as JSON
    mapping_file: Path | None = None
    b24_rate_limit: RateLimit = RateLimit()
    http_timeout_s: float = Field(20.0, gt=0)
    max_attempts: int = Field(4, ge=1, le=10)
    idempotency_ttl_s: int = Field(3600, ge=60)
    audit_ttl_days: int = Field(30, ge=1)


class Secrets(BaseModel):
    """Credentials of both systems. `repr` and `str` never show the secret parts."""

    model_config = ConfigDict(frozen=True)

    b24_webhook_url: SecretStr
    b24_application_token: SecretStr
    onec_base_url: HttpUrl
    onec_user: str = Field(min_length=1)
    onec_password: SecretStr
    # Shared secrets of our own HTTP routes; absent means every request to that route is refused.
    onec_push_secret: SecretStr | None = None  # POST /1c/events (a 1C-side extension)
    stock_refresh_token: SecretStr | None = None  # POST /stock/refresh

    @field_validator("b24_webhook_url")
    @classmethod
    def _webhook_shape(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value()
        if not url.startswith(("http://", "https://")) or "/rest/" not in url:
            raise ValueError("must look like https://<portal>/rest/<user id>/<code>/")
        if not url.endswith("/"):
            return SecretStr(url + "/")
        return value

    @field_validator("b24_application_token")
    @classmethod
    def _token_present(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value


class StageRef(BaseModel):
    """A stage named as people see it; ids are resolved at setup, never hard-coded."""

    model_config = ConfigDict(frozen=True)
    funnel: str = Field(min_length=1)
    stage: str = Field(min_length=1)  # a stage name, or "first" for the funnel's first working stage


type CounterpartyKindName = Literal["ЮридическоеЛицо", "ИндивидуальныйПредприниматель", "ФизическоеЛицо"]


def _default_presets() -> dict[int, CounterpartyKindName]:
    # 1 Организация, 2 ИП, 3 Физ. лицо, 4 Организация (доп.)
    return {
        1: "ЮридическоеЛицо",
        2: "ИндивидуальныйПредприниматель",
        3: "ФизическоеЛицо",
        4: "ЮридическоеЛицо",
    }


class DealMapping(BaseModel):
    model_config = ConfigDict(frozen=True)
    create_order_on: Literal["trigger_stages", "deal_created"] = "trigger_stages"
    trigger_stages: tuple[StageRef, ...] = (
        StageRef(funnel="Продажи", stage="Продажа материала"),
        StageRef(funnel="Заказ материала", stage="first"),
    )
    main_funnel: str = "Продажи"
    materials_funnel: str = "Заказ материала"
    feedback_stage: str = "Получение обратной связи"
    copy_out_of_stock_to_materials: bool = True
    # Deal user fields the flows write (created by setup; mappings.md §1–2).
    order_number_field: str = "UF_CRM_1C_ORDER_NO"
    order_ref_field: str = "UF_CRM_1C_ORDER_REF"
    pay_date_field: str = "UF_CRM_1C_PAY_DATE"
    pay_type_field: str = "UF_CRM_1C_PAY_TYPE"
    paid_field: str = "UF_CRM_1C_PAID"
    pay_method_field: str = "UF_CRM_1C_PAY_METHOD"
    pay_comment_field: str = "UF_CRM_1C_PAY_COMMENT"
    pay_status_field: str = "UF_CRM_1C_PAY_STATUS"
    order_sum_field: str = "UF_CRM_1C_ORDER_SUM"
    # Where the deal id lives in 1C: a row of the order's ДополнительныеРеквизиты (default), or
    # НомерВходящегоДокумента = "<prefix><deal id>" where additional attributes are switched off.
    deal_id_storage: Literal["additional_attribute", "incoming_number"] = "additional_attribute"
    incoming_number_prefix: str = Field("B24-", max_length=10)
    post_shipment: bool = False  # post the shipment made for a won deal
    # Bitrix24 requisite preset id → 1C ВидКонтрагента (RU portal defaults).
    requisite_presets: dict[int, CounterpartyKindName] = Field(default_factory=_default_presets)
    # §2.2.8: funnels where, once the order exists, work goes on in Bitrix24 alone: deal edits do
    # not update the order and 1C order states do not move the deal; only a won deal reaches 1C.
    no_exchange_after_order_funnels: tuple[str, ...] = ("Заказ материала",)


class OneCMapping(BaseModel):
    model_config = ConfigDict(frozen=True)
    organization: str = ""  # Description of Catalog_Организации; empty = the only one
    price_kind: str = "Оптовая"
    warehouses: tuple[str, ...] = ()  # Catalog_СтруктурныеЕдиницы descriptions; empty = all
    new_counterparty_folder: str = "Битрикс24"
    # Catalog_Сотрудники description: the order's Ответственный when the deal's responsible has no
    # 1C employee (an order is never written without one; setup checks it exists).
    default_responsible: str = "Менеджер по умолчанию"
    deal_id_attribute: str = "ID сделки Битрикс24"
    # Catalog_СостоянияЗаказовПокупателей descriptions: new order, won deal, lost deal.
    initial_order_state: str = "Новый"
    completed_order_state: str = "Завершен"
    cancelled_order_state: str = "Отменен"
    reserve_warehouse: str = "Основной склад"  # Catalog_СтруктурныеЕдиницы; empty = none
    # Catalog_ВидыКонтактнойИнформации descriptions; empty = rows without a kind.
    # Phone kinds: `[phones]` (bridge.domain.phones), one table for every flow.
    counterparty_email_kind: str = "Email"
    contact_email_kind: str = "Email контактного лица"
    # Catalog_Номенклатура (a service) carrying the deal's amount when the deal has no product rows.
    deal_amount_item: str = "Товары по сделке Битрикс24"


class Mapping(BaseModel):
    """The customer's decisions (mappings.md), validated at start."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    deal: DealMapping = DealMapping()
    onec: OneCMapping = OneCMapping()
    catalog: CatalogMapping = CatalogMapping()
    payments: PaymentsMapping = PaymentsMapping()
    parties: PartiesMapping = PartiesMapping()
    # Bitrix24 PHONE VALUE_TYPE ⇄ 1C contact-information kind, for every flow.
    phones: PhoneKinds = PhoneKinds()
    # Bitrix24 user id → 1C employee description, used after the e-mail match fails.
    managers: dict[str, str] = Field(default_factory=dict)

    @field_validator("onec", mode="before")
    @classmethod
    def _phone_kinds_moved(cls, value: Any) -> Any:
        # [onec] ignores unknown keys; a phone kind left there would be dropped without a word.
        moved = sorted(set(value) & _MOVED_TO_PHONES) if isinstance(value, dict) else []
        if moved:
            raise ValueError(f"{', '.join(moved)}: phone kinds moved to [phones] (docs/configuration.md)")
        return value


_MOVED_TO_PHONES = frozenset(
    {"counterparty_phone_kind", "contact_work_phone_kind", "contact_mobile_phone_kind"}
)


def _describe(error: ValidationError, prefix: str) -> str:
    lines = []
    for item in error.errors():
        name = (
            prefix + "_".join(str(p) for p in item["loc"]).upper()
            if prefix
            else ".".join(str(p) for p in item["loc"])
        )
        lines.append(f"{name}: {item['msg']}")
    return "; ".join(lines)


@cache
def runtime_settings() -> RuntimeSettings:
    try:
        return RuntimeSettings()
    except ValidationError as error:
        raise ConfigurationError(f"bad setting: {_describe(error, ENV_PREFIX)}") from None


def _secrets_from_env() -> dict[str, Any]:
    found = {name: os.environ.get(ENV_PREFIX + name.upper()) for name in Secrets.model_fields}
    return {name: value for name, value in found.items() if value is not None}


@cache
def secrets() -> Secrets:
    """Secrets Manager (through Powertools Parameters, cached) in AWS; environment locally."""
    secret_id = runtime_settings().secret_id
    if secret_id:
        from aws_lambda_powertools.utilities import parameters

        raw = parameters.get_secret(secret_id, max_age=300)
        try:
            data: dict[str, Any] = json.loads(raw) if isinstance(raw, str) else json.loads(raw.decode())
        except ValueError:
            raise ConfigurationError(f"secret {secret_id}: not a JSON object") from None
        source = f"secret {secret_id}: "
        prefix = ""
    else:
        data = _secrets_from_env()
        source = ""
        prefix = ENV_PREFIX
    try:
        return Secrets.model_validate(data)
    except ValidationError as error:
        raise ConfigurationError(f"bad setting: {source}{_describe(error, prefix)}") from None


def load_mapping(path: Path | None) -> Mapping:
    if path is None:
        text = resources.files("bridge.config").joinpath("mapping.default.toml").read_text("utf-8")
        where = "the packaged default mapping"
    else:
        try:
            text = path.read_text("utf-8")
        except OSError as error:
            reason = error.strerror
            raise ConfigurationError(f"{ENV_PREFIX}MAPPING_FILE: cannot read {path}: {reason}") from None
        where = str(path)
    try:
        return Mapping.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"{ENV_PREFIX}MAPPING_FILE ({where}): not valid TOML: {error}") from None
    except ValidationError as error:
        raise ConfigurationError(f"{ENV_PREFIX}MAPPING_FILE ({where}): {_describe(error, '')}") from None


@cache
def mapping() -> Mapping:
    return load_mapping(runtime_settings().mapping_file)


def reset_caches() -> None:
    """For tests and the local stack, after the environment changed."""
    runtime_settings.cache_clear()
    secrets.cache_clear()
    mapping.cache_clear()
