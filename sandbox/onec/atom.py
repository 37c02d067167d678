"""The Atom/XML representation (the platform's default) is not emulated; answers say so explicitly."""

from __future__ import annotations

from starlette.responses import Response

from sandbox.onec.errors import representation_not_supported


def atom_not_supported() -> Response:
    error = representation_not_supported()
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<m:error xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">'
        f'<m:code>{error.code}</m:code><m:message xml:lang="ru">{error.message} (эмулятор отвечает только '
        "в JSON: добавьте $format=json)</m:message></m:error>"
    )
    return Response(body, status_code=error.status, media_type="application/xml;charset=utf-8")
