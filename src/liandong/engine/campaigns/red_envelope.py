"""The red-envelope group (红包拼团), as ``shared/spec/campaigns.md`` defines it.

The operator creates the campaign on a product whose ``red_envelope`` is set (e.g. 10.00 on a 99.00 product);
publishing freezes the price and the envelope. Parameters: ``sku``, ``expire_hours`` 24, ``max_size`` 20 (the
largest group a member may start), ``plans_apply`` false. A member starts a group choosing ``size`` (2 ≤ size ≤
max_size), ``winners`` (1 ≤ k < size), ``split`` (``random`` or ``equal``) and ``visibility`` (``open``, or
``private`` with an ``invite_code`` the starter gives, which the members' page makes: only a join that gives it
is accepted). Everyone pays the price into escrow; the full group is drawn at once (see ``groups.py``): the k
winners' payments become sales, everyone else's goes back in full, and the envelope is split among **all**
participants into their available balances (campaign expense), by the fair draw's double-mean split or equally.
A group still open at its deadline is dissolved and paid back, with no envelope.

Worked example (99.00 product with a 10.00 envelope; A starts r1 with size 3, 1 winner, split equal)::

    A, B, C pay 99.00 each into escrow (297.00)    the draw picks, say, C
      C      sale 99.00 from escrow                 A and B: 99.00 each back to their payment
      envelope 10.00 equal in join order            A +3.34, B +3.33, C +3.33 available      escrow 0.00

Two draw records are published per group: the pick (``re1/r1``) and the split (``re1/r1/envelope``, its own
name so the split's numbers do not repeat the pick's), both with the group's secret.

A refund of a winner's order (core ``refund``) reverses the sale (and plan rewards when ``plans_apply``); the
winner's envelope share stays, as every participant's does (the losers were paid back in full and keep theirs).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from ..draw import draw_split
from ..errors import Code, Refusal, refuse
from ..events import Event, MemberId, ObjectId, PaidEvent, register_event
from ..i18n import gettext_noop
from ..module import Rule, Verb
from ..money import format_fen, parse_yuan
from .base import CAMPAIGN_EXPENSE, Campaign, ProbeDriver, parse_new_campaign, parse_params
from .groups import (
    Group,
    GroupCampaignModule,
    GroupParams,
    SeatProbe,
    check_close_campaign,
    check_join_group,
    check_new_group,
    check_product,
    entry_order_id,
    params_of,
    price_of_new_group,
    price_of_seat,
    quote_new_group,
    quote_seat,
)

if TYPE_CHECKING:
    from ..core import Engine

KIND = "red_envelope"

RULES = (
    Rule("red_envelope_payment", gettext_noop("red-envelope group payment")),
    Rule("red_envelope_return", gettext_noop("red-envelope group payment returned")),
    Rule("red_envelope_share", gettext_noop("red envelope"), gettext_noop("your share")),
)


class RedEnvelopeParams(GroupParams):
    max_size: int = Field(20, ge=2, le=100)



@dataclass(slots=True)
class EnvelopeTerms:
    """What the starter chose for a group, and the envelope frozen with the campaign."""

    split: Literal["random", "equal"]
    visibility: Literal["open", "private"]
    invite_code: str | None
    envelope: int
    shares: dict[str, int] = field(default_factory=dict)

    def view(self) -> dict[str, Any]:
        return {"split": self.split, "visibility": self.visibility, "invite_code": self.invite_code,
                "envelope": format_fen(self.envelope),
                "shares": {m: format_fen(a) for m, a in self.shares.items()}}


class RedEnvelope(GroupCampaignModule):
    kind: ClassVar[str] = KIND
    Params: ClassVar[type[RedEnvelopeParams]] = RedEnvelopeParams
    rules = RULES
    private_keys: ClassVar[tuple[str, ...]] = ("group_views.*.invite_code",)
    payment_rule: ClassVar[str] = "red_envelope_payment"
    return_rule: ClassVar[str] = "red_envelope_return"

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.terms: dict[str, EnvelopeTerms] = {}

    def publish(self, engine: Engine, campaign: Campaign) -> None:
        """Publishing freezes the envelope too: the product's ``red_envelope`` now."""
        super().publish(engine, campaign)
        campaign.state["red_envelope"] = engine.products[params_of(campaign).sku].red_envelope

    def check_publish(self, engine: Engine, campaign: Campaign) -> Refusal | None:
        assert isinstance(campaign.params, RedEnvelopeParams)
        return check_envelope_product(engine, campaign.params.sku)

    def draw(self, engine: Engine, group: Group) -> None:
        """Pick the winners, then split the envelope among everyone in join order."""
        campaign = self.campaigns[group.campaign]
        terms = self.terms[group.id]
        self.draw_winners(engine, group)
        members = [e.member for e in group.entries]
        record = draw_split(group.secret, f"{group.draw_id}/envelope", members, terms.envelope, terms.split)
        self.publish_draw(engine, campaign, record.to_json())
        assert isinstance(record.result, list)
        for member, shown in zip(members, record.result, strict=True):
            share = parse_yuan(shown)
            terms.shares[member] = share
            engine.transfer("red_envelope_share", CAMPAIGN_EXPENSE, (member, "available"), share, plan=KIND,
                            source=member, ref=f"group {group.id}")
        self.add_paid_out(campaign, "envelopes", terms.envelope)
        engine.fact("red_envelope_split", group=group.id, shares={m: format_fen(a) for m, a in terms.shares.items()})

    def group_view(self, engine: Engine, group: Group) -> dict[str, Any]:
        view = super().group_view(engine, group)
        view.update(self.terms[group.id].view())
        return view

    def campaign_view(self, engine: Engine, campaign: Campaign) -> dict[str, Any]:
        view = super().campaign_view(engine, campaign)
        envelope = campaign.state.get("red_envelope")
        view["red_envelope"] = format_fen(envelope) if envelope is not None else None
        return view

    def check_invariants(self, engine: Engine) -> list[str]:
        """Besides the groups' own: a drawn group's envelope is shared out whole, among its seats; others share
        nothing."""
        problems = super().check_invariants(engine)
        for group_id, terms in self.terms.items():
            group = self.groups[group_id]
            whole = terms.envelope if group.status == "drawn" else 0
            seated = {e.member for e in group.entries}
            if sum(terms.shares.values()) != whole or not set(terms.shares) <= seated:
                problems.append(f"group {group_id} ({group.status}) shared {format_fen(sum(terms.shares.values()))} "
                                f"of its {format_fen(terms.envelope)} envelope among {sorted(terms.shares)}")
        return problems


def module_of(engine: Engine) -> RedEnvelope:
    module = engine.modules[KIND]
    assert isinstance(module, RedEnvelope)
    return module


def check_envelope_product(engine: Engine, sku: str) -> Refusal | None:
    refusal = check_product(engine, sku)
    if refusal is None and not engine.products[sku].red_envelope:
        refusal = refuse(Code.INVALID, "params.sku", sku, why="the product has no red_envelope set")
    return refusal


# --- events ------------------------------------------------------------------------------------------------------


@register_event
class CreateRedEnvelope(Event):
    """The operator creates a red-envelope group campaign; published at once unless ``publish: false``."""

    verb: ClassVar[str] = "create_red_envelope"
    creates_draw: ClassVar[bool] = True
    primary: ClassVar[str] = "campaign"
    campaign: ObjectId
    params: dict[str, Any] = Field(default_factory=dict)
    publish: bool = True


@register_event
class StartRedEnvelope(PaidEvent):
    """A member starts a red-envelope group with its own size, winners, split and visibility, paying a seat."""

    verb: ClassVar[str] = "start_red_envelope"
    primary: ClassVar[str] = "member"
    counted_id: ClassVar[tuple[str, str] | None] = ("group", "r")
    member: MemberId
    campaign: ObjectId
    group: ObjectId
    size: int
    winners: int
    split: Literal["random", "equal"] = "random"
    visibility: Literal["open", "private"] = "open"
    invite_code: str | None = None
    order: ObjectId | None = None


@register_event
class JoinRedEnvelope(PaidEvent):
    """A member pays for a seat in a red-envelope group (a private one only with its ``invite_code``)."""

    verb: ClassVar[str] = "join_red_envelope"
    primary: ClassVar[str] = "member"
    member: MemberId
    group: ObjectId
    invite_code: str | None = None
    order: ObjectId | None = None


@register_event
class CloseRedEnvelope(Event):
    """The operator ends a red-envelope campaign: open groups are dissolved and paid back."""

    verb: ClassVar[str] = "close_red_envelope"
    primary: ClassVar[str] = "campaign"
    campaign: ObjectId


def check_create(engine: Engine, event: CreateRedEnvelope) -> Refusal | None:
    parsed = parse_new_campaign(engine, event.campaign, RedEnvelopeParams, event.params)
    if isinstance(parsed, Refusal):
        return parsed
    assert isinstance(parsed, RedEnvelopeParams)
    return check_envelope_product(engine, parsed.sku) if event.publish else None


def apply_create(engine: Engine, event: CreateRedEnvelope) -> None:
    parsed = parse_params(RedEnvelopeParams, event.params)
    assert isinstance(parsed, RedEnvelopeParams)
    module_of(engine).create(engine, event.campaign, parsed, event.publish)


def check_terms(engine: Engine, campaign: Campaign, event: StartRedEnvelope) -> Refusal | None:
    """The starter's choices fit the campaign: size, winners, an envelope of at least 0.01 each, the code."""
    params = campaign.params
    assert isinstance(params, RedEnvelopeParams)
    if not 2 <= event.size <= params.max_size:
        return refuse(Code.INVALID, "size", event.size, why=f"a group has 2 to {params.max_size} seats")
    if not 1 <= event.winners < event.size:
        return refuse(Code.INVALID, "winners", event.winners, why=f"from 1 to {event.size - 1} of {event.size}")
    envelope: int = campaign.state["red_envelope"]
    if envelope < event.size:
        return refuse(Code.INSUFFICIENT, "size", event.size,
                      why=f"the red envelope {format_fen(envelope)} cannot give 0.01 to each of {event.size}")
    code = event.invite_code
    if event.visibility == "private" and (code is None or not 4 <= len(code) <= 32):
        return refuse(Code.INVALID, "invite_code", code, why="a private group needs an invite code of 4–32 "
                                                             "characters")
    if event.visibility == "open" and code is not None:
        return refuse(Code.INVALID, "invite_code", code, why="only a private group has an invite code")
    return None


def check_start(engine: Engine, event: StartRedEnvelope) -> Refusal | None:
    module = module_of(engine)
    order_id = entry_order_id(event.group, event.member, event.order)
    refusal = check_new_group(engine, module, event.campaign, event.group, event.member, order_id)
    return refusal or check_terms(engine, module.campaigns[event.campaign], event)


def apply_start(engine: Engine, event: StartRedEnvelope) -> None:
    module = module_of(engine)
    campaign = module.campaigns[event.campaign]
    module.terms[event.group] = EnvelopeTerms(event.split, event.visibility, event.invite_code,
                                              campaign.state["red_envelope"])
    group = module.open_group(engine, campaign, event.group, event.size, event.winners, event.member)
    module.add_entry(engine, group, event.member, entry_order_id(event.group, event.member, event.order))


def check_join(engine: Engine, event: JoinRedEnvelope) -> Refusal | None:
    module = module_of(engine)
    order_id = entry_order_id(event.group, event.member, event.order)
    refusal = check_join_group(engine, module, event.group, event.member, order_id)
    if refusal is not None:
        return refusal
    terms = module.terms[event.group]
    if terms.visibility == "private":
        expected = terms.invite_code
        assert expected is not None
        given = event.invite_code
        if given is None or not hmac.compare_digest(given.encode(), expected.encode()):
            return refuse(Code.NOT_ALLOWED, "invite_code", given,
                          why=f"group {event.group} is private: only its invite code lets a member join")
    return None


def apply_join(engine: Engine, event: JoinRedEnvelope) -> None:
    module = module_of(engine)
    order_id = entry_order_id(event.group, event.member, event.order)
    module.add_entry(engine, module.groups[event.group], event.member, order_id)


def check_close(engine: Engine, event: CloseRedEnvelope) -> Refusal | None:
    return check_close_campaign(engine, module_of(engine), event.campaign)


def apply_close(engine: Engine, event: CloseRedEnvelope) -> None:
    module = module_of(engine)
    module.close_campaign(engine, module.campaigns[event.campaign])


RedEnvelope.verbs = (
    Verb(CreateRedEnvelope, check_create, apply_create, senders=("operator",), permission="run_campaigns",
         example={"campaign": "re-spring", "params": {"sku": "TEA", "max_size": 10}}),
    Verb(StartRedEnvelope, check_start, apply_start, senders=("member",), member_field="member",
         generated=(("group", "r"), ("order", "rs")), price=price_of_new_group,
         quote=quote_new_group,
         example={"campaign": "re-spring", "size": 3, "winners": 1, "split": "equal", "visibility": "private"}),
    Verb(JoinRedEnvelope, check_join, apply_join, senders=("member",), member_field="member",
         generated=(("order", "rj"),), price=price_of_seat, quote=quote_seat,
         example={"group": "r7k2m9", "invite_code": "K7QM2XPA"}),
    Verb(CloseRedEnvelope, check_close, apply_close, senders=("operator",), permission="run_campaigns",
         example={"campaign": "re-spring"}),
)


class RedEnvelopeProbe(SeatProbe):
    """The audit's probe of a red envelope: groups started with the entry's ``start`` (size and winners, 5 and 1
    by default); the largest prize is the whole envelope (the largest share a winner can get)."""

    kind = KIND
    create_verb = "create_red_envelope"
    start_verb = "start_red_envelope"
    join_verb = "join_red_envelope"
    group_prefix = "r"
    size_key = "size"

    @staticmethod
    def start_of(entry: dict[str, Any]) -> dict[str, Any]:
        return {"size": 5, "winners": 1, **entry.get("start", {})}

    def check(self, shop: ProbeDriver, entry: dict[str, Any], cid: str) -> bool:
        return shop.do(self.start_verb, member=shop.join("S1"), campaign=cid, group="r0", **self.start_of(entry))

    def terms(self, module: Any, entry: dict[str, Any], cid: str) -> tuple[int, int, dict[str, Any]]:
        start = self.start_of(entry)
        return int(start["size"]), int(start["winners"]), start

    def prize(self, engine: Engine, module: Any, cid: str) -> tuple[int, str]:
        envelope = module.campaigns[cid].state.get("red_envelope") or 0
        return envelope, "the whole red envelope (the largest share it can be)"

    def frozen_change(self, winners: int) -> dict[str, Any]:
        return {"expire_hours": 48}


RedEnvelope.draw_probe = RedEnvelopeProbe
