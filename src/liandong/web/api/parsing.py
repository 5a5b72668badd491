"""The API's JSON bodies: parsed as ninja does, then refused (400 naming the field) when a text holds what no
database can store: a NUL character (PostgreSQL's text and jsonb refuse ``\\u0000``) or half of a UTF-16 surrogate
pair (``\\ud83d`` alone is not a character). SQLite would take both; refusing them at the edge keeps the two
databases alike and turns what would be a 500 into the documented error.

    POST /api/actions/leave_group {"group": "g1\\u0000"}  -> 400 {"error": {"code": "invalid", "field": "group", ...}}
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from ninja.parser import Parser

from .errors import ApiCode, ApiError


def _unstorable(text: str) -> bool:
    return any(ch == "\x00" or "\ud800" <= ch <= "\udfff" for ch in text)


def unstorable_field(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first field (dotted path, escaped as ``shown``; ``body`` for the whole) whose key or text cannot be
    stored, with that text."""
    if isinstance(value, str):
        return (path or "body", value) if _unstorable(value) else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        name = shown(key) if isinstance(key, str) else str(key)
        where = f"{path}.{name}" if path else name
        if isinstance(key, str) and _unstorable(key):
            return where, key
        found = unstorable_field(item, where)
        if found is not None:
            return found
    return None


def shown(text: str) -> str:
    """The text as an error may echo it: each unstorable character as its escape (``\\u0000``)."""
    return "".join(f"\\u{ord(ch):04x}" if _unstorable(ch) else ch for ch in text)


class StorableJsonParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        body = json.loads(request.body)
        found = unstorable_field(body)
        if found is not None:
            field, text = found
            raise ApiError(400, ApiCode.INVALID, field, shown(text),
                           why="a NUL character or an unpaired surrogate cannot be stored")
        return body
