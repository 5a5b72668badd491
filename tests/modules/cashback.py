"""Cashback: a tiny plan that exists only in the tests, to prove that a plan is one module and one registry line.

Every paid order of the plan's products credits its buyer ``rate`` of the amount (floored to the fen) in the
``cashback`` book; the member moves cashback to its available balance with ``redeem_cashback``; a refund takes the
order's cashback back (from the book as far as it still holds it, the rest from available). Worked example with the
default rate 0.05::

    A pays 200.00 (o1)          A cashback +10.00   (cashback · order o1 (your purchase))
    A redeems 6.00              A cashback -6.00, available +6.00
    o1 is refunded              A cashback -4.00, available -6.00   (the 10.00 back: 4.00 left in the book)

Nothing outside this file names it: ``tests/conftest.py`` imports it, and the line at the bottom registers it.
Its texts are marked like every module's (``gettext_noop``), but it lives outside the package, so the project's
catalogue has none of them: they read in English in every language (``docs/i18n.md``).
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar

from liandong.engine.config_types import Rate01
from liandong.engine.errors import Code, Refusal, refuse
from liandong.engine.events import Event, MemberId, Money, register_event
from liandong.engine.i18n import gettext_noop
from liandong.engine.module import Book, Module, ModuleConfig, Rule, Verb
from liandong.engine.money import apply_rate, format_fen, format_rate
from liandong.engine.registry import REGISTRY

if TYPE_CHECKING:
    from liandong.engine.core import Engine, Order

KIND = "cashback"
BOOK = "cashback"
EXPENSE = ("@platform", "cashback_expense")


class CashbackConfig(ModuleConfig):
    rate: Rate01 = Fraction(5, 100)


@register_event
class RedeemCashback(Event):
    """A member moves part of its cashback to its available balance."""

    verb: ClassVar[str] = "redeem_cashback"
    primary: ClassVar[str] = "member"
    money_fields: ClassVar[tuple[str, ...]] = ("amount",)
    member: MemberId
    amount: Money


class Cashback(Module):
    kind: ClassVar[str] = KIND
    Config: ClassVar[type[ModuleConfig]] = CashbackConfig
    config: CashbackConfig
    rules = (Rule("cashback", gettext_noop("cashback"), gettext_noop("your purchase"), reward=True),
             Rule("cashback_redeemed", gettext_noop("cashback redeemed")))
    books = (Book(BOOK, gettext_noop("cashback")),)
    codes = {"cashback_insufficient": gettext_noop("amount {value} is more than the cashback {held}")}
    accounts = (EXPENSE,)

    def __init__(self, config: ModuleConfig) -> None:
        super().__init__(config)
        self.credited: dict[str, int] = {}  # order -> cashback credited on it
        self.earned: dict[str, int] = {}  # member -> credited less taken back

    def on_pay(self, engine: Engine, order: Order) -> None:
        amount = apply_rate(order.amount, self.config.rate)
        if amount:
            engine.transfer("cashback", EXPENSE, (order.member, BOOK), amount, plan=KIND, order=order.id,
                            source=order.member)
            self.credited[order.id] = amount
            self.earned[order.member] = self.earned.get(order.member, 0) + amount

    def on_refund(self, engine: Engine, order: Order) -> None:
        amount = self.credited.pop(order.id, 0)
        if not amount:
            return
        from_book = min(amount, max(engine.balance(order.member, BOOK), 0))
        entries = [((order.member, BOOK), -from_book), ((order.member, "available"), -(amount - from_book)),
                   (EXPENSE, amount)]
        engine.post("cashback", [e for e in entries if e[1]], plan=KIND, order=order.id, source=order.member)
        self.earned[order.member] -= amount

    def member_view(self, engine: Engine, member: str) -> dict[str, Any]:
        return {"cashback": format_fen(engine.balance(member, BOOK))}

    def member_read(self, engine: Engine, member: str) -> dict[str, Any]:
        return {"balance": format_fen(engine.balance(member, BOOK)), "rate": format_rate(self.config.rate)}

    def operator_read(self, engine: Engine, member: str) -> dict[str, Any]:
        return {**self.member_read(engine, member), "earned": format_fen(self.earned.get(member, 0))}

    def end_state(self, engine: Engine) -> dict[str, Any]:
        return {"cashback": {"outstanding": format_fen(sum(
            a for (owner, book), a in engine.ledger.balances.items() if book == BOOK and not owner.startswith("@")))}}

    def check_invariants(self, engine: Engine) -> list[str]:
        return [f"{m}'s cashback book holds {format_fen(engine.balance(m, BOOK))}, below zero"
                for m in self.earned if engine.balance(m, BOOK) < 0]


def check_redeem(engine: Engine, event: RedeemCashback) -> Refusal | None:
    if event.member not in engine.members:
        return refuse(Code.MEMBER_UNKNOWN, "member", event.member)
    held = engine.balance(event.member, BOOK)
    if event.amount <= 0 or event.amount > held:
        return refuse("cashback_insufficient", "amount", format_fen(event.amount), held=format_fen(held))
    return None


def apply_redeem(engine: Engine, event: RedeemCashback) -> None:
    engine.transfer("cashback_redeemed", (event.member, BOOK), (event.member, "available"), event.amount, plan=KIND)


Cashback.verbs = (Verb(RedeemCashback, check_redeem, apply_redeem, senders=("member",), member_field="member",
                       example={"amount": "6.00"}),)

REGISTRY.register(Cashback)
