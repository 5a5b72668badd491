"""提现 (withdraw): how much is available, the shop's minimum and fee; an amount and the payee account, reviewed
before anything is sent (``?amount=&payee=``: the fee and the net by the engine's own rules, ``reads.withdrawal_quote``,
or the engine's refusal next to the field); the confirmation posts ``POST /api/withdrawals`` (pages.js
``data-api``), whose answer may still refuse (shown next to the field too). Below: the member's withdrawals, newest
first, a page at a time, with where each stands, and the latest requests the engine refused, with its reason."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from ....engine.money import MoneyError, parse_yuan
from ....service.store.models import WithdrawalState
from ...api import reads
from ...api.errors import ApiCode, ApiError
from .common import member_of, member_page
from .earnings import lang, shop_tz
from .shop import in_page_language

PAGE_SIZE = 20
WITHDRAWAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}", re.ASCII)
#: A payee account as the engine takes it (``events.PayeeAccount``): 1–100 characters, no control characters, not
#: starting with a space.
PAYEE = re.compile(r"[^\x00-\x1f\x7f\s][^\x00-\x1f\x7f]{0,99}")
AMOUNT_MAX = 16


def rate_percent(rate: Any) -> str | None:
    """The fee rate (a fraction) as a percentage, exact ("1%", "0.5%"); None for no fee."""
    if not rate:
        return None
    shown = Decimal(rate.numerator) / Decimal(rate.denominator) * 100
    return format(shown.normalize(), "f") + "%"


def review(member: str, raw_amount: str, payee: str) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The quote of a withdrawal of ``raw_amount`` to ``payee``, or the errors by field (the engine's refusal in
    the page's language for an amount it would refuse)."""
    errors: dict[str, str] = {}
    amount: int | None = None
    if raw_amount == "":
        errors["amount"] = _("Enter the amount to withdraw.")
    else:
        try:
            amount = parse_yuan(raw_amount[:AMOUNT_MAX], negative=False) if len(raw_amount) <= AMOUNT_MAX else None
        except MoneyError:
            amount = None
        if amount is None:
            errors["amount"] = _("amount “%(value)s”: not an amount in yuan with at most two decimals, e.g. 60.00") % {
                "value": raw_amount[:20]}
    if payee == "":
        errors["payee"] = _("Enter the account the money goes to.")
    elif not PAYEE.fullmatch(payee):
        errors["payee"] = _("payee “%(value)s”: at most 100 characters, no line breaks, not starting with a "
                            "space") % {"value": payee[:20]}
    if amount is None:
        return None, errors
    quote = reads.withdrawal_quote(member, amount)
    if quote["refusal"] is not None:
        errors["amount"] = quote["refusal"].message(lang())
    return (quote if not errors else None), errors


def listed(w: dict[str, Any]) -> dict[str, Any]:
    tz = shop_tz()
    return {**w, "status_label": in_page_language(w["label"], w["label_zh"]),
            "requested_at": w["requested_at"].astimezone(tz),
            "decided_at": w["decided_at"].astimezone(tz) if w["decided_at"] else None}


@require_GET
@member_page
def withdraw(request: HttpRequest) -> HttpResponse:
    member = member_of(request)
    after = request.GET.get("after") or None
    try:
        if after is not None and not WITHDRAWAL_ID.fullmatch(after):
            raise ApiError(400, ApiCode.INVALID, "after", after)
        page = reads.withdrawals(WithdrawalState.objects.filter(member=member), after, PAGE_SIZE, newest=True)
    except ApiError:  # not one of the member's withdrawals
        return render(request, "pages/bad_query.html", {
            "tab": "earnings", "field": "after", "value": (after or "")[:20], "why": _("not a page of this list"),
            "back": request.path}, status=400)
    asked = ("amount" in request.GET or "payee" in request.GET) and request.GET.get("edit") != "1"  # edit: the form
    raw_amount = request.GET.get("amount", "").strip()
    payee = request.GET.get("payee", "").strip()
    quote, errors = review(member, raw_amount, payee) if asked else (None, {})
    terms = reads.withdrawal_terms()
    balances = reads.balances(member)
    requested = request.GET.get("requested") or ""
    just = (WithdrawalState.objects.filter(member=member, withdrawal=requested).first()
            if WITHDRAWAL_ID.fullmatch(requested) else None)
    context = {
        "tab": "earnings", "shop_tz": shop_tz(), "balances": balances, "minimum": terms["minimum"],
        "fee_percent": rate_percent(terms["fee_rate"]), "amount": raw_amount, "payee": payee,
        "quote": quote, "errors": errors, "withdrawals": [listed(w) for w in page["withdrawals"]],
        "next_after": page["next_after"], "paged": after is not None,
        "just": listed(reads.withdrawal(just)) if just is not None else None,
        "refused": [{**r, "reason_shown": in_page_language(r["reason"], r["reason_zh"]),
                     "at": r["at"].astimezone(shop_tz())} for r in reads.refused_withdrawals(member)],
    }
    return render(request, "pages/withdraw.html", context)
