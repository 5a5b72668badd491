"""Random event sequences through the engine (Hypothesis state machines), with properties checked after every step.

``EngineMachine`` drives the core events on a shop that ``make_shop`` builds: joins (with a random existing referrer
or none, sometimes an existing id), payments (a random product, sometimes an unknown member, product or a used order
id), refunds (of a random order, already refunded ones included), close_day (sometimes for a day before the clock's),
withdrawals of random amounts, approvals, rejections, payouts and ticks, at times that sometimes go backwards.
After every step it checks that

1. ``engine.check_invariants()`` is empty (the ledger sums to zero per unit, each balance is the sum of its entries,
   and every module's own invariants hold: for chain21, every team leader is promoted and an ancestor of its
   members, and a partner whose seeds are all partners holds no help fund);
2. replaying the same events in a fresh engine gives identical transactions and refusals (the engine is
   deterministic: time and randomness come in the events);
3. on that replayed copy, refunding every unrefunded order is accepted and leaves what ``check_after_refunds``
   states (each module machine states its own).

Adding a module's rules: subclass the machine of the plans it runs (or ``EngineMachine``), override ``make_shop``
to run the module with its config (drawn from ``data`` if it varies), add ``@rule`` methods that build the module's
events and pass them to ``self.apply`` (which logs them for the replay check), and extend ``check_after_refunds``.
``Chain21Machine`` is the example. A campaign event must carry its ``secret``, or the replay check will see a
different draw.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from typing import Any, ClassVar

import hypothesis
import pytest
from chain21_model import Chain21Model, ModelConfig
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from liandong.engine import Engine, Shop
from liandong.engine import events as ev
from liandong.engine.core import MEMBER_BOOKS, Product
from liandong.engine.ledger import Transaction
from liandong.engine.money import format_fen
from liandong.engine.plans.chain21 import Chain21
from liandong.engine.registry import new_engine

#: How far the clock moves before an event: mostly seconds, sometimes days (settlement windows, the transposition
#: wait), sometimes backwards (an ``at`` before the clock is refused) or not at all (an ``at`` equal to it is fine).
CLOCK_STEPS = st.integers(min_value=0, max_value=19).flatmap(
    lambda kind: st.integers(min_value=1, max_value=600) if kind < 17
    else st.integers(min_value=1, max_value=35).map(lambda days: days * 86400) if kind < 19
    else st.integers(min_value=-7200, max_value=0)
)
GHOST = "ghost"  # an id nobody has


def _transaction_key(txn: Transaction) -> tuple[Any, ...]:
    return (txn.id, txn.event, txn.rule, txn.entries, txn.plan, txn.order, txn.source, txn.reverses, txn.ref, txn.at)


class EngineMachine(RuleBasedStateMachine):
    """The core events on any shop. Subclasses choose the shop and add their modules' events."""

    makes_withdrawals = True
    steps_run: ClassVar[int] = 0  # in all runs of the class, counted at each run's teardown
    replay_every: ClassVar[int] = 1  # checks between two replays (each replays the whole log: long runs space them)

    def __init__(self) -> None:
        super().__init__()
        self.shop = Shop()
        self.engine = new_engine(self.shop)
        self.log: list[ev.Event] = []  # every event applied, refused ones included, in order
        self.joined = 0
        self.paid = 0
        self.withdrawals = 0
        self.checks = 0

    # --- what subclasses change ----------------------------------------------------------------------------------
    def make_shop(self, data: st.DataObject) -> Shop:
        return Shop(products=[Product("TEA", 5900)])

    def check_after_refunds(self, engine: Engine) -> None:
        """What must hold once every order is refunded (``engine`` is a replayed copy, free to change)."""

    # --- helpers -------------------------------------------------------------------------------------------------
    @initialize(data=st.data())
    def open_shop(self, data: st.DataObject) -> None:
        self.shop = self.make_shop(data)
        self.engine = new_engine(self.shop)
        if data.draw(st.booleans(), label="referral counts kept (as the worker keeps them)"):
            self.engine.track_referral_counts()

    def apply(self, event: ev.Event) -> None:
        self.log.append(event)
        self.engine.apply(event)
        if self.engine.recounted is not None:
            self.engine.recounted.clear()  # as the worker does at each batch

    def at(self, data: st.DataObject) -> dt.datetime:
        return self.engine.clock + dt.timedelta(seconds=data.draw(CLOCK_STEPS, label="seconds after the clock"))

    def join_event(self, data: st.DataObject, member: str, referrer: str | None) -> ev.Join:
        """The join every rule that adds members sends; a subclass adds what members tell at join (birth dates)."""
        return ev.Join(at=self.at(data), member=member, referrer=referrer)

    def some_member(self, data: st.DataObject) -> str:
        members = list(self.engine.members)
        return data.draw(st.sampled_from([*members, GHOST]) if members else st.just(GHOST), label="member")

    def some_product(self, data: st.DataObject) -> str:
        """Gift packs twice as often as other products (they are what plans reward)."""
        products = self.engine.products.values()
        weighted = [p.sku for p in products for _ in range(2 if p.gift_pack else 1)]
        return data.draw(st.sampled_from(weighted), label="sku")

    # --- core events ---------------------------------------------------------------------------------------------
    @rule(data=st.data(), newcomers=st.integers(min_value=1, max_value=4))
    def grow(self, data: st.DataObject, newcomers: int) -> None:
        """A member (or nobody) brings a few newcomers, and each pays for a product: the tree grows."""
        referrer = data.draw(st.sampled_from([*self.engine.members, None]), label="recruiter")
        for _ in range(newcomers):
            member = f"m{self.joined}"
            self.joined += 1
            self.apply(self.join_event(data, member, referrer))
            self.paid += 1
            self.apply(ev.Pay(at=self.at(data), member=member, sku=self.some_product(data), order=f"o{self.paid}"))

    @rule(data=st.data())
    def join(self, data: st.DataObject) -> None:
        members = list(self.engine.members)
        referrer = data.draw(st.sampled_from([None, *members]), label="referrer")
        member = f"m{self.joined}"
        self.joined += 1
        if members and data.draw(st.integers(0, 9), label="reuse an id") == 9:
            member = data.draw(st.sampled_from(members), label="existing member")  # refused: already a member
        self.apply(self.join_event(data, member, referrer))

    @rule(data=st.data())
    def pay(self, data: st.DataObject) -> None:
        sku = "NOPE" if data.draw(st.integers(0, 19), label="unknown sku") == 19 else self.some_product(data)
        order = f"o{self.paid}"
        self.paid += 1
        if self.engine.orders and data.draw(st.integers(0, 19), label="reuse an order id") == 19:
            order = data.draw(st.sampled_from(list(self.engine.orders)), label="existing order")
        self.apply(ev.Pay(at=self.at(data), member=self.some_member(data), sku=sku, order=order))

    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        order = data.draw(st.sampled_from([*self.engine.orders, "o-none"]), label="order")
        self.apply(ev.Refund(at=self.at(data), order=order))

    @rule(data=st.data(), days=st.sampled_from([-1, 0, 0, 1, 1, 2, 5]))
    def close_day(self, data: st.DataObject, days: int) -> None:
        self.apply(ev.CloseDay(at=self.at(data), day=self.engine.today + dt.timedelta(days=days)))

    @precondition(lambda self: self.makes_withdrawals)
    @rule(data=st.data())
    def withdraw(self, data: st.DataObject) -> None:
        earners = [m for m in self.engine.members if self.engine.balance(m) >= 1000]
        member = (data.draw(st.sampled_from(earners), label="member with money")
                  if earners and data.draw(st.integers(0, 3), label="anyone") < 3 else self.some_member(data))
        available = self.engine.balance(member)
        amounts = st.one_of(st.integers(-100, 200_000), st.sampled_from([available, available + 1, 1000, 999]))
        amount = data.draw(amounts, label="amount in fen")
        self.withdrawals += 1
        self.apply(ev.Withdraw(at=self.at(data), member=member, amount=amount, withdrawal=f"w{self.withdrawals}"))

    @rule(data=st.data(), verb=st.sampled_from(["approve", "reject", "paid"]))
    def decide_withdrawal(self, data: st.DataObject, verb: str) -> None:
        requested = [w.id for w in self.engine.withdrawals.values() if w.status == "requested"]
        withdrawal = data.draw(st.sampled_from([*requested, *self.engine.withdrawals, "w-none"]), label="withdrawal")
        at = self.at(data)
        if verb == "approve":
            self.apply(ev.ApproveWithdrawal(at=at, withdrawal=withdrawal))
        elif verb == "reject":
            self.apply(ev.RejectWithdrawal(at=at, withdrawal=withdrawal, reason="account name mismatch"))
        else:
            self.apply(ev.MarkWithdrawalPaid(at=at, withdrawal=withdrawal, reference="bank-1"))

    @rule(data=st.data())
    def tick(self, data: st.DataObject) -> None:
        self.apply(ev.Tick(at=self.at(data)))

    # --- properties after every step -----------------------------------------------------------------------------
    @invariant()
    def count_the_step(self) -> None:
        """Counts the checks (one after the set-up, one after each step) for the long runs' own check."""
        self.checks += 1

    def teardown(self) -> None:
        type(self).steps_run += max(self.checks - 1, 0)
        if self.checks % self.replay_every and sys.exc_info()[1] is None:
            self.replay_and_refund_everything()  # the last step was not replayed yet

    @invariant()
    def invariants_hold(self) -> None:
        assert self.engine.check_invariants() == []

    @invariant()
    def a_replay_gives_the_same_ledger_and_refunds_undo_the_orders(self) -> None:
        if self.checks % self.replay_every == 0:
            self.replay_and_refund_everything()

    def replay_and_refund_everything(self) -> None:
        copy = new_engine(self.shop)
        for event in self.log:
            copy.apply(event)
        assert [_transaction_key(t) for t in copy.ledger.transactions] == [
            _transaction_key(t) for t in self.engine.ledger.transactions]
        assert copy.refused == self.engine.refused
        assert copy.ledger.balances == self.engine.ledger.balances
        unrefunded = [o.id for o in copy.orders.values() if not o.refunded]
        random.Random(len(self.log)).shuffle(unrefunded)  # any order of refunds must do
        for order in unrefunded:
            outcome = copy.apply(ev.Refund(at=copy.clock, order=order))
            assert outcome.applied, outcome.refusal
        assert copy.check_invariants() == []
        self.check_after_refunds(copy)


class Chain21Machine(EngineMachine):
    """A shop running chain21 with a random config, plus ``transpose``, ``reparent_member`` and ``configure_plan``.

    After refunding every order, for each member M: nothing is pending, and
    ``available + help_fund + withdrawing + withdrawn == the bonus shares M was credited``.
    Why: every reward but a bonus share belongs to an order (direct, team, peer, rebate) and a refund reverses it
    exactly once, taking it from wherever it is (pending, help fund, available); settlement, help fund releases and
    withdrawals only move money between M's own books; bonus shares belong to no order and are never reversed.
    """

    @staticmethod
    def draw_config(data: st.DataObject) -> dict[str, Any]:
        promote_after = data.draw(st.integers(1, 3), label="promote_after")
        return {
            "promote_after": promote_after,
            "seed_count": data.draw(st.integers(0, promote_after), label="seed_count"),
            "settle_after_days": data.draw(st.sampled_from([0, 0, 1, 2]), label="settle_after_days"),
            "transpose_after_days": data.draw(st.sampled_from([0, 1, 30]), label="transpose_after_days"),
            "reward_repeat_purchases": data.draw(st.booleans(), label="reward_repeat_purchases"),
            "help_fund_rate": data.draw(st.sampled_from(["0.20", "0.33", "0"]), label="help_fund_rate"),
            "bonus_pool_rate": data.draw(st.sampled_from(["0.05", "0.07"]), label="bonus_pool_rate"),
        }

    def make_shop(self, data: st.DataObject) -> Shop:
        config = self.draw_config(data)
        if data.draw(st.booleans(), label="chain21 on GIFT and TEA only"):
            config["skus"] = ["GIFT", "TEA"]  # PACK, a gift pack too, is then outside the plan
        products = [Product("GIFT", 69900, gift_pack=True), Product("PACK", 30001, gift_pack=True),
                    Product("TEA", 5900)]
        return Shop(products=products, plans={"chain21": config})

    @property
    def plan(self) -> Chain21:
        plan = self.engine.modules["chain21"]
        assert isinstance(plan, Chain21)
        return plan

    @rule(data=st.data())
    def recruit_until_promoted(self, data: st.DataObject) -> None:
        """An agent brings as many gift-pack buyers as promotion takes (so partners, and partners among a
        partner's referrals, are common enough for transpositions and help fund releases)."""
        standing = self.plan.standing
        agents = [m for m, s in standing.items() if s.rank == "agent" and s.promoted_at is None]
        if not agents:
            return
        recruiter = data.draw(st.sampled_from(agents), label="agent")
        for _ in range(max(self.plan.config.promote_after - standing[recruiter].direct_agents, 1)):
            member = f"m{self.joined}"
            self.joined += 1
            self.apply(self.join_event(data, member, recruiter))
            self.paid += 1
            self.apply(ev.Pay(at=self.at(data), member=member, sku="GIFT", order=f"o{self.paid}"))

    @rule(data=st.data())
    def transpose(self, data: st.DataObject) -> None:
        """Mostly a stalled seed and a promoted referral of a real partner, so that some are accepted; else
        anyone (every refusal)."""
        standing = self.plan.standing
        stalled = [m for m, s in standing.items() if any(standing[x].promoted_at is None for x in s.seeds)]
        if stalled and data.draw(st.integers(0, 4), label="anyone") < 4:
            partner = data.draw(st.sampled_from(stalled), label="partner")
            seeds = [x for x in standing[partner].seeds if standing[x].promoted_at is None]
            promoted = [c for c in self.engine.members[partner].children
                        if standing[c].promoted_at and c not in standing[partner].seeds] or [GHOST]
            seed = data.draw(st.sampled_from(seeds), label="seed")
            with_ = data.draw(st.sampled_from(promoted), label="with")
        else:
            partner, seed, with_ = (self.some_member(data) for _ in range(3))
        self.apply(ev.EVENT_TYPES["transpose"].model_validate(
            {"at": self.at(data), "partner": partner, "seed": seed, "with": with_}))

    @rule(data=st.data())
    def reparent(self, data: st.DataObject) -> None:
        """The operator moves a member under another (docs/reparenting.md): mostly a move the engine accepts, else
        anyone under anyone, or without a reason (every refusal)."""
        member, referrer = self.some_member(data), self.some_member(data)
        reason = data.draw(st.sampled_from(["wrong invite link", "wrong invite link", "  ", "x" * 201]),
                           label="reason")
        self.apply(ev.ReparentMember(at=self.at(data), member=member, referrer=referrer, reason=reason))

    @rule(data=st.data())
    def configure_plan(self, data: st.DataObject) -> None:
        config: dict[str, Any] = data.draw(st.one_of(
            st.builds(dict, team_reward=st.sampled_from(["150.00", "200.00", "abc"])),
            st.builds(dict, help_fund_rate=st.sampled_from(["0.10", "1.5"])),
            st.builds(dict, settle_after_days=st.sampled_from([0, 1, -1])),
            st.builds(dict, seed_count=st.integers(0, 4)),
        ), label="config change")
        self.apply(ev.ConfigurePlan(at=self.at(data), plan="chain21", config=config))

    @invariant()
    def no_book_but_available_goes_below_zero(self) -> None:
        for member in self.engine.members:
            for book in ("pending", "help_fund", "withdrawing", "withdrawn"):
                assert self.engine.balance(member, book) >= 0, (member, book)

    def check_after_refunds(self, engine: Engine) -> None:
        shares: dict[str, int] = {}
        for txn in engine.ledger.transactions:
            if txn.rule == "bonus_share":
                for (owner, _book), amount in txn.entries:
                    if not owner.startswith("@"):
                        shares[owner] = shares.get(owner, 0) + amount
        for member in engine.members:
            books = {book: engine.balance(member, book) for book in MEMBER_BOOKS}
            assert books["pending"] == 0, (member, books)
            held = books["available"] + books["help_fund"] + books["withdrawing"] + books["withdrawn"]
            assert held == shares.get(member, 0), (member, format_fen(held), books)


class Chain21RefundsMachine(Chain21Machine):
    """No bonus shares (a 0% pool) and no withdrawals: then refunding every order returns every one of every
    member's books to exactly zero — not only their sum — because each reversal takes each part of a reward back
    from the book that part went to (or, once a help fund is released, from available, where the release put it).
    Days still close, so rewards settle from pending on the way."""

    @staticmethod
    def draw_config(data: st.DataObject) -> dict[str, Any]:
        return {**Chain21Machine.draw_config(data), "bonus_pool_rate": "0"}

    makes_withdrawals = False

    def check_after_refunds(self, engine: Engine) -> None:
        super().check_after_refunds(engine)
        for member in engine.members:
            books = {book: engine.balance(member, book) for book in MEMBER_BOOKS}
            assert set(books.values()) == {0}, (member, books)
        assert engine.ledger.balance(("@pool", "bonus")) == 0


class Chain21ModelMachine(Chain21Machine):
    """chain21 beside an independent model of it (``chain21_model.py``, written from the rulebook): after every step
    every member's available, help fund, rank and team, the bonus pool, and whether each event was accepted, are
    the model's. Real-time settlement, no withdrawals and no ``configure_plan`` (the model has neither); the replay
    check is left to the other machines (it would make the long run quadratic)."""

    makes_withdrawals = False

    @staticmethod
    def draw_config(data: st.DataObject) -> dict[str, Any]:
        return {**Chain21Machine.draw_config(data), "settle_after_days": 0}

    def make_shop(self, data: st.DataObject) -> Shop:
        shop = super().make_shop(data)
        self.facts_seen: dict[str, int] = {}
        self.model = Chain21Model(ModelConfig.from_plan(shop.plans["chain21"]),
                                  {p.sku: p.price for p in shop.products},
                                  {p.sku for p in shop.products if p.gift_pack}, shop.start, shop.timezone)
        return shop

    def apply(self, event: ev.Event) -> None:
        super().apply(event)
        applied = self.engine.refused[-1][0] != self.engine.seq if self.engine.refused else True
        m, f = self.model, event.model_dump(by_alias=True)
        at = event.at
        if isinstance(event, ev.Join):
            accepted = m.join(at, event.member, event.referrer)
        elif isinstance(event, ev.Pay):
            accepted = m.pay(at, event.member, event.sku, event.order)
        elif isinstance(event, ev.Refund):
            accepted = m.refund(at, event.order)
        elif isinstance(event, ev.CloseDay):
            accepted = m.close_day(at, event.day)
        elif type(event).verb == "transpose":
            accepted = m.transpose(at, f["partner"], f["seed"], f["with"])
        elif isinstance(event, ev.Tick):
            accepted = m.other(at)
        else:  # a decision on a withdrawal: there are none
            accepted = m.refused(at)
        assert accepted == applied, (event, self.engine.refused[-1:])
        for fact, count in m.facts.items():
            if count > self.facts_seen.get(fact, 0):
                hypothesis.event(fact)
        self.facts_seen = dict(m.facts)

    def configure_plan(self, data: st.DataObject) -> None:
        """Not a rule here: the model has one config for the whole run."""

    def reparent(self, data: st.DataObject) -> None:
        """Not a rule here: the model (written from the rulebook) has no re-parenting."""

    def a_replay_gives_the_same_ledger_and_refunds_undo_the_orders(self) -> None:
        """Not an invariant here: see the class docstring."""

    @invariant()
    def the_engine_pays_what_the_rulebook_model_pays(self) -> None:
        model, engine, plan = self.model, self.engine, self.plan
        assert set(engine.members) == set(model.members)
        assert engine.clock == model.clock
        for member, mine in model.members.items():
            theirs = plan.member_view(engine, member)
            assert (engine.balance(member), engine.balance(member, "help_fund"), theirs["rank"], theirs["team"]) == (
                mine.available, mine.help_fund, mine.rank, mine.team), (member, theirs, mine)
            assert theirs["seeds"] == mine.seeds, member
        assert engine.ledger.balance(("@pool", "bonus")) == model.pool


_QUICK = settings(max_examples=60, stateful_step_count=35, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow])

TestCoreEvents = EngineMachine.TestCase
TestCoreEvents.settings = settings(_QUICK, max_examples=20)
TestChain21 = Chain21Machine.TestCase
TestChain21.settings = _QUICK
TestChain21Refunds = Chain21RefundsMachine.TestCase
TestChain21Refunds.settings = settings(_QUICK, max_examples=40)
TestChain21Model = Chain21ModelMachine.TestCase
TestChain21Model.settings = settings(_QUICK, max_examples=60)


#: The long runs: at least LONG_RUN_STEPS steps per machine in all (Hypothesis ends some runs before
#: ``stateful_step_count``, so the test counts the steps it ran), replaying after every 7th step and the last.
LONG_RUN_STEPS = 10_000
_LONG = {EngineMachine: (120, 100), Chain21Machine: (130, 100), Chain21RefundsMachine: (130, 100),
         Chain21ModelMachine: (130, 100)}


@pytest.mark.slow
@pytest.mark.parametrize("machine", list(_LONG), ids=lambda m: m.__name__)
def test_long_random_runs(machine: type[EngineMachine]) -> None:
    examples, steps = _LONG[machine]
    counted = type(f"Counted{machine.__name__}", (machine,), {"steps_run": 0, "replay_every": 7})
    started = time.monotonic()
    run_state_machine_as_test(counted, settings=settings(_QUICK, max_examples=examples, stateful_step_count=steps))
    print(f"{machine.__name__}: {counted.steps_run} steps in {time.monotonic() - started:.0f} s")
    assert counted.steps_run >= LONG_RUN_STEPS
