"""Bitrix24 rich text (BB-code, some HTML) → the plain text 1C comment fields hold.

Deal and contact comments allow `[B]…[/B]`, lists, links and, from some editors, HTML. 1C shows
`Комментарий` verbatim, so markup would appear as noise; list items keep a dash so the structure
survives.
"""

from __future__ import annotations

import html
import re

_LIST_ITEM = re.compile(r"\[\*\]\s*")
_URL_WITH_TEXT = re.compile(r"\[url=([^\]]*)\](.*?)\[/url\]", re.IGNORECASE | re.DOTALL)
_BB_TAG = re.compile(r"\[/?(?:[a-z]+)(?:=[^\]]*)?\]", re.IGNORECASE)
_HTML_BREAK = re.compile(r"<\s*(?:br|/p|/div|/li)\s*/?\s*>", re.IGNORECASE)
_HTML_ITEM = re.compile(r"<\s*li\b[^>]*>", re.IGNORECASE)
_HTML_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def strip_markup(text: str) -> str:
    """Plain text of a BB-code/HTML comment: tags removed, entities decoded, blank runs squeezed."""
    if not text:
        return ""
    result = text.replace("\r\n", "\n").replace("\r", "\n")
    result = _URL_WITH_TEXT.sub(lambda m: m.group(2) or m.group(1), result)
    result = _LIST_ITEM.sub("- ", result)
    result = _BB_TAG.sub("", result)
    result = _HTML_BREAK.sub("\n", result)
    result = _HTML_ITEM.sub("- ", result)
    result = _HTML_TAG.sub("", result)
    result = html.unescape(result).replace("\xa0", " ")
    lines = [_SPACES.sub(" ", line).strip() for line in result.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def name_key(name: str) -> str:
    """Names compare ignoring case and runs of spaces ("ООО  Ромашка" = "ооо ромашка")."""
    return " ".join(name.split()).casefold()
