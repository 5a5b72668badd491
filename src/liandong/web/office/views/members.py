"""Members (``/office/members``): search by name, phone, invite code or member id; a member's page with its rank and
rank history, balances and debt, the statement, orders, withdrawals, the binding log, and its referral tree and team
drawn collapsible, each level loaded when opened (``/office/members/<id>/tree``, ``…/team``: one level, 50 at a
time); the operator's re-parenting (``reparent_member``, a reason required; the owner's, ``configure_plan``) and the
promoter revoke (``revoke_promoter``, ``views.promoters``). Reads in ``office.member_reads``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ....engine.labels import book_label
from ....service.store.models import MemberState
from ...accounts.models import MemberLogin
from ...pages.people import display_names
from .. import member_reads, reads
from ..access import office_of, office_view, safe_next
from ..audit import office_act
from .promoters import MEMBER_ID, REASON_MAX
from .withdrawals import announce

#: Reading members needs ``view_office``; re-parenting is the owner's (it changes who earns on later purchases, as
#: a plan setting or a transposition does); revoking a promoter is ``manage_promoters``'.
READ = "view_office"
REPARENT = "configure_plan"
REVOKE = "manage_promoters"


def _zh() -> bool:
    return (get_language() or "zh-hans").startswith("zh")


def _cursor(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


def _state(member: str) -> MemberState:
    state = MemberState.objects.filter(member=member).first() if MEMBER_ID.fullmatch(member) else None
    if state is None:
        raise Http404(member)
    return state


@require_GET
@office_view(READ)
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[: member_reads.QUERY_MAX]
    found = member_reads.search(query, _cursor(request, "after"))
    return render(request, "office/members.html", {"query": query, **found})


def _when(value: Any, tz: dt.tzinfo) -> dt.datetime | None:
    if isinstance(value, str) and value:
        return dt.datetime.fromisoformat(value).astimezone(tz)
    return value.astimezone(tz) if isinstance(value, dt.datetime) else None


def _history_rows(rows: list[Any], tz: dt.tzinfo) -> list[dict[str, Any]]:
    return [{"kind": h.kind, "at": h.at.astimezone(tz), "position": h.position, **h.detail} for h in rows]


@require_GET
@office_view(READ)
def member(request: HttpRequest, member: str) -> HttpResponse:
    state = _state(member)
    office = office_of(request)
    tz = reads.shop_tz()
    chain21 = state.reads.get("chain21") or {}
    distribution = state.reads.get("distribution")
    ranks = _history_rows(member_reads.history(member, member_reads.RANK_KINDS), tz)
    bindings = _history_rows(member_reads.history(member, member_reads.BINDING_KINDS), tz)
    decisions = _history_rows(member_reads.history(member, member_reads.PROMOTER_KINDS), tz)
    moves = member_reads.reparentings(member)
    statement = member_reads.statement(member, _cursor(request, "before"))
    orders = member_reads.orders(member)
    withdrawals = member_reads.withdrawals(member)
    named = {member, state.referrer, state.team, *(b.get("promoter") for b in bindings),
             *(b.get("previous") for b in bindings), *(b.get("referrer") for b in bindings),
             *(m["referrer"] for m in moves), *(s["member"] for s in chain21.get("seeds", []))}
    if distribution and distribution.get("bound_to"):
        named.add(distribution["bound_to"]["promoter"])
    names = display_names(n for n in named if n)
    login = MemberLogin.objects.filter(member=member).select_related("user").first()
    revoked = (distribution or {}).get("revoked")
    bound_to = None
    if distribution and distribution.get("bound_to"):
        b = distribution["bound_to"]
        bound_to = {**b, "since": _when(b.get("since"), tz), "renewed": _when(b.get("renewed"), tz),
                    "until": _when(b.get("until"), tz), "name": names.get(b["promoter"], "")}
    for row in [*bindings, *moves]:
        for key in ("promoter", "previous", "referrer"):
            row[f"{key}_name"] = names.get(row.get(key) or "", "")
    seeds = [{**seed, "name": names.get(seed["member"], "")} for seed in chain21.get("seeds", [])]
    balances = member_reads.balances(member)
    lang = "zh-hans" if _zh() else "en"
    balance_rows = [(book, book_label(book, lang), balances[book]) for book in member_reads.MEMBER_BOOKS]
    balance_rows.append(("debt", _("owes"), balances["debt"]))
    context = {
        "balance_rows": balance_rows, "referrer_name": names.get(state.referrer, ""),
        "team_name": names.get(state.team, ""), "seeds": seeds,
        "state": state, "name": names[member], "login": login, "rank": state.rank or "member",
        "joined_at": state.joined_at.astimezone(tz), "names": names, "chain21": chain21,
        "promoted_at": _when(chain21.get("promoted_at"), tz), "distribution": distribution, "bound_to": bound_to,
        "revoked": revoked, "revoked_at": _when(revoked["at"], tz) if revoked else None,
        "balances": balances, "counts": member_reads.counts(member),
        "ranks": ranks, "bindings": bindings, "decisions": decisions,
        "moves": [{**m, "at": m["at"].astimezone(tz)} for m in moves],
        "statement": statement, "orders": [{"order": o.order, "sku": o.sku, "quantity": o.quantity,
                                            "amount": o.amount, "paid_at": o.paid_at.astimezone(tz),
                                            "refunded": o.refunded, "campaign": o.campaign} for o in orders],
        "withdrawals": [{**w, "requested_at": w["requested_at"].astimezone(tz), "label": w["label_zh" if _zh()
                                                                                         else "label"]}
                        for w in withdrawals],
        "can_reparent": office.may_act(REPARENT), "can_revoke": office.may_act(REVOKE),
        "here": request.get_full_path(),
    }
    return render(request, "office/member.html", context)


@require_GET
@office_view(READ)
def tree(request: HttpRequest, member: str) -> HttpResponse:
    """One level of the referral tree under ``member`` (a fragment the member page loads into an opened node)."""
    _state(member)
    level = member_reads.children(member, _cursor(request, "after"))
    return render(request, "office/_member_level.html", {"of": member, "which": "tree", **level})


@require_GET
@office_view(READ)
def team(request: HttpRequest, member: str) -> HttpResponse:
    """One page of the chain21 team ``member`` leads (a fragment, as ``tree``)."""
    _state(member)
    level = member_reads.team(member, _cursor(request, "after"))
    return render(request, "office/_member_level.html", {"of": member, "which": "team", **level})


def member_snapshot(member: str) -> dict[str, Any] | None:
    """The member's place as the audit row keeps it: referrer, rank, team, referral counts."""
    state = MemberState.objects.filter(member=member).values("member", "referrer", "rank", "team").first()
    if state is None:
        return None
    return {**state, **member_reads.counts(member)}


def _referrer_of(given: str) -> str | None:
    """The member a form names as the new referrer: its member id, or its invite code."""
    given = given.strip()
    if MEMBER_ID.fullmatch(given) and MemberState.objects.filter(member=given).exists():
        return given
    login = MemberLogin.objects.filter(invite_code=given.upper()).values_list("member", flat=True).first()
    return login


@require_POST
@office_view(REPARENT)
def reparent(request: HttpRequest, member: str) -> HttpResponse:
    back = HttpResponseRedirect(safe_next(request, reverse("office:members_member", args=[member])))
    _state(member)
    reason = request.POST.get("reason", "").strip()
    if not reason or len(reason) > REASON_MAX:
        messages.error(request, _("reason: write why this member moves (1 to 200 characters); it stays in the "
                                  "audit log."))
        return back
    given = request.POST.get("referrer", "")
    referrer = _referrer_of(given)
    if referrer is None:
        messages.error(request, _("new referrer “%(value)s”: there is no member with this id or invite code")
                       % {"value": given.strip()[:64]})
        return back
    result = office_act(request, "reparent_member", {"member": member, "referrer": referrer, "reason": reason},
                        permission=REPARENT, target=member, snapshot=lambda: member_snapshot(member),
                        key=request.POST.get("key"))
    names = display_names([member, referrer])
    announce(request, result, _("%(name)s now has %(referrer)s as its referrer; what it earned before stays.")
             % {"name": names[member], "referrer": names[referrer]})
    return back
