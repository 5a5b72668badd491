"""我的 (me): the member's rank, exactly what is left to the next rank, what each rank earns, the invite code and
link. Figures are the chain21 plan's member read (what the worker committed), never computed here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
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


def percent(rate: str) -> str:
    """A rate as the plan publishes it (``"0.10"``) as a percentage (``"10%"``): exact, never a float."""
    return f"{(Decimal(rate) * 100).normalize():f}%"


def chain21_terms() -> dict[str, Any] | None:
    """The chain21 config now (what each rank earns, its rates also as percentages), or None when the shop does
    not run it."""
    if "chain21" not in reads.running_plans():
        return None
    config: dict[str, Any] = dict(reads.plan_versions("chain21")[-1]["config"])
    for rate in ("peer_rate", "help_fund_rate", "bonus_pool_rate"):
        config[rate.removesuffix("_rate") + "_percent"] = percent(str(config[rate]))
    return config


def shop_day(moment: str | dt.datetime | None) -> dt.date | None:
    """The shop's business day of ``moment`` (an engine timestamp in ISO text, or a datetime)."""
    if moment is None:
        return None
    at = dt.datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return at.astimezone(reads.wording_engine().tz).date()


def standing(rank: dict[str, Any], progress: dict[str, Any]) -> dict[str, Any]:
    """Where the member stands toward the next rank, as chain21's member read says: its direct agents against
    ``promote_after``, and whether a refund took its rank (a promotion stays: its next gift pack makes it a
    partner again)."""
    have, need = int(rank["direct_agents"] or 0), int(rank["promote_after"] or 0)
    return {"rank": rank["rank"] or "member", "have": have, "need": need, "left": rank["agents_to_partner"] or 0,
            "percent": min(100, 100 * have // need) if need else 0, "promoted_on": shop_day(rank["promoted_at"]),
            "refunded": bool(progress.get("rank_refunded")), "enough": bool(need) and have >= need}


@require_GET
@member_page
def me(request: HttpRequest) -> HttpResponse:
    login: MemberLogin = request.member_login  # type: ignore[attr-defined]
    profile = reads.profile(login)
    rank = reads.rank(login.member)
    terms = chain21_terms()
    progress = reads.plan_read(reads.member_state(login.member), "chain21")
    context = {"tab": "me", "profile": profile, "rank": rank, "balances": reads.balances(login.member),
               "terms": terms, "standing": standing(rank, progress) if terms else None,
               "invite_link": invite_link(request, login), "referrer": display_name(profile["referrer"]),
               "joined": profile["joined"]}
    return render(request, "pages/me.html", context)
