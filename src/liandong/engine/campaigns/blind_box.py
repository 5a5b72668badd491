"""The blind box (盲盒), as ``shared/spec/campaigns.md`` defines it.

Blind-box coupons are a non-cash book, ``(member, "coupons")``, issued from ``("@platform", "coupons_issued")``; the
first ``seed_users`` members get ``seed_coupons`` each, posted at their join (one ``coupon_seed`` transfer each, in
every shop, as the rulebook says: coupons are non-cash and buy nothing but a box set's start). A member *starts* a
box set by paying ``start_fee`` (a sale) and ``start_coupons`` coupons. The set has ``boxes`` positions and exactly
one prize, at ``win_from + stream(0) % (win_to - win_from + 1)``: fixed by the committed secret (an input of the
start event) when the set is created, shown to every opener as its window ("the prize is in one of boxes 7–24") and
revealed, with the secret, as a ``position`` draw record when the set closes. Members open the next box for
``open_price``: ``starter_share`` goes to the starter, ``promoter_share`` to the opener's referrer (to the platform
when there is none, with any other rest). A miss gives the opener ``miss_coupons``; the win gives the prize or
``win_coupons`` (the opener's ``take``) and closes the set. Each start pays ``start_promotion`` from the platform:
``referrer_promotion`` to the starter's referrer, the rest to the starter's chain21 team leader when chain21 runs,
else it stays with the platform.

Worked example (defaults; A starts b1 whose prize is in box 7; C, D, … open; every opener's referrer is R)::

    A starts b1          @external -30.00 -> sales +30.00;  A -69 coupons;  campaign expense -10.00:
                         A's referrer +4.00, A's team leader +6.00 (or the platform keeps them)
    C opens box 1        @external -5.00 -> escrow +5.00 -> A +4.50, R +0.50;  C +99 coupons (a miss)
    ... boxes 2 to 6     the same
    H opens box 7        the same money; the win: H takes the prize (or +198 coupons); b1 closes
    A nets 7 x 4.50 - 30.00 = 1.50; with the prize in box 24, 24 x 4.50 - 30.00 = 78.00

Limits a member cannot lift: ``open_price`` at most ``MAX_OPEN_PRICE`` (200.00); members under ``MIN_AGE`` (8)
are refused, under ``CONSENT_AGE`` (18) need their guardian's consent (age on the event's day, from the birth
date given at join; a member without one is refused: the age must be known). Coupons never go below zero.

Decisions where the rulebook is silent (documented in ``docs/events-blind-box.md``): a starter cannot open boxes
of its own set; a set is refundable (the core ``refund`` of its start order: fee, coupons and promotions back,
the set closes and its draw is revealed) only before its first box is opened; an opened box is never refunded
(its outcome is known). A set created with ``publish: false`` is a draft: nobody may open it until it is
published, because its window is not shown yet; its terms cannot change (``update_campaign`` is refused,
``frozen``): the start was paid under them. Plans earn on the start fee only when ``plans_apply: true``;
an open's price is paid out as the shares, never to plans.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from ..config_types import Yuan
from ..core import EXTERNAL, SALES
from ..draw import draw_position, position
from ..errors import Code, Refusal, refuse
from ..events import MemberId, ObjectId, PaidEvent, register_event
from ..i18n import gettext_noop
from ..ledger import Account
from ..module import Book, ModuleConfig, Rule, Verb
from ..money import format_fen, parse_yuan
from .base import (
    CAMPAIGN_EXPENSE,
    Campaign,
    CampaignModule,
    CampaignParams,
    DrawProbe,
    DrawTally,
    ProbeDriver,
    check_new_campaign_id,
    escrow,
    parse_params,
)
from .groups import order_taken

if TYPE_CHECKING:
    from ..core import Engine, Member, Order

KIND = "blind_box"
COUPONS = "coupons"
COUPONS_ISSUED: Account = ("@platform", "coupons_issued")
MAX_OPEN_PRICE = 20000  # 200.00 per box
MIN_AGE = 8
CONSENT_AGE = 18

RULES = (
    Rule("coupon_seed", gettext_noop("seed user's blind-box coupons")),
    Rule("blind_box_start_coupons", gettext_noop("coupons to start a box set")),
    Rule("blind_box_coupons_returned", gettext_noop("box set refunded, coupons back")),
    Rule("blind_box_open", gettext_noop("blind box opened")),
    Rule("blind_box_starter_share", gettext_noop("starter's share of a box opened"), gettext_noop("your box set")),
    Rule("blind_box_promoter_share", gettext_noop("promoter's share of a box opened"),
         gettext_noop("your referral"), reward=True),
    Rule("blind_box_miss_coupons", gettext_noop("blind box missed: coupons")),
    Rule("blind_box_win_coupons", gettext_noop("blind box won: coupons instead of the prize")),
    Rule("blind_box_referrer_promotion", gettext_noop("box set started: referrer's promotion"),
         gettext_noop("your referral"), reward=True),
    Rule("blind_box_leader_promotion", gettext_noop("box set started: team leader's promotion"),
         gettext_noop("your team"), reward=True),
)


BOOKS = (
    Book(COUPONS, gettext_noop("blind-box coupons"), unit="coupon"),
    Book(COUPONS_ISSUED[1], gettext_noop("blind-box coupons issued"), unit="coupon"),
)


class BlindBoxConfig(ModuleConfig):
    """The blind-box programme: who gets coupons for free."""

    seed_users: int = Field(1000, ge=0)
    seed_coupons: int = Field(100, ge=0)


class BlindBoxParams(CampaignParams):
    """What a box set publishes to every opener, the window included."""

    prize_sku: ObjectId
    start_fee: Yuan = Field(3000, ge=0)
    start_coupons: int = Field(69, ge=0, le=1_000_000)
    boxes: int = Field(24, ge=1, le=1000)
    win_from: int = Field(7, ge=1)
    win_to: int = Field(24, ge=1, validate_default=True)  # checked against win_from and boxes
    open_price: Yuan = Field(500, ge=1)
    starter_share: Yuan = Field(450, ge=0)
    # validated defaults are given in yuan: the validator parses them (and checks them against other fields)
    promoter_share: Yuan = Field("0.50", ge=0, validate_default=True)
    miss_coupons: int = Field(99, ge=0, le=1_000_000)
    win_coupons: int = Field(198, ge=0, le=1_000_000)
    start_promotion: Yuan = Field(1000, ge=0)
    referrer_promotion: Yuan = Field("4.00", ge=0, validate_default=True)

    @field_validator("win_to")
    @classmethod
    def _window_in_set(cls, win_to: int, info: ValidationInfo) -> int:
        win_from, boxes = info.data.get("win_from"), info.data.get("boxes")
        if win_from is not None and win_to < win_from:
            raise ValueError(f"the window {win_from}–{win_to} is empty")
        if boxes is not None and win_to > boxes:
            raise ValueError(f"the window ends at box {win_to} but the set has {boxes} boxes")
        return win_to

    @field_validator("open_price")
    @classmethod
    def _open_price_within_limit(cls, open_price: int) -> int:
        if open_price > MAX_OPEN_PRICE:
            raise ValueError(f"{format_fen(open_price)} is over max_open_price {format_fen(MAX_OPEN_PRICE)}")
        return open_price

    @field_validator("promoter_share")
    @classmethod
    def _shares_within_price(cls, promoter_share: int, info: ValidationInfo) -> int:
        price, starter = info.data.get("open_price"), info.data.get("starter_share")
        if price is not None and starter is not None and starter + promoter_share > price:
            raise ValueError(f"starter_share {format_fen(starter)} + promoter_share {format_fen(promoter_share)} "
                             f"is more than open_price {format_fen(price)}")
        return promoter_share

    @field_validator("referrer_promotion")
    @classmethod
    def _promotion_within_budget(cls, referrer_promotion: int, info: ValidationInfo) -> int:
        budget = info.data.get("start_promotion")
        if budget is not None and referrer_promotion > budget:
            raise ValueError(f"{format_fen(referrer_promotion)} is more than start_promotion {format_fen(budget)}")
        return referrer_promotion


def params_of(campaign: Campaign) -> BlindBoxParams:
    assert isinstance(campaign.params, BlindBoxParams), f"campaign {campaign.id} is not a blind box"
    return campaign.params


def prize_box(campaign: Campaign) -> int:
    """The prize's box: fixed by the committed secret and the published window."""
    params = params_of(campaign)
    return position(campaign.secret, campaign.id, params.win_from, params.win_to)


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years from ``birth`` to ``day`` (a 29 February birthday comes on 1 March in other years)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def team_leader(engine: Engine, member: str) -> str | None:
    """The member's team leader, from the plan that provides the ``team_leader`` capability (chain21: a partner
    leading the member's team), or None when no running plan has teams."""
    leader_of = engine.ask("team_leader")
    return leader_of(engine, member) if leader_of is not None else None


# --- state ------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Opening:
    box: int
    member: str
    order: str
    result: str  # miss, prize, coupons

    def view(self) -> dict[str, Any]:
        return {"box": self.box, "member": self.member, "order": self.order, "result": self.result}


@dataclass(slots=True)
class BoxSet:
    """A started set. ``outcome``: open, won, refunded."""

    starter: str
    start_order: str
    fee_paid: int  # fen, as paid at the start (a draft's parameters may change later)
    coupons_paid: int
    opens: list[Opening] = field(default_factory=list)
    outcome: str = "open"
    starter_income: int = 0  # fen of starter shares
    promotion_paid: int = 0
    promotion_kept: int = 0  # the part of start_promotion nobody was there to receive


# --- the module --------------------------------------------------------------------------------------------------


class BlindBox(CampaignModule):
    kind: ClassVar[str] = KIND
    Config: ClassVar[type[ModuleConfig]] = BlindBoxConfig
    Params: ClassVar[type[CampaignParams]] = BlindBoxParams
    config: BlindBoxConfig
    rules = RULES
    books = BOOKS
    accounts = (EXTERNAL, SALES, COUPONS_ISSUED, CAMPAIGN_EXPENSE, ("@escrow", "*"))

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.sets: dict[str, BoxSet] = {}
        self.opened_boxes: dict[str, int] = {}  # each order of a set -> the box it opened (0: the set's start)
        self.prize_orders: dict[str, str] = {}  # the winning order that delivers the prize -> the prize's sku

    def on_join(self, engine: Engine, member: Member) -> None:
        """The first ``seed_users`` members (join order: index 0 to seed_users - 1) get ``seed_coupons`` at join:
        one two-entry transfer each, so the coupons are in the ledger from the join on."""
        if member.index < self.config.seed_users and self.config.seed_coupons:
            engine.transfer("coupon_seed", COUPONS_ISSUED, (member.id, COUPONS), self.config.seed_coupons,
                            plan=KIND)

    # --- starting, opening, refunding ---
    def start(self, engine: Engine, event: StartBlindBox, params: BlindBoxParams) -> None:
        campaign = self.create(engine, event.campaign, params, event.publish)
        box_set = self.sets[campaign.id] = BoxSet(event.member, event.order, params.start_fee, params.start_coupons)
        order = engine.new_order(event.order, event.member, params.prize_sku, amount=params.start_fee,
                                 campaign=campaign.id, refundable=True)  # check_refund decides
        self.opened_boxes[order.id] = 0  # the start
        engine.record_sale(order, plans_apply=params.plans_apply)
        engine.transfer("blind_box_start_coupons", (event.member, COUPONS), COUPONS_ISSUED, params.start_coupons,
                        plan=KIND, order=order.id, ref=campaign.id)
        self.pay_start_promotion(engine, campaign, box_set, order)
        engine.fact("blind_box_started", campaign=campaign.id, member=event.member, window=[params.win_from,
                    params.win_to], commitment=campaign.commitment)

    def pay_start_promotion(self, engine: Engine, campaign: Campaign, box_set: BoxSet, order: Order) -> None:
        params = params_of(campaign)
        shares = (
            (engine.members[box_set.starter].referrer, params.referrer_promotion, "blind_box_referrer_promotion"),
            (team_leader(engine, box_set.starter), params.start_promotion - params.referrer_promotion,
             "blind_box_leader_promotion"),
        )
        for member, amount, rule in shares:
            if member is None:
                box_set.promotion_kept += amount
                continue
            engine.credit_reward(member, amount, rule, KIND, order=order, source=box_set.starter,
                                 from_account=CAMPAIGN_EXPENSE, ref=campaign.id)
            box_set.promotion_paid += amount

    def open_box(self, engine: Engine, event: OpenBlindBox) -> None:
        campaign = self.campaigns[event.campaign]
        params, box_set = params_of(campaign), self.sets[event.campaign]
        box = len(box_set.opens) + 1
        order = engine.new_order(event.order, event.member, params.prize_sku, amount=params.open_price,
                                 campaign=campaign.id, refundable=True)  # check_refund refuses
        self.opened_boxes[order.id] = box
        engine.orders[order.id] = order
        self.pay_open(engine, campaign, box_set, order)
        won = box == prize_box(campaign)
        result = ("prize" if event.take == "prize" else "coupons") if won else "miss"
        box_set.opens.append(Opening(box, event.member, order.id, result))
        coupons = {"miss": params.miss_coupons, "coupons": params.win_coupons, "prize": 0}[result]
        rule = "blind_box_miss_coupons" if result == "miss" else "blind_box_win_coupons"
        engine.transfer(rule, COUPONS_ISSUED, (event.member, COUPONS), coupons, plan=KIND, order=order.id,
                        ref=campaign.id)
        engine.fact("blind_box_opened", campaign=campaign.id, member=event.member, box=box, result=result)
        if won:
            if result == "prize":
                self.prize_orders[order.id] = params.prize_sku  # this order delivers the prize
            box_set.outcome = "won"
            self.close_set(engine, campaign)

    def pay_open(self, engine: Engine, campaign: Campaign, box_set: BoxSet, order: Order) -> None:
        """The opener's price through the set's escrow: the starter's share, the promoter's, the rest to sales."""
        params, held = params_of(campaign), escrow(campaign.id)
        cause: dict[str, Any] = {"plan": KIND, "order": order.id, "source": order.member, "ref": campaign.id}
        engine.transfer("blind_box_open", EXTERNAL, held, params.open_price, **cause)
        engine.transfer("blind_box_starter_share", held, (box_set.starter, "available"), params.starter_share,
                        **cause)
        box_set.starter_income += params.starter_share
        promoter = engine.members[order.member].referrer
        promoter_share = params.promoter_share if promoter is not None else 0
        if promoter is not None:
            engine.transfer("blind_box_promoter_share", held, (promoter, "available"), promoter_share, **cause)
        engine.transfer("sale", held, SALES, params.open_price - params.starter_share - promoter_share, **cause)

    def close_set(self, engine: Engine, campaign: Campaign) -> None:
        params = params_of(campaign)
        self.close(engine, campaign)
        record = draw_position(campaign.secret, campaign.id, params.win_from, params.win_to)
        self.publish_draw(engine, campaign, record.to_json())

    def check_refund(self, engine: Engine, order: Order) -> Refusal | None:
        if order.campaign not in self.campaigns:
            return None
        box = self.opened_boxes.get(order.id, 0)
        if box:
            return refuse(Code.NOT_ALLOWED, "order", order.id,
                          why=f"box {box} of set {order.campaign} is opened: its outcome is known")
        opened = len(self.sets[order.campaign].opens)
        if opened:
            return refuse(Code.NOT_ALLOWED, "order", order.id,
                          why=f"set {order.campaign} has {opened} opened box(es): a set is refundable only "
                              "before its first box is opened")
        return None

    def on_refund(self, engine: Engine, order: Order) -> None:
        """The core refunded the start fee and reversed the promotions; the coupons come back and the set closes."""
        if order.campaign not in self.campaigns:
            return
        campaign = self.campaigns[order.campaign]
        box_set = self.sets[campaign.id]
        engine.transfer("blind_box_coupons_returned", COUPONS_ISSUED, (order.member, COUPONS),
                        box_set.coupons_paid, plan=KIND, order=order.id, ref=campaign.id)
        box_set.outcome = "refunded"
        box_set.promotion_paid = 0  # the core reversed every reward of the start order
        self.close_set(engine, campaign)

    def check_publish(self, engine: Engine, campaign: Campaign) -> Refusal | None:
        return check_prize(engine, params_of(campaign).prize_sku)

    def check_update(self, engine: Engine, campaign: Campaign) -> Refusal | None:
        """A set's start is paid when it is created (draft or not), so its terms are frozen from then on: a draft
        set may be published, never changed (the starter paid 30.00 and 69 coupons for these terms)."""
        box_set = self.sets[campaign.id]
        return refuse(Code.FROZEN, "campaign", campaign.id,
                      why=f"its start was paid under these terms (order {box_set.start_order} by {box_set.starter})")

    # --- reading ---
    def campaign_view(self, engine: Engine, campaign: Campaign) -> dict[str, Any]:
        view = super().campaign_view(engine, campaign)
        params, box_set = params_of(campaign), self.sets[campaign.id]
        closed = campaign.status == "closed"
        prize = engine.products.get(params.prize_sku)
        winner = next((o for o in box_set.opens if o.result != "miss"), None)
        view.update({
            "starter": box_set.starter, "start_order": box_set.start_order, "outcome": box_set.outcome,
            "window": [params.win_from, params.win_to],
            "prize_in": f"one of boxes {params.win_from}–{params.win_to}",
            "prize": {"sku": params.prize_sku, "value": format_fen(prize.price) if prize else None},
            "opened": len(box_set.opens),
            "next_box": None if closed else len(box_set.opens) + 1,
            "opens": [o.view() for o in box_set.opens],
            "prize_box": prize_box(campaign) if closed else None,  # never before the close: it is the secret
            "winner": winner.member if winner else None,
            "taken": winner.result if winner else None,
            "starter_income": format_fen(box_set.starter_income),
            "starter_net": format_fen(box_set.starter_income - (0 if box_set.outcome == "refunded"
                                                                else box_set.fee_paid)),
            "promotion_paid": format_fen(box_set.promotion_paid),
            "promotion_kept": format_fen(box_set.promotion_kept),
            # the published rules in figures a member reads before paying
            "leader_promotion": format_fen(params.start_promotion - params.referrer_promotion),
            "rest_of_open": format_fen(params.open_price - params.starter_share - params.promoter_share),
            "starter_nets": [format_fen(params.win_from * params.starter_share - params.start_fee),
                             format_fen(params.win_to * params.starter_share - params.start_fee)],
            "still_possible": None if closed else [max(params.win_from, len(box_set.opens) + 1), params.win_to],
            "limits": {"max_open_price": format_fen(MAX_OPEN_PRICE), "refused_under": MIN_AGE,
                       "consent_under": CONSENT_AGE},
        })
        return view

    def member_view(self, engine: Engine, member: str) -> dict[str, Any]:
        return {"coupons": engine.ledger.balance((member, COUPONS))}

    def check_invariants(self, engine: Engine) -> list[str]:
        problems = super().check_invariants(engine)
        for campaign_id in self.campaigns:
            held = engine.ledger.balance(escrow(campaign_id))
            if held != 0:
                problems.append(f"box set {campaign_id} holds {format_fen(held)} in escrow between events")
        for member in engine.members:
            coupons = engine.ledger.balance((member, COUPONS))
            if coupons < 0:
                problems.append(f"{member} holds {coupons} coupons: coupons never go below zero")
        return problems


# --- events ------------------------------------------------------------------------------------------------------


@register_event
class StartBlindBox(PaidEvent):
    """A member starts a box set, paying ``start_fee`` and ``start_coupons``; published at once (window shown,
    commitment shown) unless ``publish: false``."""

    verb: ClassVar[str] = "start_blind_box"
    creates_draw: ClassVar[bool] = True
    primary: ClassVar[str] = "member"
    counted_id: ClassVar[tuple[str, str] | None] = ("order", "bs")
    member: MemberId
    campaign: ObjectId
    order: ObjectId
    params: dict[str, Any] = Field(default_factory=dict)
    publish: bool = True


@register_event
class OpenBlindBox(PaidEvent):
    """A member opens the next box of a set, paying ``open_price``; ``take`` says what a win gives."""

    verb: ClassVar[str] = "open_blind_box"
    primary: ClassVar[str] = "member"
    counted_id: ClassVar[tuple[str, str] | None] = ("order", "bo")
    member: MemberId
    campaign: ObjectId
    order: ObjectId
    take: Literal["prize", "coupons"] = "prize"


def blind_box_module(engine: Engine) -> BlindBox:
    module = engine.modules[KIND]
    assert isinstance(module, BlindBox)
    return module


def check_prize(engine: Engine, sku: str) -> Refusal | None:
    product = engine.products.get(sku)
    if product is None or not product.active:
        return refuse(Code.PRODUCT_UNKNOWN, "params.prize_sku", sku)
    return None


def check_age(engine: Engine, member_id: str, at: dt.datetime) -> Refusal | None:
    """Members under 8 are refused, under 18 need a guardian's consent; the age must be known."""
    member = engine.members[member_id]
    if member.birth_date is None:
        return refuse(Code.NOT_ALLOWED, "birth_date", None,
                      why=f"{member_id} gave no birth date: blind boxes are sold only to members whose age is known")
    age = age_on(member.birth_date, engine.day_of(at))
    if age < MIN_AGE:
        return refuse(Code.NOT_ALLOWED, "birth_date", member.birth_date.isoformat(),
                      why=f"{member_id} is {age} years old: blind boxes are not sold to members under {MIN_AGE}")
    if age < CONSENT_AGE and not member.guardian_consent:
        return refuse(Code.NOT_ALLOWED, "guardian_consent", False,
                      why=f"{member_id} is {age} years old: under {CONSENT_AGE} a guardian's consent is needed")
    return None


def check_start_blind_box(engine: Engine, event: StartBlindBox) -> Refusal | None:
    refusal = check_new_campaign_id(engine, event.campaign)
    if refusal is not None:
        return refusal
    if event.member not in engine.members:
        return refuse(Code.MEMBER_UNKNOWN, "member", event.member)
    params = parse_params(BlindBoxParams, event.params)
    if isinstance(params, Refusal):
        return params
    assert isinstance(params, BlindBoxParams)
    refusal = check_prize(engine, params.prize_sku) or check_age(engine, event.member, event.at)
    if refusal is not None:
        return refusal
    held = engine.ledger.balance((event.member, COUPONS))
    if held < params.start_coupons:
        return refuse(Code.INSUFFICIENT, "coupons", held,
                      why=f"{event.member} holds {held} coupons; starting a set takes {params.start_coupons}")
    if order_taken(engine, event.order):  # a paid order's, or a group seat's
        return refuse(Code.ORDER_EXISTS, "order", event.order)
    return None


def apply_start_blind_box(engine: Engine, event: StartBlindBox) -> None:
    params = parse_params(BlindBoxParams, event.params)
    assert isinstance(params, BlindBoxParams)
    blind_box_module(engine).start(engine, event, params)


def check_open_blind_box(engine: Engine, event: OpenBlindBox) -> Refusal | None:
    module = blind_box_module(engine)
    campaign = module.campaigns.get(event.campaign)
    if campaign is None:
        return refuse(Code.NOT_FOUND, "campaign", event.campaign)
    if campaign.status == "draft":
        params = params_of(campaign)
        return refuse(Code.NOT_ALLOWED, "campaign", event.campaign,
                      why=f"its window (boxes {params.win_from}–{params.win_to}) is not published yet")
    if campaign.status == "closed":
        return refuse(Code.CLOSED, "campaign", event.campaign)
    if event.member not in engine.members:
        return refuse(Code.MEMBER_UNKNOWN, "member", event.member)
    if event.member == module.sets[event.campaign].starter:
        return refuse(Code.NOT_ALLOWED, "member", event.member,
                      why=f"started set {event.campaign}: a starter cannot open its own boxes")
    refusal = check_age(engine, event.member, event.at)
    if refusal is not None:
        return refusal
    if order_taken(engine, event.order):  # a paid order's, or a group seat's
        return refuse(Code.ORDER_EXISTS, "order", event.order)
    return None


def apply_open_blind_box(engine: Engine, event: OpenBlindBox) -> None:
    blind_box_module(engine).open_box(engine, event)


def _start_fee(params: Any) -> int | None:
    parsed = parse_params(BlindBoxParams, params if isinstance(params, dict) else {})
    return parsed.start_fee if isinstance(parsed, BlindBoxParams) else None


def price_of_start(engine: Engine, event: StartBlindBox) -> int | None:
    return _start_fee(event.params)


def quote_start(fields: dict[str, Any], find: Any) -> int | None:
    return _start_fee(fields.get("params", {}))


def price_of_open(engine: Engine, event: OpenBlindBox) -> int | None:
    campaign = blind_box_module(engine).campaigns.get(event.campaign)
    return params_of(campaign).open_price if campaign is not None else None


def quote_open(fields: dict[str, Any], find: Any) -> int | None:
    view = find("campaign", fields.get("campaign", ""))
    return parse_yuan(view["params"]["open_price"]) if view is not None and view.get("kind") == KIND else None


BlindBox.verbs = (
    Verb(StartBlindBox, check_start_blind_box, apply_start_blind_box, senders=("member",), member_field="member",
         generated=(("campaign", "b"), ("order", "bs")), price=price_of_start, quote=quote_start,
         example={"params": {"prize_sku": "TEA"}}),
    Verb(OpenBlindBox, check_open_blind_box, apply_open_blind_box, senders=("member",), member_field="member",
         generated=(("order", "bo"),), price=price_of_open, quote=quote_open,
         example={"campaign": "b7k2m", "take": "prize"}),
)


class BlindBoxProbe(DrawProbe):
    """The audit's probe of a blind box: ``draws`` box sets, each started by its own member with its own secret
    and opened box by box until the prize; members were told the prize is in any box of the window with equal
    chance. A blind box is created by a member starting its first set (there is no operator create)."""

    kind = KIND

    def create(self, shop: ProbeDriver, entry: dict[str, Any], cid: str, secret: str) -> bool:
        params = self.params(entry, secret)
        return shop.do("start_blind_box", member=shop.join(f"S-{cid}"), campaign=cid, params=params,
                       order=f"bs-{cid}")

    def run(self, shop: ProbeDriver, entry: dict[str, Any], cid: str, draws: int,
            secret: Callable[[str], str]) -> DrawTally:
        module: Any = shop.engine.modules[KIND]
        starters = [shop.join(f"M{i}") for i in range(draws)]
        opener = shop.join("O")
        positions: list[int] = []
        for i, starter in enumerate(starters):
            box = f"{cid}-{i}"
            params = self.params(entry, secret(box))
            if not shop.do("start_blind_box", member=starter, campaign=box, params=params, order=f"bs{i}"):
                break
            opened = 0
            while module.campaigns[box].status != "closed" and opened < 1000:
                opened += 1
                if not shop.do("open_blind_box", member=opener, campaign=box, order=f"bo{i}-{opened}"):
                    break
            positions.append(opened)
        first = module.campaigns.get(f"{cid}-0")
        published = first.params if first is not None else None
        win_from = published.win_from if published else 1
        win_to = published.win_to if published else 1
        prize = shop.engine.products[published.prize_sku].price if published else 0
        told = entry.get("disclosed", {})
        lo, hi = told.get("win_from", win_from), told.get("win_to", win_to)
        outside = sum(1 for p in positions if not lo <= p <= hi)
        realised = (f"prize found at boxes {min(positions, default=0)}–{max(positions, default=0)} over "
                    f"{len(positions)} sets" + (f"; {outside} outside the disclosed window" if outside else ""))
        return DrawTally(prize, "the prize product", len(positions),
                         window_counts=[positions.count(b) for b in range(lo, hi + 1)], outside=outside,
                         disclosed=f"the prize is in one of boxes {lo}–{hi}, each equally likely", realised=realised,
                         frozen_campaign=first.id if first is not None else None,
                         frozen_change={"open_price": "1.00"})


BlindBox.draw_probe = BlindBoxProbe
