"""Deterministic starting data: funnels and stages, users, directories, requisite presets, catalog."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.b24.config import OutgoingWebhook
from sandbox.b24.methods import statuses
from sandbox.b24.state import Portal

SEED_DATE = "2024-01-09T09:00:00+03:00"

type Stage = tuple[str, str, str | None]


@dataclass
class Funnel:
    id: int
    name: str
    sort: int
    stages: list[Stage]


@dataclass
class SeedData:
    funnels: list[Funnel] = field(
        default_factory=lambda: [
            Funnel(
                0,
                "Продажи",
                100,
                [
                    ("NEW", "Новая", None),
                    ("PREPARATION", "Подготовка документов", None),
                    ("PREPAYMENT_INVOICE", "Продажа материала", None),
                    ("EXECUTING", "Получение обратной связи", None),
                    ("WON", "Успешная сделка", "S"),
                    ("LOSE", "Сделка провалена", "F"),
                ],
            ),
            Funnel(
                1,
                "Заказ материала",
                200,
                [
                    ("NEW", "Новая", None),
                    ("PREPARATION", "Заказ у поставщика", None),
                    ("EXECUTING", "Материал получен", None),
                    ("WON", "Сделка успешна", "S"),
                    ("LOSE", "Сделка провалена", "F"),
                ],
            ),
        ]
    )
    # (id, name, last name, e-mail, position, admin)
    users: list[tuple[int, str, str, str, str, bool]] = field(
        default_factory=lambda: [
            (1, "Алексей", "Администраторов", "admin@sandbox.example", "Администратор портала", True),
            (2, "Мария", "Иванова", "m.ivanova@sandbox.example", "Менеджер по продажам", False),
            (3, "Сергей", "Кузнецов", "s.kuznetsov@sandbox.example", "Менеджер по продажам", False),
            (4, "Ольга", "Соколова", "o.sokolova@sandbox.example", "Менеджер по закупкам", False),
        ]
    )
    company_types: list[tuple[str, str]] = field(
        default_factory=lambda: [
            ("CUSTOMER", "Клиент"),
            ("SUPPLIER", "Поставщик"),
            ("COMPETITOR", "Конкурент"),
            ("PARTNER", "Партнёр"),
            ("OTHER", "Другое"),
        ]
    )
    contact_types: list[tuple[str, str]] = field(
        default_factory=lambda: [
            ("CLIENT", "Клиенты"),
            ("SUPPLIER", "Поставщики"),
            ("PARTNER", "Партнёры"),
            ("OTHER", "Другое"),
        ]
    )


_DEAL_TYPES = [
    ("SALE", "Продажа"),
    ("COMPLEX", "Комплексная продажа"),
    ("GOODS", "Продажа товара"),
    ("SERVICES", "Продажа услуги"),
    ("SERVICE", "Сервисное обслуживание"),
]
_SOURCES = [
    ("CALL", "Звонок"),
    ("EMAIL", "Электронная почта"),
    ("WEB", "Веб-сайт"),
    ("ADVERTISING", "Реклама"),
    ("PARTNER", "Существующий клиент"),
    ("RECOMMENDATION", "По рекомендации"),
    ("TRADE_SHOW", "Выставка"),
    ("WEBFORM", "CRM-форма"),
    ("CALLBACK", "Обратный звонок"),
    ("OTHER", "Другое"),
]
_PRESETS = [(1, "Организация", 500), (2, "ИП", 500), (3, "Физ. лицо", 500), (4, "Организация (доп.)", 500)]


def seed_portal(portal: Portal, data: SeedData | None = None) -> None:
    data = data or SeedData()
    for funnel in data.funnels:
        statuses.add_funnel(portal, funnel.id, funnel.name, funnel.sort, funnel.stages)
    for entity, values in (
        ("COMPANY_TYPE", data.company_types),
        ("CONTACT_TYPE", data.contact_types),
        ("DEAL_TYPE", _DEAL_TYPES),
        ("SOURCE", _SOURCES),
    ):
        for index, (code, name) in enumerate(values):
            statuses.add_status(portal, entity, code, name, (index + 1) * 10, system=index == 0)
    for user_id, name, last_name, email, position, admin in data.users:
        portal.table("users").put(user_id, _user(user_id, name, last_name, email, position, admin))
    portal.table("users").next_id = max(u[0] for u in data.users) + 1
    for preset_id, name, sort in _PRESETS:
        portal.table("presets").put(preset_id, _preset(preset_id, name, sort))
    portal.table("presets").next_id = 5
    _seed_catalog(portal)
    portal.settings["inventory_management"] = portal.config.inventory_management
    for hook in portal.config.outgoing_webhooks:
        add_outgoing_webhook(portal, hook)


def add_outgoing_webhook(portal: Portal, hook: OutgoingWebhook) -> list[int]:
    table = portal.table("event_handlers")
    ids = []
    for event in hook.events:
        new_id = table.new_id()
        table.put(
            new_id,
            {
                "id": new_id,
                "kind": "webhook",
                "event": event.upper(),
                "handler": hook.handler,
                "auth_type": "0",
                "offline": 0,
                "application_token": hook.application_token,
            },
        )
        ids.append(new_id)
    return ids


def _user(user_id: int, name: str, last_name: str, email: str, position: str, admin: bool) -> dict[str, Any]:
    return {
        "ID": user_id,
        "ACTIVE": True,
        "NAME": name,
        "LAST_NAME": last_name,
        "SECOND_NAME": "",
        "EMAIL": email,
        "LAST_LOGIN": SEED_DATE,
        "DATE_REGISTER": "2024-01-09T00:00:00+03:00",
        "TIME_ZONE": "",
        "IS_ONLINE": "N",
        "TIMESTAMP_X": {},
        "LAST_ACTIVITY_DATE": {},
        "PERSONAL_GENDER": "",
        "PERSONAL_WWW": "",
        "PERSONAL_BIRTHDAY": "",
        "PERSONAL_MOBILE": "",
        "PERSONAL_CITY": "",
        "WORK_PHONE": "",
        "WORK_POSITION": position,
        "UF_EMPLOYMENT_DATE": "",
        "UF_DEPARTMENT": [1],
        "USER_TYPE": "employee",
        "_ADMIN": admin,
    }


def _preset(preset_id: int, name: str, sort: int) -> dict[str, Any]:
    return {
        "ID": preset_id,
        "ENTITY_TYPE_ID": 8,
        "COUNTRY_ID": 1,
        "DATE_CREATE": SEED_DATE,
        "DATE_MODIFY": None,
        "CREATED_BY_ID": 1,
        "MODIFY_BY_ID": None,
        "NAME": name,
        "XML_ID": f"#CRM_REQUISITE_PRESET_DEF_RU_{preset_id}#",
        "ACTIVE": "Y",
        "SORT": sort,
    }


def _seed_catalog(portal: Portal) -> None:
    catalogs = portal.table("catalogs")
    # iblockTypeId is 0 in the docs' sample; real portals may return a type code instead.
    catalogs.put(
        23,
        {
            "id": 23,
            "iblockId": 23,
            "iblockTypeId": 0,
            "lid": "s1",
            "name": "Каталог товаров CRM",
            "productIblockId": None,
            "skuPropertyId": None,
            "subscription": "N",
            "vatId": 1,
        },
    )
    catalogs.put(
        24,
        {
            "id": 24,
            "iblockId": 24,
            "iblockTypeId": 0,
            "lid": "s1",
            "name": "Каталог товаров CRM (предложения)",
            "productIblockId": 23,
            "skuPropertyId": 97,
            "subscription": "N",
            "vatId": 1,
        },
    )
    portal.table("price_types").put(
        1,
        {
            "id": 1,
            "name": "Базовая цена",
            "base": "Y",
            "sort": 100,
            "xmlId": "BASE",
            "createdBy": 1,
            "modifiedBy": 1,
            "dateCreate": SEED_DATE,
            "timestampX": SEED_DATE,
        },
    )
    portal.table("price_types").next_id = 2
    portal.table("stores").put(
        1,
        {
            "active": "Y",
            "address": "г. Москва, ул. Складская, 1",
            "code": "main",
            "dateCreate": SEED_DATE,
            "dateModify": SEED_DATE,
            "description": "",
            "email": "",
            "gpsN": 0.0,
            "gpsS": 0.0,
            "id": 1,
            "imageId": None,
            "issuingCenter": "N",
            "modifiedBy": 1,
            "phone": "",
            "schedule": "",
            "sort": 100,
            "title": "Основной склад",
            "userId": 1,
            "xmlId": None,
        },
    )
    portal.table("stores").next_id = 2
