"""REST errors as the portal reports them: `error` code (string, "" or int), text, HTTP status."""

from __future__ import annotations

from typing import Any


class B24Error(Exception):
    def __init__(self, code: str | int, description: str, status: int = 400) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.status = status

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "error_description": self.description}


def legacy(description: str) -> B24Error:
    """Legacy crm.* validation / not-found errors carry an empty `error` code (README §1.4)."""
    return B24Error("", description, 400)


def core(description: str) -> B24Error:
    return B24Error("ERROR_CORE", description, 400)


def catalog(code: int, description: str) -> B24Error:
    """catalog.* errors use integer codes."""
    return B24Error(code, description, 400)


def method_not_found() -> B24Error:
    return B24Error("ERROR_METHOD_NOT_FOUND", "Method not found!", 404)


def no_auth() -> B24Error:
    return B24Error("NO_AUTH_FOUND", "Wrong authorization data", 401)


def query_limit() -> B24Error:
    return B24Error("QUERY_LIMIT_EXCEEDED", "Too many requests", 503)


def operation_time_limit() -> B24Error:
    # The official RU docs' text, no final period (fidelity-notes §8); never observed live.
    return B24Error("OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit", 429)


def batch_too_long() -> B24Error:
    return B24Error("ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded", 400)


def batch_method_not_allowed() -> B24Error:
    return B24Error("ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage", 405)


def missing_argument(name: str) -> B24Error:
    """What controller-style (D7) methods answer when a required argument is absent."""
    return B24Error(100, f"Could not find value for parameter {{{name}}}", 400)
