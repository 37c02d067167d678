"""Resolve configured 1C names (`Description`) to references, with one problem line per miss."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bridge.onec.client import ODataClient
from bridge.onec.errors import ODataError
from bridge.onec.odata import all_of, eq
from bridge.setup.framework import SetupProblem


def _alive(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if not r.get("DeletionMark")]


def find_by_description(
    onec: ODataClient,
    entity_set: str,
    name: str,
    *,
    setting: str,
    folder: bool | None = None,
) -> tuple[str | None, SetupProblem | None]:
    """The only live object named `name` in `entity_set`, else a problem naming `setting`."""
    where = f"1C {entity_set}"
    condition = eq("Description", name)
    if folder is not None:
        condition = all_of(condition, eq("IsFolder", folder))
    select = ["Ref_Key", "Description", "DeletionMark"]
    rows = _alive(onec.list(entity_set, filter=condition, select=select))
    if len(rows) == 1:
        return str(rows[0]["Ref_Key"]), None
    if not rows:
        known = [str(r.get("Description")) for r in _alive(onec.list(entity_set, select=select, top=20))]
        listing = f" (there: {', '.join(repr(k) for k in known)})" if known else ""
        return None, SetupProblem(
            where, f"no {name!r}{listing}", f"create it in 1C or correct the setting {setting}"
        )
    return None, SetupProblem(
        where, f"{len(rows)} objects named {name!r}", f"rename the extra ones in 1C or change {setting}"
    )


def only_one(onec: ODataClient, entity_set: str, *, setting: str) -> tuple[str | None, SetupProblem | None]:
    rows = _alive(onec.list(entity_set, select=["Ref_Key", "Description", "DeletionMark"], top=3))
    if len(rows) == 1:
        return str(rows[0]["Ref_Key"]), None
    return None, SetupProblem(
        f"1C {entity_set}",
        "no object" if not rows else "more than one object, and none is configured",
        f"set {setting} to the Description to use",
    )


def ensure_folder(
    onec: ODataClient, entity_set: str, name: str, *, setting: str, dry_run: bool
) -> tuple[str | None, list[SetupProblem | str]]:
    """The live folder `name` of `entity_set`, created when missing.

    A fresh 1C base has no folder of ours, and more than one step files objects into it: each
    step that needs it calls this, so no step depends on another having run first.
    """
    where = f"1C {entity_set}"
    condition = all_of(eq("Description", name), eq("IsFolder", True))
    rows = _alive(onec.list(entity_set, filter=condition, select=["Ref_Key", "Description", "DeletionMark"]))
    if len(rows) == 1:
        return str(rows[0]["Ref_Key"]), []
    if rows:
        return None, [
            SetupProblem(
                where, f"{len(rows)} folders named {name!r}", f"rename the extra ones or change {setting}"
            )
        ]
    if dry_run:
        return None, [f"would create the 1C folder {name!r} in {entity_set}"]
    try:
        created = onec.create(entity_set, {"Description": name, "IsFolder": True})
    except ODataError as error:
        # Creating a group over OData is not confirmed on a live УНФ (docs/sandbox-onec.md).
        return None, [
            SetupProblem(
                where,
                f"cannot create the folder {name!r}: {error}",
                f"create the group {name!r} in 1C by hand (or change {setting}) and run setup again",
            )
        ]
    return str(created["Ref_Key"]), [f"created the 1C folder {name!r} in {entity_set}"]


def string_value_type(length: int = 150) -> dict[str, Any]:
    """`ValueType` of a string additional attribute, in the shape 1C answers on read
    (fidelity-notes §1): the platform's type name `String`, not `Edm.String`, and Int64 `Length`
    as a string. Bounded: 1C cannot compare unlimited strings, and the flows filter on the value.
    Whether a POST takes this shape is not confirmed live (docs/sandbox-onec.md)."""
    return {"Types": ["String"], "StringQualifiers": {"AllowedLength": "Variable", "Length": str(length)}}
