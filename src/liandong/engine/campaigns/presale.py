"""The pre-sale tiered rebate (预售拼团返利), as ``shared/spec/campaigns.md`` defines it.

Members join a published pre-sale by paying its ``price`` into the escrow ``("@escrow", campaign)``. Every
``tier_size`` participants lower the price for **everyone** by ``tier_rebate``, at most ``max_tiers`` times. Each
time the number of participants reaches a multiple of ``free_every``, the fair draw picks one participant who is
not yet free, among all who take part at that moment (a ``pick`` of 1 over their member ids in join order), and
that participant's whole price goes back at once. The campaign closes when ``target`` participants have joined, or
by the clock at its ``deadline`` (no event needed: the first event at or after it closes it first). At the close
everyone, free ones too, gets ``tiers x tier_rebate`` back, and what is left in escrow becomes sales: one order per
participant who was not drawn free, at ``price - tiers x tier_rebate`` (plans earn on it only when the campaign
publishes ``plans_apply: true``).

Worked example, the rulebook's check figure (defaults: price 100.00, tier_size 200, tier_rebate 5.00,
max_tiers 10, free_every 25, target 2000)::

    2000 members join, 100.00 each        @external/payments -200,000.00    @escrow/p1 +200,000.00
    at 25, 50, ..., 2000 participants     80 draws; each winner's 100.00 goes back:  escrow -8,000.00
    the 2000th join reaches the target    tiers = min(2000 // 200, 10) = 10, so 10 x 5.00 = 50.00 each back:
                                            1,920 paid entries from escrow            -96,000.00
                                            80 free entries from @platform/campaign_expense -4,000.00
                                          escrow left 1,920 x 50.00 = 96,000.00 -> sales, escrow now 0.00
    net revenue  200,000.00 - 100,000.00 rebates - 80 x 100.00 free = 92,000.00  (= sales 96,000 - 4,000)
    margin       92,000.00 - 2000 x (30.00 unit cost + 10.00 shipping) = 12,000.00   (``presale_figures``)

The free participants' rebates come from the platform because their payment already went back: the escrow only
holds the paid entries' money, so the sales are exactly what the paying participants were charged.

Decisions where the rulebook is silent (documented in ``docs/events-presale.md``):

* One entry per member per pre-sale; the draw's entries are member ids.
* ``leave_presale`` (before the close) returns the whole price from escrow; a participant drawn free cannot leave
  (nothing is left to return). A member who left may join again, at the end of the queue. Leaving lowers the count;
  a free draw happens only when the count reaches a multiple of ``free_every`` above every earlier count, so
  leaving and joining again never adds a draw (free entries <= highest count // free_every).
* After the close, the core ``refund`` of a participant's order returns what the sale booked (the net price) and
  reverses any plan reward; the tiers do not change. A free participant's order (0.00) cannot be refunded.
* The draws' records (with the secret) are published at the close, in draw order: publishing the secret at the
  first draw would let later joiners compute the next draws. Each draw's winner is shown at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import AwareDatetime, Field, ValidationInfo, field_validator

from ..config_types import Yuan
from ..core import EXTERNAL
from ..draw import DrawRecord, draw_pick
from ..errors import Code, Refusal, refuse
from ..events import Event, MemberId, ObjectId, PaidEvent, register_event
from ..i18n import gettext_noop
from ..module import Rule, Verb
from ..money import format_fen, parse_yuan
from .base import (
    CAMPAIGN_EXPENSE,
    Campaign,
    CampaignModule,
    CampaignParams,
    DrawProbe,
    DrawTally,
    ProbeDriver,
    escrow,
    parse_new_campaign,
    parse_params,
)
from .groups import order_taken

if TYPE_CHECKING:
    from ..core import Engine, Order

KIND = "presale"

RULES = (
    Rule("presale_payment", gettext_noop("pre-sale payment"), gettext_noop("held until the pre-sale closes")),
    Rule("presale_free", gettext_noop("pre-sale: drawn free, price returned")),
    Rule("presale_rebate", gettext_noop("pre-sale tier rebate")),
    Rule("presale_refund", gettext_noop("left the pre-sale, price returned")),
)


class PresaleParams(CampaignParams):
    """What a pre-sale publishes. ``unit_cost`` and ``shipping`` are the operator's own figures (never shown to
    members): when both are given the campaign's view shows its margin."""

    sku: ObjectId
    price: Yuan = Field(10000, ge=1)
    tier_size: int = Field(200, ge=1, le=1_000_000)
    tier_rebate: Yuan = Field(500, ge=0)
    max_tiers: int = Field(10, ge=0, le=1000, validate_default=True)  # checked against price and tier_rebate
    free_every: int = Field(25, ge=1, le=1_000_000)
    target: int = Field(2000, ge=1, le=1_000_000)
    deadline: AwareDatetime
    unit_cost: Yuan | None = Field(None, ge=0)
    shipping: Yuan | None = Field(None, ge=0)

    @field_validator("max_tiers")
    @classmethod
    def _rebates_within_price(cls, max_tiers: int, info: ValidationInfo) -> int:
        price, rebate = info.data.get("price"), info.data.get("tier_rebate")
        if price is not None and rebate is not None and max_tiers * rebate > price:
            raise ValueError(f"{max_tiers} tiers of {format_fen(rebate)} return more than the price "
                             f"{format_fen(price)}")
        return max_tiers


#: Parameters that are the operator's, not part of the published rules.
OPERATOR_ONLY = ("unit_cost", "shipping")


# --- figures: what a pre-sale earns ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PresaleFigures:
    """A pre-sale's money, in fen. ``net_revenue`` is what the platform keeps of the payments; ``margin`` is
    ``net_revenue - units x (unit_cost + shipping)``, None when the costs are not known."""

    participants: int
    tiers: int
    free: int
    paid: int
    rebates: int
    returned_free: int
    net_revenue: int
    units: int
    margin: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "participants": self.participants, "tiers": self.tiers, "free": self.free, "units": self.units,
            "paid": format_fen(self.paid), "rebates": format_fen(self.rebates),
            "returned_free": format_fen(self.returned_free), "net_revenue": format_fen(self.net_revenue),
            "margin": None if self.margin is None else format_fen(self.margin),
        }


def margin_fen(net_revenue: int, units: int, unit_cost: int | None, shipping: int | None) -> int | None:
    """``net_revenue - units x (unit_cost + shipping)``; None unless both costs are known."""
    if unit_cost is None or shipping is None:
        return None
    return net_revenue - units * (unit_cost + shipping)


def tiers_for(params: PresaleParams, participants: int) -> int:
    return min(participants // params.tier_size, params.max_tiers)


def presale_figures(params: PresaleParams, participants: int, unit_cost: int | None = None,
                    shipping: int | None = None) -> PresaleFigures:
    """The figures of a pre-sale that closes with ``participants`` (capped at the target) and nobody leaving.

    ``unit_cost``/``shipping`` default to the campaign's own. The simulator uses this for a plan's forecast::

        >>> p = PresaleParams(sku="ORANGE", deadline="2026-02-01T20:00:00+08:00")
        >>> f = presale_figures(p, 2000, unit_cost=3000, shipping=1000)
        >>> format_fen(f.net_revenue), format_fen(f.margin or 0), f.free
        ('92000.00', '12000.00', 80)
    """
    n = min(participants, params.target)
    tiers = tiers_for(params, n)
    free = n // params.free_every
    paid = n * params.price
    rebates = n * tiers * params.tier_rebate
    returned_free = free * params.price
    net = paid - rebates - returned_free
    cost = params.unit_cost if unit_cost is None else unit_cost
    ship = params.shipping if shipping is None else shipping
    return PresaleFigures(n, tiers, free, paid, rebates, returned_free, net, n, margin_fen(net, n, cost, ship))


# --- state ------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Entry:
    """A member's entry. ``status``: in (waiting for the close), left, delivered (closed, a sale or a free
    product), refunded (its order was refunded after the close)."""

    member: str
    order: str
    paid: int
    joined_at: dt.datetime
    status: str = "in"
    free: bool = False
    returned: int = 0  # fen returned to the payer: the free price, the rebate, a leave or a refund
    rebate: int = 0  # fen of the tiers' rebate it got at the close (part of ``returned``)

    def view(self) -> dict[str, Any]:
        return {"order": self.order, "joined_at": self.joined_at.isoformat(), "status": self.status,
                "free": self.free, "paid": format_fen(self.paid), "returned": format_fen(self.returned),
                "rebate": format_fen(self.rebate), "net": format_fen(self.paid - self.returned)}


@dataclass(slots=True)
class Tally:
    """Money the campaign moved, in fen, by what it was for."""

    paid: int = 0
    returned_to_leavers: int = 0
    returned_free: int = 0
    rebates: int = 0
    rebates_by_platform: int = 0  # the free entries' rebates
    sales: int = 0
    refunded: int = 0  # sales refunded after the close
    units: int = 0  # products delivered at the close


@dataclass(slots=True)
class Run:
    """A pre-sale's participants and draws. ``active`` holds the current entries in join order."""

    active: dict[str, Entry] = field(default_factory=dict)
    peak: int = 0  # the highest number of participants so far
    free: list[str] = field(default_factory=list)  # members drawn free, in draw order
    draws: list[DrawRecord] = field(default_factory=list)  # published at the close
    tiers: int | None = None  # fixed at the close
    tally: Tally = field(default_factory=Tally)


def _reachable(campaign: Campaign, count: int | None) -> int | None:
    """A participant count still ahead of an open campaign (None once closed or beyond the target)."""
    if count is None or campaign.status == "closed" or count > params_of(campaign).target:
        return None
    return count


def params_of(campaign: Campaign) -> PresaleParams:
    assert isinstance(campaign.params, PresaleParams), f"campaign {campaign.id} is not a pre-sale"
    return campaign.params


# --- the module --------------------------------------------------------------------------------------------------


class Presale(CampaignModule):
    kind: ClassVar[str] = KIND
    Params: ClassVar[type[CampaignParams]] = PresaleParams
    rules = RULES
    private_keys: ClassVar[tuple[str, ...]] = ("figures.margin",)  # from the operator's own costs

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.runs: dict[str, Run] = {}
        self.by_member: dict[str, dict[str, Entry]] = {}  # member -> campaign -> latest entry
        self.free_orders: set[str] = set()  # the orders of participants drawn free

    def create(self, engine: Engine, campaign_id: str, params: CampaignParams, publish: bool) -> Campaign:
        self.runs[campaign_id] = Run()
        return super().create(engine, campaign_id, params, publish)

    def run_of(self, campaign: Campaign) -> Run:
        return self.runs[campaign.id]

    # --- joining, leaving, the free draws ---
    def join(self, engine: Engine, campaign: Campaign, member: str, order_id: str) -> None:
        params, run = params_of(campaign), self.run_of(campaign)
        # refundable only through the campaign (leave_presale) until the close
        order = engine.new_order(order_id, member, params.sku, amount=params.price, campaign=campaign.id,
                                 refundable=False)
        engine.orders[order.id] = order
        engine.transfer("presale_payment", EXTERNAL, escrow(campaign.id), params.price, order=order.id,
                        source=member, ref=campaign.id)
        entry = Entry(member, order.id, params.price, engine.clock)
        run.active[member] = entry
        self.by_member.setdefault(member, {})[campaign.id] = entry
        run.tally.paid += params.price
        count = len(run.active)
        engine.fact("presale_joined", campaign=campaign.id, member=member, participants=count)
        if count > run.peak:
            tiers = tiers_for(params, count)
            if tiers > tiers_for(params, run.peak):
                engine.fact("presale_tier_reached", campaign=campaign.id, tiers=tiers,
                            price_now=format_fen(params.price - tiers * params.tier_rebate))
            run.peak = count
            if count % params.free_every == 0:
                self.draw_free(engine, campaign, run)
        if count >= params.target:
            self.close_presale(engine, campaign)

    def draw_free(self, engine: Engine, campaign: Campaign, run: Run) -> None:
        """Pick one not-yet-free participant among all present; the whole price goes back at once."""
        candidates = [m for m, e in run.active.items() if not e.free]
        assert candidates, f"pre-sale {campaign.id}: a free draw with every participant already free"
        record = draw_pick(campaign.secret, campaign.id, candidates, 1)
        assert isinstance(record.result, list)
        winner = run.active[record.result[0]]
        winner.free = True
        winner.returned += winner.paid
        run.free.append(winner.member)
        run.draws.append(record)
        run.tally.returned_free += winner.paid
        engine.transfer("presale_free", escrow(campaign.id), EXTERNAL, winner.paid, order=winner.order,
                        source=winner.member, ref=campaign.id)
        engine.fact("presale_free_drawn", campaign=campaign.id, member=winner.member, draw=len(run.free),
                    among=len(candidates))

    def leave(self, engine: Engine, campaign: Campaign, member: str) -> None:
        run = self.run_of(campaign)
        entry = run.active.pop(member)
        entry.status = "left"
        entry.returned += entry.paid
        run.tally.returned_to_leavers += entry.paid
        engine.orders[entry.order].refunded = True
        engine.transfer("presale_refund", escrow(campaign.id), EXTERNAL, entry.paid, order=entry.order,
                        source=member, ref=campaign.id)
        engine.fact("presale_left", campaign=campaign.id, member=member, participants=len(run.active))

    # --- the close ---
    def close_presale(self, engine: Engine, campaign: Campaign) -> None:
        """Everyone gets the tiers' rebate back; the rest of the escrow becomes one sale per paid entry."""
        params, run = params_of(campaign), self.run_of(campaign)
        run.tiers = tiers_for(params, len(run.active))
        rebate = run.tiers * params.tier_rebate
        for entry in run.active.values():
            source_account = CAMPAIGN_EXPENSE if entry.free else escrow(campaign.id)
            engine.transfer("presale_rebate", source_account, EXTERNAL, rebate, order=entry.order,
                            source=entry.member, ref=campaign.id)
            entry.returned += rebate
            entry.rebate = rebate
            entry.status = "delivered"
            run.tally.rebates += rebate
            run.tally.rebates_by_platform += rebate if entry.free else 0
            amount = 0 if entry.free else params.price - rebate
            order = engine.new_order(entry.order, entry.member, params.sku, amount=amount, campaign=campaign.id,
                                     refundable=True)
            if entry.free:
                self.free_orders.add(order.id)  # a free product: nothing was paid for it (check_refund refuses)
            engine.record_sale(order, plans_apply=params.plans_apply and not entry.free,
                               paid_from=escrow(campaign.id))
            run.tally.sales += amount
            run.tally.units += 1
        self.close(engine, campaign)
        for record in run.draws:
            self.publish_draw(engine, campaign, record.to_json())

    def on_clock(self, engine: Engine, now: dt.datetime) -> None:
        for campaign in self.campaigns.values():
            if campaign.status == "open" and now >= params_of(campaign).deadline:
                self.close_presale(engine, campaign)

    def check_publish(self, engine: Engine, campaign: Campaign) -> Refusal | None:
        """A draft is published only while its deadline is ahead and its product exists."""
        params = params_of(campaign)
        refusal = check_product(engine, params.sku)
        if refusal is not None:
            return refusal
        if params.deadline <= engine.clock:
            return refuse(Code.INVALID, "params.deadline", params.deadline.isoformat(),
                          why=f"it is not after the clock {engine.clock.isoformat()}")
        return None

    # --- refunds after the close (the core ``refund`` of a delivered entry's order) ---
    def check_refund(self, engine: Engine, order: Order) -> Refusal | None:
        if order.id in self.free_orders:
            return refuse(Code.NOT_ALLOWED, "order", order.id,
                          why=f"it is a free product of pre-sale {order.campaign}: nothing was paid for it")
        return None

    def on_refund(self, engine: Engine, order: Order) -> None:
        if order.campaign not in self.campaigns:
            return
        entry = self.by_member[order.member][order.campaign]
        entry.status = "refunded"
        entry.returned += order.amount
        self.runs[order.campaign].tally.refunded += order.amount

    # --- reading ---
    def figures(self, campaign: Campaign) -> PresaleFigures:
        """The campaign's actual figures so far, from the money it moved."""
        params, run = params_of(campaign), self.run_of(campaign)
        t = run.tally
        net = t.paid - t.returned_to_leavers - t.returned_free - t.rebates - t.refunded
        tiers = run.tiers if run.tiers is not None else tiers_for(params, len(run.active))
        return PresaleFigures(len(run.active), tiers, len(run.free), t.paid, t.rebates, t.returned_free, net,
                              t.units, margin_fen(net, t.units, params.unit_cost, params.shipping))

    def campaign_view(self, engine: Engine, campaign: Campaign) -> dict[str, Any]:
        view = super().campaign_view(engine, campaign)
        params, run = params_of(campaign), self.run_of(campaign)
        for key in OPERATOR_ONLY:
            view["params"].pop(key, None)
        view["params"]["deadline"] = params.deadline.astimezone(engine.tz).isoformat()  # the shop's zone, as all times
        count = len(run.active)
        tiers = run.tiers if run.tiers is not None else tiers_for(params, count)
        next_tier = (tiers + 1) * params.tier_size if tiers < params.max_tiers else None
        next_free = (run.peak // params.free_every + 1) * params.free_every
        t = run.tally
        next_tier_at, next_free_at = _reachable(campaign, next_tier), _reachable(campaign, next_free)
        view.update({
            "participants": count, "tiers": tiers,
            "price_now": format_fen(params.price - tiers * params.tier_rebate),
            "rebate_now": format_fen(tiers * params.tier_rebate),
            "lowest_price": format_fen(params.price - params.max_tiers * params.tier_rebate),
            "next_tier_at": next_tier_at, "next_free_at": next_free_at,
            # what a member weighs before joining: joins still needed, and the price once the next tier is reached
            "joins_to_next_tier": None if next_tier_at is None else next_tier_at - count,
            "price_at_next_tier": None if next_tier_at is None else format_fen(
                params.price - (tiers + 1) * params.tier_rebate),
            "joins_to_next_free": None if next_free_at is None else next_free_at - count,
            "free": list(run.free),
            "figures": {**self.figures(campaign).to_json(),
                        "returned_to_leavers": format_fen(t.returned_to_leavers),
                        "rebates_by_platform": format_fen(t.rebates_by_platform),
                        "sales": format_fen(t.sales), "refunded": format_fen(t.refunded)},
        })
        return view

    def member_view(self, engine: Engine, member: str) -> dict[str, Any]:
        return {"presales": {cid: e.view() for cid, e in self.by_member.get(member, {}).items()}}

    def check_invariants(self, engine: Engine) -> list[str]:
        problems = super().check_invariants(engine)
        for campaign in self.campaigns.values():
            run = self.run_of(campaign)
            if campaign.status == "open":
                owed = sum(e.paid for e in run.active.values() if not e.free)
                held = engine.ledger.balances.get(escrow(campaign.id), 0)
                if held != owed:
                    problems.append(f"pre-sale {campaign.id} holds {format_fen(held)} in escrow but its paid "
                                    f"entries come to {format_fen(owed)}")
            if len(run.free) > run.peak // params_of(campaign).free_every:
                problems.append(f"pre-sale {campaign.id} drew {len(run.free)} free entries for a highest count "
                                f"of {run.peak}")
        return problems


# --- events ------------------------------------------------------------------------------------------------------


@register_event
class CreatePresale(Event):
    """The operator creates a pre-sale; published at once (rules frozen, commitment shown) unless ``publish:
    false``."""

    verb: ClassVar[str] = "create_presale"
    creates_draw: ClassVar[bool] = True
    primary: ClassVar[str] = "campaign"
    campaign: ObjectId
    params: dict[str, Any] = Field(default_factory=dict)
    publish: bool = True


@register_event
class JoinPresale(PaidEvent):
    """A member joins a pre-sale, paying its price into the campaign's escrow."""

    verb: ClassVar[str] = "join_presale"
    primary: ClassVar[str] = "member"
    counted_id: ClassVar[tuple[str, str] | None] = ("order", "ps")
    member: MemberId
    campaign: ObjectId
    order: ObjectId


@register_event
class LeavePresale(Event):
    """A participant leaves before the close and gets the whole price back."""

    verb: ClassVar[str] = "leave_presale"
    primary: ClassVar[str] = "member"
    member: MemberId
    campaign: ObjectId


def presale_module(engine: Engine) -> Presale:
    module = engine.modules[KIND]
    assert isinstance(module, Presale)
    return module


def check_create_presale(engine: Engine, event: CreatePresale) -> Refusal | None:
    parsed = parse_new_campaign(engine, event.campaign, PresaleParams, event.params)
    if isinstance(parsed, Refusal):
        return parsed
    assert isinstance(parsed, PresaleParams)
    refusal = check_product(engine, parsed.sku)
    if refusal is not None:
        return refusal
    if parsed.deadline <= event.at:
        return refuse(Code.INVALID, "params.deadline", parsed.deadline.isoformat(),
                      why=f"the deadline must be after the campaign is created ({event.at.isoformat()})")
    return None


def apply_create_presale(engine: Engine, event: CreatePresale) -> None:
    params = parse_params(PresaleParams, event.params)
    assert isinstance(params, PresaleParams)
    presale_module(engine).create(engine, event.campaign, params, event.publish)


def check_product(engine: Engine, sku: str) -> Refusal | None:
    product = engine.products.get(sku)
    if product is None or not product.active:
        return refuse(Code.PRODUCT_UNKNOWN, "params.sku", sku)
    return None


def _open_presale(engine: Engine, campaign_id: str) -> Campaign | Refusal:
    module = presale_module(engine)
    campaign = module.campaigns.get(campaign_id)
    if campaign is None:
        return refuse(Code.NOT_FOUND, "campaign", campaign_id)
    if campaign.status == "draft":
        return refuse(Code.NOT_ALLOWED, "campaign", campaign_id, why="it is not published yet")
    if campaign.status == "closed":
        return refuse(Code.CLOSED, "campaign", campaign_id)
    return campaign


def check_join_presale(engine: Engine, event: JoinPresale) -> Refusal | None:
    campaign = _open_presale(engine, event.campaign)
    if isinstance(campaign, Refusal):
        return campaign
    if event.member not in engine.members:
        return refuse(Code.MEMBER_UNKNOWN, "member", event.member)
    if event.member in presale_module(engine).run_of(campaign).active:
        return refuse(Code.NOT_ALLOWED, "member", event.member, why=f"already takes part in pre-sale {campaign.id}")
    if order_taken(engine, event.order):  # a paid order's, or a group seat's
        return refuse(Code.ORDER_EXISTS, "order", event.order)
    return check_product(engine, params_of(campaign).sku)  # it may have been deactivated since


def apply_join_presale(engine: Engine, event: JoinPresale) -> None:
    module = presale_module(engine)
    module.join(engine, module.campaigns[event.campaign], event.member, event.order)


def check_leave_presale(engine: Engine, event: LeavePresale) -> Refusal | None:
    campaign = _open_presale(engine, event.campaign)
    if isinstance(campaign, Refusal):
        return campaign
    entry = presale_module(engine).run_of(campaign).active.get(event.member)
    if entry is None:
        return refuse(Code.NOT_ALLOWED, "member", event.member, why=f"does not take part in pre-sale {campaign.id}")
    if entry.free:
        return refuse(Code.NOT_ALLOWED, "member", event.member,
                      why=f"was drawn free in pre-sale {campaign.id}: the whole price already came back")
    return None


def apply_leave_presale(engine: Engine, event: LeavePresale) -> None:
    module = presale_module(engine)
    module.leave(engine, module.campaigns[event.campaign], event.member)


def price_of_entry(engine: Engine, event: JoinPresale) -> int | None:
    campaign = presale_module(engine).campaigns.get(event.campaign)
    return params_of(campaign).price if campaign is not None else None


def quote_entry(fields: dict[str, Any], find: Any) -> int | None:
    view = find("campaign", fields.get("campaign", ""))
    return parse_yuan(view["params"]["price"]) if view is not None and view.get("kind") == KIND else None


Presale.verbs = (
    Verb(CreatePresale, check_create_presale, apply_create_presale, senders=("operator",), permission="run_campaigns",
         example={"campaign": "ps-orange", "params": {"sku": "ORANGE", "deadline": "2026-03-31T20:00:00+08:00"}}),
    Verb(JoinPresale, check_join_presale, apply_join_presale, senders=("member",), member_field="member",
         generated=(("order", "ps"),), price=price_of_entry, quote=quote_entry, example={"campaign": "ps-orange"}),
    Verb(LeavePresale, check_leave_presale, apply_leave_presale, senders=("member",), member_field="member",
         example={"campaign": "ps-orange"}),
)


class PresaleProbe(DrawProbe):
    """The audit's probe of a pre-sale: its largest prize is a free purchase (the whole price back); its deadline,
    when the entry gives none, is 30 days after creation."""

    kind = KIND
    create_verb = "create_presale"

    def create(self, shop: ProbeDriver, entry: dict[str, Any], cid: str, secret: str) -> bool:
        params = self.params(entry, secret)
        params.setdefault("deadline", (shop.engine.clock + dt.timedelta(days=30)).isoformat())
        return shop.do(self.create_verb, campaign=cid, params=params)

    def run(self, shop: ProbeDriver, entry: dict[str, Any], cid: str, draws: int,
            secret: Callable[[str], str]) -> DrawTally:
        self.create(shop, entry, cid, secret(cid))
        module: Any = shop.engine.modules[KIND]
        return DrawTally(module.campaigns[cid].params.price, "a free purchase (the whole price back)",
                         frozen_campaign=cid, frozen_change={"free_every": 1})


Presale.draw_probe = PresaleProbe
