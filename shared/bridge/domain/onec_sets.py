"""Names of the 1C:УНФ 1.6 OData entity sets and fixed values the bridge reads and writes, once.

Names are the standard configuration's and never configured (the customer's names of elements
live in the mapping file). Contract tests hold the emulator to the same names.
"""

from __future__ import annotations

# Catalogs
COUNTERPARTIES = "Catalog_Контрагенты"
CONTACT_PERSONS = "Catalog_КонтактныеЛица"
CONTACT_ROLES = "Catalog_РолиКонтактныхЛиц"
CONTACT_KINDS = "Catalog_ВидыКонтактнойИнформации"
EMPLOYEES = "Catalog_Сотрудники"
PERSONS = "Catalog_ФизическиеЛица"
NOMENCLATURE = "Catalog_Номенклатура"
ORGANIZATIONS = "Catalog_Организации"
WAREHOUSES = "Catalog_СтруктурныеЕдиницы"
PRICE_KINDS = "Catalog_ВидыЦен"
UNITS = "Catalog_КлассификаторЕдиницИзмерения"
VAT_RATES = "Catalog_СтавкиНДС"
ORDER_STATES = "Catalog_СостоянияЗаказовПокупателей"
PROPERTY_SETS = "Catalog_НаборыДополнительныхРеквизитовИСведений"
PROPERTIES = "ChartOfCharacteristicTypes_ДополнительныеРеквизитыИСведения"

# Documents
ORDERS = "Document_ЗаказПокупателя"
SHIPMENTS = "Document_РасходнаяНакладная"
BANK_RECEIPTS = "Document_ПоступлениеНаСчет"
CASH_RECEIPTS = "Document_ПоступлениеВКассу"
CARD_OPERATIONS = "Document_ОперацияПоПлатежнымКартам"

# Registers
PRICES = "InformationRegister_ЦеныНоменклатуры"
STOCK = "AccumulationRegister_ЗапасыНаСкладах"

# The predefined property set of customer orders (its PredefinedDataName-like description).
ORDER_PROPERTY_SET = "Документ_ЗаказПокупателя"

# `Тип` of a contact-information row (enum ТипыКонтактнойИнформации).
PHONE = "Телефон"
EMAIL = "АдресЭлектроннойПочты"
