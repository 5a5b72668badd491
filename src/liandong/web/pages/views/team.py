"""我的团队 (team): the members I referred and the team I lead, a page at a time and searchable by display name;
my seeds and how far each is from partner; my help fund and exactly what releases it; and transposition (换位),
which only the shop's operator performs: the page shows when it is possible, for which seed and with whom, or why
not. Figures are chain21's member read and the projections (``reads.team_summary``, ``reads.team_page``,
``reads.direct_referrals_page``); nothing here loads a whole team or computes money."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from ...accounts.models import MemberLogin
from ...api import reads
from ..people import display_names
from .common import member_page
from .me import chain21_terms, shop_day

#: Rows on one page of a list.
PAGE_SIZE = 20
#: The longest search a member may type (a display name is a username: at most 150 characters).
QUERY_MAX = 150
LISTS = ("team", "referrals")


class BadQuery(ValueError):
    def __init__(self, field: str, value: str, why: str) -> None:
        super().__init__(f"{field} {value!r}: {why}")
        self.field, self.value, self.why = field, value, why


@dataclass(frozen=True)
class TeamQuery:
    """What the address asks for: which list, the search, and the page (a join index to start after or before)."""

    list: str | None
    query: str
    after: int | None
    before: int | None

    @classmethod
    def parse(cls, params: QueryDict) -> TeamQuery:
        chosen = params.get("list") or None
        if chosen is not None and chosen not in LISTS:
            raise BadQuery("list", chosen, _("not one of: team, referrals"))
        query = params.get("q", "").strip()
        if len(query) > QUERY_MAX:
            raise BadQuery("q", query[:20] + "…", _("longer than %(n)s characters") % {"n": QUERY_MAX})
        after, before = cls._index(params, "after"), cls._index(params, "before")
        if after is not None and before is not None:
            raise BadQuery("before", str(before), _("not together with after"))
        return cls(chosen, query, after, before)

    @staticmethod
    def _index(params: QueryDict, name: str) -> int | None:
        raw = params.get(name)
        if raw is None or raw == "":
            return None
        if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
            raise BadQuery(name, raw[:20], _("not a page of this list"))
        return int(raw)


def page_link(chosen: str, query: str, **cursor: int) -> str:
    params: dict[str, Any] = {"list": chosen}
    if query:
        params["q"] = query
    params.update(cursor)
    return "?" + urlencode(params)


def people(page: dict[str, Any], tz: dt.tzinfo, names: dict[str, str]) -> list[dict[str, Any]]:
    return [{"name": names[p["member"]], "rank": p["rank"], "joined": p["joined_at"].astimezone(tz).date(),
             "referrer": names.get(p["referrer"] or "", "")} for p in page["members"]]


def seeds_view(summary: dict[str, Any], need: int, names: dict[str, str]) -> list[dict[str, Any]]:
    """Each seed and how far it is from partner: its direct agents against ``promote_after``, and whether it still
    needs a gift pack of its own (an agent is promoted, a member is not)."""
    out = []
    for seed in summary["seeds"]:
        have = seed["direct_agents"]
        out.append({"name": names[seed["member"]], "rank": seed["rank"], "promoted": seed["promoted"],
                    "have": have, "need": need, "left": max(need - have, 0),
                    "percent": 100 if seed["promoted"] else (min(100, 100 * have // need) if need else 0),
                    "needs_gift_pack": not seed["promoted"] and seed["rank"] == "member"})
    return out


def transposition(progress: dict[str, Any], names: dict[str, str], now: dt.datetime) -> dict[str, Any] | None:
    """Whether chain21's ``transpose`` would be accepted now for this partner, as its rulebook and the member read
    say: a seed still not a partner ``transpose_after_days`` after the promotion, replaced by a partner the member
    referred who is not a seed. When it would, the page offers the request (``POST /api/actions/transpose``, the
    seed and the partner by invite code); the engine decides, and refuses with its reason."""
    if progress.get("promoted_at") is None or not progress.get("seeds"):
        return None
    waiting_ids = list(progress.get("help_fund_waiting_for", []))
    with_ids = list(progress.get("transpose_with", []))
    waiting = [names[m] for m in waiting_ids]
    partners = [names[m] for m in with_ids]
    codes = dict(MemberLogin.objects.filter(member__in=waiting_ids + with_ids).values_list("member", "invite_code"))
    choices = {"seed_choices": [(codes[m], names[m]) for m in waiting_ids if m in codes],
               "partner_choices": [(codes[m], names[m]) for m in with_ids if m in codes]}
    since = progress.get("transpose_from")
    opens = dt.datetime.fromisoformat(since) if since else None
    if not waiting:
        state = "all_partners"
    elif opens is None:
        state = "unknown"
    elif now < opens:
        state = "too_early"
    elif not partners:
        state = "no_partner"
    else:
        state = "possible"
    return {"state": state, "waiting": waiting, "partners": partners, "opens": shop_day(opens), **choices,
            "days": progress.get("transpose_after_days")}


@require_GET
@member_page
def team(request: HttpRequest) -> HttpResponse:
    login: MemberLogin = request.member_login  # type: ignore[attr-defined]
    member = login.member
    try:
        asked = TeamQuery.parse(request.GET)
    except BadQuery as bad:
        return render(request, "pages/bad_query.html", {"tab": "team", "field": bad.field, "value": bad.value,
                                                        "why": bad.why, "back": request.path}, status=400)
    terms = chain21_terms()
    summary = reads.team_summary(member)
    rank = reads.rank(member)
    progress = reads.plan_read(reads.member_state(member), "chain21") if terms else {}
    chosen = asked.list or ("team" if summary["leader"] else "referrals")
    read = reads.team_page if chosen == "team" else reads.direct_referrals_page
    page = read(member, asked.after, asked.before, PAGE_SIZE, asked.query)
    named = {p["member"] for p in page["members"]} | {p["referrer"] for p in page["members"] if p["referrer"]}
    named |= {s["member"] for s in summary["seeds"]} | set(summary["help_fund"]["waiting_for"])
    named |= set(progress.get("help_fund_waiting_for", [])) | set(progress.get("transpose_with", []))
    if rank["team"]:
        named.add(rank["team"])
    names = display_names(named)
    tz = reads.wording_engine().tz
    need = int(rank["promote_after"] or 0)
    context = {
        "tab": "team", "terms": terms, "rank": rank, "summary": summary, "leader": summary["leader"],
        "my_leader": names.get(rank["team"] or "", ""), "list": chosen, "query": asked.query,
        "people": people(page, tz, names), "total": page["total"],
        "next": page_link(chosen, asked.query, after=page["next_after"]) if page["next_after"] is not None else None,
        "prev": page_link(chosen, asked.query, before=page["prev_before"]) if page["prev_before"] is not None
        else None,
        "paged": asked.after is not None or asked.before is not None,
        "tab_links": {name: page_link(name, asked.query) for name in LISTS}, "show_all": page_link(chosen, ""),
        "need": need,
        "seeds": seeds_view(summary, need, names) if terms else [],
        "help_fund": summary["help_fund"],
        "help_fund_waiting": [names[m] for m in summary["help_fund"]["waiting_for"]],
        "transpose": transposition(progress, names, timezone.now()) if terms else None,
        "promoted_on": shop_day(rank["promoted_at"]),
    }
    return render(request, "pages/team.html", context)
