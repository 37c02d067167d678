"""Deterministic demo infobase: organization, nomenclature tree, prices, stock, parties, managers."""

from __future__ import annotations

import uuid
from typing import Any

from sandbox.onec.actions import stock_record
from sandbox.onec.config import OneCEmulatorConfig
from sandbox.onec.model import ServiceModel
from sandbox.onec.writes import ObjectWriter

SEED_NAMESPACE = uuid.UUID("5d1c0a16-0000-4000-8000-0000000001c0")
PRICE_PERIOD = "2024-01-01T00:00:00"
STOCK_PERIOD = "2024-01-01T00:00:00"
STOCK_RECORDER_TYPE = "StandardODATA.Document_ОприходованиеЗапасов"
BITRIX_DEAL_PROPERTY = "ID сделки Битрикс24"
# The employee orders get when the deal's responsible has no 1C employee (mapping
# `onec.default_responsible`); deliberately no Bitrix24 user matches it.
DEFAULT_EMPLOYEE = "Менеджер по умолчанию"

RefMap = dict[str, dict[str, str]]


def seed_ref(set_name: str, name: str) -> str:
    """The fixed Ref_Key of a seeded object, e.g. seed_ref("Catalog_Номенклатура", "Болт М10х50")."""
    return str(uuid.uuid5(SEED_NAMESPACE, f"{set_name}:{name}"))


# The address parts 1C fills for a Moscow address (country, region, city).
MOSCOW = {"Страна": "РОССИЯ", "Регион": "Москва г", "Город": "Москва"}

# (name, parent, article, type, unit, wholesale price, stock main, stock second)
NOMENCLATURE_ITEMS: tuple[tuple[str, str, str, str, str, float, float, float], ...] = (
    ("Труба профильная 40х20х2", "Трубы", "ТП-40202", "Запас", "м", 185.0, 320.0, 40.0),
    ("Труба профильная 60х40х3", "Трубы", "ТП-60403", "Запас", "м", 342.5, 150.0, 0.0),
    ("Труба круглая 57х3,5", "Трубы", "ТК-5735", "Запас", "м", 410.0, 75.0, 25.0),
    ("Лист г/к 2 мм 1250х2500", "Листы", "ЛГК-2", "Запас", "шт", 5200.0, 30.0, 12.0),
    ("Лист оцинкованный 0,5 мм", "Листы", "ЛО-05", "Запас", "шт", 1150.0, 0.0, 60.0),
    ("Уголок 50х50х5", "Металлопрокат", "У-50505", "Запас", "м", 260.0, 500.0, 100.0),
    ("Болт М10х50", "Крепёж", "БМ-1050", "Запас", "шт", 12.5, 2000.0, 500.0),
    ("Гайка М10", "Крепёж", "ГМ-10", "Запас", "шт", 3.2, 5000.0, 0.0),
    ("Шайба 10", "Крепёж", "Ш-10", "Запас", "шт", 1.1, 8000.0, 1500.0),
    ("Доставка по городу", "Услуги", "УС-ДОСТ", "Услуга", "усл", 2500.0, 0.0, 0.0),
    ("Резка металла", "Услуги", "УС-РЕЗ", "Услуга", "усл", 150.0, 0.0, 0.0),
    ("Монтаж металлоконструкций", "Услуги", "РБ-МОНТ", "Работа", "усл", 8000.0, 0.0, 0.0),
    # The service a deal without product rows is written with (mapping `onec.deal_amount_item`).
    ("Товары по сделке Битрикс24", "Услуги", "Б24-СДЕЛКА", "Услуга", "усл", 0.0, 0.0, 0.0),
)
NOMENCLATURE_FOLDERS = (
    ("Материалы", ""),
    ("Металлопрокат", "Материалы"),
    ("Трубы", "Металлопрокат"),
    ("Листы", "Металлопрокат"),
    ("Крепёж", "Материалы"),
    ("Услуги", ""),
)
UNITS = {
    "шт": ("796", "Штука", "PCE"),
    "м": ("006", "Метр", "MTR"),
    "кг": ("166", "Килограмм", "KGM"),
    "усл": ("876", "Условная единица", ""),
}
ORDER_STATES = ("Новый", "В работе", "Завершен", "Отменен")
WAREHOUSES = ("Основной склад", "Склад №2")
PROPERTY_SETS = {
    "Справочник_Контрагенты": "Контрагенты",
    "Справочник_Номенклатура": "Номенклатура",
    "Справочник_КонтактныеЛица": "Контактные лица",
    "Документ_ЗаказПокупателя": "Заказ покупателя",
    "Документ_ПоступлениеНаСчет": "Поступление на счет",
    "Документ_ПоступлениеВКассу": "Поступление в кассу",
    "Документ_РасходнаяНакладная": "Расходная накладная",
}
CONTACT_KINDS = {
    "EmailКонтрагента": ("Email", "АдресЭлектроннойПочты"),
    "ТелефонКонтрагента": ("Телефон", "Телефон"),
    "ЮрАдресКонтрагента": ("Юридический адрес", "Адрес"),
    "ФактАдресКонтрагента": ("Фактический адрес", "Адрес"),
    "ПочтовыйАдресКонтрагента": ("Почтовый адрес", "Адрес"),
    "EmailКонтактногоЛица": ("Email контактного лица", "АдресЭлектроннойПочты"),
    "ТелефонРабочийКонтактногоЛица": ("Рабочий телефон", "Телефон"),
    "EmailПользователя": ("Email пользователя", "АдресЭлектроннойПочты"),
    "EmailФизическиеЛица": ("Email физического лица", "АдресЭлектроннойПочты"),
}


class Seeder:
    def __init__(self, model: ServiceModel, writer: ObjectWriter, config: OneCEmulatorConfig) -> None:
        self.model = model
        self.writer = writer
        self.config = config
        self.refs: RefMap = {}

    def add(self, set_name: str, name: str, body: dict[str, Any], predefined: str = "") -> str:
        ref = seed_ref(set_name, name)
        obj = self.writer.create(self.model.sets[set_name], body, ref=ref)
        if predefined:
            obj["Predefined"] = True
            obj["PredefinedDataName"] = predefined
        self.refs.setdefault(set_name, {})[name] = ref
        return ref

    def ref(self, set_name: str, name: str) -> str:
        return self.refs[set_name][name]

    def run(self) -> RefMap:
        self.reference_data()
        self.people()
        self.nomenclature()
        self.parties()
        self.additional_attributes()
        self.sample_order()
        return self.refs

    def contact_row(self, line: int, kind: str, text: str, **extra: str) -> dict[str, Any]:
        kind_name, kind_type = CONTACT_KINDS[kind]
        return {
            "LineNumber": line,
            "Тип": kind_type,
            "Вид_Key": self.ref("Catalog_ВидыКонтактнойИнформации", kind_name),
            "Представление": text,
            **extra,
        }

    def reference_data(self) -> None:
        self.add(
            "Catalog_Валюты",
            "руб.",
            {
                "Code": "643",
                "Description": "руб.",
                "НаименованиеПолное": "Российский рубль",
                "СимвольноеПредставление": "₽",
            },
        )
        for predefined, (name, kind) in CONTACT_KINDS.items():
            self.add(
                "Catalog_ВидыКонтактнойИнформации",
                name,
                {"Description": name, "Тип": kind, "Используется": True},
                predefined=predefined,
            )
        self.add(
            "Catalog_Организации",
            'ООО "Металл-Сервис"',
            {
                "Description": "Металл-Сервис ООО",
                "НаименованиеПолное": 'Общество с ограниченной ответственностью "Металл-Сервис"',
                "ИНН": "7701234567",
                "ОГРН": "1027700123456",
                "Префикс": "МС",
            },
        )
        organization = self.ref("Catalog_Организации", 'ООО "Металл-Сервис"')
        for rate, value, exempt in (
            ("20%", 20.0, False),
            ("10%", 10.0, False),
            ("0%", 0.0, False),
            ("Без НДС", 0.0, True),
        ):
            self.add(
                "Catalog_СтавкиНДС", rate, {"Description": rate, "Ставка": value, "НеОблагается": exempt}
            )
        for short, (code, full, international) in UNITS.items():
            self.add(
                "Catalog_КлассификаторЕдиницИзмерения",
                short,
                {
                    "Code": code,
                    "Description": short,
                    "НаименованиеПолное": full,
                    "МеждународноеСокращение": international,
                },
            )
        rub = self.ref("Catalog_Валюты", "руб.")
        for kind, predefined in (("Оптовая", "Оптовая"), ("Учетная", "Учетная"), ("Розничная", "")):
            self.add(
                "Catalog_ВидыЦен",
                kind,
                {
                    "Description": kind,
                    "ВалютаЦены_Key": rub,
                    "ЦенаВключаетНДС": True,
                    "ТипВидаЦен": "Статический",
                    "ЦеныАктуальны": True,
                },
                predefined=predefined,
            )
        for name in WAREHOUSES:
            self.add(
                "Catalog_СтруктурныеЕдиницы",
                name,
                {"Description": name, "ТипСтруктурнойЕдиницы": "Склад", "Организация_Key": organization},
            )
        self.add(
            "Catalog_СтруктурныеЕдиницы",
            "Основное подразделение",
            {
                "Description": "Основное подразделение",
                "ТипСтруктурнойЕдиницы": "Подразделение",
                "Организация_Key": organization,
            },
        )
        for state in ORDER_STATES:
            self.add(
                "Catalog_СостоянияЗаказовПокупателей",
                state,
                {"Description": state},
                predefined="Завершен" if state == "Завершен" else "",
            )
        self.add(
            "Catalog_Кассы", "Основная касса", {"Description": "Основная касса", "ВалютаПоУмолчанию_Key": rub}
        )
        self.add(
            "Catalog_БанковскиеСчета",
            "Расчетный счет",
            {
                "Description": "Расчетный счет (ПАО Сбербанк)",
                "НомерСчета": "40702810938000012345",
                "Owner": organization,
                "Owner_Type": "StandardODATA.Catalog_Организации",
                "ВалютаДенежныхСредств_Key": rub,
            },
        )

    def people(self) -> None:
        self.add("Catalog_Пользователи", "Администратор", {"Description": "Администратор"})
        for manager in self.config.managers:
            person = self.add(
                "Catalog_ФизическиеЛица",
                manager.full_name,
                {
                    "Description": manager.full_name,
                    "КонтактнаяИнформация": [
                        self.contact_row(1, "EmailФизическиеЛица", manager.email, АдресЭП=manager.email)
                    ],
                },
            )
            self.add(
                "Catalog_Пользователи",
                manager.full_name,
                {
                    "Description": manager.full_name,
                    "ФизическоеЛицо": person,
                    "ФизическоеЛицо_Type": "StandardODATA.Catalog_ФизическиеЛица",
                    "КонтактнаяИнформация": [
                        self.contact_row(1, "EmailПользователя", manager.email, АдресЭП=manager.email)
                    ],
                },
            )
            self.add(
                "Catalog_Сотрудники",
                manager.full_name,
                {
                    "Description": manager.full_name,
                    "Физлицо_Key": person,
                    "ТипЗанятости": "ОсновноеМестоРаботы",
                },
            )
        self.add("Catalog_Сотрудники", DEFAULT_EMPLOYEE, {"Description": DEFAULT_EMPLOYEE})

    def nomenclature(self) -> None:
        for folder, parent in NOMENCLATURE_FOLDERS:
            body: dict[str, Any] = {"Description": folder, "IsFolder": True}
            if parent:
                body["Parent_Key"] = self.ref("Catalog_Номенклатура", parent)
            self.add("Catalog_Номенклатура", folder, body)
        wholesale = self.ref("Catalog_ВидыЦен", "Оптовая")
        organization = self.ref("Catalog_Организации", 'ООО "Металл-Сервис"')
        vat = self.ref("Catalog_СтавкиНДС", "20%")
        store = self.writer.store
        line = 0
        for name, parent, article, kind, unit, price, main_qty, second_qty in NOMENCLATURE_ITEMS:
            unit_ref = self.ref("Catalog_КлассификаторЕдиницИзмерения", unit)
            item = self.add(
                "Catalog_Номенклатура",
                name,
                {
                    "Description": name,
                    "НаименованиеПолное": name,
                    "Parent_Key": self.ref("Catalog_Номенклатура", parent),
                    "Артикул": article,
                    "ТипНоменклатуры": kind,
                    "ЕдиницаИзмерения_Key": unit_ref,
                    "СтавкаНДС_Key": vat,
                },
            )
            store.records("InformationRegister_ЦеныНоменклатуры").append(
                {
                    "Period": PRICE_PERIOD,
                    "ВидЦен_Key": wholesale,
                    "Номенклатура_Key": item,
                    "Характеристика_Key": "00000000-0000-0000-0000-000000000000",
                    "Цена": price,
                    "Актуальность": True,
                    "ЕдиницаИзмерения": unit_ref,
                    "ЕдиницаИзмерения_Type": "StandardODATA.Catalog_КлассификаторЕдиницИзмерения",
                    "ВключаяХарактеристики": False,
                    "Автор_Key": "00000000-0000-0000-0000-000000000000",
                }
            )
            for warehouse, quantity in zip(WAREHOUSES, (main_qty, second_qty), strict=True):
                if quantity:
                    line += 1
                    store.stock_records.append(
                        stock_record(
                            seed_ref("Document_ОприходованиеЗапасов", "Начальные остатки"),
                            STOCK_RECORDER_TYPE,
                            STOCK_PERIOD,
                            line,
                            "Receipt",
                            Организация_Key=organization,
                            Номенклатура_Key=item,
                            СтруктурнаяЕдиница_Key=self.ref("Catalog_СтруктурныеЕдиницы", warehouse),
                            Количество=quantity,
                        )
                    )

    def parties(self) -> None:
        manager = (
            self.ref("Catalog_Сотрудники", self.config.managers[0].full_name)
            if self.config.managers
            else None
        )
        # No «Битрикс24» folder: like a fresh base, setup creates it (issue 10 item 12).
        self.add("Catalog_Контрагенты", "Покупатели", {"Description": "Покупатели", "IsFolder": True})
        self.add("Catalog_Контрагенты", "Поставщики", {"Description": "Поставщики", "IsFolder": True})
        buyer = self.add(
            "Catalog_Контрагенты",
            "Альфа-Строй ООО",
            {
                "Description": "Альфа-Строй ООО",
                "Parent_Key": self.ref("Catalog_Контрагенты", "Покупатели"),
                "НаименованиеПолное": 'Общество с ограниченной ответственностью "Альфа-Строй"',
                "ВидКонтрагента": "ЮридическоеЛицо",
                "ИНН": "7705123456",
                "КПП": "770501001",
                "КодПоОКПО": "12345678",
                "Покупатель": True,
                "ВестиРасчетыПоДоговорам": True,
                "ВестиРасчетыПоЗаказам": True,
                "Ответственный_Key": manager,
                "АдресЭП": "info@alfa-stroy.example",
                "НомерТелефона": "+7 495 123-45-67",
                "КонтактнаяИнформация": [
                    self.contact_row(
                        1,
                        "ЮрАдресКонтрагента",
                        "115054, Москва г, Валовая ул, дом 21, офис 5",
                        **MOSCOW,
                    ),
                    self.contact_row(
                        2,
                        "ФактАдресКонтрагента",
                        "115054, Москва г, Дубининская ул, дом 57",
                        **MOSCOW,
                    ),
                    self.contact_row(
                        3,
                        "ТелефонКонтрагента",
                        "+7 495 123-45-67",
                        НомерТелефона="+74951234567",
                        НомерТелефонаБезКодов="1234567",
                    ),
                    self.contact_row(
                        4, "EmailКонтрагента", "info@alfa-stroy.example", АдресЭП="info@alfa-stroy.example"
                    ),
                ],
            },
        )
        self.add(
            "Catalog_Контрагенты",
            "СтальПоставка АО",
            {
                "Description": "СтальПоставка АО",
                "Parent_Key": self.ref("Catalog_Контрагенты", "Поставщики"),
                "НаименованиеПолное": 'Акционерное общество "СтальПоставка"',
                "ВидКонтрагента": "ЮридическоеЛицо",
                "ИНН": "6658123456",
                "КПП": "665801001",
                "КодПоОКПО": "87654321",
                "Поставщик": True,
                "ВестиРасчетыПоДоговорам": True,
            },
        )
        self.add(
            "Catalog_Контрагенты",
            "Смирнов Алексей Викторович",
            {
                "Description": "Смирнов Алексей Викторович",
                "ВидКонтрагента": "ФизическоеЛицо",
                "Покупатель": True,
                "ФИО": "Смирнов Алексей Викторович",
                "Parent_Key": self.ref("Catalog_Контрагенты", "Покупатели"),
                "КонтактнаяИнформация": [
                    self.contact_row(
                        1, "ТелефонКонтрагента", "+7 916 555-12-34", НомерТелефона="+79165551234"
                    )
                ],
            },
        )
        self.add(
            "Catalog_Контрагенты",
            "ИП Кузнецов Дмитрий Олегович",
            {
                "Description": "ИП Кузнецов Дмитрий Олегович",
                "ВидКонтрагента": "ИндивидуальныйПредприниматель",
                "НаименованиеПолное": "Индивидуальный предприниматель Кузнецов Дмитрий Олегович",
                "ИНН": "502712345678",
                "КодПоОКПО": "0123456789",
                "Покупатель": True,
                "Parent_Key": self.ref("Catalog_Контрагенты", "Покупатели"),
            },
        )
        contact = self.add(
            "Catalog_КонтактныеЛица",
            "Орлова Елена Павловна",
            {
                "Description": "Орлова Елена Павловна",
                "Owner_Key": buyer,
                "Должность": "Менеджер по закупкам",
                "КонтактнаяИнформация": [
                    self.contact_row(
                        1,
                        "EmailКонтактногоЛица",
                        "orlova@alfa-stroy.example",
                        АдресЭП="orlova@alfa-stroy.example",
                    ),
                    self.contact_row(
                        2, "ТелефонРабочийКонтактногоЛица", "+7 495 123-45-68", НомерТелефона="+74951234568"
                    ),
                ],
            },
        )
        organization = self.ref("Catalog_Организации", 'ООО "Металл-Сервис"')
        rub = self.ref("Catalog_Валюты", "руб.")
        for party, kind in (
            ("Альфа-Строй ООО", "СПокупателем"),
            ("СтальПоставка АО", "СПоставщиком"),
            ("Смирнов Алексей Викторович", "СПокупателем"),
            ("ИП Кузнецов Дмитрий Олегович", "СПокупателем"),
        ):
            self.add(
                "Catalog_ДоговорыКонтрагентов",
                f"Основной договор: {party}",
                {
                    "Description": "Основной договор",
                    "Owner_Key": self.ref("Catalog_Контрагенты", party),
                    "ВидДоговора": kind,
                    "Организация_Key": organization,
                    "ВалютаРасчетов_Key": rub,
                    "ВидЦен_Key": self.ref("Catalog_ВидыЦен", "Оптовая"),
                },
            )
        store = self.writer.store
        buyer_obj = store.get("Catalog_Контрагенты", buyer)
        assert buyer_obj is not None
        buyer_obj["КонтактноеЛицо_Key"] = contact
        buyer_obj["ДоговорПоУмолчанию_Key"] = self.ref(
            "Catalog_ДоговорыКонтрагентов", "Основной договор: Альфа-Строй ООО"
        )

    def additional_attributes(self) -> None:
        sets = "Catalog_НаборыДополнительныхРеквизитовИСведений"
        for predefined, title in PROPERTY_SETS.items():
            self.add(sets, predefined, {"Description": title, "Используется": True}, predefined=predefined)
        order_set = self.ref(sets, "Документ_ЗаказПокупателя")
        prop = self.add(
            "ChartOfCharacteristicTypes_ДополнительныеРеквизитыИСведения",
            BITRIX_DEAL_PROPERTY,
            {
                "Description": BITRIX_DEAL_PROPERTY,
                "Заголовок": BITRIX_DEAL_PROPERTY,
                "ValueType": {"Types": ["String"]},
                "НаборСвойств_Key": order_set,
                "Виден": True,
                "Доступен": True,
            },
        )
        order_set_obj = self.writer.store.get(sets, order_set)
        assert order_set_obj is not None
        order_set_obj["ДополнительныеРеквизиты"] = [
            {"LineNumber": 1, "Свойство_Key": prop, "ПометкаУдаления": False}
        ]
        order_set_obj["КоличествоРеквизитов"] = "1"

    def sample_order(self) -> None:
        item = self.ref("Catalog_Номенклатура", "Болт М10х50")
        unit = self.ref("Catalog_КлассификаторЕдиницИзмерения", "шт")
        self.add(
            "Document_ЗаказПокупателя",
            "Заказ Альфа-Строй",
            {
                "Date": "2024-03-01T10:00:00",
                "ВидОперации": "ЗаказНаПродажу",
                "Организация_Key": self.ref("Catalog_Организации", 'ООО "Металл-Сервис"'),
                "Контрагент_Key": self.ref("Catalog_Контрагенты", "Альфа-Строй ООО"),
                "Договор_Key": self.ref("Catalog_ДоговорыКонтрагентов", "Основной договор: Альфа-Строй ООО"),
                "ВалютаДокумента_Key": self.ref("Catalog_Валюты", "руб."),
                "Курс": 1,
                "Кратность": 1,
                "ВидЦен_Key": self.ref("Catalog_ВидыЦен", "Оптовая"),
                "СостояниеЗаказа": self.ref("Catalog_СостоянияЗаказовПокупателей", "В работе"),
                "СостояниеЗаказа_Type": "StandardODATA.Catalog_СостоянияЗаказовПокупателей",
                "СтруктурнаяЕдиницаРезерв_Key": self.ref("Catalog_СтруктурныеЕдиницы", "Основной склад"),
                "НалогообложениеНДС": "ОблагаетсяНДС",
                "СуммаВключаетНДС": True,
                "Ответственный_Key": self.ref("Catalog_Сотрудники", self.config.managers[0].full_name)
                if self.config.managers
                else None,
                "Запасы": [
                    {
                        "LineNumber": 1,
                        "Номенклатура_Key": item,
                        "Количество": 100,
                        "Цена": 12.5,
                        "Сумма": 1250,
                        "СтавкаНДС_Key": self.ref("Catalog_СтавкиНДС", "20%"),
                        "СуммаНДС": 208.33,
                        "Всего": 1250,
                        "ЕдиницаИзмерения": unit,
                        "ЕдиницаИзмерения_Type": "StandardODATA.Catalog_КлассификаторЕдиницИзмерения",
                    }
                ],
            },
        )


def seed(model: ServiceModel, writer: ObjectWriter, config: OneCEmulatorConfig) -> RefMap:
    return Seeder(model, writer, config).run()
