"""``{% running_plans as plans %}``: the plans this shop runs (``reads.running_plans``), so a page links the points
and distribution pages only where they exist."""

from __future__ import annotations

from django import template

from ...api import reads

register = template.Library()


@register.simple_tag
def running_plans() -> list[str]:
    return reads.running_plans()
