"""What `POST /stock/refresh` reads: its token and its body.

The token is the shared secret (`settings.refresh_secret()`), compared in constant time; no token
configured means every request is refused. The body is strict: a misspelt field is a 400, never
"refresh all".
"""

from __future__ import annotations

import hmac
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError, model_validator

from bridge.http_edge import BodyRejected, describe, load_json_object, utf8_text
from bridge.settings import refresh_secret

HEADER = "x-bridge-token"
MAX_BODY_BYTES = 64 * 1024


def refresh_token() -> str | None:
    token = refresh_secret()
    value = token.get_secret_value().strip() if token is not None else ""
    return value or None


def token_matches(presented: str | None, expected: str | None) -> bool:
    if not presented or not expected:
        return False
    # surrogatepass: a header that is not valid text compares unequal instead of raising.
    return hmac.compare_digest(presented.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


# A Bitrix24 product id: a positive number, or its decimal text (as forms and scripts send it).
ProductId = Annotated[StrictInt, Field(gt=0)] | Annotated[str, Field(pattern=r"^[1-9][0-9]{0,17}$")]


class RefreshBody(BaseModel):
    """`{"product_ids": [12, 15]}`, or `{}` / `{"all": true}` for every synced product."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    product_ids: list[ProductId] | None = None
    all: StrictBool | None = None

    @model_validator(mode="after")
    def _something_to_do(self) -> RefreshBody:
        if self.product_ids is None and self.all is False:
            raise ValueError("give product_ids or all: true")
        return self


def requested_ids(raw: bytes) -> list[int] | None:
    """The ids asked for, None for all; BodyRejected(400) with a reason for a malformed body."""
    text = utf8_text(raw)
    if not text.strip():
        return None
    try:
        body = RefreshBody.model_validate(load_json_object(text))
    except ValidationError as error:
        raise BodyRejected(400, describe(error)) from None
    return None if body.product_ids is None else [int(i) for i in body.product_ids]
