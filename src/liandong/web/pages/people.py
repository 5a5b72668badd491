"""People as pages show them: by display name (the username they chose), never by the engine's member id.

A member the engine knows without a login here (imported by events, or the demo's simulated shoppers) shows as
"Member No. 12", its place in the join order: a real row, never an invented name."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from ...service.store.models import MemberState
from ..accounts.models import MemberLogin


def display_names(members: Iterable[str]) -> dict[str, str]:
    """Each member id's display name."""
    wanted = {m for m in members if m}
    names = dict(MemberLogin.objects.filter(member__in=wanted).values_list("member", "user__username"))
    missing = wanted - names.keys()
    if missing:
        for member, index in MemberState.objects.filter(member__in=missing).values_list("member", "join_index"):
            names[member] = _("Member No. %(number)s") % {"number": index + 1}
    for member in wanted - names.keys():
        names[member] = _("a member not yet joined")
    return names


def display_name(member: str | None) -> str:
    if not member:
        return ""
    return display_names([member])[member]
