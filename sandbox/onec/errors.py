"""OData error bodies and the statuses/codes the real 1C publication answers with (README §8, §14)."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

INTERNAL_ERROR_TEXT = (
    "Произошла внутренняя ошибка OData сервиса. "
    "Дополнительные сведения можно найти в технологическом журнале."
)
INVALID_COMPARISON_TEXT = (
    "Неверные параметры в операции сравнения. "
    "Нельзя сравнивать поля неограниченной длины и поля несовместимых типов."
)
# The first letter is a Latin "C" in the only real sample (examples/error.tabular-rows-direct.code13.json).
TABULAR_ROWS_DIRECT_TEXT = "Cоздание строк табличной части напрямую не поддерживается"


class ODataError(Exception):
    """Raised anywhere in request handling; rendered as the platform's `odata.error` body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"odata.error": {"code": self.code, "message": {"lang": "ru", "value": self.message}}}

    def response(self) -> Response:
        return Response(
            json.dumps(self.body(), ensure_ascii=False),
            status_code=self.status,
            media_type="application/json;odata=minimalmetadata;streaming=true;IEEE754Compatible=false",
        )


def internal_error() -> ODataError:
    return ODataError(500, "-1", INTERNAL_ERROR_TEXT)


def unexpected_json_character() -> ODataError:
    return ODataError(500, "-1", "Непредвиденный символ при чтении JSON")


def cannot_parse_value(value: object, edm_type: str) -> ODataError:
    return ODataError(400, "1", f"Не удалось разобрать строку '{value}' как значение типа {edm_type}!")


def path_segment_not_found(name: str) -> ODataError:
    return ODataError(400, "6", f"Сегмент пути {name} не найден!")


def method_not_found() -> ODataError:
    return ODataError(400, "6", "Метод не найден")


def entity_not_found() -> ODataError:
    return ODataError(404, "9", "Экземпляр сущности не найден")


def entity_set_not_found(name: str) -> ODataError:
    # Status and echo are observed (GATE-P7); the code is not — "8" is the guide's "entity type not found".
    return ODataError(404, "8", f"Тип сущности {name} не найден")


def tabular_rows_direct() -> ODataError:
    # HTTP status of code 13 is not recorded anywhere; 400 is the emulator's choice.
    return ODataError(400, "13", TABULAR_ROWS_DIRECT_TEXT)


def query_option_parse_error(option: str) -> ODataError:
    return ODataError(400, "14", f"Ошибка при разборе опции запроса {option}")


def invalid_comparison() -> ODataError:
    return ODataError(500, "-1", INVALID_COMPARISON_TEXT)


def function_call_error(name: str) -> ODataError:
    return ODataError(500, "21", f"Ошибка при вызове функции {name}")


def record_already_exists() -> ODataError:
    return ODataError(400, "15", "Запись с такими значениями уже существует")


def line_numbers_invalid() -> ODataError:
    return ODataError(
        400, "4", "Неверное значение свойства LineNumber: строки должны нумероваться с 1 подряд"
    )


def representation_not_supported() -> ODataError:
    return ODataError(400, "3", "Представление не поддерживается")


def method_forbidden() -> ODataError:
    return ODataError(400, "19", "HTTP метод не разрешен для этого ресурса")


def not_implemented(what: str) -> ODataError:
    return ODataError(501, "0", f"Не поддерживается эмулятором: {what}")
