"""The public proof of liabilities ``/liabilities`` (no login) and a member's inclusion path
``/liabilities/proof.json`` (docs/proof-of-liabilities.md); every published root, ``/liabilities/roots.json``.

Anyone sees, for each closed day, the root of the Merkle sum tree the worker built at the close, what the shop owed
its members in all (by field: available, pending, help fund, withdrawing, locked shopping fund, points at the NAV),
the members' debts (apart, never netted) and how many members the tree holds. A logged-in member also sees its own
leaf (what it was owed, and its debt), a **Verify in this browser** button (``static/liandong/liabilities-verify.js``:
WebCrypto recomputes its leaf and every node up to the published root and total) and its path to download, which
``liandong verify-liabilities`` checks offline.

Everything comes from the worker's ``LiabilityDay`` and ``LiabilityLeaf`` rows; the path is read off the day's tree,
rebuilt from its stored leaves (``service.liability_days.day_tree``). Nothing here computes an amount.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from ....service.liabilities import FIELDS, FORMAT, OWED, fen_text, totals_json
from ....service.liability_days import day_totals, day_tree
from ....service.store.models import LiabilityDay
from .common import login_url
from .shop import problem, viewer_member

#: Earlier days listed a page at a time.
DAYS_PER_PAGE = 30

FIELD_NAMES: dict[str, Any] = {
    "available": _("Available"),
    "pending": _("Pending"),
    "help_fund": _("Help fund"),
    "withdrawing": _("Withdrawing"),
    "locked_fund": _("Locked shopping fund"),
    "other": _("Other balances"),
    "points": _("Points at the NAV"),
    "debt": _("Debt"),
}

#: What the browser's verification says (``liabilities-verify.js``), in the page's language.
VERIFY_TEXTS: dict[str, Any] = {
    "working": _("Recomputing your path in this browser…"),
    "ok": _("Matches: your leaf and the %(steps)s nodes above it recompute to the published root, and the sums to "
            "the published total of %(owed)s owed to %(members)s members. Every sum is non-negative."),
    "not_ok": _("Does not match. What differs:"),
    "problem_root": _("the path recomputes to the root %(computed)s, but the published root is %(shown)s."),
    "problem_total": _("the path's sums give %(computed)s for “%(field)s”, but the published total is %(shown)s."),
    "problem_members": _("the path counts %(computed)s members, but the published count is %(shown)s."),
    "problem_negative": _("a negative amount in the tree: “%(field)s” is %(shown)s at %(where)s."),
    "problem_malformed": _("the path's “%(key)s” cannot be used: %(shown)s."),
    "where_leaf": _("your leaf"),
    "where_step": _("step %(number)s"),
    "failed": _("The check could not run in this browser: %(detail)s"),
    "insecure": _("This browser does not offer its cryptography (WebCrypto) on this page: browsers do so only on a "
                  "secure page, one served over https:// or from this computer itself (localhost). Download your "
                  "path below and run liandong verify-liabilities."),
}


class NotADay(ValueError):
    """``?day=`` is not a day."""


def _day_param(request: HttpRequest) -> dt.date | None:
    """The ``day`` asked for: a date, or None (the latest); ``NotADay`` for anything else."""
    text = request.GET.get("day")
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise NotADay(text) from None


def _chosen(asked: dt.date | None) -> LiabilityDay | None:
    days = LiabilityDay.objects.all()
    return days.filter(day=asked).first() if asked is not None else days.first()


def _figures(totals: dict[str, int]) -> list[dict[str, Any]]:
    return [{"field": name, "label": FIELD_NAMES[name], "amount": fen_text(totals[name])} for name in OWED]


def published(day: LiabilityDay) -> dict[str, Any]:
    """What the page publishes of a day, as the browser's check compares it."""
    totals = day_totals(day)
    sums = (*(totals[name] for name in FIELDS), totals["members"])
    return {"day": day.day.isoformat(), "root": day.root, "total": totals_json(sums)}


@require_GET
def liabilities(request: HttpRequest) -> HttpResponse:
    try:
        asked = _day_param(request)
    except NotADay:
        asked, chosen = None, None
    else:
        chosen = _chosen(asked)
    if request.GET.get("day") and chosen is None:
        return problem(request, 404, _("Not found"), _("There is no proof of liabilities for this day."))
    days = LiabilityDay.objects.all()
    member = viewer_member(request)
    context: dict[str, Any] = {"tab": "", "chosen": chosen, "texts": {k: str(v) for k, v in VERIFY_TEXTS.items()},
                               "field_names": {k: str(v) for k, v in FIELD_NAMES.items()},
                               "member": member, "login": login_url(request.get_full_path()),
                               "authenticated": request.user.is_authenticated}
    if chosen is not None:
        totals = day_totals(chosen)
        context.update(totals=totals, figures=_figures(totals), owed=fen_text(totals["owed"]),
                       debt=fen_text(totals["debt"]), published=published(chosen))
        if member is not None:
            tree = day_tree(chosen)
            leaf = tree.leaf_of(member)
            if leaf is not None:
                proof = tree.proof(member)
                amounts = dict(zip(FIELDS, leaf.amounts, strict=True))
                context.update(proof=proof, mine=[{"field": n, "label": FIELD_NAMES[n], "amount": fen_text(amounts[n])}
                                                  for n in OWED],
                               my_owed=fen_text(leaf.owed), my_debt=fen_text(leaf.debt),
                               steps=len(proof["path"]))
    pages = Paginator(days.only("day", "root", "members", *FIELDS), DAYS_PER_PAGE)
    listed = pages.get_page(request.GET.get("page"))
    context["days"] = [{"day": d.day, "root": d.root, "members": d.members, "owed": fen_text(day_totals(d)["owed"]),
                        "debt": fen_text(d.debt), "chosen": chosen is not None and d.day == chosen.day}
                       for d in listed]
    context["listed"] = listed
    return render(request, "pages/liabilities.html", context)


@require_GET
def liabilities_proof(request: HttpRequest) -> HttpResponse:
    """The logged-in member's inclusion path for ``?day=`` (default: the latest), as ``verify-liabilities`` reads
    it; a visitor is sent to log in."""
    member = viewer_member(request)
    if member is None:
        if request.user.is_authenticated:
            return JsonResponse({"code": "not_a_member", "field": "login", "value": None,
                                 "message": "this login is not a member's: only a member has a leaf"}, status=403)
        return JsonResponse({"code": "not_authenticated", "field": "login", "value": None,
                             "message": "log in to download your inclusion path", "login": login_url(
                                 request.get_full_path())}, status=401)
    try:
        asked = _day_param(request)
    except NotADay:
        return JsonResponse({"code": "invalid", "field": "day", "value": request.GET.get("day"),
                             "message": "expected a day such as 2026-03-01"}, status=400)
    chosen = _chosen(asked)
    if chosen is None:
        return JsonResponse({"code": "not_found", "field": "day", "value": request.GET.get("day"),
                             "message": "no day has a proof of liabilities" if not asked else
                             "this day has no proof of liabilities"}, status=404)
    tree = day_tree(chosen)
    if tree.leaf_of(member) is None:
        return JsonResponse({"code": "not_found", "field": "member", "value": member,
                             "message": "you were not a member yet at this day's close"}, status=404)
    response = HttpResponse(json.dumps(tree.proof(member), indent=1) + "\n",
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="liabilities-{chosen.day.isoformat()}.json"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def liabilities_roots(request: HttpRequest) -> HttpResponse:
    """Every published day (newest first): day, root and total, for anyone to keep a copy and compare later."""
    days = [published(day) for day in LiabilityDay.objects.only("day", "root", "members", *FIELDS)]
    response = HttpResponse(json.dumps({"format": FORMAT, "days": days}, indent=1) + "\n",
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="liabilities-roots.json"'
    return response
