"""分销 (distribution centre): whether the member is a promoter (and, when the shop approves promoters, its
application: apply, see it pending, approved or rejected with the operator's reason; a revoked promoter sees when
and why the shop took its approval back), the plan's terms, the
member's promoter link and poster, the buyers bound to it a page at a time (binding date and expiry), and its
commissions by level, pending and settled.

Figures are the distribution plan's member read as the worker committed it (``reads.plan_read``) and the bound
buyers' own reads (``reads.bound_buyers_page``); applying is the member verb ``apply_promoter`` through the API
(the page's form posts to it). Nothing here computes a commission."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from ...accounts.models import MemberLogin
from ...api import reads
from ..people import display_names
from .common import member_page
from .me import invite_link, shop_day
from .points import plan_off
from .team import BadQuery, TeamQuery

#: Bound buyers on one page.
PAGE_SIZE = 20


def cursor(params: QueryDict) -> tuple[int | None, int | None]:
    """The page of bound buyers the address asks for: after or before a join index (not both)."""
    after, before = TeamQuery._index(params, "after"), TeamQuery._index(params, "before")
    if after is not None and before is not None:
        raise BadQuery("before", str(before), _("not together with after"))
    return after, before


def binding_view(binding: dict[str, Any], names: dict[str, str], now: dt.datetime) -> dict[str, Any]:
    """A binding as the engine read it, its days in the shop's zone; ``expired`` once its ``until`` has passed."""
    until = dt.datetime.fromisoformat(binding["until"]) if binding.get("until") else None
    return {"since": shop_day(binding.get("since")), "renewed": shop_day(binding.get("renewed")),
            "until": shop_day(until), "forever": until is None, "expired": until is not None and now >= until,
            "channel": binding.get("channel"), "promoter": names.get(binding.get("promoter") or "", "")}


@require_GET
@member_page
def distribution(request: HttpRequest) -> HttpResponse:
    if "distribution" not in reads.running_plans():
        return plan_off(request, "me", "distribution")
    login: MemberLogin = request.member_login  # type: ignore[attr-defined]
    member = login.member
    try:
        after, before = cursor(request.GET)
    except BadQuery as bad:
        return render(request, "pages/bad_query.html", {"tab": "me", "field": bad.field, "value": bad.value,
                                                        "why": bad.why, "back": request.path}, status=400)
    read = reads.plan_read(reads.member_state(member), "distribution")
    page = reads.bound_buyers_page(member, after, before, PAGE_SIZE)
    bound_to = read.get("bound_to")
    named = {b["member"] for b in page["buyers"]} | ({bound_to["promoter"]} if bound_to else set())
    names = display_names(named)
    now = timezone.now()
    buyers = [{"name": names[b["member"]], **binding_view(b, names, now)} for b in page["buyers"]]
    application = read.get("application")
    context = {
        "tab": "me", "read": read, "joined": bool(read), "application": application,
        "show_held": "fraud_holds" in reads.running_plans(),  # held commissions and reversed ones: a column each
        "applied_on": shop_day(application["applied_at"]) if application else None,
        "decided_on": shop_day(application["decided_at"]) if application and application["decided_at"] else None,
        "revoked": read.get("revoked"),
        "revoked_on": shop_day(read["revoked"]["at"]) if read.get("revoked") else None,
        "bound_to": binding_view(bound_to, names, now) if bound_to else None,
        "buyers": buyers, "total": page["total"], "paged": after is not None or before is not None,
        "next": f"?after={page['next_after']}" if page["next_after"] is not None else None,
        "prev": f"?before={page['prev_before']}" if page["prev_before"] is not None else None,
        "invite_link": invite_link(request, login), "invite_code": login.invite_code,
        "config": reads.plan_versions("distribution")[-1]["config"],
        "levels": [{"level": n, "rate": rate} for n, rate in enumerate(read.get("rates", []), start=1)],
    }
    return render(request, "pages/distribution.html", context)
