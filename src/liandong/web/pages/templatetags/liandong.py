"""Template filters and tags of Liandong's pages: money as ``¥12.30`` (from the engine's two-decimal strings or
integer fen; never a float), a fresh Idempotency-Key for a form, a rank's badge."""

from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils.translation import gettext as _

from ....engine.money import format_fen, parse_yuan

register = template.Library()


def _fen(value: Any) -> int | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    return parse_yuan(str(value))


def _shown(value: Any, plus: str, minus: str) -> str:
    """The amount with ``plus`` or ``minus`` before it (a sign, the ¥); nothing → an empty string."""
    fen = _fen(value)
    if fen is None:
        return ""
    return (minus if fen < 0 else plus) + format_fen(abs(fen))


@register.filter
def yuan(value: Any) -> str:
    """``"12.3"`` or ``1230`` (fen) → ``¥12.30``; below zero ``-¥12.30``; nothing → an empty string."""
    return _shown(value, "¥", "-¥")


@register.filter
def signed_yuan(value: Any) -> str:
    """A movement: ``+¥12.30`` or ``-¥12.30``."""
    return _shown(value, "+¥", "-¥")


@register.filter
def is_negative(value: Any) -> bool:
    fen = _fen(value)
    return fen is not None and fen < 0


@register.simple_tag
def idempotency_key() -> str:
    """A key for one form as rendered: the API answers a repeated submit of it once."""
    return secrets.token_hex(16)


@register.simple_tag
def new_group_code() -> str:
    """An invite code for a private group the member may open from this form (``start_red_envelope`` needs one:
    the engine refuses a private group without it); the starter shares it from the group's page."""
    from ...api.events import new_id

    return new_id("").upper()




@register.inclusion_tag("pages/_rank_badge.html")
def rank_badge(rank: str | None) -> dict[str, Any]:
    names = {"member": _("Member"), "agent": _("Agent"), "partner": _("Partner")}
    key = rank if rank in names else "member"
    return {"rank": key, "name": names[key]}


# --- the shop ------------------------------------------------------------------------------------------------------


@register.filter
def percent(value: Any) -> str:
    """A plan's rate as its config states it, ``"0.05"`` → ``5%``, ``"0.125"`` → ``12.5%`` (exact; display only)."""
    try:
        scaled = Decimal(str(value)) * 100
    except (InvalidOperation, ValueError):
        return ""
    return format(scaled.normalize(), "f") + "%"


@register.filter
def signed_amount(value: Any) -> str:
    """A movement of points (or any two-decimal amount without the ¥ sign): ``+210.00`` or ``-12.50``."""
    return _shown(value, "+", "-")
