"""`[onec]` of the mapping file: the 1C elements (by description) shared by the flows."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class OneCMapping(BaseModel):
    """`[onec]`: names of 1C elements the flows use (resolved to references at setup)."""

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
    # Phone kinds: `[phones]` (bridge.config.phones), one table for every flow.
    counterparty_email_kind: str = "Email"
    contact_email_kind: str = "Email контактного лица"
    # Catalog_Номенклатура (a service) carrying the deal's amount when the deal has no product rows.
    deal_amount_item: str = "Товары по сделке Битрикс24"
