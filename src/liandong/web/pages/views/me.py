"""我的 (me): the member's rank, exactly what is left to the next rank, what each rank earns, the invite code and
link. Figures are the chain21 plan's member read (what the worker committed), never computed here."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from ...accounts.models import MemberLogin
from ...api import reads
from ..people import display_name
from .common import member_page


def invite_link(request: HttpRequest, login: MemberLogin) -> str:
    return request.build_absolute_uri(reverse("pages:join", args=[login.invite_code]))


def chain21_terms() -> dict[str, Any] | None:
    """The chain21 config now (what each rank earns), or None when the shop does not run it."""
    if "chain21" not in reads.running_plans():
        return None
    config: dict[str, Any] = reads.plan_versions("chain21")[-1]["config"]
    return config


@require_GET
@member_page
def me(request: HttpRequest) -> HttpResponse:
    login: MemberLogin = request.member_login  # type: ignore[attr-defined]
    profile = reads.profile(login)
    rank = reads.rank(login.member)
    balances = reads.balances(login.member)
    direct, needed = rank["direct_agents"], rank["promote_after"]
    progress = None
    if rank["rank"] == "agent" and direct is not None and needed:
        progress = {"have": direct, "need": needed, "left": rank["agents_to_partner"],
                    "percent": min(100, 100 * int(direct) // int(needed))}
    context = {"tab": "me", "profile": profile, "rank": rank, "progress": progress, "balances": balances,
               "terms": chain21_terms(), "invite_link": invite_link(request, login),
               "referrer": display_name(profile["referrer"]), "joined": profile["joined"]}
    return render(request, "pages/me.html", context)
