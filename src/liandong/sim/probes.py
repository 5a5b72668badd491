"""Attack probes: small shops built by hand and run through the engine to see what a member can gain by gaming
the plan. Each probe compares a coalition's money (rewards less the extra purchases it had to make) with and without
the trick; a positive gain means the plan pays for the trick.

- *Sybil, siblings* (Emek et al. 2011): attacker A adds s fake identities as its own recruits, each buying (or not)
  before A's real recruits arrive. Gain = rewards(A and fakes) − fakes' purchases − rewards(A honest).
- *Sybil, chain*: A puts c fake identities in a line below itself and brings its real recruits in under the last.
- *Sybil with fraud holds on* (``sybil(..., holds=True)``): the same cases in a shop that also runs the fraud holds
  (``HOLDS``: self-referral and duplicate payout account, docs/fraud-holds.md). Every member joins with its own device
  cookie and payout account, except the fakes, which the attacker runs from its own phone and cashes out to its own
  account (the naive attacker: one that rents devices and accounts is not caught by these rules). A held reward is
  not money the coalition can spend (it is not in ``MEMBER_BOOKS``): the gain is what gets past the holds, as if the
  operator rejects every held reward (released ones would add back what they release).
- *Leave and rejoin*: X sits in a partner's downline; instead of building its next network there, it joins again as a
  fresh identity elsewhere (no referrer, or under another member), pays the entry again, and builds it there.
- *Entry required*: does a member who never bought anything earn on its recruits' orders? If not, which is the
  cheapest purchase that makes it earn?

Worked example (chain21 defaults, the default shop: a 699.00 gift pack and a 59.00 tea): X, in partner P's team,
brings 2 recruits who each bring 3. Staying, X's 2 seeds stay in P's team, so P takes the 6 team rewards; joining
again with no referrer, X2's seeds join X2's own team and X2 takes the 6 × 200.00, less the 758.00 it paid again
and what else differs (pool shares, the frozen help fund): the probe reports +326.25 for leaving.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..engine import events as ev
from ..engine.core import MEMBER_BOOKS
from ..engine.errors import Refusal
from ..engine.money import format_fen
from ..engine.registry import new_engine
from .planfile import PlanSpec, shop_for
from .preset import Preset

RECRUITS = (2, 5, 10)  # the attacker's real recruits
SUB_RECRUITS = (0, 3)  # how many each of them brings
ORDERS = (True, False)  # breadth first (all recruits, then theirs) or depth first
SIBLINGS = (1, 2, 3)
CHAIN = (1, 2)


#: The fraud holds the Sybil probe turns on for its run with holds (``sybil(..., holds=True)``).
HOLDS: dict[str, Any] = {"self_referral": {"levels": 3}, "duplicate_payout": {}}


class ProbeShop:
    """An engine with a clock that moves one second per event and a few verbs for building networks. With
    ``holds`` the shop also runs the fraud holds and each join comes with the member's signals (``observe_signals``):
    its own device and payout account unless ``join`` names whose it uses."""

    def __init__(self, plan: PlanSpec, preset: Preset, *, holds: bool = False) -> None:
        plans = {**plan.plans, "fraud_holds": HOLDS} if holds else plan.plans
        self.holds = holds
        self.engine = new_engine(shop_for(plans, preset))
        self.preset = preset
        self.spend: dict[str, int] = {}
        self.orders = 0
        self.refused: list[str] = []  # the reasons of refused events, in order
        self.last_refusal: Refusal | None = None

    def _apply(self, event: ev.Event) -> bool:
        outcome = self.engine.apply(event)
        if outcome.refusal is not None:
            self.refused.append(outcome.refusal.reason)
            self.last_refusal = outcome.refusal
        return outcome.refusal is None

    def _next(self) -> dt.datetime:
        return self.engine.clock + dt.timedelta(seconds=1)

    def do(self, verb: str, **fields: Any) -> bool:
        """Apply any event by its verb (as a scenario file writes it); True when it was not refused."""
        return self._apply(ev.EVENT_TYPES[verb].model_validate({"at": self._next(), **fields}))

    def join(self, member: str, referrer: str | None = None, *, as_of: str | None = None) -> str:
        """``member`` joins; with holds on, from ``as_of``'s device and payout account (its own by default)."""
        if self.holds:
            whose = as_of or member
            self._apply(ev.EVENT_TYPES["observe_signals"].model_validate(
                {"at": self._next(), "member": member, "device": f"device-{whose}", "payout": f"payout-{whose}"}))
        self._apply(ev.Join(at=self._next(), member=member, referrer=referrer, birth_date=dt.date(1990, 1, 1)))
        return member

    def pay(self, member: str, sku: str) -> str:
        self.orders += 1
        order = f"o{self.orders}"
        if self._apply(ev.Pay(at=self._next(), member=member, sku=sku, order=order)):
            self.spend[member] = self.spend.get(member, 0) + self.engine.orders[order].amount
        return order

    def close(self) -> None:
        self._apply(ev.CloseDay(at=self._next(), day=self.engine.today))

    def rewards(self, member: str) -> int:
        get = self.engine.ledger.balances.get
        return sum(get((member, book), 0) for book in MEMBER_BOOKS)

    def paid_on(self, member: str, orders: list[str]) -> int:
        """What ``member`` was credited on these orders (not reversed)."""
        return sum(r.amount for o in orders for r in self.engine.orders[o].rewards
                   if r.member == member and not r.reversed)

    def buyer(self, member: str, referrer: str | None) -> str:
        """A real member: joins, buys what new members buy first, then buys the repeat product once."""
        self.join(member, referrer)
        self.pay(member, self.preset.purchases.first_sku)
        self.pay(member, self.preset.purchases.repeat_sku)
        return member

    def grow(self, top: str, recruits: int, sub: int, prefix: str, breadth_first: bool = True) -> None:
        """``recruits`` real members under ``top``, each bringing ``sub``: all recruits first, then their recruits
        (breadth first), or each recruit's network before the next recruit (depth first)."""
        names = [f"{prefix}{i}" for i in range(recruits)]
        if breadth_first:
            for r in names:
                self.buyer(r, top)
            for r in names:
                for j in range(sub):
                    self.buyer(f"{r}.{j}", r)
            return
        for r in names:
            self.buyer(r, top)
            for j in range(sub):
                self.buyer(f"{r}.{j}", r)


@dataclass(frozen=True)
class ProbeResult:
    gain: int  # fen; the best the trick achieved over the cases tried
    case: str  # the case that achieved it
    cases: int  # how many cases were tried

    def to_json(self) -> dict[str, Any]:
        return {"gain": format_fen(self.gain), "case": self.case, "cases": self.cases}


def _fake_purchases(preset: Preset) -> list[str | None]:
    """What a fake identity buys: nothing, what new members buy first, or the cheapest product."""
    cheapest = min(preset.products, key=lambda p: p.price).sku
    return list(dict.fromkeys([None, preset.purchases.first_sku, cheapest]))


def _attacker(plan: PlanSpec, preset: Preset, holds: bool = False) -> ProbeShop:
    shop = ProbeShop(plan, preset, holds=holds)
    shop.buyer("U", None)
    shop.buyer("A", "U")
    return shop


def _honest(plan: PlanSpec, preset: Preset, recruits: int, sub: int, breadth: bool, holds: bool = False) -> int:
    shop = _attacker(plan, preset, holds)
    shop.grow("A", recruits, sub, "R", breadth)
    shop.close()
    return shop.rewards("A")


def sybil(plan: PlanSpec, preset: Preset, *, holds: bool = False) -> ProbeResult:
    """The best gain from fake identities, as siblings under A or as a chain below A; with ``holds``, what gets
    past the fraud holds (``HOLDS``)."""
    best = ProbeResult(-(10**15), "", 0)
    tried = 0
    for recruits, sub, breadth in _networks():
        honest = _honest(plan, preset, recruits, sub, breadth, holds)
        for shape, sizes in (("siblings", SIBLINGS), ("chain", CHAIN)):
            for n in sizes:
                for buys in _fake_purchases(preset):
                    gain = _sybil_case(plan, preset, (shape, n, buys), recruits, sub, breadth, holds) - honest
                    tried += 1
                    if gain > best.gain:
                        fakes = f"{n} fake identit{'y' if n == 1 else 'ies'}"
                        where = "as A's siblings" if shape == "siblings" else "in a chain below A"
                        case = f"{fakes} {where} buying {buys or 'nothing'}, {_network(recruits, sub, breadth)}"
                        best = ProbeResult(gain, case, 0)
    return ProbeResult(best.gain, best.case, tried)


def _networks() -> list[tuple[int, int, bool]]:
    return [(r, s, b) for r in RECRUITS for s in SUB_RECRUITS for b in ORDERS if s or b]


def _network(recruits: int, sub: int, breadth: bool) -> str:
    order = "" if not sub else (", recruits first" if breadth else ", each recruit's network in turn")
    return f"{recruits} real recruits bringing {sub} each{order}"


def _sybil_case(plan: PlanSpec, preset: Preset, fakes_made: tuple[str, int, str | None], recruits: int, sub: int,
                breadth: bool, holds: bool = False) -> int:
    shape, n, buys = fakes_made
    shop = _attacker(plan, preset, holds)
    fakes: list[str] = []
    above = "A"
    for i in range(n):
        fake = shop.join(f"F{i}", "A" if shape == "siblings" else above, as_of="A")
        if buys is not None:
            shop.pay(fake, buys)
        fakes.append(fake)
        above = fake
    shop.grow("A" if shape == "siblings" else above, recruits, sub, "R", breadth)
    shop.close()
    coalition = ["A", *fakes]
    return sum(shop.rewards(m) for m in coalition) - sum(shop.spend.get(f, 0) for f in fakes)


def rejoin(plan: PlanSpec, preset: Preset) -> ProbeResult:
    """The best gain from leaving one's place and joining again elsewhere to build the next network there."""
    best = ProbeResult(-(10**15), "", 0)
    tried = 0
    for recruits, sub, breadth in _networks():
        stay = _rejoin_case(plan, preset, None, recruits, sub, breadth)
        for where in ("no referrer", "another member"):
            gain = _rejoin_case(plan, preset, where, recruits, sub, breadth) - stay
            tried += 1
            if gain > best.gain:
                best = ProbeResult(gain, f"rejoin under {where}, {_network(recruits, sub, breadth)}", 0)
    return ProbeResult(best.gain, best.case, tried)


def _rejoin_case(plan: PlanSpec, preset: Preset, where: str | None, recruits: int, sub: int, breadth: bool) -> int:
    """X's money from its next network: built in place (``where`` None) or by a fresh identity X2."""
    shop = ProbeShop(plan, preset)
    shop.buyer("P", None)
    for i in range(3):  # P has a full downline: a partner in chain21, a promoter with sales anywhere
        shop.buyer(f"P{i}", "P")
    shop.buyer("Q", None)
    shop.buyer("X", "P")
    builder = "X"
    if where is not None:
        builder = shop.buyer("X2", None if where == "no referrer" else "Q")
    before = shop.rewards(builder)
    shop.grow(builder, recruits, sub, "R", breadth)
    shop.close()
    extra = shop.spend.get("X2", 0) if where is not None else 0
    return shop.rewards(builder) - before - extra


@dataclass(frozen=True)
class EntryResult:
    earns_without_purchase: int  # fen A is paid on its recruits' orders having bought nothing
    cheapest_unlock: str | None  # sku of the cheapest product that makes A earn, when a purchase is needed
    unlock_price: int
    gift_pack: bool

    def to_json(self) -> dict[str, Any]:
        return {"earns_without_purchase": format_fen(self.earns_without_purchase),
                "cheapest_unlock": self.cheapest_unlock, "unlock_price": format_fen(self.unlock_price),
                "gift_pack": self.gift_pack}


def entry_required(plan: PlanSpec, preset: Preset) -> EntryResult:
    """Whether earning needs a purchase, and which is the cheapest purchase that unlocks it."""
    without = _earned_on_recruits(plan, preset, None)
    if without > 0:
        return EntryResult(without, None, 0, False)
    for product in sorted(preset.products, key=lambda p: (p.price, p.sku)):
        if _earned_on_recruits(plan, preset, product.sku) > 0:
            return EntryResult(0, product.sku, product.price, product.gift_pack)
    return EntryResult(0, None, 0, False)


def _earned_on_recruits(plan: PlanSpec, preset: Preset, bought: str | None) -> int:
    shop = ProbeShop(plan, preset)
    shop.join("A")
    if bought is not None:
        shop.pay("A", bought)
    orders = []
    for i, sku in enumerate(p.sku for p in preset.products):
        shop.join(f"B{i}", "A")
        orders.append(shop.pay(f"B{i}", sku))
    return shop.paid_on("A", orders)
