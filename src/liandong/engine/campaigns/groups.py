"""Groups that fill up: what the group-buy lottery and the red-envelope group share.

A campaign of either kind holds groups. A member starts a group (and is its first entry), others join it; each
entry pays the campaign's price into the campaign's escrow ``("@escrow", campaign)``. When the last seat is taken
the group is drawn at once: the fair draw picks the winners among the entries in join order, the winners'
payments become sales (``engine.record_sale`` from the escrow, plans only when the campaign says ``plans_apply``)
and every other payment goes back to where it came from. A group still open at its deadline (``expire_hours``
after it started) is dissolved by the clock, with no event from anyone: every payment goes back. Closing the
campaign dissolves its open groups the same way, so a closed campaign's escrow is zero.

Worked example (group size 3, 1 winner, price 99.00; escrow of campaign gb1)::

    A starts g1            @external/payments -99.00   @escrow/gb1 +99.00    seats left 2
    B joins g1             @external/payments -99.00   @escrow/gb1 +99.00    seats left 1
    C joins g1 (full)      @external/payments -99.00   @escrow/gb1 +99.00    the draw picks, say, B
      sale of g1-B         @escrow/gb1 -99.00          @platform/sales +99.00
      return of g1-A, g1-C @escrow/gb1 -99.00 each     @external/payments +99.00 each   escrow now 0.00

Each group has its own draw, named ``campaign/group`` (``gb1/g1``), with its own secret derived from the
campaign's: ``group secret = HMAC-SHA256(key=campaign secret, msg="group|gb1/g1")`` (hex). The group's page shows
``sha256(group secret)`` from its start and the group secret once it is drawn, so a drawn group's record can be
checked at once (``liandong verify-draw``) without revealing anything about the campaign's other groups; the
campaign's own secret is published when the campaign closes, and with it anyone can recompute every group
secret. Entries are member ids in join order (a member holds at most one seat in a group).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from ..draw import commitment, draw_pick
from ..errors import Code, Refusal, refuse
from ..events import Event, MemberId, ObjectId, register_event
from ..money import format_fen, parse_yuan
from .base import (
    Campaign,
    CampaignModule,
    CampaignParams,
    DrawProbe,
    DrawTally,
    ProbeDriver,
    escrow,
    find_campaign,
)

if TYPE_CHECKING:
    from ..core import Engine, Order

EXTERNAL = ("@external", "payments")


class GroupParams(CampaignParams):
    """What both kinds publish: the product (``sku``; its price is frozen when the campaign is published) and how
    long a group may stay open (``expire_hours``)."""

    sku: ObjectId
    expire_hours: int = Field(24, ge=1, le=720)


def params_of(campaign: Campaign) -> GroupParams:
    assert isinstance(campaign.params, GroupParams), f"campaign {campaign.id} is not a group campaign"
    return campaign.params


def derive_group_secret(campaign_secret: str, draw_id: str) -> str:
    """A group's draw secret: ``HMAC-SHA256(key=campaign secret, msg="group|<campaign>/<group>")`` as hex."""
    return hmac.new(bytes.fromhex(campaign_secret), f"group|{draw_id}".encode(), hashlib.sha256).hexdigest()


def entry_order_id(group: str, member: str, given: str | None) -> str:
    """The order id of a seat: the one the payment came with, else ``<group>-<member>`` (``g1-B``)."""
    return given if given is not None else f"{group}-{member}"


@dataclass(slots=True)
class Entry:
    """One seat in a group. ``outcome``: waiting, won, lost, returned (group dissolved), refunded (won, then the
    winner's order was refunded)."""

    member: str
    order: str
    amount: int
    joined_at: dt.datetime
    outcome: str = "waiting"


@dataclass(slots=True)
class Group:
    """A group filling up. ``status``: open, drawn, expired (the clock passed its deadline), dissolved (the
    campaign closed or the last member left)."""

    id: str
    campaign: str
    starter: str
    size: int
    winners_count: int
    price: int
    started_at: dt.datetime
    deadline: dt.datetime
    secret: str
    entries: list[Entry] = field(default_factory=list)
    status: str = "open"
    closed_at: dt.datetime | None = None
    winners: list[str] = field(default_factory=list)

    @property
    def draw_id(self) -> str:
        return f"{self.campaign}/{self.id}"

    @property
    def seats_left(self) -> int:
        return self.size - len(self.entries)

    def entry_of(self, member: str) -> Entry | None:
        return next((e for e in self.entries if e.member == member), None)

    def view(self) -> dict[str, Any]:
        """What the group's page shows: who is in, seats left, the deadline, the commitment; once closed, the
        winners and the group's secret."""
        return {
            "group": self.id, "campaign": self.campaign, "starter": self.starter, "status": self.status,
            "size": self.size, "winners_count": self.winners_count, "price": format_fen(self.price),
            "members": [e.member for e in self.entries], "seats_left": self.seats_left,
            "started_at": self.started_at.isoformat(), "deadline": self.deadline.isoformat(),
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "draw": self.draw_id, "commitment": commitment(self.secret),
            "secret": self.secret if self.status != "open" else None,
            "winners": list(self.winners),
            "outcomes": {e.member: e.outcome for e in self.entries},
        }


class GroupCampaignModule(CampaignModule):
    """Base of the two group campaign modules: groups, escrow payments, the draw of winners, expiry, closing.

    A subclass sets ``kind`` and ``Params`` (with ``sku`` and ``expire_hours``) and implements ``draw``, which
    calls ``draw_winners`` and then pays what its kind adds (consolation and funds, or the red envelope)."""

    #: the statement rules of this kind's payments into escrow and returns from it
    payment_rule: ClassVar[str] = ""
    return_rule: ClassVar[str] = ""

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.groups: dict[str, Group] = {}
        self._deadlines: list[tuple[dt.datetime, int, str]] = []  # heap of (deadline, start order, group)
        self.entry_orders: set[str] = set()  # every order id a seat ever used (never reused)
        self.order_groups: dict[str, str] = {}  # a winner's order -> its group

    # --- reading -------------------------------------------------------------------------------------------------
    def group_view(self, engine: Engine, group: Group) -> dict[str, Any]:
        view = group.view()
        view["kind"] = self.kind
        return view

    def campaign_view(self, engine: Engine, campaign: Campaign) -> dict[str, Any]:
        view = super().campaign_view(engine, campaign)
        price = campaign.state.get("price")
        view["price"] = format_fen(price) if price is not None else None
        counts = {"open": 0, "drawn": 0, "expired": 0, "dissolved": 0}
        for gid in campaign.state.get("groups", ()):
            counts[self.groups[gid].status] += 1
        view["groups"] = counts
        view["group_views"] = [self.group_view(engine, self.groups[gid]) for gid in campaign.state.get("groups", ())]
        view["paid_out"] = {k: format_fen(v) for k, v in sorted(campaign.state.get("paid_out", {}).items())}
        return view

    def end_state(self, engine: Engine) -> dict[str, Any]:
        state = super().end_state(engine)
        state["groups"] = {g.id: self.group_view(engine, g) for g in self.groups.values()}
        return state

    # --- the lifecycle -------------------------------------------------------------------------------------------
    def publish(self, engine: Engine, campaign: Campaign) -> None:
        """Publishing freezes the price members will pay: the product's price now."""
        super().publish(engine, campaign)
        campaign.state["price"] = engine.products[params_of(campaign).sku].price
        campaign.state.setdefault("groups", [])
        campaign.state.setdefault("paid_out", {})

    def check_publish(self, engine: Engine, campaign: Campaign) -> Refusal | None:
        return check_product(engine, params_of(campaign).sku)

    def add_paid_out(self, campaign: Campaign, what: str, amount: int) -> None:
        paid = campaign.state.setdefault("paid_out", {})
        paid[what] = paid.get(what, 0) + amount

    def open_group(self, engine: Engine, campaign: Campaign, group_id: str, size: int, winners: int,
                   starter: str) -> Group:
        hours = params_of(campaign).expire_hours
        draw_id = f"{campaign.id}/{group_id}"
        group = Group(group_id, campaign.id, starter, size, winners, campaign.state["price"], engine.clock,
                      engine.clock + dt.timedelta(hours=hours), derive_group_secret(campaign.secret, draw_id))
        self.groups[group_id] = group
        campaign.state["groups"].append(group_id)
        heapq.heappush(self._deadlines, (group.deadline, len(self.groups), group_id))
        engine.fact("group_started", campaign=campaign.id, group=group_id, member=starter,
                    deadline=group.deadline.isoformat(), commitment=commitment(group.secret))
        return group

    def add_entry(self, engine: Engine, group: Group, member: str, order_id: str) -> None:
        """``member`` pays the group's price into escrow; the last seat draws the group."""
        entry = Entry(member, order_id, group.price, engine.clock)
        group.entries.append(entry)
        self.entry_orders.add(order_id)
        engine.transfer(self.payment_rule, EXTERNAL, escrow(group.campaign), entry.amount, plan=self.kind,
                        order=order_id, source=member, ref=f"group {group.id}")
        engine.fact("group_joined", group=group.id, member=member, seats_left=group.seats_left)
        if group.seats_left == 0:
            group.status, group.closed_at = "drawn", engine.clock
            self.draw(engine, group)

    def return_payment(self, engine: Engine, group: Group, entry: Entry, outcome: str) -> None:
        entry.outcome = outcome
        engine.transfer(self.return_rule, escrow(group.campaign), EXTERNAL, entry.amount, plan=self.kind,
                        order=entry.order, source=entry.member, ref=f"group {group.id}")

    def remove_entry(self, engine: Engine, group: Group, member: str) -> None:
        """A member leaves an open group: the payment goes back; a group left empty is dissolved."""
        entry = group.entry_of(member)
        assert entry is not None and group.status == "open"
        group.entries.remove(entry)
        self.return_payment(engine, group, entry, "returned")
        engine.fact("group_left", group=group.id, member=member, seats_left=group.seats_left)
        if not group.entries:
            self.dissolve(engine, group, "dissolved")

    def draw(self, engine: Engine, group: Group) -> None:
        """The group is full: draw it and pay what this kind pays. Subclasses implement it."""
        raise NotImplementedError

    def draw_winners(self, engine: Engine, group: Group) -> tuple[list[Entry], list[Entry]]:
        """Pick the winners (the draw record goes to ``engine.draws``), book their payments as sales and return
        everyone else's. Returns (winners in draw order, losers in join order)."""
        campaign = self.campaigns[group.campaign]
        members = [e.member for e in group.entries]
        record = draw_pick(group.secret, group.draw_id, members, group.winners_count)
        self.publish_draw(engine, campaign, record.to_json())
        group.winners = list(record.result) if isinstance(record.result, list) else []
        by_member = {e.member: e for e in group.entries}
        winners = [by_member[m] for m in group.winners]
        losers = [e for e in group.entries if e.member not in group.winners]
        sku = params_of(campaign).sku
        for entry in winners:
            entry.outcome = "won"
            order = engine.new_order(entry.order, entry.member, sku, amount=entry.amount, campaign=campaign.id,
                                     refundable=True)
            self.order_groups[order.id] = group.id
            engine.record_sale(order, plans_apply=campaign.params.plans_apply, paid_from=escrow(campaign.id))
        for entry in losers:
            self.return_payment(engine, group, entry, "lost")
        engine.fact("group_drawn", campaign=campaign.id, group=group.id, winners=list(group.winners),
                    secret=group.secret)
        return winners, losers

    def dissolve(self, engine: Engine, group: Group, status: str) -> None:
        """Close an unfilled group: every payment goes back, nobody gets anything else."""
        assert group.status == "open"
        group.status, group.closed_at = status, engine.clock
        for entry in group.entries:
            self.return_payment(engine, group, entry, "returned")
        engine.fact("group_dissolved", campaign=group.campaign, group=group.id, reason=status)

    def on_clock(self, engine: Engine, now: dt.datetime) -> None:
        """Dissolve every open group whose deadline the clock has reached, in deadline order."""
        heap = self._deadlines
        while heap and heap[0][0] <= now:
            _deadline, _n, group_id = heapq.heappop(heap)
            group = self.groups[group_id]
            if group.status == "open":
                self.dissolve(engine, group, "expired")

    def close_campaign(self, engine: Engine, campaign: Campaign) -> None:
        for group_id in campaign.state.get("groups", ()):
            group = self.groups[group_id]
            if group.status == "open":
                self.dissolve(engine, group, "dissolved")
        self.close(engine, campaign)

    # --- refunds and invariants ----------------------------------------------------------------------------------
    def check_pay(self, engine: Engine, event: Any) -> Refusal | None:
        """An order id a seat uses is taken: a plain ``pay`` may not reuse it."""
        if event.order in self.entry_orders:
            return refuse(Code.ORDER_EXISTS, "order", event.order)
        return None

    def on_refund(self, engine: Engine, order: Order) -> None:
        """A winner's order was refunded (the core reversed the sale and any plan rewards): mark the seat."""
        if order.campaign not in self.campaigns:
            return
        entry = self.groups[self.order_groups[order.id]].entry_of(order.member)
        assert entry is not None and entry.outcome == "won"
        entry.outcome = "refunded"
        self.on_winner_refunded(engine, order)

    def on_winner_refunded(self, engine: Engine, order: Order) -> None:
        """What this kind takes back when a winner's order is refunded (nothing by default)."""

    def check_invariants(self, engine: Engine) -> list[str]:
        problems = super().check_invariants(engine)
        for c in self.campaigns.values():
            waiting = sum(e.amount for gid in c.state.get("groups", ()) for e in self.groups[gid].entries
                          if self.groups[gid].status == "open")
            held = engine.ledger.balances.get(escrow(c.id), 0)
            if held != waiting:
                problems.append(f"campaign {c.id}'s escrow holds {format_fen(held)} but its open groups' seats "
                                f"paid {format_fen(waiting)}")
        for g in self.groups.values():
            if len(g.entries) > g.size:
                problems.append(f"group {g.id} has {len(g.entries)} seats taken of {g.size}")
            if g.status == "drawn" and len(g.winners) != g.winners_count:
                problems.append(f"group {g.id} drew {len(g.winners)} winners, not {g.winners_count}")
        return problems


# --- checks both kinds share (read only) ----------------------------------------------------------------------


def find_group(engine: Engine, group_id: str) -> tuple[GroupCampaignModule, Group] | None:
    for module in engine.modules.values():
        if isinstance(module, GroupCampaignModule) and group_id in module.groups:
            return module, module.groups[group_id]
    return None


def order_taken(engine: Engine, order_id: str) -> bool:
    """Whether ``order_id`` names a purchase already: a paid order's, or a group seat's (a seat's order enters
    ``engine.orders`` only if it wins the draw, so every event that makes an order must ask this, not
    ``engine.orders`` alone, or a winning seat would replace that order)."""
    return order_id in engine.orders or any(
        order_id in m.entry_orders for m in engine.modules.values() if isinstance(m, GroupCampaignModule)
    )


def check_product(engine: Engine, sku: str) -> Refusal | None:
    product = engine.products.get(sku)
    if product is None or not product.active:
        return refuse(Code.PRODUCT_UNKNOWN, "params.sku", sku)
    return None


def refuse_other_kind(engine: Engine, module: GroupCampaignModule, campaign_id: str) -> Refusal:
    """The refusal for a campaign id this module does not hold: unknown, or a campaign of another kind."""
    found = find_campaign(engine, campaign_id)
    if found is None:
        return refuse(Code.NOT_FOUND, "campaign", campaign_id)
    return refuse(Code.NOT_ALLOWED, "campaign", campaign_id, why=f"it is a {found[0].kind} campaign, not {module.kind}")


def check_open_campaign(engine: Engine, module: GroupCampaignModule, campaign_id: str) -> Refusal | None:
    """The campaign exists, is of this kind, is published and not closed."""
    campaign = module.campaigns.get(campaign_id)
    if campaign is None:
        return refuse_other_kind(engine, module, campaign_id)
    if campaign.status == "draft":
        return refuse(Code.NOT_ALLOWED, "campaign", campaign_id, why="it is a draft: it opens when published")
    if campaign.status == "closed":
        return refuse(Code.CLOSED, "campaign", campaign_id)
    return None


def check_seat(engine: Engine, group: Group | None, group_id: str, member: str, order_id: str) -> Refusal | None:
    """``member`` may take a seat in the group (``None``: a group about to be started) paying as ``order_id``."""
    if member not in engine.members:
        return refuse(Code.MEMBER_UNKNOWN, "member", member)
    if group is not None:
        if group.status != "open":
            return refuse(Code.CLOSED, "group", group_id)
        if group.entry_of(member) is not None:
            return refuse(Code.NOT_ALLOWED, "member", member, why=f"already has a seat in group {group_id}")
    if order_taken(engine, order_id):
        return refuse(Code.ORDER_EXISTS, "order", order_id)
    return None


def check_new_group(engine: Engine, module: GroupCampaignModule, campaign_id: str, group_id: str, member: str,
                    order_id: str) -> Refusal | None:
    refusal = check_open_campaign(engine, module, campaign_id)
    if refusal is None and find_group(engine, group_id) is not None:
        refusal = refuse(Code.EXISTS, "group", group_id)
    if refusal is None:
        sku = params_of(module.campaigns[campaign_id]).sku
        product = engine.products.get(sku)
        if product is None or not product.active:
            refusal = refuse(Code.PRODUCT_UNKNOWN, "sku", sku)
    return refusal or check_seat(engine, None, group_id, member, order_id)


def check_join_group(engine: Engine, module: GroupCampaignModule, group_id: str, member: str,
                     order_id: str) -> Refusal | None:
    found = find_group(engine, group_id)
    if found is None:
        return refuse(Code.NOT_FOUND, "group", group_id)
    if found[0] is not module:
        return refuse(Code.NOT_ALLOWED, "group", group_id, why=f"it is a {found[0].kind} group, not {module.kind}")
    return check_seat(engine, found[1], group_id, member, order_id)


def check_close_campaign(engine: Engine, module: GroupCampaignModule, campaign_id: str) -> Refusal | None:
    campaign = module.campaigns.get(campaign_id)
    if campaign is None:
        return refuse_other_kind(engine, module, campaign_id)
    if campaign.status == "draft":
        return refuse(Code.NOT_ALLOWED, "campaign", campaign_id, why="a draft has nothing to close")
    if campaign.status == "closed":
        return refuse(Code.CLOSED, "campaign", campaign_id)
    return None


# --- what a seat costs: in the engine (checked against what the provider took) and as the service quotes it ------


def price_of_new_group(engine: Engine, event: Any) -> int | None:
    """The first seat of a new group costs the campaign's price frozen at publishing."""
    found = find_campaign(engine, event.campaign)
    price = found[1].state.get("price") if found is not None else None
    return price if isinstance(price, int) else None


def price_of_seat(engine: Engine, event: Any) -> int | None:
    found = find_group(engine, event.group)
    return found[1].price if found is not None else None


def quote_new_group(fields: dict[str, Any], find: Any) -> int | None:
    view = find("campaign", fields.get("campaign", ""))
    return parse_yuan(view["price"]) if view is not None and view.get("price") else None


def quote_seat(fields: dict[str, Any], find: Any) -> int | None:
    view = find("group", fields.get("group", ""))
    return parse_yuan(view["price"]) if view is not None else None


# --- leaving a group (either kind) -------------------------------------------------------------------------------


@register_event
class LeaveGroup(Event):
    """A member leaves an open group before it fills: the payment goes back in full, the seat is free again."""

    verb: ClassVar[str] = "leave_group"
    primary: ClassVar[str] = "member"
    member: MemberId
    group: ObjectId


def check_leave_group(engine: Engine, event: LeaveGroup) -> Refusal | None:
    found = find_group(engine, event.group)
    if found is None:
        return refuse(Code.NOT_FOUND, "group", event.group)
    group = found[1]
    if group.status != "open":
        return refuse(Code.CLOSED, "group", event.group)
    if group.entry_of(event.member) is None:
        return refuse(Code.NOT_ALLOWED, "member", event.member, why=f"has no seat in group {event.group}")
    return None


def apply_leave_group(engine: Engine, event: LeaveGroup) -> None:
    found = find_group(engine, event.group)
    assert found is not None
    module, group = found
    module.remove_entry(engine, group, event.member)


class SeatProbe(DrawProbe):
    """The audit's probe of a group draw: ``draws`` groups of the same members, each with its own committed
    secret, counting who won by seat (join order). Members were told each seat wins with chance winners / size
    (the entry's ``disclosed``, when the shop's pages say something other than the published params)."""

    start_verb: ClassVar[str] = ""
    join_verb: ClassVar[str] = ""
    group_prefix: ClassVar[str] = "g"
    size_key: ClassVar[str] = "group_size"  # the disclosed key that names a group's size

    def terms(self, module: Any, entry: dict[str, Any], cid: str) -> tuple[int, int, dict[str, Any]]:
        """A group's size and winners, and the fields its start takes beyond member, campaign and group."""
        raise NotImplementedError

    def prize(self, engine: Engine, module: Any, cid: str) -> tuple[int, str]:
        raise NotImplementedError

    def frozen_change(self, winners: int) -> dict[str, Any]:
        raise NotImplementedError

    def run(self, shop: ProbeDriver, entry: dict[str, Any], cid: str, draws: int,
            secret: Callable[[str], str]) -> DrawTally:
        self.create(shop, entry, cid, secret(cid))
        module: Any = shop.engine.modules[self.kind]
        size, winners, start = self.terms(module, entry, cid)
        largest, what = self.prize(shop.engine, module, cid)
        members = [shop.join(f"M{i}") for i in range(size)]
        wins = [0] * size
        for g in range(draws):
            gid = f"{self.group_prefix}{g}"
            shop.do(self.start_verb, member=members[0], campaign=cid, group=gid, **start)
            for m in members[1:]:
                shop.do(self.join_verb, member=m, group=gid)
            for w in module.groups[gid].winners:
                wins[members.index(w)] += 1
        told = entry.get("disclosed", {})
        told_winners, told_size = told.get("winners", winners), told.get(self.size_key, size)
        return DrawTally(largest, what, draws, seat_wins=wins, chance=told_winners / told_size,
                         disclosed=f"each seat wins {told_winners} in {told_size}",
                         realised="wins by seat " + ", ".join(str(w) for w in wins) + f" of {draws} groups",
                         frozen_campaign=cid, frozen_change=self.frozen_change(winners))
