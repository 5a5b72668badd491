"""What the back office reads, from the worker's projections only (nothing here writes or computes a reward).

Amounts are integer fen (templates show them with ``|yuan``); people are member ids (views name them with
``pages.people.display_names``). Times are the shop's (``business_day_bounds``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from ...engine.core import withdrawal_fee
from ...service.store.models import MemberState, OrderState, WithdrawalState
from ..api import reads

#: The withdrawal statuses the queue filters by, in the order its tabs show them.
WITHDRAWAL_STATUSES = ("requested", "approved", "paid", "rejected", "payout_failed")


def shop_tz() -> dt.tzinfo:
    return reads.wording_engine().tz


def business_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The first instant of ``day`` and of the next, in the shop's time zone."""
    tz = shop_tz()
    start = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)


def withdrawal_totals(rows: QuerySet[WithdrawalState]) -> dict[str, int]:
    """How many, and their amounts and fees summed (fen)."""
    found = rows.aggregate(count=Count("id"), amount=Sum("amount"), fee=Sum("fee"))
    amount, fee = int(found["amount"] or 0), int(found["fee"] or 0)
    return {"count": int(found["count"] or 0), "amount": amount, "fee": fee, "net": amount - fee}


def pending_withdrawals() -> dict[str, int]:
    """Requested withdrawals waiting for a decision."""
    return withdrawal_totals(WithdrawalState.objects.filter(status="requested"))


def payouts_due() -> dict[str, int]:
    """Approved withdrawals whose payout is not recorded yet (what the payout CSV lists)."""
    return withdrawal_totals(WithdrawalState.objects.filter(status="approved"))


def distribution_runs() -> bool:
    return "distribution" in reads.running_plans()


def promoter_applications(status: str = "pending") -> QuerySet[MemberState]:
    """Members whose latest promoter application has ``status`` (the distribution plan's member read)."""
    return MemberState.objects.filter(reads__distribution__application__status=status)


def orders_of_day(day: dt.date) -> dict[str, int]:
    """Orders paid on ``day`` (the shop's), how many were refunded since, and their sales in fen (every paid
    order's amount; ``refunded_amount`` the refunded ones')."""
    start, end = business_day_bounds(day)
    found = OrderState.objects.filter(paid_at__gte=start, paid_at__lt=end).aggregate(
        paid=Count("id"), sales=Sum("amount"), refunds=Count("id", filter=Q(refunded=True)),
        refunds_amount=Sum("amount", filter=Q(refunded=True)))
    return {"count": int(found["paid"] or 0), "sales": int(found["sales"] or 0),
            "refunded": int(found["refunds"] or 0), "refunded_amount": int(found["refunds_amount"] or 0)}


def expected_fees(amounts: dict[str, int]) -> dict[str, int]:
    """The fee each requested withdrawal (id -> amount) would get if approved now: the engine's own rule
    (``withdrawal_fee`` at the running plans' rate; the engine fixes it at approval, with the policy then)."""
    rate = reads.withdrawal_terms()["fee_rate"]
    return {w: withdrawal_fee(amount, rate) for w, amount in amounts.items()}


def member_read(member: str, kind: str) -> dict[str, Any]:
    return reads.plan_read(reads.member_state(member), kind)
