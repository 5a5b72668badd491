"""Reading the worker's projections into response bodies. Nothing here writes, and nothing recomputes a reward:
balances, ranks, teams and statements are what the worker committed.

A statement line uses the engine's own wording (``scenario.describe_entry`` with the labels registered by the
plans), e.g. ``+200.00 team reward · order o7 by C (your team)  [available 360.00]``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

from django.core.cache import cache
from django.db.models import Max, Q, QuerySet, Sum
from django.utils import timezone

from ...engine.core import Engine, Shop, withdraw_refusal, withdrawal_fee, withdrawal_policy_of
from ...engine.labels import book_label, label, withdrawal_status_label
from ...engine.ledger import NON_CASH_UNITS, REWARD_RULES, Transaction
from ...engine.module import Module, validate_config
from ...engine.money import format_fen
from ...engine.plans.points import POINTS_BOOK, Points
from ...engine.registry import REGISTRY, new_engine
from ...scenario import describe_entry
from ...service.store.models import (
    Balance,
    EventOutcome,
    LedgerEntry,
    LedgerTransaction,
    LoggedEvent,
    MemberState,
    ModuleState,
    OrderState,
    ProductState,
    ShopSetup,
    StatementMonth,
    WithdrawalState,
    WorkerPosition,
)
from ..accounts.models import MemberLogin
from .errors import ApiCode, ApiError
from .models import PendingOrder
from .request_cache import memoized

MEMBER_BOOKS = ("available", "pending", "help_fund", "withdrawing", "withdrawn")


def shop_setup() -> ShopSetup | None:
    """The shop's setup row (once per page view: ``request_cache``)."""
    return memoized("shop_setup", lambda: ShopSetup.objects.first())


@functools.lru_cache(maxsize=8)
def _wording_engine(zone: str) -> Engine:
    """An empty engine of the shop's time zone: ``describe_entry`` reads only its zone."""
    return new_engine(Shop(timezone=zone))


def wording_engine() -> Engine:
    setup = shop_setup()
    return _wording_engine(setup.timezone if setup else "Asia/Shanghai")


# --- members ------------------------------------------------------------------------------------------------------


def member_state(member: str) -> MemberState | None:
    return MemberState.objects.filter(member=member).first()


def profile(login: MemberLogin) -> dict[str, Any]:
    state = member_state(login.member)
    return {"member": login.member, "username": login.user.get_username(), "invite_code": login.invite_code,
            "referrer": (state.referrer or None) if state else None, "joined": state is not None,
            "joined_at": state.joined_at if state else None, "rank": (state.rank or None) if state else None,
            "phone": login.phone or None, "email": login.email or None}


def balances(member: str) -> dict[str, Any]:
    held = {row.book: row.amount for row in Balance.objects.filter(owner=member)}
    out: dict[str, Any] = {"member": member}
    for book in MEMBER_BOOKS:
        out[book] = format_fen(held.pop(book, 0))
    out["other"] = {book: str(amount) for book, amount in sorted(held.items())}
    return out


def plan_read(state: MemberState | None, kind: str) -> dict[str, Any]:
    """What the member sees of the module ``kind`` (its ``member_read``, as the worker wrote it)."""
    read: dict[str, Any] = state.reads.get(kind, {}) if state else {}
    return read


def rank(member: str) -> dict[str, Any]:
    """The chain21 rank and progress, from chain21's member read."""
    state = member_state(member)
    progress = plan_read(state, "chain21")
    direct, needed = progress.get("direct_agents"), progress.get("promote_after")
    to_go = progress.get("agents_to_partner")
    return {"member": member, "rank": (state.rank or None) if state else None, "direct_agents": direct,
            "promote_after": needed, "agents_to_partner": to_go, "promoted_at": progress.get("promoted_at"),
            "team": (state.team or None) if state else None}


def team(member: str) -> dict[str, Any]:
    """The team ``member`` leads, whole (the API's ``/me/team``; pages read it a page at a time: ``team_page``),
    with its seeds and help fund (``team_summary``)."""
    members = [{"member": m.member, "rank": m.rank, "referrer": m.referrer or None, "joined_at": m.joined_at}
               for m in MemberState.objects.filter(team=member).order_by("join_index")]
    summary = team_summary(member)
    return {"member": member, "leader": summary["leader"], "members": members, "seeds": summary["seeds"],
            "help_fund": summary["help_fund"]}


def team_summary(member: str) -> dict[str, Any]:
    """Whether ``member`` leads a team, how many are in it and how many it referred, its seeds and their progress,
    its help fund and what releases it (chain21's member read); no member list."""
    state = member_state(member)
    progress = plan_read(state, "chain21")
    seeds = [{"member": s["member"], "rank": s["rank"], "promoted": bool(s["promoted"]),
              "direct_agents": int(s["direct_agents"])} for s in progress.get("seeds", [])]
    help_fund = {
        "balance": format_fen(Balance.objects.filter(owner=member, book="help_fund")
                              .values_list("amount", flat=True).first() or 0),
        "released": bool(progress.get("help_fund_released", False)),
        "releases_when": progress.get("help_fund_releases_when", ""),
        "releases_when_zh": progress.get("help_fund_releases_when_zh", ""),
        "waiting_for": list(progress.get("help_fund_waiting_for", [])),
    }
    return {"member": member, "leader": bool(progress.get("promoted_at")), "seeds": seeds, "help_fund": help_fund,
            "team_size": MemberState.objects.filter(team=member).count(),
            "direct_referrals": MemberState.objects.filter(referrer=member).count()}


#: How a member without a login is searched for by its number: "12", "No. 12", "Member No. 12", "#12", "第12位会员".
MEMBER_NUMBER = re.compile(r"(?:member\s*)?(?:no\.?\s*|#\s*|第\s*)?(\d{1,9})(?:\s*位(?:会员)?)?", re.IGNORECASE)

#: The most rows one page of a team or of the direct referrals holds.
PEOPLE_PAGE_MAX = 50


def _person(m: MemberState) -> dict[str, Any]:
    return {"member": m.member, "rank": m.rank, "referrer": m.referrer or None, "joined_at": m.joined_at,
            "join_index": m.join_index}


def _named(query: str) -> Q:
    """Members whose display name holds ``query``: the username of their login, or (a member without one, shown as
    "Member No. 12") the number of their place in the join order."""
    logins = MemberLogin.objects.filter(user__username__icontains=query).values("member")
    found = Q(member__in=logins)
    number = MEMBER_NUMBER.fullmatch(query)
    if number is not None:
        found |= Q(join_index=int(number.group(1)) - 1) & ~Q(member__in=MemberLogin.objects.values("member"))
    return found


def people_page(rows: QuerySet[MemberState], after: int | None = None, before: int | None = None,
                limit: int = 20, query: str = "") -> dict[str, Any]:
    """One page of ``rows`` (members) in join order: the ``limit`` after join index ``after``, or the ``limit``
    before ``before`` (the previous page), or the first; only those whose display name holds ``query``. Also how
    many there are in all (``total``, matching ``query``), and the cursors of the pages on either side (None at an
    end). Never loads more than ``limit + 1`` members."""
    if not 1 <= limit <= PEOPLE_PAGE_MAX:
        raise ApiError(400, ApiCode.INVALID, "limit", str(limit), why=f"not between 1 and {PEOPLE_PAGE_MAX}")
    query = query.strip()
    if query:
        rows = rows.filter(_named(query))
    total = rows.count()
    rows = rows.only("member", "rank", "referrer", "joined_at", "join_index")  # not the members' JSON reads
    if before is not None:
        got = list(rows.filter(join_index__lt=before).order_by("-join_index")[: limit + 1])
        more_before = len(got) > limit
        page = list(reversed(got[:limit]))
        more_after = True
    else:
        window = rows.filter(join_index__gt=after) if after is not None else rows
        got = list(window.order_by("join_index")[: limit + 1])
        page = got[:limit]
        more_after = len(got) > limit
        more_before = after is not None and bool(page) and rows.filter(join_index__lt=page[0].join_index).exists()
    return {"members": [_person(m) for m in page], "total": total,
            "next_after": page[-1].join_index if page and more_after else None,
            "prev_before": page[0].join_index if page and more_before else None}


def direct_referrals_page(member: str, after: int | None = None, before: int | None = None, limit: int = 20,
                          query: str = "") -> dict[str, Any]:
    """The members ``member`` referred, a page at a time (see ``people_page``)."""
    return {"member": member, **people_page(MemberState.objects.filter(referrer=member), after, before, limit, query)}


def team_page(member: str, after: int | None = None, before: int | None = None, limit: int = 20,
              query: str = "") -> dict[str, Any]:
    """The team ``member`` leads (members whose team it is), a page at a time (see ``people_page``)."""
    return {"member": member, **people_page(MemberState.objects.filter(team=member), after, before, limit, query)}


def _amount(amount: int, unit: str) -> str | int:
    return format_fen(amount) if unit == "fen" else amount


def statement(member: str, after: int, limit: int, newest: bool = False) -> dict[str, Any]:
    """Every entry on the member's accounts after entry ``after`` (oldest first), or before it (``newest``: newest
    first; ``after`` 0 starts at the newest), with its cause in the engine's words."""
    engine = wording_engine()
    entries = LedgerEntry.objects.filter(owner=member)
    if newest and after:
        entries = entries.filter(id__lt=after)
    elif not newest:
        entries = entries.filter(id__gt=after)
    rows = list(entries.select_related("transaction").order_by("-id" if newest else "id")[: limit + 1])
    lines = []
    for entry in rows[:limit]:
        t: LedgerTransaction = entry.transaction
        txn = Transaction(t.id, t.event_id, t.rule, (), t.plan, t.order or None, t.source or None, t.reverses,
                          t.ref or None, t.at)
        words = {lang: describe_entry(engine, txn, member, entry.book, entry.amount, entry.balance_after, lang)
                 for lang in ("en", "zh-hans")}
        lines.append({"entry": entry.id, "at": t.at, "book": entry.book, "amount": _amount(entry.amount, entry.unit),
                      "balance_after": _amount(entry.balance_after, entry.unit), "rule": t.rule,
                      "label": label(t.rule, "en"), "label_zh": label(t.rule, "zh-hans"), "order": t.order or None,
                      "source": t.source or None, "ref": t.ref or None, "reverses": t.reverses,
                      "text": words["en"], "text_zh": words["zh-hans"]})
    next_after = rows[limit - 1].id if len(rows) > limit else None
    return {"member": member, "lines": lines, "next_after": next_after}


# --- paging -------------------------------------------------------------------------------------------------------


def keyset_page(rows: QuerySet[Any], time_field: str, id_field: str, after: str | None, limit: int,
                newest: bool) -> tuple[list[Any], str | None]:
    """One page of ``rows`` in (time, id) order (newest first when ``newest``), starting after the row whose
    ``id_field`` is ``after``; and the ``next_after`` to pass for the next page (None on the last page).
    ``after`` must be an item of the same list: 400 naming it otherwise."""
    if after is not None:
        anchor = rows.filter(**{id_field: after}).values(time_field, id_field).first()
        if anchor is None:
            raise ApiError(400, ApiCode.INVALID, "after", after, why="not an item of this list")
        moment, key = anchor[time_field], anchor[id_field]
        op = "lt" if newest else "gt"
        rows = rows.filter(Q(**{f"{time_field}__{op}": moment}) | Q(**{time_field: moment, f"{id_field}__{op}": key}))
    order = (f"-{time_field}", f"-{id_field}") if newest else (time_field, id_field)
    got = list(rows.order_by(*order)[: limit + 1])
    return got[:limit], (str(getattr(got[limit - 1], id_field)) if len(got) > limit else None)


def member_view(member: str) -> dict[str, Any]:
    state = member_state(member)
    if state is None:
        raise ApiError(404, ApiCode.NOT_FOUND, "member", member)
    return {"member": state.member, "referrer": state.referrer or None, "joined_at": state.joined_at,
            "rank": state.rank, "team": state.team or None, "view": state.view, "reads": state.reads,
            "operator_reads": state.operator_reads}


# --- the shop -----------------------------------------------------------------------------------------------------


def product(p: ProductState) -> dict[str, Any]:
    return {"sku": p.sku, "price": format_fen(p.price), "gift_pack": p.gift_pack, "name": p.name or p.sku,
            "active": p.active}


def operator_product(p: ProductState) -> dict[str, Any]:
    """A product with the unit cost of its goods (operators only; None: not known)."""
    return {**product(p), "cost": None if p.cost is None else format_fen(p.cost)}


def order_earnings(member: str, order: str) -> list[dict[str, Any]]:
    """What the order ``order`` moved on ``member``'s own accounts (its rebate, its points, their settlement, their
    reversal on a refund), oldest first: the ledger entries of the member whose transaction names the order. Amounts
    in the book's unit, two decimals (yuan, or points for a points book)."""
    # the order's few transactions first (indexed on order), not the member's whole statement joined to them
    of_order = LedgerTransaction.objects.filter(order=order).values("id")
    rows = (LedgerEntry.objects.filter(transaction_id__in=of_order, owner=member).select_related("transaction")
            .order_by("id"))
    lines = []
    for entry in rows:
        t: LedgerTransaction = entry.transaction
        lines.append({"entry": entry.id, "at": t.at, "rule": t.rule, "label": label(t.rule, "en"),
                      "label_zh": label(t.rule, "zh"), "book": entry.book, "book_label": book_label(entry.book, "en"),
                      "book_label_zh": book_label(entry.book, "zh"), "unit": entry.unit,
                      "amount": format_fen(entry.amount), "balance_after": format_fen(entry.balance_after),
                      "reverses": t.reverses})
    return lines


def points_wallet(member: str) -> dict[str, Any] | None:
    """The member's points and what they are worth at the NAV the worker last committed (the quote an order with
    ``points`` gets), with the plan's cap on paying with points; None when the shop runs no points plan."""
    nav = points_nav()
    if nav is None or "points" not in running_plans():
        return None
    read = plan_read(member_state(member), "points")
    held = str(read.get("points", "0.00"))
    config = plan_versions("points")[-1]["config"]
    return {"points": held, "nav": nav, "value": Points.value_at(held, nav),
            "max_deduction_rate": config["max_deduction_rate"]}


def _refusal_detail(r: dict[str, Any]) -> dict[str, Any]:
    return {"code": r["code"], "field": r["field"], "value": r["value"], "message": r["reason"],
            "message_zh": r["reason_zh"]}


def order_view(pending: PendingOrder | None, state: OrderState | None) -> dict[str, Any]:
    """Where an order stands: awaiting payment, payment logged (processing), paid, refunded, or refused.
    Orders created through the API have a ``PendingOrder``; orders paid by other means only an ``OrderState``."""
    if pending is not None:
        out: dict[str, Any] = {"order": pending.order, "member": pending.member, "sku": pending.sku,
                               "quantity": pending.quantity, "amount": format_fen(pending.amount),
                               "created_at": pending.created_at, "status": "awaiting_payment", "verb": pending.verb,
                               "action": without_secrets(pending.fields) if pending.verb != "pay" else None,
                               "cash": format_fen(pending.amount)}
        if pending.verb == "pay" and "points" in pending.fields:  # part paid with points, quoted at the order
            out.update(points=pending.fields["points"], points_value=pending.fields["points_value"],
                       total=pending.fields["amount"])
        else:
            out["total"] = format_fen(pending.amount)
    else:
        assert state is not None
        out = {"order": state.order, "member": state.member, "sku": state.sku, "quantity": state.quantity,
               "created_at": state.paid_at, "total": format_fen(state.amount)}
    if state is not None:
        out.update(status="refunded" if state.refunded else "paid", paid_at=state.paid_at,
                   amount=format_fen(state.amount))
    elif pending is not None and pending.pay_event is not None:
        outcome = EventOutcome.objects.filter(event_id=pending.pay_event).first()
        if outcome is None:
            out["status"] = "payment_processing"
        elif not outcome.applied and outcome.refusal:
            out.update(status="payment_refused", refusal=_refusal_detail(outcome.refusal))
        elif outcome.applied:  # a paid action: its event applied (a seat taken); no order of the shop's own
            out.update(status="paid", paid_at=outcome.applied_at)
    return out


def find_order(order_id: str) -> dict[str, Any] | None:
    pending = PendingOrder.objects.filter(order=order_id).first()
    state = OrderState.objects.filter(order=order_id).first()
    if pending is None and state is None:
        return None
    return order_view(pending, state)


def orders(member: str | None = None, after: str | None = None, limit: int = 100) -> dict[str, Any]:
    """Orders newest first (of one member, or everyone's), by when they were created here (``PendingOrder``) or,
    for orders only the engine knows, paid; a page of ``limit`` after order ``after``, and the next ``after``."""
    pending_rows: QuerySet[Any] = PendingOrder.objects.all()
    state_rows: QuerySet[Any] = OrderState.objects.exclude(order__in=PendingOrder.objects.values("order"))
    if member is not None:
        pending_rows, state_rows = pending_rows.filter(member=member), state_rows.filter(member=member)
    if after is not None:
        anchor = (pending_rows.filter(order=after).values_list("created_at", flat=True).first()
                  or state_rows.filter(order=after).values_list("paid_at", flat=True).first())
        if anchor is None:
            raise ApiError(400, ApiCode.INVALID, "after", after, why="not an item of this list")
        pending_rows = pending_rows.filter(Q(created_at__lt=anchor) | Q(created_at=anchor, order__lt=after))
        state_rows = state_rows.filter(Q(paid_at__lt=anchor) | Q(paid_at=anchor, order__lt=after))
    newest: list[tuple[dt.datetime, str, PendingOrder | OrderState]] = [
        *((p.created_at, p.order, p) for p in pending_rows.order_by("-created_at", "-order")[: limit + 1]),
        *((s.paid_at, s.order, s) for s in state_rows.order_by("-paid_at", "-order")[: limit + 1])]
    newest.sort(key=lambda item: (item[0], item[1]), reverse=True)
    page = newest[:limit]
    states = {s.order: s for s in OrderState.objects.filter(order__in=[o for _t, o, row in page
                                                                       if isinstance(row, PendingOrder)])}
    out = [order_view(row, states.get(o)) if isinstance(row, PendingOrder) else order_view(None, row)
           for _t, o, row in page]
    return {"orders": out, "next_after": page[-1][1] if len(newest) > limit else None}


def available_of(members: list[str]) -> dict[str, int]:
    """Each member's available balance (below zero: a debt)."""
    return dict(Balance.objects.filter(owner__in=members, book="available").values_list("owner", "amount"))


def withdrawal(w: WithdrawalState, available: dict[str, int] | None = None) -> dict[str, Any]:
    """A withdrawal with where it stands in words, its payee, and its member's available balance and debt now
    (what the operator reviews before approving: the engine refuses an approval while the member owes)."""
    held = available if available is not None else available_of([w.member])
    balance = held.get(w.member, 0)
    return {"withdrawal": w.withdrawal, "member": w.member, "amount": format_fen(w.amount),
            "fee": format_fen(w.fee), "net": format_fen(w.amount - w.fee), "status": w.status,
            "payout_pending": w.payout_pending, "label": withdrawal_status_label(w.status, w.payout_pending, "en"),
            "label_zh": withdrawal_status_label(w.status, w.payout_pending, "zh-hans"), "payee": w.payee or None,
            "requested_at": w.requested_at, "decided_at": w.decided_at, "reference": w.reference or None,
            "reason": w.reason or None,
            "member_available": format_fen(balance), "member_debt": format_fen(max(-balance, 0))}


def withdrawals(rows: QuerySet[Any], after: str | None, limit: int, newest: bool) -> dict[str, Any]:
    page, next_after = keyset_page(rows, "requested_at", "withdrawal", after, limit, newest)
    held = available_of(sorted({w.member for w in page}))
    return {"withdrawals": [withdrawal(w, held) for w in page], "next_after": next_after}


def event(logged: LoggedEvent, with_payload: bool = False) -> dict[str, Any]:
    outcome = EventOutcome.objects.filter(event_id=logged.position).first()
    out: dict[str, Any] = {"position": logged.position, "verb": logged.verb, "logged_at": logged.created_at,
                           "status": "pending"}
    if outcome is not None:
        out.update(status="applied" if outcome.applied else "refused", config_version=outcome.config_version,
                   facts=outcome.facts or [])
        if outcome.refusal:
            out["refusal"] = _refusal_detail(outcome.refusal)
    if with_payload:
        out.update(actor=logged.actor, payload=logged.payload)
    return out


def config_version() -> int:
    latest = EventOutcome.objects.order_by("-event_id").values_list("config_version", flat=True).first()
    return int(latest) if latest is not None else 1


def points_nav() -> str | None:
    """The points NAV the worker last committed ("1.428571"), or None when the shop runs no points plan."""
    view = ModuleState.objects.filter(kind="points").values_list("view", flat=True).first()
    return str(view["nav"]) if view and "nav" in view else None


def ledger_balanced() -> bool:
    """Whether the committed balances sum to zero in every unit (money, and each non-cash unit apart)."""
    totals: dict[str, int] = {}
    for book, amount in Balance.objects.values("book").annotate(total=Sum("amount")).values_list("book", "total"):
        unit = NON_CASH_UNITS.get(book, "fen")
        totals[unit] = totals.get(unit, 0) + (amount or 0)
    return not any(totals.values())


def without_secrets(value: Any) -> Any:
    """``value`` with every ``secret`` key left out: a draw's secret stays in the private log until the draw."""
    if isinstance(value, dict):
        return {k: without_secrets(v) for k, v in value.items() if k != "secret"}
    if isinstance(value, list):
        return [without_secrets(v) for v in value]
    return value


def summary() -> dict[str, Any]:
    pools = {row.book: format_fen(row.amount) for row in Balance.objects.filter(owner="@pool").order_by("book")}
    sales = Balance.objects.filter(owner="@platform", book="sales").values_list("amount", flat=True).first() or 0
    rewards = (LedgerEntry.objects.filter(transaction__rule__in=sorted(REWARD_RULES), unit="fen")
               .exclude(owner__startswith="@").aggregate(total=Sum("amount"))["total"] or 0)
    mark = WorkerPosition.objects.filter(id=1).values_list("position", "transactions").first() or (0, 0)
    position = mark[0]
    logged = LoggedEvent.objects.order_by("-position").values_list("position", flat=True).first() or 0
    return {"pools": pools, "platform": {"sales": format_fen(sales), "rewards": format_fen(rewards)},
            "ledger": {"balanced": ledger_balanced(), "transactions": mark[1]},
            "refused": EventOutcome.objects.filter(applied=False).count(), "logged": logged,
            "applied_position": position, "members": MemberState.objects.count(),
            "config_version": config_version()}


# --- plans --------------------------------------------------------------------------------------------------------


def plan_versions(kind: str) -> list[dict[str, Any]]:
    """The shop's initial config of the plan (version 1), then every applied ``configure_plan`` of it (read once
    per page view: ``request_cache``; callers do not change what it returns)."""
    return memoized(("plan_versions", kind), lambda: _plan_versions(kind))


def _plan_versions(kind: str) -> list[dict[str, Any]]:
    setup = shop_setup()
    if setup is None or REGISTRY.configurable(kind) is None or (kind in REGISTRY.plans and kind not in setup.plans):
        raise ApiError(404, ApiCode.NOT_FOUND, "plan", kind)
    versions = [{"version": 1, "config": normalised_config(kind, setup.plans.get(kind) or {}), "position": None,
                 "actor": None, "at": None}]
    changes = (EventOutcome.objects.filter(applied=True, event__verb="configure_plan", event__payload__plan=kind)
               .select_related("event").order_by("event_id"))
    for outcome in changes:
        logged = outcome.event
        versions.append({"version": outcome.config_version, "config": normalised_config(kind, logged.payload["config"]),
                         "position": logged.position, "actor": logged.actor, "at": logged.created_at})
    return versions


def module_type(kind: str) -> type[Module]:
    """The plan, or the always-on module whose shop-wide config ``kind`` names (a campaign module's)."""
    found = REGISTRY.configurable(kind)
    if found is None:
        raise ApiError(404, ApiCode.NOT_FOUND, "plan", kind)
    return found


def running_plans() -> list[str]:
    setup = shop_setup()
    return [kind for kind in setup.plans if kind in REGISTRY.plans] if setup else []


def normalised_config(kind: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Every key with its value (defaults filled in), money and rates as strings."""
    config: dict[str, Any] = validate_config(kind, module_type(kind).Config, dict(raw)).model_dump(mode="json")
    return config


def today() -> dt.date:
    """The shop's business day now (in its time zone)."""
    return timezone.now().astimezone(wording_engine().tz).date()


# --- the points and distribution pages ----------------------------------------------------------------------------


def shop_read(kind: str) -> dict[str, Any] | None:
    """A module's shop-wide read as the worker last committed it (``GET /api/plans/<kind>``), or None."""
    found: dict[str, Any] | None = ModuleState.objects.filter(kind=kind).values_list("view", flat=True).first()
    return found


def points_releases(member: str, limit: int = 10) -> list[dict[str, Any]]:
    """The member's latest ``limit`` daily points releases, newest first, as the ledger holds them: each close's
    transaction (its ref is the day) with the points it burnt from the member and the cash it credited."""
    released = LedgerEntry.objects.filter(owner=member, transaction__rule="points_release")
    # every release burns points from the member's points book: its newest releases by the (owner, book, id)
    # index, not by reading the member's whole statement
    burnt = released.filter(book=POINTS_BOOK).order_by("-id")
    txns = list(burnt.values_list("transaction_id", flat=True)[:limit])
    by_txn: dict[int, dict[str, Any]] = {t: {"points": 0, "cash": 0} for t in txns}
    rows = released.filter(transaction_id__in=txns).values_list("transaction_id", "transaction__ref", "book",
                                                                "amount", "balance_after")
    for txn, ref, book, amount, after in rows:
        line = by_txn[txn]
        line["day"] = ref
        if book == "points":
            line["points"], line["points_after"] = -amount, after
        elif book == "available":
            line["cash"] = amount
    return [{"day": by_txn[t]["day"], "points": format_fen(by_txn[t]["points"]),
             "points_after": format_fen(by_txn[t].get("points_after", 0)), "cash": format_fen(by_txn[t]["cash"])}
            for t in txns]


def bound_buyers_page(promoter: str, after: int | None = None, before: int | None = None,
                      limit: int = 20) -> dict[str, Any]:
    """The buyers bound to ``promoter`` (their distribution read names it: ``bound_to.promoter``), a page at a time
    in join order (see ``people_page``), each with its binding as the engine read it: since when (the first
    binding by this promoter), last renewed, through which channel, until when (None: for good)."""
    rows = MemberState.objects.filter(bound_promoter=promoter)  # the worker's column: an index, no JSON scan
    page = people_page(rows, after, before, limit)
    members = [p["member"] for p in page["members"]]
    bindings = dict(MemberState.objects.filter(member__in=members)
                    .values_list("member", "reads__distribution__bound_to"))
    buyers = []
    for person in page["members"]:
        binding = bindings.get(person["member"]) or {}
        buyers.append({"member": person["member"], "joined_at": person["joined_at"],
                       "since": binding.get("since"), "renewed": binding.get("renewed"),
                       "until": binding.get("until"), "channel": binding.get("channel")})
    return {"promoter": promoter, "buyers": buyers, "total": page["total"], "next_after": page["next_after"],
            "prev_before": page["prev_before"]}

# --- member groups (the member_groups plan's reads, as the worker wrote them) -------------------------------------


def exclusive_products() -> dict[str, list[dict[str, str]]]:
    """sku -> the groups that may buy it (``group``, ``name``), from the member_groups plan's shop read; {} when the
    shop does not run the plan."""
    if "member_groups" not in running_plans():
        return {}
    view = ModuleState.objects.filter(kind="member_groups").values_list("view", flat=True).first() or {}
    names = {g["group"]: g["name"] for g in view.get("groups", [])}
    return {sku: [{"group": g, "name": names.get(g, g)} for g in groups]
            for sku, groups in view.get("exclusive", {}).items()}


def member_groups_of(member: str | None) -> set[str]:
    """The groups ``member`` is in (its member_groups read); none for a visitor."""
    if member is None:
        return set()
    read = plan_read(member_state(member), "member_groups")
    return {g["group"] for g in read.get("groups", [])}


def may_see_product(sku: str, member: str | None, exclusive: dict[str, list[dict[str, str]]] | None = None) -> bool:
    """Whether ``member`` (None: a visitor) may see and order ``sku``: a product exclusive to groups only for their
    members. The engine refuses an outsider's order whatever this says (``member_group_exclusive``)."""
    allowed = (exclusive_products() if exclusive is None else exclusive).get(sku)
    return allowed is None or bool(member_groups_of(member) & {g["group"] for g in allowed})

# --- earnings (收益 and 提现 pages) ---------------------------------------------------------------------------------

#: The most lines one page of a member's earnings statement holds.
STATEMENT_PAGE_MAX = 100
#: How long the cache keeps a member's statement rules (``statement_rules``) after it last changed.
STATEMENT_RULES_SECONDS = 7 * 24 * 3600


def _money_entries(member: str, rule: str | None = None, start: dt.datetime | None = None,
                   end: dt.datetime | None = None) -> QuerySet[LedgerEntry]:
    """The member's ledger entries in money (fen; points and coupons have their own pages), of ``rule`` if given,
    posted in ``[start, end)`` if given."""
    rows = LedgerEntry.objects.filter(owner=member, unit="fen")
    if rule:
        rows = rows.filter(transaction__rule=rule)
    if start is not None:
        rows = rows.filter(transaction__at__gte=start)
    if end is not None:
        rows = rows.filter(transaction__at__lt=end)
    return rows


def _money_line(entry: LedgerEntry) -> dict[str, Any]:
    t: LedgerTransaction = entry.transaction
    return {"entry": entry.id, "at": t.at, "book": entry.book, "amount": entry.amount,
            "balance_after": entry.balance_after, "rule": t.rule, "plan": t.plan or None, "order": t.order or None,
            "source": t.source or None, "ref": t.ref or None, "reverses": t.reverses}


def money_statement_page(member: str, *, after: int | None = None, before: int | None = None,
                         limit: int = 20, rule: str | None = None, start: dt.datetime | None = None,
                         end: dt.datetime | None = None) -> dict[str, Any]:
    """One page of the member's money entries, newest first (keyset on the entry id: the ``limit`` older than
    entry ``after``, or the ``limit`` newer than ``before``, or the newest), filtered by rule and time; amounts and
    balances after in fen, as posted. Cursors of the pages on either side (None at an end). Never loads more than
    ``limit + 1`` entries."""
    if not 1 <= limit <= STATEMENT_PAGE_MAX:
        raise ApiError(400, ApiCode.INVALID, "limit", str(limit), why=f"not between 1 and {STATEMENT_PAGE_MAX}")
    rows = _money_entries(member, rule, start, end).select_related("transaction")
    if before is not None:
        got = list(rows.filter(id__gt=before).order_by("id")[: limit + 1])
        more_newer = len(got) > limit
        page = list(reversed(got[:limit]))
        more_older = bool(page) and rows.filter(id__lt=page[-1].id).exists()
    else:
        window = rows.filter(id__lt=after) if after is not None else rows
        got = list(window.order_by("-id")[: limit + 1])
        page = got[:limit]
        more_older = len(got) > limit
        more_newer = after is not None and bool(page) and rows.filter(id__gt=page[0].id).exists()
    return {"member": member, "lines": [_money_line(e) for e in page],
            "next_after": page[-1].id if page and more_older else None,
            "prev_before": page[0].id if page and more_newer else None}


#: The columns of a statement line, as ``_money_line`` names them.
_LINE_COLUMNS = (("entry", "id"), ("at", "transaction__at"), ("book", "book"), ("amount", "amount"),
                 ("balance_after", "balance_after"), ("rule", "transaction__rule"), ("plan", "transaction__plan"),
                 ("order", "transaction__order"), ("source", "transaction__source"), ("ref", "transaction__ref"),
                 ("reverses", "transaction__reverses"))


def money_statement_all(member: str, *, rule: str | None = None, start: dt.datetime | None = None,
                        end: dt.datetime | None = None, chunk: int = 500, newer_than: int | None = None) -> Any:
    """Every money entry of the member (filtered as ``money_statement_page``, the same line dicts), newest first,
    read ``chunk`` at a time by keyset on the entry (for a download: never the whole statement in memory, and
    plain rows, not model objects); with ``newer_than``, only the entries after that one."""
    rows = _money_entries(member, rule, start, end).order_by("-id")
    if newer_than is not None:
        rows = rows.filter(id__gt=newer_than)
    columns = [column for _name, column in _LINE_COLUMNS]
    blank = ("plan", "order", "source", "ref")  # stored as "", shown as None (``_money_line``)
    after: int | None = None
    while True:
        window = rows.filter(id__lt=after) if after is not None else rows
        got = list(window.values_list(*columns)[:chunk])
        for values in got:
            line = {name: value for (name, _column), value in zip(_LINE_COLUMNS, values, strict=True)}
            for name in blank:
                line[name] = line[name] or None
            yield line
        if len(got) < chunk:
            return
        after = got[-1][0]


def statement_rules(member: str) -> list[str]:
    """The rules that posted to the member's money accounts (what its statement can be filtered by), by name.

    Entries are append-only and committed in id order (one worker), so the rules up to an entry never change: the
    cache keeps them with the newest entry they cover, and each call reads only the entries after it (none, most
    times) instead of the whole statement."""
    key = f"liandong:statement-rules:{member}"
    known = cache.get(key)
    covered, rules = (int(known[0]), set(known[1])) if known else (0, set())
    newer = LedgerEntry.objects.filter(owner=member, unit="fen", id__gt=covered)
    newest = newer.order_by("-id").values_list("id", flat=True).first()
    if newest is not None:
        rules |= set(newer.filter(id__lte=newest).values_list("transaction__rule", flat=True).distinct())
        cache.set(key, (newest, sorted(rules)), timeout=STATEMENT_RULES_SECONDS)
    return sorted(rules)


def monthly_bill(member: str, month: dt.date) -> dict[str, Any]:
    """The member's bill for ``month`` (its first day; months in the shop's time zone), from the monthly totals the
    worker keeps with the ledger (``StatementMonth``): for each of its money books, the balance before the month
    (the balance after its last entry before the month), the sum of the month's entries by rule (and how many), and
    the balance at the end (after its last entry up to the month's end). Only books with a balance or a movement are
    listed; amounts in fen. ``opening + Σ totals = closing`` holds for every book (the ledger's balances are running
    sums of its entries). Three queries, whatever the number of entries: the month's rows, and the latest row of
    each book before the month."""
    rows = StatementMonth.objects.filter(owner=member, book__in=MEMBER_BOOKS)
    this_month = list(rows.filter(month=month).order_by("rule").values_list(
        "book", "rule", "amount", "entries", "last_transaction", "balance_after"))
    latest = dict(rows.filter(month__lt=month).values("book").annotate(last=Max("last_transaction"))
                  .values_list("book", "last"))
    before: dict[str, tuple[int, int]] = {}  # book -> (its latest transaction before the month, the balance after)
    if latest:
        for book, last, balance in rows.filter(month__lt=month, last_transaction__in=set(latest.values())) \
                .values_list("book", "last_transaction", "balance_after"):
            if latest.get(book) == last:
                before[book] = (last, balance)
    books = []
    for book in MEMBER_BOOKS:
        moved = [row for row in this_month if row[0] == book]
        start = before.get(book, (0, 0))[1]
        # the balance after the book's latest entry up to the month's end (an event dated back may post after
        # a later month's entries: the latest is by transaction, as the ledger's order is)
        closing = max([before.get(book, (0, 0)), *((row[4], row[5]) for row in moved)])[1]
        totals = [{"rule": rule, "amount": amount, "entries": count} for _book, rule, amount, count, _l, _b in moved]
        if start or closing or totals:
            books.append({"book": book, "opening": start, "totals": totals, "closing": closing})
    return {"member": member, "month": month, "books": books}


def withdrawal_terms() -> dict[str, Any]:
    """The shop's withdrawal policy now, by the engine's own rule (``withdrawal_policy_of`` the running plans, each
    built from its current config): the minimum in fen and the fee rate (None: no fee)."""
    plans: list[Module] = []
    for kind in running_plans():
        cls = REGISTRY.plans[kind]
        plans.append(cls(validate_config(kind, cls.Config, plan_versions(kind)[-1]["config"])))
    minimum, fee_rate = withdrawal_policy_of(plans)
    return {"minimum": minimum, "fee_rate": fee_rate}


def withdrawal_quote(member: str, amount: int) -> dict[str, Any]:
    """What a withdrawal of ``amount`` fen would be now, by the engine's rules: refused (the engine's refusal,
    ``withdraw_refusal`` against the minimum and the member's available balance) or its fee (``withdrawal_fee``;
    the fee is fixed at approval, with the policy then) and net."""
    terms = withdrawal_terms()
    available = available_of([member]).get(member, 0)
    refusal = withdraw_refusal(amount, terms["minimum"], available)
    fee = withdrawal_fee(amount, terms["fee_rate"])
    return {"amount": amount, "available": available, "minimum": terms["minimum"], "fee_rate": terms["fee_rate"],
            "fee": fee, "net": amount - fee, "refusal": refusal}


def refused_withdrawals(member: str, limit: int = 5) -> list[dict[str, Any]]:
    """The member's latest withdrawal requests the engine refused (they have no withdrawal of their own), newest
    first: amount, when, and the engine's reason in both languages."""
    rows = (LoggedEvent.objects.filter(verb="withdraw", actor=f"member:{member}", outcome__applied=False)
            .select_related("outcome").order_by("-position")[:limit])
    out = []
    for logged in rows:
        refusal = logged.outcome.refusal or {}
        out.append({"position": logged.position, "at": logged.created_at, "amount": logged.payload.get("amount"),
                    "payee": logged.payload.get("payee"), "field": refusal.get("field"),
                    "reason": refusal.get("reason", ""), "reason_zh": refusal.get("reason_zh", "")})
    return out
