"""The group-buy lottery (拼团中奖), as ``shared/spec/campaigns.md`` defines it.

Parameters (published and frozen; defaults from the rulebook): ``sku``, ``group_size`` 5, ``winners`` 2,
``loser_bonus`` "10.00", ``winner_fund`` "price" (or a fixed amount), ``unlock_on_join`` "0.10",
``unlock_on_invite`` "0.05", ``expire_hours`` 24, ``plans_apply`` false. Everyone pays the price (the product's
price when the campaign was published) into the campaign's escrow; the full group is drawn at once (see
``groups.py``). Winners' payments become sales and each winner gets a **locked shopping fund** (member book
``locked_fund``); losers get their payment back in full and ``loser_bonus`` into their available balance.

A locked fund unlocks into available in steps of ``unlock_on_join`` × its original amount each time its owner's
seat in another group-buy group is drawn, and ``unlock_on_invite`` × the original each time the seat of a member
its owner invited (whose referrer it is) is drawn; a step never takes it past what is left. A join counts when its
group fills and is drawn (a group that dissolves unlocks nothing, so a fund cannot be released by joins that are all
paid back); groups of any group-buy campaign count, each fund with its own campaign's steps.

Worked example (price 99.00, group of 5, 2 winners, bonus 10.00, steps 0.10 and 0.05)::

    g1 fills: A..E paid 495.00 into escrow      draw picks B and D
      B, D   sale 99.00 each from escrow        locked_fund +99.00 each (from @platform/campaign_expense)
      A, C, E 99.00 each back to their payment  available +10.00 each (consolation)        escrow 0.00
    B's seat in g2 is drawn                     B: locked_fund -9.90, available +9.90     (0.10 × 99.00)
    F (referred by B) has a seat drawn in g3    B: locked_fund -4.95, available +4.95     (0.05 × 99.00)
    B's locked fund: 84.15 left of 99.00; after enough draws it reaches 0.00 and stays there.

A refund of a winner's order (the core ``refund`` event; campaign orders of this kind are refundable) reverses the
sale and any plan rewards through the core's refund path and takes back what is left of that order's locked fund;
what already unlocked stays the member's (it was earned by later joins).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, ValidationInfo, field_validator

from ..config_types import Rate, Yuan, rate_at_most_one
from ..errors import Refusal
from ..events import Event, MemberId, ObjectId, PaidEvent, register_event
from ..i18n import gettext_noop
from ..module import Book, Rule, Verb
from ..money import MoneyError, apply_rate, format_fen, parse_yuan
from .base import CAMPAIGN_EXPENSE, Campaign, parse_new_campaign, parse_params
from .groups import (
    Entry,
    Group,
    GroupCampaignModule,
    GroupParams,
    LeaveGroup,
    SeatProbe,
    apply_leave_group,
    check_close_campaign,
    check_join_group,
    check_leave_group,
    check_new_group,
    check_product,
    entry_order_id,
    price_of_new_group,
    price_of_seat,
    quote_new_group,
    quote_seat,
)

if TYPE_CHECKING:
    from ..core import Engine, Order

KIND = "group_buy"
LOCKED_FUND = "locked_fund"

RULES = (
    Rule("group_buy_payment", gettext_noop("group-buy payment")),
    Rule("group_buy_return", gettext_noop("group-buy payment returned")),
    Rule("group_buy_consolation", gettext_noop("group-buy consolation"), gettext_noop("not drawn")),
    Rule("group_buy_fund", gettext_noop("group-buy shopping fund"),
         gettext_noop("unlocks as you and your invitees join groups")),
    Rule("group_buy_unlock_join", gettext_noop("shopping fund unlocked"), gettext_noop("you joined another group")),
    Rule("group_buy_unlock_invite", gettext_noop("shopping fund unlocked"),
         gettext_noop("a member you invited joined a group")),
    Rule("group_buy_fund_revoked", gettext_noop("group-buy shopping fund taken back"), gettext_noop("order refunded")),
)

Rate01 = Annotated[Rate, AfterValidator(rate_at_most_one)]
NonNegativeYuan = Annotated[Yuan, Field(ge=0)]


def _winner_fund(value: Any) -> str | int:
    if value == "price":
        return "price"
    try:
        fen = parse_yuan(value)
    except MoneyError as exc:
        raise ValueError(f"is \"price\" or an amount: {exc}") from None
    if fen < 0:
        raise ValueError("is \"price\" or an amount of at least 0.00")
    return fen


#: "price" (the fund equals what the winner paid) or a fixed amount ("50.00" -> 5000 fen).
WinnerFund = Annotated[
    str | int,
    BeforeValidator(_winner_fund),
    PlainSerializer(lambda v: v if v == "price" else format_fen(v), return_type=str),
]


class GroupBuyParams(GroupParams):
    group_size: int = Field(5, ge=2, le=100)
    winners: int = Field(2, ge=1)
    loser_bonus: NonNegativeYuan = 1000
    winner_fund: WinnerFund = "price"
    unlock_on_join: Rate01 = Fraction(1, 10)
    unlock_on_invite: Rate01 = Fraction(5, 100)

    @field_validator("winners")
    @classmethod
    def _fewer_winners_than_seats(cls, value: int, info: ValidationInfo) -> int:
        size = info.data.get("group_size")
        if size is not None and value >= size:
            raise ValueError(f"must be fewer than group_size {size}: a lottery needs someone not drawn")
        return value


@dataclass(slots=True)
class LockedFund:
    """A winner's shopping fund, kept under the winning order's id. ``status``: locked (some left), unlocked
    (all released to available), revoked (the order was refunded and the rest taken back)."""

    id: str
    member: str
    campaign: str
    group: str
    original: int
    step_on_join: int
    step_on_invite: int
    unlocked: int = 0
    taken_back: int = 0
    status: str = "locked"
    steps: list[dict[str, str]] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return self.original - self.unlocked - self.taken_back

    def view(self) -> dict[str, Any]:
        """What the member's page shows: how much is locked and what unlocks the next step."""
        return {
            "member": self.member, "campaign": self.campaign, "group": self.group, "status": self.status,
            "original": format_fen(self.original), "unlocked": format_fen(self.unlocked),
            "taken_back": format_fen(self.taken_back), "remaining": format_fen(self.remaining),
            "unlocks_on_join": format_fen(min(self.step_on_join, self.remaining)),
            "unlocks_on_invite": format_fen(min(self.step_on_invite, self.remaining)),
            "steps": list(self.steps),
        }


class GroupBuy(GroupCampaignModule):
    """Also serves ``leave_group``, which leaves a group of either group campaign (group-buy or red envelope)."""

    kind: ClassVar[str] = KIND
    rules = RULES
    books = (Book(LOCKED_FUND, gettext_noop("locked shopping fund")),)
    Params: ClassVar[type[GroupBuyParams]] = GroupBuyParams
    payment_rule: ClassVar[str] = "group_buy_payment"
    return_rule: ClassVar[str] = "group_buy_return"

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.funds: dict[str, LockedFund] = {}
        self.funds_by_member: dict[str, list[LockedFund]] = {}

    # --- the draw ------------------------------------------------------------------------------------------------
    def draw(self, engine: Engine, group: Group) -> None:
        """Unlock the existing funds this group's seats count for, then draw: winners' funds, losers' bonus."""
        campaign = self.campaigns[group.campaign]
        params = campaign.params
        assert isinstance(params, GroupBuyParams)
        for entry in group.entries:
            self.unlock(engine, entry.member, "group_buy_unlock_join", group, entry.member)
            referrer = engine.members[entry.member].referrer
            if referrer is not None:
                self.unlock(engine, referrer, "group_buy_unlock_invite", group, entry.member)
        winners, losers = self.draw_winners(engine, group)
        for entry in winners:
            self.issue_fund(engine, campaign, group, entry)
        for entry in losers:
            if params.loser_bonus:
                engine.transfer("group_buy_consolation", CAMPAIGN_EXPENSE, (entry.member, "available"),
                                params.loser_bonus, plan=KIND, source=entry.member, ref=f"group {group.id}")
                self.add_paid_out(campaign, "consolation", params.loser_bonus)

    def issue_fund(self, engine: Engine, campaign: Campaign, group: Group, entry: Entry) -> None:
        params = campaign.params
        assert isinstance(params, GroupBuyParams)
        amount = entry.amount if isinstance(params.winner_fund, str) else params.winner_fund
        if amount <= 0:
            return
        fund = LockedFund(entry.order, entry.member, campaign.id, group.id, amount,
                          apply_rate(amount, params.unlock_on_join), apply_rate(amount, params.unlock_on_invite))
        self.funds[fund.id] = fund
        self.funds_by_member.setdefault(fund.member, []).append(fund)
        engine.transfer("group_buy_fund", CAMPAIGN_EXPENSE, (fund.member, LOCKED_FUND), amount, plan=KIND,
                        order=entry.order, source=entry.member, ref=f"group {group.id}")
        self.add_paid_out(campaign, "funds", amount)
        engine.fact("locked_fund_issued", member=fund.member, fund=fund.id, amount=format_fen(amount))

    def unlock(self, engine: Engine, owner: str, rule: str, group: Group, seat_of: str) -> None:
        """One step of each of ``owner``'s locked funds, because ``seat_of``'s seat in ``group`` was drawn."""
        for fund in self.funds_by_member.get(owner, ()):
            if fund.status != "locked":
                continue
            step = fund.step_on_join if rule == "group_buy_unlock_join" else fund.step_on_invite
            amount = min(step, fund.remaining)
            if amount <= 0:
                continue
            ref = f"group {group.id}" if seat_of == owner else f"group {group.id} by {seat_of}"
            engine.transfer(rule, (owner, LOCKED_FUND), (owner, "available"), amount, plan=KIND, ref=ref)
            fund.unlocked += amount
            fund.steps.append({"at": engine.clock.isoformat(), "amount": format_fen(amount), "group": group.id,
                               "why": "join" if seat_of == owner else "invite", "member": seat_of})
            if fund.remaining == 0:
                fund.status = "unlocked"
            engine.fact("locked_fund_unlocked", member=owner, fund=fund.id, amount=format_fen(amount),
                        remaining=format_fen(fund.remaining))

    def on_winner_refunded(self, engine: Engine, order: Order) -> None:
        """Take back what is left of the refunded order's locked fund; what already unlocked stays."""
        fund = self.funds.get(order.id)
        if fund is None or fund.status == "revoked":
            return
        left = fund.remaining
        fund.taken_back, fund.status = left, "revoked"
        engine.transfer("group_buy_fund_revoked", (fund.member, LOCKED_FUND), CAMPAIGN_EXPENSE, left, plan=KIND,
                        order=order.id, source=order.member, ref=f"group {fund.group}")
        self.add_paid_out(self.campaigns[fund.campaign], "funds_taken_back", left)

    # --- reading -------------------------------------------------------------------------------------------------
    def member_view(self, engine: Engine, member: str) -> dict[str, Any]:
        return {"locked_fund": format_fen(engine.balance(member, LOCKED_FUND))}

    def member_read(self, engine: Engine, member: str) -> dict[str, Any] | None:
        """The member's shopping funds from group-buy wins: locked, unlocked, and what unlocks the next step."""
        funds = self.funds_by_member.get(member)
        if not funds:
            return None
        return {"locked_fund": format_fen(engine.balance(member, LOCKED_FUND)),
                "locked_funds": {f.id: f.view() for f in funds}}

    def end_state(self, engine: Engine) -> dict[str, Any]:
        state = super().end_state(engine)
        state["locked_funds"] = {f.id: f.view() for f in self.funds.values()}
        return state

    def check_invariants(self, engine: Engine) -> list[str]:
        problems = super().check_invariants(engine)
        for member, funds in self.funds_by_member.items():
            for f in funds:
                if min(f.unlocked, f.taken_back) < 0 or f.unlocked + f.taken_back > f.original:
                    problems.append(f"fund {f.id} released {format_fen(f.unlocked)} and took back "
                                    f"{format_fen(f.taken_back)} of {format_fen(f.original)}")
            held = engine.balance(member, LOCKED_FUND)
            left = sum(f.remaining for f in funds)
            if held != left:
                problems.append(f"{member}'s locked fund holds {format_fen(held)} but its funds have "
                                f"{format_fen(left)} left")
        return problems


def module_of(engine: Engine) -> GroupBuy:
    module = engine.modules[KIND]
    assert isinstance(module, GroupBuy)
    return module


# --- events ------------------------------------------------------------------------------------------------------


@register_event
class CreateGroupBuy(Event):
    """The operator creates a group-buy lottery; published at once unless ``publish: false`` (a draft)."""

    verb: ClassVar[str] = "create_group_buy"
    creates_draw: ClassVar[bool] = True
    primary: ClassVar[str] = "campaign"
    campaign: ObjectId
    params: dict[str, Any] = Field(default_factory=dict)
    publish: bool = True


@register_event
class StartGroupBuy(PaidEvent):
    """A member starts a group of a group-buy campaign, paying for the first seat."""

    verb: ClassVar[str] = "start_group_buy"
    primary: ClassVar[str] = "member"
    counted_id: ClassVar[tuple[str, str] | None] = ("group", "g")
    member: MemberId
    campaign: ObjectId
    group: ObjectId
    order: ObjectId | None = None


@register_event
class JoinGroupBuy(PaidEvent):
    """A member pays for a seat in an open group-buy group; the last seat draws the group."""

    verb: ClassVar[str] = "join_group_buy"
    primary: ClassVar[str] = "member"
    member: MemberId
    group: ObjectId
    order: ObjectId | None = None


@register_event
class CloseGroupBuy(Event):
    """The operator ends a group-buy campaign: open groups are dissolved and paid back; its secret is published."""

    verb: ClassVar[str] = "close_group_buy"
    primary: ClassVar[str] = "campaign"
    campaign: ObjectId


def check_create(engine: Engine, event: CreateGroupBuy) -> Refusal | None:
    parsed = parse_new_campaign(engine, event.campaign, GroupBuyParams, event.params)
    if isinstance(parsed, Refusal):
        return parsed
    assert isinstance(parsed, GroupBuyParams)
    return check_product(engine, parsed.sku) if event.publish else None


def apply_create(engine: Engine, event: CreateGroupBuy) -> None:
    parsed = parse_params(GroupBuyParams, event.params)
    assert isinstance(parsed, GroupBuyParams)
    module_of(engine).create(engine, event.campaign, parsed, event.publish)


def check_start(engine: Engine, event: StartGroupBuy) -> Refusal | None:
    order_id = entry_order_id(event.group, event.member, event.order)
    return check_new_group(engine, module_of(engine), event.campaign, event.group, event.member, order_id)


def apply_start(engine: Engine, event: StartGroupBuy) -> None:
    module = module_of(engine)
    campaign = module.campaigns[event.campaign]
    params = campaign.params
    assert isinstance(params, GroupBuyParams)
    group = module.open_group(engine, campaign, event.group, params.group_size, params.winners, event.member)
    module.add_entry(engine, group, event.member, entry_order_id(event.group, event.member, event.order))


def check_join(engine: Engine, event: JoinGroupBuy) -> Refusal | None:
    order_id = entry_order_id(event.group, event.member, event.order)
    return check_join_group(engine, module_of(engine), event.group, event.member, order_id)


def apply_join(engine: Engine, event: JoinGroupBuy) -> None:
    module = module_of(engine)
    order_id = entry_order_id(event.group, event.member, event.order)
    module.add_entry(engine, module.groups[event.group], event.member, order_id)


def check_close(engine: Engine, event: CloseGroupBuy) -> Refusal | None:
    return check_close_campaign(engine, module_of(engine), event.campaign)


def apply_close(engine: Engine, event: CloseGroupBuy) -> None:
    module = module_of(engine)
    module.close_campaign(engine, module.campaigns[event.campaign])


GroupBuy.verbs = (
    Verb(CreateGroupBuy, check_create, apply_create, senders=("operator",), permission="run_campaigns",
         example={"campaign": "gb-spring", "params": {"sku": "TEA", "group_size": 5, "winners": 2}}),
    Verb(StartGroupBuy, check_start, apply_start, senders=("member",), member_field="member",
         generated=(("group", "g"), ("order", "gs")), price=price_of_new_group, quote=quote_new_group,
         example={"campaign": "gb-spring"}),
    Verb(JoinGroupBuy, check_join, apply_join, senders=("member",), member_field="member",
         generated=(("order", "gj"),), price=price_of_seat, quote=quote_seat, example={"group": "g7k2m9"}),
    Verb(CloseGroupBuy, check_close, apply_close, senders=("operator",), permission="run_campaigns",
         example={"campaign": "gb-spring"}),
    Verb(LeaveGroup, check_leave_group, apply_leave_group, senders=("member",), member_field="member",
         example={"group": "g7k2m9"}),
)


class GroupBuyProbe(SeatProbe):
    """The audit's probe of a group buy: groups of ``group_size``; the largest prize is a winner's shopping fund
    or the losers' bonus, whichever is larger."""

    kind = KIND
    create_verb = "create_group_buy"
    start_verb = "start_group_buy"
    join_verb = "join_group_buy"

    def terms(self, module: Any, entry: dict[str, Any], cid: str) -> tuple[int, int, dict[str, Any]]:
        published = module.campaigns[cid].params
        return published.group_size, published.winners, {}

    def prize(self, engine: Engine, module: Any, cid: str) -> tuple[int, str]:
        published = module.campaigns[cid].params
        price = engine.products[published.sku].price
        fund = price if published.winner_fund == "price" else published.winner_fund
        return max(fund, published.loser_bonus), "a winner's shopping fund"

    def frozen_change(self, winners: int) -> dict[str, Any]:
        return {"winners": 1 if winners > 1 else 2}


GroupBuy.draw_probe = GroupBuyProbe
