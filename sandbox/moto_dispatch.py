"""moto's per-request lookups, computed once: they depend on nothing a request can change.

For every request moto's server lists its own package folder and stats each entry
(`moto.backends.list_of_moto_modules`, asked whether the Host header names a service), and its
response classes list their methods with `inspect.getmembers` (`method_names_from_class`, to
find the action). The moto package and its classes do not change while the server runs, so the
answers are kept. Together they were ~0.4 ms of the sandbox's CPU per DynamoDB or SQS request
(cProfile, 2026-12-04), a few thousand times per deal load. What a client sees does not change.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from moto import backends
from moto.core import responses
from moto.core.utils import method_names_from_class as _moto_method_names

_moto_modules = backends.list_of_moto_modules


@cache
def _list_of_moto_modules() -> tuple[str, ...]:
    return tuple(_moto_modules())


def list_of_moto_modules() -> Iterable[str]:
    return _list_of_moto_modules()


@cache
def _method_names(clazz: type) -> tuple[str, ...]:
    return tuple(_moto_method_names(clazz))


def method_names_from_class(clazz: object) -> list[str]:
    # A list, as moto's callers expect; a copy, so no caller can change what is kept.
    return list(_method_names(clazz if isinstance(clazz, type) else type(clazz)))


def install() -> None:
    """Idempotent; for the moto server this process runs (`sandbox.moto_server.start_moto`)."""
    backends.list_of_moto_modules = list_of_moto_modules
    # moto.core.responses imported it by name: that binding is the one each request uses.
    responses.method_names_from_class = method_names_from_class  # type: ignore[attr-defined]
