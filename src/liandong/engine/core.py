"""The engine: ``state + event -> postings + facts``, deterministic, one event at a time.

``Engine.apply(event)`` moves the clock (deadlines that pass fire first), checks the event (core checks, then
each module's), and either records a refusal that changed nothing or applies it whole: the core's postings,
then each module's hooks in the shop's order. The ledger is checked for balance on every posting.

The core owns members, products, orders, withdrawals and the shared reward mechanics that every plan uses:
``credit_reward`` (settlement window and the frozen part of a reward), ``settle_due`` and ``reverse_rewards``
(a refund takes back what each reward put where). Plans and campaigns are modules (see ``module.py``).
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

from . import events as ev
from .errors import Code, Refusal, refuse
from .i18n import gettext_noop
from .ledger import Account, Ledger, LedgerError, Transaction
from .module import Book, ConfigError, Module, Rule, Verb, validate_config
from .money import apply_rate, format_fen

if TYPE_CHECKING:
    from .registry import Registry

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_START = dt.datetime(2026, 1, 1, 8, 0, 0, tzinfo=SHANGHAI)

EXTERNAL: Account = ("@external", "payments")
SALES: Account = ("@platform", "sales")
REWARD_EXPENSE: Account = ("@platform", "reward_expense")
WITHDRAWAL_FEES: Account = ("@platform", "withdrawal_fees")

MEMBER_BOOKS = ("available", "pending", "help_fund", "withdrawing", "withdrawn")  # every member has these


@dataclass(slots=True)
class Product:
    sku: str
    price: int
    gift_pack: bool = False
    red_envelope: int | None = None
    name: str | None = None
    active: bool = True
    cost: int | None = None  # unit cost of the goods (fen); None: not known


@dataclass(slots=True)
class Member:
    id: str
    index: int  # join order, 0-based
    referrer: str | None
    joined_at: dt.datetime
    children: list[str] = field(default_factory=list)
    birth_date: dt.date | None = None
    guardian_consent: bool = False
    descendants: int = 0  # members in its referral subtree, itself excluded (kept once track_referral_counts ran)


@dataclass(slots=True)
class RewardRecord:
    """One reward credited to a member, kept with its order so a refund can take it back from where it is."""

    txn: int
    member: str
    amount: int
    frozen: int  # the part that goes (or went) to the help fund
    rule: str
    plan: str
    order: str | None
    source: str | None
    from_account: Account
    due_day: dt.date | None  # None once settled (or when credited in real time)
    reversed: bool = False
    held: bool = False  # in the member's ``held`` book, awaiting an operator's review (the fraud holds)


@dataclass(slots=True)
class Order:
    id: str
    member: str
    sku: str
    quantity: int
    amount: int
    at: dt.datetime
    day: dt.date
    seq: int
    closes_before: int  # how many close_day events had happened when it was paid
    gift_pack: bool = False
    refunded: bool = False
    rewards: list[RewardRecord] = field(default_factory=list)
    campaign: str | None = None  # a campaign purchase (no plan rewards unless the campaign says so)
    refundable: bool = True  # by the core ``refund`` (a campaign's entry until its draw: only through the campaign)
    points_paid: int = 0  # hundredths of a point paid with (``pay`` with ``points``)
    points_value: int | None = None  # fen those points were quoted at when the order was made, if it was
    unit_cost: int | None = None  # the product's unit cost when it was paid (fen); None: not known


@dataclass(slots=True)
class Withdrawal:
    id: str
    member: str
    amount: int
    requested_at: dt.datetime
    status: str = "requested"  # requested, approved, rejected, paid, payout_failed
    decided_at: dt.datetime | None = None
    fee: int = 0
    reference: str | None = None
    payee: str | None = None
    payout_pending: bool = False  # approved with the payout still to come: the amount is still in withdrawing
    reason: str = ""  # the operator's, on a rejection ("" when the rejection was logged without one); a failed payout's


@dataclass(slots=True)
class Outcome:
    seq: int
    event: ev.Event
    refusal: Refusal | None
    transactions: list[Transaction]
    facts: list[dict[str, Any]]
    config_version: int

    @property
    def applied(self) -> bool:
        return self.refusal is None


@dataclass
class Shop:
    """What a shop is made of before its first event: products, the plans it runs, its clock and time zone."""

    products: list[Product] = field(default_factory=list)
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)
    start: dt.datetime = DEFAULT_START
    timezone: str = "Asia/Shanghai"
    keep_transactions: bool = True


class Engine:
    """One shop's state. Not thread-safe by design: one writer applies events in order. ``registry`` names the
    modules it may run (``registry.REGISTRY``); the core knows none of them."""

    def __init__(self, shop: Shop, registry: Registry) -> None:
        self.registry = registry
        self.shop = shop
        self.tz = ZoneInfo(shop.timezone)
        self.clock: dt.datetime = shop.start.astimezone(self.tz)  # the shop's zone: times show there
        self.seq = 0
        self.ledger = Ledger(keep_transactions=shop.keep_transactions)
        self.products: dict[str, Product] = {p.sku: p for p in shop.products}
        self.members: dict[str, Member] = {}
        self.orders: dict[str, Order] = {}
        self.withdrawals: dict[str, Withdrawal] = {}
        self.refused: list[tuple[int, Refusal]] = []
        self.closes = 0  # close_day events applied
        self.last_closed_day: dt.date | None = None
        self.pending: deque[RewardRecord] = deque()
        # the same pending rewards by member (``pending_settlements``); settled and reversed ones drop out of it at
        # each close (and are skipped when read before that)
        self.pending_of: dict[str, list[RewardRecord]] = {}
        self.config_version = 1
        self.facts: list[dict[str, Any]] = []
        self.draws: list[dict[str, Any]] = []  # every closed draw's record, in the order the draws happened
        # members whose referral counts (children, descendants, a team's size) changed, once the caller asked for
        # them (``track_referral_counts``: the worker, which empties it at each batch); None: nobody keeps them, and
        # a join costs no walk up the tree (replay, the simulator, a million-deep chain)
        self.recounted: set[str] | None = None
        self.modules: dict[str, Module] = {}
        # ``shop.plans`` names the plans the shop runs, and may also configure an always-on module (a campaign
        # module's shop-wide config, such as the blind box's seed coupons); those run in every shop regardless
        for kind, raw in shop.plans.items():
            if registry.configurable(kind) is None:
                known = ", ".join(sorted(k for k in [*registry.plans, *registry.campaigns] if registry.configurable(k)))
                raise ConfigError(kind, [("plan", kind, f"unknown plan or campaign module; known: {known}")])
            plan = registry.plans.get(kind)
            if plan is not None:
                self.modules[kind] = plan(validate_config(kind, plan.Config, dict(raw or {})))
        for kind, cls in registry.campaigns.items():
            self.modules[kind] = cls(validate_config(kind, cls.Config, dict(shop.plans.get(kind) or {})))
        self.plans = [m for k, m in self.modules.items() if k in registry.plans]
        for running in self.plans:
            found = rewards_above_prices(running, running.config, self.products.values())
            if found is not None:
                product, above = found
                raise ConfigError(running.kind, [(key, format_fen(amount), f"more than the price "
                                               f"{format_fen(product.price)} of gift pack {product.sku}")
                                              for key, amount in above])
        for kind, module in self.modules.items():  # what a config names in the shop (a plan it runs)
            problem = module.check_config(self, module.config)
            if problem is not None:
                raise ConfigError(kind, [problem])
        self.handlers: dict[type[ev.Event], tuple[Any, Any, Any]] = {
            verb.event: (verb.check, verb.apply, verb.price) for owner, verb in registry.verbs()
            if owner == "core" or owner in self.modules
        }
        self._declared = declared_accounts(registry, self.modules)
        # Capabilities the running modules provide (``ask``), the first module in running order serving each.
        self._capabilities: dict[str, Any] = {}
        for module in self.modules.values():
            for capability, method in type(module).provides.items():
                self._capabilities.setdefault(capability, getattr(module, method))
        # The modules that override each frequent hook, so an event pays only for the modules that care.
        everyone = list(self.modules.values())
        self._tick_modules = overriding(everyone, "on_clock")
        self._join_hooks = overriding(everyone, "on_join")
        self._plan_pay_checks = overriding(self.plans, "check_pay")
        self._campaign_pay_checks = overriding([m for m in everyone if m not in self.plans], "check_pay")
        self._refund_checks = overriding(everyone, "check_refund")

    # --- time ------------------------------------------------------------------------------------------------
    def day_of(self, at: dt.datetime) -> dt.date:
        return at.astimezone(self.tz).date()

    @property
    def today(self) -> dt.date:
        return self.day_of(self.clock)

    def end_of_day(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=self.tz)

    # --- applying events ---------------------------------------------------------------------------------------
    def apply(self, event: ev.Event) -> Outcome:
        self.seq += 1
        seq = self.seq
        start = len(self.ledger.transactions)
        self.facts = []
        at = event.at.astimezone(self.tz)  # `at` in any offset; the clock, and every time it stamps, in the shop's zone
        refusal: Refusal | None = None
        if at < self.clock:
            refusal = refuse(Code.AT_BEFORE_CLOCK, "at", event.at.isoformat(), clock=self.clock.isoformat())
        elif isinstance(event, ev.CloseDay) and event.day < self.today:
            refusal = refuse(Code.DAY_BEFORE_CLOCK, "close_day", event.day.isoformat(), clock=self.today.isoformat())
        elif not ev.draw_secret_given(event):  # the engine makes no secret: randomness comes in the event
            refusal = refuse(Code.SECRET_MISSING, "params.secret", None, verb=type(event).verb)
        if refusal is None:
            new_clock = max(at, self.end_of_day(event.day)) if isinstance(event, ev.CloseDay) else at
            if new_clock > self.clock:
                self.clock = new_clock
                for module in self._tick_modules:
                    module.on_clock(self, self.clock)
            pair = self.handlers.get(type(event))
            if pair is None:  # a verb of a plan this shop does not run
                verb = type(event).verb
                refusal = refuse(Code.PLAN_NOT_RUNNING, verb, self.registry.owner_of(verb) or verb)
            else:
                refusal = pair[0](self, event)
                if refusal is None and pair[2] is not None:
                    refusal = check_paid(self, event, pair[2])
                if refusal is None:
                    pair[1](self, event)
        if refusal is not None:
            self.refused.append((seq, refusal))
        txns = self.ledger.transactions[start:] if self.ledger.keep_transactions else []
        if refusal is None and txns:
            recheck(self, txns)
        return Outcome(seq, event, refusal, txns, self.facts, self.config_version)

    def ask(self, capability: str) -> Any:
        """The running module's method serving ``capability`` (see ``Module.provides``), or None when no module
        this shop runs provides it: ``leader = engine.ask("team_leader")``, then ``leader(engine, member)``."""
        return self._capabilities.get(capability)

    def fact(self, name: str, /, **data: Any) -> None:
        """A business fact worth telling someone (a promotion, a draw, a release): notices and webhooks read them."""
        self.facts.append({"fact": name, **data})

    # --- posting -----------------------------------------------------------------------------------------------
    def post(self, rule: str, entries: Any, **cause: Any) -> Transaction:
        return self.ledger.post(self.seq, rule, entries, at=self.clock, **cause)

    def transfer(self, rule: str, src: Account, dst: Account, amount: int, **cause: Any) -> Transaction | None:
        return self.ledger.transfer(self.seq, rule, src, dst, amount, at=self.clock, **cause)

    def balance(self, member: str, book: str = "available") -> int:
        return self.ledger.balances.get((member, book), 0)

    def credit_reward(
        self,
        member: str,
        amount: int,
        rule: str,
        plan: str,
        *,
        order: Order | None = None,
        source: str | None = None,
        frozen: int = 0,
        settle_after_days: int = 0,
        from_account: Account = REWARD_EXPENSE,
        ref: str | None = None,
    ) -> RewardRecord | None:
        """Credit a reward: to ``pending`` while the settlement window runs, else ``frozen`` of it to the help
        fund and the rest to available. Kept with its order, so a refund can reverse it."""
        if amount <= 0:
            return None
        order_id = order.id if order is not None else None
        ledger = self.ledger
        due: dt.date | None = None
        hold = self._capabilities.get("hold_reward")  # a running module that holds suspicious rewards for review
        flag = hold(self, member, amount, rule, order, source) if hold is not None else None
        if flag is not None:
            txn = ledger.transfer(self.seq, rule, from_account, (member, "held"), amount, plan=plan,
                                  order=order_id, source=source, ref=ref, at=self.clock)
        elif settle_after_days > 0 and order is not None:
            txn = ledger.transfer(self.seq, rule, from_account, (member, "pending"), amount, plan=plan,
                                  order=order_id, source=source, ref=ref, at=self.clock)
            due = order.day + dt.timedelta(days=settle_after_days)
        elif frozen:
            entries = (
                (from_account, -amount),
                ((member, "available"), amount - frozen),
                ((member, "help_fund"), frozen),
            )
            txn = ledger.post(self.seq, rule, entries, plan=plan, order=order_id, source=source, ref=ref,
                              at=self.clock)
        else:
            txn = ledger.transfer(self.seq, rule, from_account, (member, "available"), amount, plan=plan,
                                  order=order_id, source=source, ref=ref, at=self.clock)
        assert txn is not None
        record = RewardRecord(txn.id, member, amount, frozen, rule, plan, order_id, source, from_account, due,
                              held=flag is not None)
        if order is not None:
            order.rewards.append(record)
        if flag is not None:
            self._capabilities["reward_held"](self, record, flag)
        if due is not None:
            self.pending.append(record)
            self.pending_of.setdefault(member, []).append(record)
        return record

    def settle_due(self, day: dt.date) -> None:
        """Move pending rewards whose window has passed by ``day`` to available (and the help fund)."""
        pending = self.pending
        keep: deque[RewardRecord] = deque()
        while pending:
            record = pending.popleft()
            if record.reversed:
                continue
            assert record.due_day is not None
            if record.due_day > day:
                keep.append(record)
                continue
            module = self.modules.get(record.plan)
            frozen = record.frozen if module is None or module.help_fund_open(self, record.member) else 0
            record.frozen = frozen
            entries: list[tuple[Account, int]] = [
                ((record.member, "pending"), -record.amount),
                ((record.member, "available"), record.amount - frozen),
            ]
            if frozen:
                entries.append(((record.member, "help_fund"), frozen))
            self.post("settlement", entries, plan=record.plan, order=record.order, source=record.source,
                      ref=record.rule)
            record.due_day = None
            if module is not None:
                module.on_settled(self, record)
        self.pending = keep
        self.pending_of = {}
        for record in keep:
            self.pending_of.setdefault(record.member, []).append(record)

    def reverse_rewards(self, order: Order) -> None:
        """Take back every reward of ``order`` from where it is: pending while pending; else the frozen part from
        the help fund as far as it still holds it, and the rest from available (which may go below zero)."""
        for record in order.rewards:
            if record.reversed:
                continue
            record.reversed = True
            m = record.member
            if record.held:  # still awaiting review: it leaves the held book (the hold closes as refunded)
                entries: list[tuple[Account, int]] = [((m, "held"), -record.amount)]
            elif record.due_day is not None:
                entries = [((m, "pending"), -record.amount)]
            else:
                from_help = min(record.frozen, max(self.balance(m, "help_fund"), 0))
                entries = [((m, "available"), -(record.amount - from_help))]
                if from_help:
                    entries.append(((m, "help_fund"), -from_help))
            entries.append((record.from_account, record.amount))
            self.post(record.rule, entries, plan=record.plan, order=order.id, source=record.source,
                      reverses=record.txn)

    def record_sale(self, order: Order, *, plans_apply: bool = True, paid_from: Account = EXTERNAL) -> None:
        """Book a paid order as a sale and run the plans that apply to it. Campaigns call this for a winner's
        purchase with ``paid_from`` their escrow and ``plans_apply`` as the campaign publishes it."""
        self.orders[order.id] = order
        self.transfer("sale", paid_from, SALES, order.amount, order=order.id, source=order.member, ref=order.campaign)
        if plans_apply:
            for plan in self.plans:
                if plan.applies_to(order.sku):
                    plan.on_pay(self, order)

    def new_order(self, order_id: str, member: str, sku: str, quantity: int = 1,
                  amount: int | None = None, campaign: str | None = None, refundable: bool | None = None) -> Order:
        """A new order at the clock. A campaign's order is refundable by the core ``refund`` only when the campaign
        says so (``refundable``); a plain order always is."""
        product = self.products[sku]
        return Order(
            order_id, member, sku, quantity, product.price * quantity if amount is None else amount,
            self.clock, self.today, self.seq, self.closes, product.gift_pack, campaign=campaign,
            refundable=campaign is None if refundable is None else refundable, unit_cost=product.cost,
        )

    # --- reading -----------------------------------------------------------------------------------------------
    def pending_settlements(self, member_id: str) -> list[tuple[dt.date, int, int]]:
        """When the member's pending rewards settle: ``(day, amount in fen, how many rewards)`` per day, earliest
        first. A reward credited to ``pending`` (a plan's ``settle_after_days``) is due on its order's day plus
        that many days and moves to available (its frozen part to the help fund) at the first ``close_day`` of that
        day or later (``settle_due``); a refund takes it back before then. The amounts sum to the pending balance.
        E.g. a 30.00 commission on an order of 2026-03-01 with ``settle_after_days: 7``: ``[(2026-03-08, 3000, 1)]``."""
        days: dict[dt.date, list[int]] = {}
        for record in self.pending_of.get(member_id, ()):
            if record.reversed or record.due_day is None:
                continue
            held = days.setdefault(record.due_day, [0, 0])
            held[0] += record.amount
            held[1] += 1
        return [(day, amount, count) for day, (amount, count) in sorted(days.items())]

    def core_member_read(self, member_id: str) -> dict[str, Any] | None:
        """What a member sees of the core beyond its balances: when each pending amount settles
        (``pending_settlements``, days as ISO dates and money as two-decimal strings), or None when nothing is
        pending. The worker projects it as the member's ``reads["core"]``."""
        schedule = self.pending_settlements(member_id)
        if not schedule:
            return None
        return {"pending_settles": [{"day": day.isoformat(), "amount": format_fen(amount), "rewards": count}
                                    for day, amount, count in schedule]}

    def member_view(self, member_id: str) -> dict[str, Any]:
        m = self.members[member_id]
        view: dict[str, Any] = {"referrer": m.referrer}
        for module in self.plans:
            view.update(module.member_view(self, member_id))
        for book in MEMBER_BOOKS:
            view[book] = format_fen(self.balance(member_id, book))
        for module in self.modules.values():
            if module not in self.plans:
                view.update(module.member_view(self, member_id))
        return view

    def track_referral_counts(self) -> None:
        """From now on keep each member's ``descendants`` (counted here once for the whole tree, in one pass) and
        note in ``recounted`` whose counts change. Each join then walks up its referrer's line (O(depth), as many
        counts as ancestors to write): the worker's price for the back office's tree, which a shop's tree (tens of
        levels) pays easily; replays and the simulator do not ask for it."""
        members = self.members
        for m in members.values():
            m.descendants = 0
        order: list[Member] = []
        stack = [m for m in members.values() if m.referrer is None]
        while stack:  # referrers before their referrals, whatever moves re-parenting made
            m = stack.pop()
            order.append(m)
            stack.extend(members[c] for c in m.children)
        for m in reversed(order):
            if m.referrer is not None:
                members[m.referrer].descendants += 1 + m.descendants
        self.recounted = set()

    def _ancestors_add(self, start: str | None, amount: int) -> None:
        """Add ``amount`` to the descendants of ``start`` and of every member above it (when counts are kept)."""
        members, recounted = self.members, self.recounted
        if recounted is None:
            return
        above = start
        while above is not None:
            m = members[above]
            m.descendants += amount
            recounted.add(above)
            above = m.referrer

    def check_invariants(self) -> list[str]:
        problems = self.ledger.check_invariants()
        members = self.members
        for m in members.values() if self.recounted is not None else ():  # the back office's referral counts
            counted = sum(1 + members[c].descendants for c in m.children)
            if counted != m.descendants:
                problems.append(f"{m.id} counts {m.descendants} descendants but has {counted}")
        for module in self.modules.values():
            problems.extend(module.check_invariants(self))
        return problems


def overriding(modules: list[Module], hook: str) -> list[Module]:
    """The modules whose class overrides ``hook`` of ``Module`` (in their running order)."""
    base = getattr(Module, hook)
    return [m for m in modules if getattr(type(m), hook) is not base]


# --- core actions: check_* decides (reads only), apply_* changes ------------------------------------------------


Declared = tuple[frozenset[str], dict[str, frozenset[tuple[str, str]]], frozenset[tuple[str, str]]]


def declared_accounts(registry: Registry, modules: dict[str, Module]) -> Declared:
    """What the registry's modules declared: every member book, each module's shop accounts (with the core's), and
    every shop account any of them declared (for postings the core makes on a module's behalf)."""
    classes: list[type[Module]] = [Core, *registry.modules()]
    books = frozenset(b.name for cls in classes for b in cls.books)
    core = frozenset(Core.accounts)
    by_module = {kind: frozenset(type(m).accounts) | core for kind, m in modules.items()}
    return books, by_module, core.union(*by_module.values())


def recheck(engine: Engine, txns: list[Transaction]) -> None:
    """The engine re-checks what the modules posted for an event (beancount's loader re-checks each plugin's
    output): every member book is one a module declared, and every shop account one the posting module (or the
    core) declared. A posting outside them is a bug in a module, not a refusal: ``LedgerError``."""
    books, by_module, anywhere = engine._declared
    for txn in txns:
        allowed = by_module.get(txn.plan, anywhere)
        for (owner, book), _amount in txn.entries:
            if owner[0] != "@":
                if book not in books:
                    raise LedgerError(f"{txn.rule} ({txn.plan or 'core'}) posted to {owner}/{book}: no module "
                                      "declares that book")
            elif (owner, book) not in allowed and (owner, "*") not in allowed:
                raise LedgerError(f"{txn.rule} ({txn.plan or 'core'}) posted to {owner}/{book}: not an account "
                                  f"{txn.plan or 'any module'} declared")


def check_paid(engine: Engine, event: Any, price_of: Any) -> Refusal | None:
    """A paid event's ``paid`` (what the payment provider took) must be its price now."""
    paid = getattr(event, "paid", None)
    if paid is None:
        return None
    price = price_of(engine, event)
    if price is not None and paid != price:
        return refuse(Code.PAID_MISMATCH, "paid", format_fen(paid), price=format_fen(price))
    return None


def _no_check(engine: Engine, event: Any) -> Refusal | None:
    return None


def _no_apply(engine: Engine, event: Any) -> None:
    return None


def check_join(engine: Engine, event: ev.Join) -> Refusal | None:
    if event.member in engine.members:
        return refuse(Code.MEMBER_EXISTS, "member", event.member)
    if event.referrer is not None and event.referrer not in engine.members:
        return refuse(Code.REFERRER_UNKNOWN, "referrer", event.referrer)
    return None


def apply_join(engine: Engine, event: ev.Join) -> None:
    member = Member(event.member, len(engine.members), event.referrer, event.at,
                    birth_date=event.birth_date, guardian_consent=event.guardian_consent)
    engine.members[member.id] = member
    if event.referrer is not None:
        engine.members[event.referrer].children.append(member.id)
        engine._ancestors_add(event.referrer, 1)
    for module in engine._join_hooks:
        module.on_join(engine, member)


def check_reparent(engine: Engine, event: ev.ReparentMember) -> Refusal | None:
    """An operator's move of a member to another referrer: both members exist, the reason says why, the referrer
    changes, and the tree stays a tree (the new referrer is neither the member nor in its referral subtree).
    E.g. moving A under its own referral B is refused ``reparent_cycle`` naming ``referrer B``."""
    member = engine.members.get(event.member)
    if member is None:
        return refuse(Code.MEMBER_UNKNOWN, "member", event.member)
    if event.referrer not in engine.members:
        return refuse(Code.REFERRER_UNKNOWN, "referrer", event.referrer)
    reason = event.reason
    if not 1 <= len(reason) <= ev.REPARENT_REASON_MAX or any(
            (ord(c) < 32 and c != "\n") or ord(c) == 127 for c in reason):
        shown = reason if len(reason) <= 40 else reason[:40] + "…"
        return refuse(Code.REPARENT_REASON_INVALID, "reason", shown, member=event.member)
    if member.referrer == event.referrer:
        return refuse(Code.REPARENT_SAME_REFERRER, "referrer", event.referrer, member=event.member)
    above: str | None = event.referrer
    while above is not None:  # the new referrer's line up to its root must not pass through the member
        if above == event.member:
            return refuse(Code.REPARENT_CYCLE, "referrer", event.referrer, member=event.member)
        above = engine.members[above].referrer
    return None


def apply_reparent(engine: Engine, event: ev.ReparentMember) -> None:
    """Move the member (its subtree comes with it) under the new referrer; each module adjusts what it derives
    from the tree (``Module.on_reparent``). No posting: what was earned stays where it is."""
    member = engine.members[event.member]
    previous = member.referrer
    moved = 1 + member.descendants
    if previous is not None:
        engine.members[previous].children.remove(member.id)
        engine._ancestors_add(previous, -moved)
    member.referrer = event.referrer
    engine.members[event.referrer].children.append(member.id)
    engine._ancestors_add(event.referrer, moved)
    for module in engine.modules.values():
        module.on_reparent(engine, member, previous)
    engine.fact("reparented", member=member.id, previous=previous, referrer=event.referrer, reason=event.reason)


def check_product(engine: Engine, event: ev.SetProduct) -> Refusal | None:
    """A gift pack is never priced below a reward it pays: ``{product: GIFT, price: "0.01", gift_pack: true}``
    under chain21's defaults is refused ``reward_above_price`` naming ``direct_reward.agent 100.00`` and the rest."""
    if not event.active:
        return None
    for plan in engine.plans:
        above = plan.rewards_above_price(plan.config, event.sku, event.price, event.gift_pack)
        if above:
            return _reward_above_price("price", format_fen(event.price), above, event.sku, event.price)
    return None


def _reward_above_price(field_: str, value: str, above: list[tuple[str, int]], sku: str, price: int) -> Refusal:
    rewards = ", ".join(f"{key} {format_fen(amount)}" for key, amount in above)
    return refuse(Code.REWARD_ABOVE_PRICE, field_, value, rewards=rewards, price=format_fen(price), sku=sku)


def rewards_above_prices(module: Module, config: Any, products: Any) -> tuple[Product, list[tuple[str, int]]] | None:
    """The cheapest active product on which ``config`` pays a reward above the price, with those rewards."""
    for product in sorted(products, key=lambda p: (p.price, p.sku)):
        if not product.active:
            continue
        above = module.rewards_above_price(config, product.sku, product.price, product.gift_pack)
        if above:
            return product, above
    return None


def apply_product(engine: Engine, event: ev.SetProduct) -> None:
    engine.products[event.sku] = Product(event.sku, event.price, event.gift_pack, event.red_envelope,
                                         event.name, event.active, event.cost)


def check_pay(engine: Engine, event: ev.Pay) -> Refusal | None:
    if event.member not in engine.members:
        return refuse(Code.MEMBER_UNKNOWN, "member", event.member)
    product = engine.products.get(event.sku)
    if product is None or not product.active:
        return refuse(Code.PRODUCT_UNKNOWN, "sku", event.sku)
    if event.order in engine.orders:
        return refuse(Code.ORDER_EXISTS, "order", event.order)
    if event.quantity < 1:
        return refuse(Code.QUANTITY_INVALID, "quantity", event.quantity)
    for plan in engine._plan_pay_checks:
        if plan.applies_to(event.sku):
            refusal = plan.check_pay(engine, event)
            if refusal is not None:
                return refusal
    for module in engine._campaign_pay_checks:  # e.g. an order id that a group seat already holds
        refusal = module.check_pay(engine, event)
        if refusal is not None:
            return refusal
    if event.points is not None:
        takes_points = engine.ask("points_payment")  # a plan that lets members pay with points
        if takes_points is None:
            return refuse(Code.PLAN_NOT_RUNNING, "points", "points")
        if not takes_points(engine, event.sku):
            return refuse(Code.NOT_ALLOWED, "points", format_fen(event.points),
                          why=f"the {takes_points.__self__.kind} plan does not apply to {event.sku}")
    return None


def apply_pay(engine: Engine, event: ev.Pay) -> None:
    order = engine.new_order(event.order, event.member, event.sku, event.quantity, amount=event.amount)
    order.points_paid = event.points or 0
    order.points_value = event.points_value
    engine.record_sale(order)


def check_refund(engine: Engine, event: ev.Refund) -> Refusal | None:
    order = engine.orders.get(event.order)
    if order is None:
        return refuse(Code.ORDER_UNKNOWN, "order", event.order)
    if order.refunded:
        return refuse(Code.ORDER_REFUNDED, "order", event.order)
    if not order.refundable:
        return refuse(Code.ORDER_NOT_REFUNDABLE, "order", event.order,
                      why=f"it belongs to campaign {order.campaign}; refund it through the campaign")
    for module in engine._refund_checks:
        refusal = module.check_refund(engine, order)
        if refusal is not None:
            return refusal
    return None


def apply_refund(engine: Engine, event: ev.Refund) -> None:
    refund_order(engine, engine.orders[event.order])


def refund_order(engine: Engine, order: Order) -> None:
    """Reverse everything a paid order caused: the sale, every reward, and each module's own postings."""
    order.refunded = True
    engine.transfer("sale", SALES, EXTERNAL, order.amount, order=order.id, source=order.member,
                    ref=order.campaign)
    engine.reverse_rewards(order)
    for module in engine.modules.values():
        module.on_refund(engine, order)
    engine.fact("refunded", order=order.id, member=order.member)


def check_close_day(engine: Engine, event: ev.CloseDay) -> Refusal | None:
    return None


def apply_close_day(engine: Engine, event: ev.CloseDay) -> None:
    engine.settle_due(event.day)
    for module in engine.modules.values():
        module.on_close_day(engine, event.day)
    engine.closes += 1
    engine.last_closed_day = event.day


#: The minimum withdrawal when no running plan sets one (fen).
DEFAULT_MIN_WITHDRAWAL = 1000


def withdrawal_policy_of(plans: Iterable[Module]) -> tuple[int, Any]:
    """The minimum withdrawal (the highest any of ``plans`` asks for; 10.00 when none does) and the fee rate (the
    highest any asks for; None for no fee), from the plans' configs alone: the service quotes a withdrawal with the
    same function the engine decides it with."""
    running = list(plans)
    minimums = [m for p in running if (m := p.min_withdrawal_fen()) is not None]
    fees = [f for p in running if (f := p.withdrawal_fee_rate()) is not None]
    return (max(minimums) if minimums else DEFAULT_MIN_WITHDRAWAL), (max(fees) if fees else None)


def withdrawal_policy(engine: Engine) -> tuple[int, Any]:
    """The shop's minimum withdrawal and fee rate now (``withdrawal_policy_of`` its running plans)."""
    return withdrawal_policy_of(engine.plans)


def withdrawal_fee(amount: int, fee_rate: Any) -> int:
    """The fee on a withdrawal of ``amount`` fen at ``fee_rate`` (None or 0: no fee): floor to the fen, as every
    rate. It is fixed at approval, with the policy then; the member is paid ``amount - fee``.
    E.g. ``withdrawal_fee(6000, Fraction(1, 100))`` is 60 (0.60 on 60.00)."""
    return apply_rate(amount, fee_rate) if fee_rate else 0


def withdraw_refusal(amount: int, minimum: int, available: int) -> Refusal | None:
    """Why a withdrawal of ``amount`` is refused with ``minimum`` and ``available`` (fen), or None: below the
    minimum, then above what is available (a debt makes every amount above it)."""
    if amount < minimum:
        return refuse(Code.WITHDRAWAL_BELOW_MINIMUM, "amount", format_fen(amount), minimum=format_fen(minimum))
    if amount > available:
        return refuse(Code.WITHDRAWAL_ABOVE_AVAILABLE, "amount", format_fen(amount), available=format_fen(available))
    return None


def check_withdraw(engine: Engine, event: ev.Withdraw) -> Refusal | None:
    if event.member not in engine.members:
        return refuse(Code.MEMBER_UNKNOWN, "member", event.member)
    if event.withdrawal in engine.withdrawals:
        return refuse(Code.WITHDRAWAL_EXISTS, "withdrawal", event.withdrawal)
    minimum, _fee = withdrawal_policy(engine)
    return withdraw_refusal(event.amount, minimum, engine.balance(event.member))


def apply_withdraw(engine: Engine, event: ev.Withdraw) -> None:
    engine.withdrawals[event.withdrawal] = Withdrawal(event.withdrawal, event.member, event.amount, event.at,
                                                      payee=event.payee)
    engine.transfer("withdrawal", (event.member, "available"), (event.member, "withdrawing"), event.amount,
                    ref=event.withdrawal)


def check_decide_withdrawal(engine: Engine, event: ev.ApproveWithdrawal | ev.RejectWithdrawal) -> Refusal | None:
    """A requested withdrawal is approved or rejected once. It is never approved while its member owes money
    (available below zero after a refund): e.g. m7 with available -120.00 asked for 60.00 earlier; approving it
    is refused ``withdrawal_member_owes`` ("m7 owes 120.00"); rejecting it returns the 60.00 and the debt is 60.00."""
    w = engine.withdrawals.get(event.withdrawal)
    if w is None:
        return refuse(Code.WITHDRAWAL_UNKNOWN, "withdrawal", event.withdrawal)
    if w.status != "requested":
        return refuse(Code.WITHDRAWAL_DECIDED, "withdrawal", event.withdrawal, status=w.status)
    if isinstance(event, ev.RejectWithdrawal):
        return reject_reason_refusal(event.reason, event.withdrawal)
    available = engine.balance(w.member)
    if available < 0:
        return refuse(Code.WITHDRAWAL_MEMBER_OWES, "withdrawal", event.withdrawal, member=w.member,
                      owes=format_fen(-available), available=format_fen(available))
    return None


def reject_reason_refusal(reason: str | None, withdrawal: str) -> Refusal | None:
    """Why the reason of rejecting ``withdrawal`` is refused, or None. Given, it is 1–200 characters once trimmed,
    without control characters but line breaks: ``""`` is refused (``withdrawal_reason_invalid``), as is a tab.
    None (an event logged before rejections had reasons, or a scenario that gives none) is accepted: the rejection
    keeps an empty reason. The API and the pages require one, so a new rejection always says why."""
    if reason is None:
        return None
    if not 1 <= len(reason) <= ev.WITHDRAWAL_REASON_MAX or any(
            (ord(c) < 32 and c != "\n") or ord(c) == 127 for c in reason):
        shown = reason if len(reason) <= 40 else reason[:40] + "…"
        return refuse(Code.WITHDRAWAL_REASON_INVALID, "reason", shown, withdrawal=withdrawal)
    return None


def _payout_entries(engine: Engine, w: Withdrawal) -> list[tuple[Account, int]]:
    """The amount leaves ``withdrawing``: the net to ``withdrawn``, the fee to the platform."""
    entries: list[tuple[Account, int]] = [
        ((w.member, "withdrawing"), -w.amount),
        ((w.member, "withdrawn"), w.amount - w.fee),
    ]
    if w.fee:
        entries.append((WITHDRAWAL_FEES, w.fee))
    return entries


def apply_approve_withdrawal(engine: Engine, event: ev.ApproveWithdrawal) -> None:
    """The fee is fixed at approval (the policy then). Paid out with the approval: the money moves now (rule
    ``withdrawal_approved``); otherwise it stays in withdrawing until ``mark_withdrawal_paid``."""
    w = engine.withdrawals[event.withdrawal]
    _minimum, fee_rate = withdrawal_policy(engine)
    w.fee = withdrawal_fee(w.amount, fee_rate)
    w.status, w.decided_at = "approved", event.at
    if event.paid_out:
        engine.post("withdrawal_approved", _payout_entries(engine, w), ref=w.id)
    else:
        w.payout_pending = True


def apply_reject_withdrawal(engine: Engine, event: ev.RejectWithdrawal) -> None:
    w = engine.withdrawals[event.withdrawal]
    w.status, w.decided_at, w.reason = "rejected", event.at, event.reason or ""
    engine.transfer("withdrawal_rejected", (w.member, "withdrawing"), (w.member, "available"), w.amount, ref=w.id)


def check_mark_paid(engine: Engine, event: ev.MarkWithdrawalPaid) -> Refusal | None:
    w = engine.withdrawals.get(event.withdrawal)
    if w is None:
        return refuse(Code.WITHDRAWAL_UNKNOWN, "withdrawal", event.withdrawal)
    if w.status != "approved":
        return refuse(Code.NOT_ALLOWED, "withdrawal", event.withdrawal,
                      why=f"only an approved withdrawal can be marked paid; it is {w.status}")
    return None


def apply_mark_paid(engine: Engine, event: ev.MarkWithdrawalPaid) -> None:
    """The payout left: an approval that waited for it moves the money now (rule ``withdrawal_paid``)."""
    w = engine.withdrawals[event.withdrawal]
    w.status, w.reference = "paid", event.reference
    if w.payout_pending:
        w.payout_pending = False
        engine.post("withdrawal_paid", _payout_entries(engine, w), ref=w.id)


def check_fail_payout(engine: Engine, event: ev.FailPayout) -> Refusal | None:
    w = engine.withdrawals.get(event.withdrawal)
    if w is None:
        return refuse(Code.WITHDRAWAL_UNKNOWN, "withdrawal", event.withdrawal)
    if w.status != "approved" or not w.payout_pending:
        return refuse(Code.NOT_ALLOWED, "withdrawal", event.withdrawal,
                      why="only an approved withdrawal whose payout is pending can fail; it is "
                          + ("approved and paid out" if w.status == "approved" else w.status))
    return reject_reason_refusal(event.reason, event.withdrawal)


def apply_fail_payout(engine: Engine, event: ev.FailPayout) -> None:
    """The payout did not leave: the amount returns from withdrawing to available (rule ``payout_failed``); the fee
    fixed at approval is not taken."""
    w = engine.withdrawals[event.withdrawal]
    w.status, w.reason, w.payout_pending, w.fee = "payout_failed", event.reason, False, 0
    engine.transfer("payout_failed", (w.member, "withdrawing"), (w.member, "available"), w.amount, ref=w.id)


def check_configure_plan(engine: Engine, event: ev.ConfigurePlan) -> Refusal | None:
    module = engine.modules.get(event.plan)  # a plan the shop runs, or an always-on module's shop-wide config
    if module is None or engine.registry.configurable(event.plan) is None:
        return refuse(Code.PLAN_NOT_RUNNING, "plan", event.plan)
    try:
        config = validate_config(event.plan, type(module).Config, _changed_config(module, event))
    except ConfigError as exc:
        key, value, msg = exc.problems[0]
        return refuse(Code.INVALID, f"config.{key}", value, why=msg)
    problem = module.check_config(engine, config)
    if problem is not None:
        return refuse(Code.INVALID, f"config.{problem[0]}", problem[1], why=problem[2])
    found = rewards_above_prices(module, config, engine.products.values())
    if found is not None:
        product, above = found
        return _reward_above_price(f"config.{above[0][0]}", format_fen(above[0][1]), above, product.sku, product.price)
    return None


def _changed_config(module: Module, event: ev.ConfigurePlan) -> dict[str, Any]:
    """The plan's config with the keys the event names changed; the keys it does not name keep their values."""
    return {**module.config.model_dump(exclude_unset=True), **event.config}


def apply_configure_plan(engine: Engine, event: ev.ConfigurePlan) -> None:
    module = engine.modules[event.plan]
    module.reconfigure(validate_config(event.plan, type(module).Config, _changed_config(module, event)))
    engine.config_version += 1
    engine.fact("plan_configured", plan=event.plan, version=engine.config_version)


class Core(Module):
    """The core's own declarations, read by the registry like a module's: the shop's events, books and rules."""

    kind: ClassVar[str] = "core"
    rules = (
        Rule("sale", gettext_noop("sale")),
        Rule("settlement", gettext_noop("settled")),
        Rule("withdrawal", gettext_noop("withdrawal requested")),
        # approved and paid out at once (the rulebook's approve_withdrawal): the amount leaves with the approval
        Rule("withdrawal_approved", gettext_noop("withdrawal approved and paid out")),
        # approved earlier with the payout to come (the service's approval); the payout was recorded (mark-paid)
        Rule("withdrawal_paid", gettext_noop("withdrawal paid out")),
        Rule("withdrawal_rejected", gettext_noop("withdrawal rejected, returned")),
        Rule("payout_failed", gettext_noop("payout failed, returned")),
    )
    books = (
        Book("available", gettext_noop("available")),
        Book("pending", gettext_noop("pending")),
        Book("help_fund", gettext_noop("help fund")),
        Book("withdrawing", gettext_noop("withdrawing")),
        Book("withdrawn", gettext_noop("withdrawn")),
    )
    accounts = (EXTERNAL, SALES, REWARD_EXPENSE, WITHDRAWAL_FEES)
    verbs = (
        Verb(ev.Join, check_join, apply_join, senders=("system",)),
        Verb(ev.SetProduct, check_product, apply_product, senders=("operator",), permission="manage_products"),
        Verb(ev.Pay, check_pay, apply_pay, senders=("system",)),
        Verb(ev.Refund, check_refund, apply_refund, senders=("operator",), permission="refund_order",
             example={"order": "o7hc2a91f3b0"}),
        # operators close a day at POST /api/operator/close-day, which refuses a day after today by the wall clock
        Verb(ev.CloseDay, check_close_day, apply_close_day, senders=("system",)),
        Verb(ev.Tick, _no_check, _no_apply, senders=("system",)),
        Verb(ev.Withdraw, check_withdraw, apply_withdraw, senders=("member",), member_field="member",
             generated=(("withdrawal", "w"),), example={"amount": "60.00"}),
        Verb(ev.ApproveWithdrawal, check_decide_withdrawal, apply_approve_withdrawal, senders=("operator",),
             permission="decide_withdrawal", example={"withdrawal": "w5k2c9"}),
        Verb(ev.RejectWithdrawal, check_decide_withdrawal, apply_reject_withdrawal, senders=("operator",),
             permission="decide_withdrawal", required=("reason",),
             example={"withdrawal": "w5k2c9", "reason": "the payee account name does not match your real name"}),
        Verb(ev.MarkWithdrawalPaid, check_mark_paid, apply_mark_paid, senders=("operator",),
             permission="decide_withdrawal", example={"withdrawal": "w5k2c9", "reference": "bank-2026-0301-17"}),
        Verb(ev.FailPayout, check_fail_payout, apply_fail_payout, senders=("operator",),
             permission="decide_withdrawal",
             example={"withdrawal": "w5k2c9", "reason": "the payee account is closed (ACCOUNT_FROZEN)"}),
        Verb(ev.ConfigurePlan, check_configure_plan, apply_configure_plan, senders=("operator",),
             permission="configure_plan", example={"plan": "chain21", "config": {"team_reward": "150.00"}}),
        # who earns on a member's later purchases changes: the owner's (configure_plan), as transposition is
        Verb(ev.ReparentMember, check_reparent, apply_reparent, senders=("operator",), permission="configure_plan",
             example={"member": "m8hx2", "referrer": "m3kq7",
                      "reason": "registered through the wrong invite link; the shop's ticket 4411"}),
    )
