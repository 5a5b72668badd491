"""What the orders pages read: the paid orders (the worker's ``OrderState``), the ledger transactions each order
caused (what it paid whom, and what a refund took back), and what a refund would take back now — from the engine
itself on a throwaway copy (``service.dryrun``), never computed here.

Amounts are integer fen in the book's unit (points are hundredths of a point); people are member ids (the views name
them); the shop's own accounts (``@platform``, ``@pool``, ``@external``, …) are named by ``account_owner_label``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from ...engine.labels import book_label, label
from ...engine.ledger import NON_CASH_UNITS
from ...engine.money import format_fen
from ...service import dryrun
from ...service.store.models import LedgerEntry, LedgerTransaction, MemberState, OrderState, ProductState
from ..api import reads as api_reads
from ..pages.people import display_names
from . import reads

#: The order statuses the list filters by.
ORDER_STATUSES = ("paid", "refunded")
#: The shop's own ledger accounts as the pages name them.
SHOP_OWNERS = {"@platform": gettext_lazy("The shop"), "@pool": gettext_lazy("Bonus pool"),
               "@external": gettext_lazy("Payments (outside)")}


#: The shop's own books as the pages name them (the engine labels the members' books only).
SHOP_BOOKS = {"sales": gettext_lazy("sales"), "payments": gettext_lazy("payments received"),
              "reward_expense": gettext_lazy("reward expense"), "pool_contribution": gettext_lazy("pool funding"),
              "bonus": gettext_lazy("bonus pool"), "withdrawal_fees": gettext_lazy("withdrawal fees")}


def shop_book_label(owner: str, book: str, lang: str) -> str:
    found = SHOP_BOOKS.get(book) if not is_member(owner) else None
    return str(found) if found is not None else book_label(book, lang)


def _lang() -> str:
    return "zh" if (get_language() or "zh-hans").startswith("zh") else "en"


def is_member(owner: str) -> bool:
    return not owner.startswith("@")


def account_owner_label(owner: str, names: dict[str, str]) -> str:
    if is_member(owner):
        return names.get(owner, owner)
    found = SHOP_OWNERS.get(owner)
    return str(found) if found is not None else owner.lstrip("@").replace("_", " ")


def filtered_orders(status: str, member: str, start: dt.date | None, end: dt.date | None) -> QuerySet[OrderState]:
    """Paid orders (status ``paid``: not refunded; ``refunded``; ``all``), of a member (a display name, part of one
    or a member id), paid from ``start`` to ``end`` (the shop's days)."""
    rows = OrderState.objects.all()
    if status == "paid":
        rows = rows.filter(refunded=False)
    elif status == "refunded":
        rows = rows.filter(refunded=True)
    if member:
        named = MemberState.objects.filter(api_reads._named(member)).values("member")
        rows = rows.filter(member__in=named) | rows.filter(member=member)
    if start:
        rows = rows.filter(paid_at__gte=reads.business_day_bounds(start)[0])
    if end:
        rows = rows.filter(paid_at__lt=reads.business_day_bounds(end)[1])
    return rows


def product_names(skus: set[str]) -> dict[str, str]:
    return {sku: name or sku for sku, name in ProductState.objects.filter(sku__in=skus).values_list("sku", "name")}


@dataclass
class Line:
    """One entry of a transaction, as the pages show it."""

    owner: str
    who: str
    book: str
    book_label: str
    amount: int
    unit: str
    member: bool

    @property
    def shown(self) -> str:
        return format_fen(self.amount)


@dataclass
class Movement:
    """One ledger transaction (or one the engine would post): its rule in words and its entries."""

    id: int | None
    rule: str
    rule_label: str
    at: dt.datetime | None
    reverses: int | None
    lines: list[Line] = field(default_factory=list)


def _line(owner: str, book: str, amount: int, unit: str, names: dict[str, str], lang: str) -> Line:
    return Line(owner, account_owner_label(owner, names), book, shop_book_label(owner, book, lang), amount, unit,
                is_member(owner))


def order_movements(order: str) -> list[Movement]:
    """Every ledger transaction the order caused, oldest first: the sale, each reward and settlement, and the
    reversals of a refund."""
    txns = list(LedgerTransaction.objects.filter(order=order).order_by("id"))
    entries = LedgerEntry.objects.filter(transaction_id__in=[t.id for t in txns]).order_by("id")
    owners = {e.owner for e in entries}
    names = display_names(o for o in owners if is_member(o))
    lang, tz = _lang(), reads.shop_tz()
    out = {t.id: Movement(t.id, t.rule, label(t.rule, lang), t.at.astimezone(tz), t.reverses) for t in txns}
    for e in entries:
        out[e.transaction_id].lines.append(_line(e.owner, e.book, e.amount, e.unit, names, lang))
    return list(out.values())


def paid_to_members(movements: list[Movement]) -> list[dict[str, Any]]:
    """What the order's transactions left with each member, by book (money and points apart): who got what."""
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for m in movements:
        for line in m.lines:
            if line.member:
                row = totals.setdefault((line.owner, line.book), {"who": line.who, "owner": line.owner,
                                                                  "book": line.book, "book_label": line.book_label,
                                                                  "unit": line.unit, "amount": 0})
                row["amount"] += line.amount
    return [row for row in totals.values() if row["amount"]]


@dataclass
class RefundPreview:
    """What the engine would do with a refund of the order logged now: refused (``refusal``: its reason in the
    page's language) or the transactions it would post, with each member's and the shop's change summed."""

    order: str
    refusal: str | None
    code: str | None
    movements: list[Movement]
    members: list[dict[str, Any]]
    shop: list[dict[str, Any]]


def refund_preview(order: str) -> RefundPreview:
    """A refund of ``order`` run by the engine on a copy of the shop as the worker has it (``dryrun.dry_run``):
    nothing is logged. Only the transactions naming the order are kept (a deadline that passes with the clock is
    not the refund's)."""
    applied = dryrun.dry_run("refund", {"order": order})
    lang = _lang()
    if applied.refusal is not None:
        reason = applied.refusal.message("zh-hans" if lang == "zh" else "en")
        return RefundPreview(order, reason, str(applied.refusal.code), [], [], [])
    txns = [t for t in applied.transactions if t.order == order]
    owners = {owner for t in txns for (owner, _book), _a in t.entries}
    names = display_names(o for o in owners if is_member(o))
    movements = []
    for t in txns:
        m = Movement(None, t.rule, label(t.rule, lang), t.at, t.reverses)
        m.lines = [_line(owner, book, amount, NON_CASH_UNITS.get(book, "fen"), names, lang)
                   for (owner, book), amount in t.entries]
        movements.append(m)
    summed: dict[tuple[str, str], dict[str, Any]] = {}
    for m in movements:
        for line in m.lines:
            row = summed.setdefault((line.owner, line.book), {"who": line.who, "owner": line.owner,
                                                              "book": line.book, "book_label": line.book_label,
                                                              "unit": line.unit, "amount": 0,
                                                              "member": line.member})
            row["amount"] += line.amount
    rows = [r for r in summed.values() if r["amount"]]
    return RefundPreview(order, None, None, movements, [r for r in rows if r["member"]],
                         [r for r in rows if not r["member"]])


def order_snapshot(order: str) -> dict[str, Any] | None:
    """The order as the audit row keeps it, before and after: the API's read of it."""
    found = api_reads.find_order(order)
    return {k: v for k, v in found.items() if k in ("order", "member", "sku", "quantity", "amount", "status",
                                                    "paid_at")} if found else None


def no_refund_reason(state: OrderState) -> str | None:
    """Why the page offers no refund button for an order, when the reason is known without asking the engine."""
    if state.refunded:
        return _("This order is refunded.")
    return None
