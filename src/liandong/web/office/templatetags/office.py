"""The back office's template tags (``{% load office %}``); money and the rest come from the members' ``liandong``
library (``yuan``, ``signed_yuan``, ``percent``)."""

from __future__ import annotations

import secrets
from typing import Any

from django import template

register = template.Library()


@register.simple_tag
def office_key() -> str:
    """A fresh key for one form as rendered: submitted twice, it is one event (``audit.office_act``)."""
    return secrets.token_hex(16)


@register.filter
def nav_on(entry: Any, request: Any) -> bool:
    """Whether the side navigation's ``entry`` is the page ``request`` shows."""
    match = getattr(request, "resolver_match", None)
    return bool(entry.on(match.url_name if match else None))
